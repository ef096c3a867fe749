using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Bencoding;
using BitTorrent.Hashing;
using BitTorrent.Metainfo;
using BitTorrent.Storage;

namespace BitTorrent.Creation
{
    /// <summary>Makes a v1 .torrent (BEP 3, with BEP 12 tiers, BEP 19 web seeds, BEP 27 private) from scanned files.
    /// Pieces are hashed in parallel across file boundaries (<see cref="PieceHashPipeline"/>); the output is canonical
    /// bencode. The <c>info</c> dictionary holds exactly what mktorrent writes — <c>length</c> or <c>files</c>
    /// (<c>length</c>, <c>path</c>), <c>name</c>, <c>piece length</c>, <c>pieces</c>, then <c>private</c> only when set
    /// and <c>source</c> only when given — so the same files and piece length give mktorrent's info-hash.</summary>
    public sealed class TorrentBuilder
    {
        private static readonly string[] TrackerSchemes = { "http", "https", "udp", "ws", "wss" };
        private static readonly string[] WebSeedSchemes = { "http", "https", "ftp" };

        public TorrentBuilder(SourceScan source)
        {
            Source = source ?? throw new ArgumentNullException(nameof(source));
        }

        /// <summary>The files that go in.</summary>
        public SourceScan Source { get; }

        /// <summary>The torrent's name (the single file's name, or the folder's); null or empty: the source's own name.</summary>
        public string? Name { get; set; }

        /// <summary>Bytes per piece: a power of two from 16 KiB to 256 MiB, or 0 for <see cref="PieceSizeChooser.Choose"/>.</summary>
        public int PieceLength { get; set; }

        /// <summary>Tracker tiers (BEP 12), in order. The first URL of the first tier is also written as <c>announce</c>.</summary>
        public IList<IList<string>> TrackerTiers { get; } = new List<IList<string>>();

        /// <summary>BEP 19 web seed URLs (<c>url-list</c>).</summary>
        public IList<string> WebSeeds { get; } = new List<string>();

        /// <summary>BEP 27: peers come only from the trackers (no DHT, PEX or LSD). Changes the info-hash.</summary>
        public bool IsPrivate { get; set; }

        public string? Comment { get; set; }

        /// <summary>The info dictionary's <c>source</c> (private trackers use it to make the info-hash unique to them).</summary>
        public string? SourceTag { get; set; }

        public string? CreatedBy { get; set; }

        /// <summary>Written as <c>creation date</c> (whole seconds since 1970) when set.</summary>
        public DateTimeOffset? CreationDate { get; set; }

        /// <summary>Hashing threads; 0 means one per processor.</summary>
        public int ThreadCount { get; set; }

        /// <summary>The piece length that will be used.</summary>
        public int EffectivePieceLength => PieceLength > 0 ? PieceLength : PieceSizeChooser.Choose(Source.TotalLength);

        /// <summary>Checks everything that can be checked before hashing; throws <see cref="TorrentCreationException"/>.</summary>
        public void Validate()
        {
            long total = Source.TotalLength;
            if (Source.Files.Count == 0)
                throw new TorrentCreationException(TorrentCreationError.NoFiles, $"'{Source.Name}' has no files to put in a torrent.");
            if (total == 0)
                throw new TorrentCreationException(TorrentCreationError.NoFiles, $"The files of '{Source.Name}' are all empty: there is nothing to share.");
            if (PieceLength != 0 && !PieceSizeChooser.IsValid(PieceLength))
                throw new TorrentCreationException(TorrentCreationError.InvalidPieceLength,
                    $"The piece length {PieceLength} is not a power of two from {PieceSizeChooser.MinPieceLength} to {PieceSizeChooser.MaxPieceLength} bytes.");
            long pieces = (total + EffectivePieceLength - 1) / EffectivePieceLength;
            if (pieces > TorrentParser.MaxPieces)
                throw new TorrentCreationException(TorrentCreationError.InvalidPieceLength,
                    $"{EffectivePieceLength}-byte pieces make {pieces} pieces; at most {TorrentParser.MaxPieces} are allowed. Use larger pieces.");
            // The piece hashes alone must fit in a file readers accept; know it before hashing, not after.
            if (pieces * 20 > TorrentParser.MaxTorrentFileBytes)
                throw new TorrentCreationException(TorrentCreationError.TorrentTooLarge,
                    $"{pieces} pieces need {pieces * 20} bytes of hashes; readers accept .torrent files of at most {TorrentParser.MaxTorrentFileBytes} bytes. Use larger pieces.");
            foreach (var tier in TrackerTiers)
                foreach (var url in tier)
                    CheckUrl(url, TrackerSchemes, "tracker");
            foreach (var url in WebSeeds) CheckUrl(url, WebSeedSchemes, "web seed");
        }

        /// <summary>Hashes the files and returns the .torrent. Throws <see cref="TorrentCreationException"/> (for example
        /// when a file changed while it was read) or <see cref="OperationCanceledException"/>.</summary>
        public async Task<TorrentBuildResult> BuildAsync(IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            Validate();
            int pieceLength = EffectivePieceLength;
            var files = Source.Files;
            var layout = new PieceLayout(files.Select(f => f.Length).ToArray(), pieceLength);
            var hashes = new byte[layout.PieceCount * 20];
            var pipeline = new PieceHashPipeline(layout, files.Select(f => (string?)f.FullPath).ToArray(), ThreadCount);
            var sink = new StoreSink(hashes, layout, pipeline, files);
            await pipeline.RunAsync(new[] { new PieceRun(0, layout.PieceCount) }, sink, progress, cancellationToken).ConfigureAwait(false);

            var bytes = BencodeEncoder.Encode(BuildMetainfo(pieceLength, hashes));
            if (bytes.Length > TorrentParser.MaxTorrentFileBytes)
                throw new TorrentCreationException(TorrentCreationError.TorrentTooLarge,
                    $"The torrent would be {bytes.Length} bytes; readers accept at most {TorrentParser.MaxTorrentFileBytes}. Use larger pieces.");
            return new TorrentBuildResult(bytes, Source.Warnings);
        }

