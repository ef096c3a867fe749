using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using BitTorrent.Bencoding;

namespace BitTorrent.Metainfo
{
    /// <summary>Reads .torrent files (BEP 3, with BEP 12 tiers, BEP 19 web seeds, BEP 27 private, BEP 47 padding)
    /// into <see cref="TorrentInfo"/>. Everything in the file is untrusted: every count and length is bounded.</summary>
    public static partial class TorrentParser
    {
        /// <summary>Largest .torrent accepted (libtorrent's limit).</summary>
        public const int MaxTorrentFileBytes = 10_000_000;

        /// <summary>Most pieces accepted (libtorrent's 0x200000).</summary>
        public const int MaxPieces = 0x200000;

        /// <summary>Largest piece accepted: a piece is verified in memory, so this bounds per-piece memory.</summary>
        public const int MaxPieceLength = 256 * 1024 * 1024;

        /// <summary>Deepest folder nesting in a file path.</summary>
        public const int MaxPathDepth = 100;

        /// <summary>Most files in one torrent.</summary>
        public const int MaxFiles = 1_000_000;

        /// <summary>The suffix a file has on disk until all its pieces are verified (DownloadStorage writes
        /// "name.part"); a torrent's own paths must not collide with these working names.</summary>
        public const string PartialSuffix = ".part";

        /// <summary>The folder at the top of a destination where the engine keeps its own state (resume records); a
        /// torrent whose file or folder would take that name gets a leading '_'.</summary>
        public const string StateFolderName = ".bittorrent";

        private static readonly UTF8Encoding LenientUtf8 = new UTF8Encoding(false, false);

        /// <summary>Reads and parses a .torrent file, refusing files over <see cref="MaxTorrentFileBytes"/> before reading them.</summary>
        public static TorrentInfo ParseFile(string path) => ParseFile(path, fallbackName: null);

        /// <summary>As <see cref="ParseFile(string)"/>; <paramref name="fallbackName"/> names a torrent whose info
        /// dictionary has none (metadata kept for a magnet link, named after its dn).</summary>
        internal static TorrentInfo ParseFile(string path, string? fallbackName)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
            if (stream.Length > MaxTorrentFileBytes)
                throw new TorrentFormatException(TorrentError.FileTooLarge,
                    $"The file is {stream.Length} bytes; a .torrent may be at most {MaxTorrentFileBytes} bytes.");
            var data = new byte[stream.Length];
            int read = 0;
            while (read < data.Length)
            {
                int n = stream.Read(data, read, data.Length - read);
                if (n == 0) break;
                read += n;
            }
            return Parse(data.AsSpan(0, read), path, MaxPieces, MaxFiles, fallbackName);
        }

        /// <summary>Parses the bytes of a .torrent file.</summary>
        public static TorrentInfo Parse(ReadOnlySpan<byte> data, string? sourcePath = null) =>
            Parse(data, sourcePath, MaxPieces, MaxFiles);

        /// <summary>Parses with other piece and file limits. The public limits cannot be reached inside a 10 MB file
        /// (2 097 152 hashes alone are 40 MB), so tests lower them here to prove the checks work.</summary>
        internal static TorrentInfo Parse(ReadOnlySpan<byte> data, string? sourcePath, int maxPieces, int maxFiles, string? fallbackName = null)
        {
            if (data.Length > MaxTorrentFileBytes)
                throw new TorrentFormatException(TorrentError.FileTooLarge,
                    $"The torrent is {data.Length} bytes; at most {MaxTorrentFileBytes} bytes are accepted.");
            BValue root;
            try
            {
                root = BencodeDecoder.Decode(data, new BencodeLimits { MaxInputBytes = MaxTorrentFileBytes });
            }
            catch (BencodeException ex)
            {
                throw new TorrentFormatException(TorrentError.InvalidBencoding, "The file is not valid bencode: " + ex.Message, ex);
            }
            if (root is not BDictionary dict)
                throw new TorrentFormatException(TorrentError.NotADictionary, "The file's top level is not a bencoded dictionary.");
            if (dict["info"] is not BDictionary info)
                throw new TorrentFormatException(TorrentError.MissingInfo, "The file has no 'info' dictionary.");

            var warnings = new List<string>();
            var result = new TorrentInfo { Source = sourcePath };

            // The info-hash is over the bytes exactly as they are in the file, so a non-canonical file still gets the
            // hash every other client computes.
            var rawInfo = data.Slice((int)info.SourceOffset, (int)info.SourceLength).ToArray();
            using (var sha1 = SHA1.Create())
                result.InfoHashBytes = sha1.ComputeHash(rawInfo);
            result.InfoHash = Hex.ToLower(result.InfoHashBytes);
            result.RawInfo = rawInfo;
            if (dict.HadUnsortedKeys || AnyUnsorted(info))
                warnings.Add("Dictionary keys are not in canonical order; the info-hash is computed from the bytes as given.");

            ParseInfo(info, result, warnings, maxPieces, maxFiles, fallbackName);
            ParseTrackers(dict, result);
            result.WebSeeds = ParseWebSeeds(dict["url-list"]);
            result.Comment = TextOf(dict["comment.utf-8"]) ?? TextOf(dict["comment"]);
            result.CreatedBy = TextOf(dict["created by"]);
            if (dict["creation date"] is BInteger created && created.Value > 0 && created.Value < 253402300800L)
                result.CreationDate = DateTimeOffset.FromUnixTimeSeconds(created.Value);
            result.MagnetUri = Metainfo.MagnetUri.FromTorrent(result).ToString();
            result.Warnings = warnings;
            return result;
        }

