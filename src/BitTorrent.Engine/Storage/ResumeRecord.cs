using System;
using System.Collections.Generic;
using System.IO;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.Storage
{
    /// <summary>A file's size and last-write time when a resume record was saved: if either differs later, the file
    /// was changed by someone else (or written after the save) and its pieces are hash-checked, not trusted.</summary>
    public readonly struct FileStamp : IEquatable<FileStamp>
    {
        public FileStamp(long length, long lastWriteTicks)
        {
            Length = length;
            LastWriteTicks = lastWriteTicks;
        }

        public long Length { get; }
        /// <summary>UTC ticks of the file's last write.</summary>
        public long LastWriteTicks { get; }

        public bool Equals(FileStamp other) => Length == other.Length && LastWriteTicks == other.LastWriteTicks;
        public override bool Equals(object? obj) => obj is FileStamp s && Equals(s);
        public override int GetHashCode() => Length.GetHashCode() ^ LastWriteTicks.GetHashCode();
    }

    /// <summary>What a resume record says: the verified pieces, and each file's stamp when they were saved (null for a
    /// file that did not exist then).</summary>
    public sealed class ResumeState
    {
        public ResumeState(Bitfield pieces, IReadOnlyList<FileStamp?> files)
        {
            Pieces = pieces;
            Files = files;
        }

        public Bitfield Pieces { get; }
        public IReadOnlyList<FileStamp?> Files { get; }
    }

    /// <summary>Which pieces of a download were verified and written, saved beside the data
    /// (<c>&lt;destination&gt;/.bittorrent/&lt;info-hash&gt;.resume</c>, bencoded) with each file's size and last-write
    /// time, so a restart re-uses them without re-hashing everything. Saved only after the data it describes has been
    /// flushed, and atomically (temp file + rename), so it never claims a piece that is not on disk. On load, a claimed
    /// piece is trusted only while its files still have the recorded size and time; every other piece with data on
    /// disk is hash-checked (the fallback that also covers a crash between two saves).</summary>
    public static class ResumeRecord
    {
        public const string FolderName = TorrentParser.StateFolderName;
        private const int Version = 2;

        public static string PathFor(string destination, TorrentInfo torrent) =>
            Path.Combine(Path.GetFullPath(destination), FolderName, torrent.InfoHash + ".resume");

        public static void Save(string destination, TorrentInfo torrent, Bitfield verified, IReadOnlyList<FileStamp?> files)
        {
            if (files.Count != torrent.Files.Count) throw new ArgumentException("One stamp per file is needed.", nameof(files));
            var path = PathFor(destination, torrent);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var dict = new BDictionary();
            dict.Set("version", new BInteger(Version));
            dict.Set("info-hash", new BString(torrent.InfoHashBytes));
            dict.Set("piece-count", new BInteger(torrent.PieceCount));
            dict.Set("pieces", new BString(verified.ToArray()));
            var stamps = new BList();
            foreach (var stamp in files)
            {
                // [length, ticks], or an empty list for a file that is not there.
                var entry = new BList();
                if (stamp is FileStamp fs)
                {
                    entry.Add(new BInteger(fs.Length));
                    entry.Add(new BInteger(fs.LastWriteTicks));
                }
                stamps.Add(entry);
            }
            dict.Set("files", stamps);
            dict.Set("saved", new BInteger(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            var bytes = BencodeEncoder.Encode(dict);
            var temp = path + ".tmp";
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes, 0, bytes.Length);
                fs.Flush(true);
            }
            if (File.Exists(path)) File.Delete(path);
            File.Move(temp, path);
        }

        /// <summary>What a record claims, or null when there is no usable record (missing, corrupt, another torrent's,
        /// another piece or file count, or an older format).</summary>
        public static ResumeState? TryLoad(string destination, TorrentInfo torrent)
        {
            var path = PathFor(destination, torrent);
            try
            {
                if (!File.Exists(path)) return null;
                var info = new FileInfo(path);
                if (info.Length > 1 + torrent.PieceCount / 8 + 48L * torrent.Files.Count + 4096) return null;
                var root = BencodeDecoder.Decode(File.ReadAllBytes(path)) as BDictionary;
                if (root is null) return null;
                if (!(root["version"] is BInteger v) || v.Value != Version) return null;
                if (!(root["info-hash"] is BString ih) || !ih.Span.SequenceEqual(torrent.InfoHashBytes)) return null;
                if (!(root["piece-count"] is BInteger pc) || pc.Value != torrent.PieceCount) return null;
                if (!(root["pieces"] is BString bits)) return null;
                if (!(root["files"] is BList list) || list.Count != torrent.Files.Count) return null;
                var stamps = new FileStamp?[list.Count];
                for (int i = 0; i < list.Count; i++)
                {
                    if (!(list[i] is BList entry)) return null;
                    if (entry.Count == 0) continue;
                    if (entry.Count != 2 || !(entry[0] is BInteger length) || !(entry[1] is BInteger ticks)) return null;
                    stamps[i] = new FileStamp(length.Value, ticks.Value);
                }
                return new ResumeState(Bitfield.FromWire(bits.Span, torrent.PieceCount), stamps);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is BencodeException || ex is PeerProtocolException)
            {
                return null;
            }
        }

        public static void Delete(string destination, TorrentInfo torrent)
        {
            var path = PathFor(destination, torrent);
            if (File.Exists(path)) File.Delete(path);
        }
    }
}