        private BDictionary BuildMetainfo(int pieceLength, byte[] hashes)
        {
            var info = new BDictionary();
            string name = string.IsNullOrEmpty(Name) ? Source.Name : Name!;
            if (Source.IsDirectory)
            {
                var list = new BList();
                foreach (var f in Source.Files)
                {
                    var entry = new BDictionary();
                    entry.Set("length", new BInteger(f.Length));
                    entry.Set("path", new BList(f.PathSegments.Select(s => (BValue)new BString(s))));
                    list.Add(entry);
                }
                info.Set("files", list);
            }
            else
            {
                info.Set("length", new BInteger(Source.Files[0].Length));
            }
            info.Set("name", new BString(name));
            info.Set("piece length", new BInteger(pieceLength));
            info.Set("pieces", new BString(hashes));
            if (IsPrivate) info.Set("private", new BInteger(1));
            if (!string.IsNullOrEmpty(SourceTag)) info.Set("source", new BString(SourceTag!));

            var root = new BDictionary();
            var tiers = TrackerTiers.Select(t => t.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.Trim()).ToList())
                .Where(t => t.Count > 0).ToList();
            if (tiers.Count > 0)
            {
                root.Set("announce", new BString(tiers[0][0]));
                if (tiers.Sum(t => t.Count) > 1)
                    root.Set("announce-list", new BList(tiers.Select(t => (BValue)new BList(t.Select(u => (BValue)new BString(u))))));
            }
            if (!string.IsNullOrEmpty(Comment)) root.Set("comment", new BString(Comment!));
            if (!string.IsNullOrEmpty(CreatedBy)) root.Set("created by", new BString(CreatedBy!));
            if (CreationDate is DateTimeOffset created) root.Set("creation date", new BInteger(created.ToUnixTimeSeconds()));
            var seeds = WebSeeds.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.Trim()).Distinct().ToList();
            if (seeds.Count == 1) root.Set("url-list", new BString(seeds[0]));
            else if (seeds.Count > 1) root.Set("url-list", new BList(seeds.Select(u => (BValue)new BString(u))));
            root.Set("info", info);
            return root;
        }

        /// <summary>True for an absolute http, https, udp, ws or wss URL with a host.</summary>
        public static bool IsValidTrackerUrl(string? url) => IsValidUrl(url, TrackerSchemes);

        /// <summary>True for an absolute http, https or ftp URL with a host.</summary>
        public static bool IsValidWebSeedUrl(string? url) => IsValidUrl(url, WebSeedSchemes);

        private static bool IsValidUrl(string? url, string[] schemes) =>
            !string.IsNullOrWhiteSpace(url) && Uri.TryCreate(url!.Trim(), UriKind.Absolute, out var uri) &&
            Array.IndexOf(schemes, uri.Scheme) >= 0 && !string.IsNullOrEmpty(uri.Host);

        private static void CheckUrl(string url, string[] schemes, string what)
        {
            if (!IsValidUrl(url, schemes))
                throw new TorrentCreationException(TorrentCreationError.InvalidUrl,
                    $"'{url}' is not a valid {what} URL (an absolute {string.Join(", ", schemes)} URL with a host).");
        }

        /// <summary>Stores each piece's SHA-1; a piece that could not be read in full means the source changed.</summary>
        private sealed class StoreSink : IPieceHashSink
        {
            private readonly byte[] _hashes;
            private readonly PieceLayout _layout;
            private readonly PieceHashPipeline _pipeline;
            private readonly IReadOnlyList<SourceFile> _files;

            public StoreSink(byte[] hashes, PieceLayout layout, PieceHashPipeline pipeline, IReadOnlyList<SourceFile> files)
            {
                _hashes = hashes;
                _layout = layout;
                _pipeline = pipeline;
                _files = files;
            }

            public void OnPieceHashed(int piece, byte[] sha1) => Buffer.BlockCopy(sha1, 0, _hashes, piece * 20, 20);

            public void OnPieceUnavailable(int piece)
            {
                foreach (var span in _layout.GetPieceSpans(piece))
                {
                    string? problem = _pipeline.GetFileError(span.FileIndex);
                    if (problem is not null)
                        throw new TorrentCreationException(TorrentCreationError.SourceChanged,
                            $"'{_files[span.FileIndex].FullPath}' could not be read while hashing: {problem}");
                }
                throw new TorrentCreationException(TorrentCreationError.SourceChanged, $"Piece {piece} could not be read while hashing.");
            }
        }
    }

    /// <summary>A new torrent: the .torrent bytes and the torrent they describe.</summary>
    public sealed class TorrentBuildResult
    {
        // Parsed on first use: a caller that parses the bytes itself (New-Torrent, with the file's path) should not pay
        // for a second parse of a 10 000-file torrent.
        private readonly Lazy<TorrentInfo> _torrent;

        internal TorrentBuildResult(byte[] bytes, IReadOnlyList<string> warnings)
        {
            Bytes = bytes;
            Warnings = warnings;
            _torrent = new Lazy<TorrentInfo>(() => TorrentParser.Parse(bytes), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        /// <summary>The .torrent file's bytes (canonical bencode).</summary>
        public byte[] Bytes { get; }

        /// <summary>The torrent the bytes describe.</summary>
        public TorrentInfo Torrent => _torrent.Value;

        public IReadOnlyList<string> Warnings { get; }
    }
}