        private static bool AnyUnsorted(BDictionary info)
        {
            if (info.HadUnsortedKeys) return true;
            if (info["files"] is BList files)
                foreach (var f in files)
                    if (f is BDictionary fd && fd.HadUnsortedKeys) return true;
            return false;
        }

        private static void ParseInfo(BDictionary info, TorrentInfo result, List<string> warnings, int maxPieces, int maxFiles, string? fallbackName)
        {
            var nameValue = info["name.utf-8"] as BString ?? info["name"] as BString
                ?? (string.IsNullOrEmpty(fallbackName) ? null : new BString(fallbackName!));
            bool hasV1Pieces = info["pieces"] is not null;
            if (!hasV1Pieces && info["meta version"] is BInteger mv && mv.Value == 2)
                throw new TorrentFormatException(TorrentError.UnsupportedVersion,
                    "This is a BitTorrent v2-only torrent (BEP 52); only v1 and hybrid torrents are supported.");
            if (nameValue is null)
                throw new TorrentFormatException(TorrentError.MissingName, "The 'info' dictionary has no 'name' string.");
            result.Name = DisplayText(nameValue);

            if (info["piece length"] is not BInteger pieceLength)
                throw new TorrentFormatException(TorrentError.MissingPieceLength, "The 'info' dictionary has no 'piece length' integer.");
            if (pieceLength.Value <= 0 || pieceLength.Value > MaxPieceLength)
                throw new TorrentFormatException(TorrentError.InvalidPieceLength,
                    $"The piece length {pieceLength.Value} is outside 1..{MaxPieceLength} bytes.");
            result.PieceLength = (int)pieceLength.Value;

            if (info["pieces"] is not BString pieces)
                throw new TorrentFormatException(TorrentError.MissingPieces, "The 'info' dictionary has no 'pieces' string.");
            if (pieces.Length % 20 != 0)
                throw new TorrentFormatException(TorrentError.InvalidPiecesLength,
                    $"'pieces' is {pieces.Length} bytes, not a multiple of 20 (one SHA-1 per piece).");
            if (pieces.Length / 20 > maxPieces)
                throw new TorrentFormatException(TorrentError.TooManyPieces,
                    $"The torrent has {pieces.Length / 20} pieces; at most {maxPieces} are accepted.");

            result.IsPrivate = info["private"] is BInteger priv && priv.Value == 1;
            result.SourceTag = TextOf(info["source"]);

            string rootFolder = PathSanitizer.SanitizeElement(result.Name) ?? "_";
            if (string.Equals(rootFolder, StateFolderName, StringComparison.OrdinalIgnoreCase))
            {
                warnings.Add($"The name '{rootFolder}' is where resume records are kept; the torrent is stored as '_{rootFolder}'.");
                rootFolder = "_" + rootFolder;
            }
            var files = new List<TorrentFile>();
            long offset = 0;

            if (info["files"] is BValue filesValue)
            {
                if (filesValue is not BList fileList || fileList.Count == 0)
                    throw new TorrentFormatException(TorrentError.InvalidFileList, "'files' is not a non-empty list.");
                if (fileList.Count > maxFiles)
                    throw new TorrentFormatException(TorrentError.TooManyFiles, $"The torrent lists {fileList.Count} files; at most {maxFiles} are accepted.");
                result.IsMultiFile = true;
                for (int i = 0; i < fileList.Count; i++)
                {
                    if (fileList[i] is not BDictionary fd)
                        throw new TorrentFormatException(TorrentError.InvalidFileList, $"Entry {i} of 'files' is not a dictionary.");
                    long length = ReadLength(fd, $"file {i}");
                    var pathValue = fd["path.utf-8"] as BList ?? fd["path"] as BList;
                    if (pathValue is null || pathValue.Count == 0)
                        throw new TorrentFormatException(TorrentError.InvalidFilePath, $"Entry {i} of 'files' has no 'path' list.");
                    if (pathValue.Count > MaxPathDepth)
                        throw new TorrentFormatException(TorrentError.PathTooDeep,
                            $"The path of file {i} has {pathValue.Count} elements; at most {MaxPathDepth} are accepted.");
                    var segments = new List<string>(pathValue.Count);
                    foreach (var element in pathValue)
                    {
                        if (element is not BString s)
                            throw new TorrentFormatException(TorrentError.InvalidFilePath, $"The path of file {i} has an element that is not a string.");
                        segments.Add(DisplayText(s));
                    }
                    bool padding = fd["attr"] is BString attr && attr.Span.IndexOf((byte)'p') >= 0;
                    var sanitized = PathSanitizer.SanitizeElements(segments);
                    sanitized.Insert(0, rootFolder);
                    files.Add(NewFile(i, segments, sanitized, length, ref offset, padding));
                }
            }
            else
            {
                long length = ReadLength(info, "the torrent");
                files.Add(NewFile(0, new List<string> { result.Name }, new List<string> { rootFolder }, length, ref offset, false));
            }

            result.TotalSize = offset;
            if (result.TotalSize == 0)
                throw new TorrentFormatException(TorrentError.NoData, "The torrent's files are all empty: there is nothing to share.");
            long expectedPieces = (result.TotalSize + result.PieceLength - 1) / result.PieceLength;
            if (expectedPieces != pieces.Length / 20)
                throw new TorrentFormatException(TorrentError.PieceCountMismatch,
                    $"The files add up to {result.TotalSize} bytes, which is {expectedPieces} pieces of {result.PieceLength} bytes, but 'pieces' holds {pieces.Length / 20} hashes.");
            result.PieceCount = (int)expectedPieces;
            result.PieceHashes = pieces.Bytes;

            foreach (var f in files)
            {
                if (f.Length == 0) { f.FirstPiece = -1; f.LastPiece = -1; continue; }
                f.FirstPiece = (int)(f.Offset / result.PieceLength);
                f.LastPiece = (int)((f.Offset + f.Length - 1) / result.PieceLength);
            }
            MakePathsUnique(files, warnings);
            result.Files = files;
        }

        private static TorrentFile NewFile(int index, List<string> segments, List<string> sanitized, long length, ref long offset, bool padding)
        {
            var file = new TorrentFile
            {
                Index = index,
                PathSegments = segments,
                Path = string.Join("/", segments),
                SanitizedPath = string.Join("/", sanitized),
                Length = length,
                Offset = offset,
                IsPadding = padding,
            };
            if (length > long.MaxValue - offset)
                throw new TorrentFormatException(TorrentError.TotalSizeOverflow, "The file lengths add up to more than 2^63 bytes.");
            offset += length;
            return file;
        }

        private static long ReadLength(BDictionary d, string what)
        {
            if (d["length"] is not BInteger length)
                throw new TorrentFormatException(TorrentError.InvalidFileLength, $"The 'length' of {what} is missing or not an integer.");
            if (length.Value < 0)
                throw new TorrentFormatException(TorrentError.InvalidFileLength, $"The 'length' of {what} is negative ({length.Value}).");
            return length.Value;
        }

        /// <summary>Two files must never map to one name on disk, nor a file to a folder another file needs, nor a
        /// file to the working name of another ("name.part", see <see cref="PartialSuffix"/>: "data" is written as
        /// "data.part" until it is complete, so a second file "data.part" would be overwritten by it). Compared
        /// case-insensitively because Windows and macOS file systems are. Later entries are renamed "name.N.ext".
        /// Linear in the number of files and path elements, however many share a name (a torrent of 20 000 files
        /// named alike took 32 s when every rename counted up from 1).</summary>
        private static void MakePathsUnique(List<TorrentFile> files, List<string> warnings)
        {
            var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var folders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            // Paths P whose working name "P.part" is a file or folder already: kept apart so the common check allocates
            // no "P.part" string per file.
            var partOwners = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            void NoteWorkingName(string p)
            {
                if (p.EndsWith(PartialSuffix, StringComparison.OrdinalIgnoreCase)) partOwners.Add(p.Substring(0, p.Length - PartialSuffix.Length));
            }

            foreach (var f in files)
            {
                if (f.IsPadding) continue;
                // From the file's own folder upwards; a folder already known has its ancestors known too.
                string path = f.SanitizedPath;
                for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
                {
                    string folder = path.Substring(0, slash);
                    if (!folders.Add(folder)) break;
                    NoteWorkingName(folder);
                }
            }

            bool Clashes(string p) =>
                taken.Contains(p) || folders.Contains(p) || partOwners.Contains(p) ||
                (p.EndsWith(PartialSuffix, StringComparison.OrdinalIgnoreCase) && taken.Contains(p.Substring(0, p.Length - PartialSuffix.Length)));

            var nextNumber = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            foreach (var f in files)
            {
                if (f.IsPadding) continue;
                string path = f.SanitizedPath;
                if (Clashes(path))
                {
                    int slash = path.LastIndexOf('/');
                    string dir = slash < 0 ? string.Empty : path.Substring(0, slash + 1);
                    string leaf = path.Substring(slash + 1);
                    int dot = leaf.LastIndexOf('.');
                    string stem = dot > 0 ? leaf.Substring(0, dot) : leaf;
                    string ext = dot > 0 ? leaf.Substring(dot) : string.Empty;
                    string key = dir + stem + "\0" + ext;
                    if (!nextNumber.TryGetValue(key, out int n)) n = 1;
                    string candidate;
                    do { candidate = $"{dir}{stem}.{n++}{ext}"; } while (Clashes(candidate));
                    nextNumber[key] = n;
                    warnings.Add($"File {f.Index} '{f.Path}' would collide with another path; it is stored as '{candidate}'.");
                    path = candidate;
                    f.SanitizedPath = path;
                }
                taken.Add(path);
                NoteWorkingName(path);
            }
        }

        private static void ParseTrackers(BDictionary dict, TorrentInfo result)
        {
            var tiers = new List<IReadOnlyList<string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            if (dict["announce-list"] is BList announceList)
            {
                foreach (var tierValue in announceList)
                {
                    if (tierValue is not BList tier) continue;
                    var urls = new List<string>();
                    foreach (var u in tier)
                    {
                        var url = TextOf(u)?.Trim();
                        if (!string.IsNullOrEmpty(url) && seen.Add(url!)) urls.Add(url!);
                    }
                    if (urls.Count > 0) tiers.Add(urls);
                }
            }
            // BEP 12: when announce-list is present, announce is ignored; if it lists nothing usable, fall back.
            if (tiers.Count == 0 && TextOf(dict["announce"])?.Trim() is string announce && announce.Length > 0)
                tiers.Add(new List<string> { announce });
            result.TrackerTiers = tiers;
            result.Trackers = tiers.SelectMany(t => t).ToList();
        }

        private static IReadOnlyList<string> ParseWebSeeds(BValue? value)
        {
            var list = new List<string>();
            if (value is BString single)
            {
                var s = TextOf(single);
                if (!string.IsNullOrWhiteSpace(s)) list.Add(s!);
            }
            else if (value is BList many)
            {
                foreach (var v in many)
                {
                    var s = TextOf(v);
                    if (!string.IsNullOrWhiteSpace(s) && !list.Contains(s!)) list.Add(s!);
                }
            }
            return list;
        }

        private static string? TextOf(BValue? value) => value is BString s ? DisplayText(s) : null;

        /// <summary>UTF-8 with invalid sequences shown as U+FFFD: never throws on hostile bytes.</summary>
        private static string DisplayText(BString s) => LenientUtf8.GetString(s.Bytes);
    }
}
