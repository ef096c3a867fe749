using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.Fuzz
{
    /// <summary>The fuzz targets: each feeds one input to a parser the way the engine does with bytes from a file,
    /// a peer or a tracker, then reads everything the result exposes (lazy code runs too) and checks a few
    /// invariants. The rejections a parser is documented to throw are caught (<see cref="IsExpected"/>); any other
    /// exception — IndexOutOfRange, NullReference, Overflow, InvalidCast, OutOfMemory, a broken invariant — escapes
    /// and is a crash. Shared by the AFL harness (Program) and the xunit corpus regression tests, so both run the
    /// very same code.</summary>
    public static partial class FuzzTargets
    {
        /// <summary>Target names, as given on the command line and used for the corpus folders.</summary>
        public static IReadOnlyList<string> Names { get; } = new[] { "bencode", "metainfo", "wire", "tracker-http", "tracker-udp", "magnet", "ut_metadata", "ut_pex", "lsd", "krpc" };

        /// <summary>Largest input a target looks at; AFL's inputs are far smaller, this only bounds replays.</summary>
        public const int MaxInputBytes = 1 << 20;

        private const string TrackerUrl = "http://127.0.0.1:6969/announce";
        private const int MaxPeers = 200;

        /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>. Returns null for accepted input,
        /// the exception for an expected rejection; throws anything else.</summary>
        public static Exception? Run(string target, ReadOnlySpan<byte> input)
        {
            if (input.Length > MaxInputBytes) input = input.Slice(0, MaxInputBytes);
            try
            {
                switch (target)
                {
                    case "bencode": Bencode(input); break;
                    case "metainfo": Metainfo(input); break;
                    case "wire": Wire(input.ToArray()); break;
                    case "tracker-http": TrackerHttp(input); break;
                    case "tracker-udp": TrackerUdp(input); break;
                    case "magnet": Magnet(input); break;
                    case "ut_metadata": UtMetadata(input); break;
                    case "ut_pex": UtPex(input); break;
                    case "lsd": Lsd(input); break;
                    case "krpc": Krpc(input); break;
                    default: throw new ArgumentException($"Unknown fuzz target '{target}'. Targets: {string.Join(", ", Names)}.", nameof(target));
                }
                return null;
            }
            catch (Exception ex) when (IsExpected(ex))
            {
                // A documented rejection of bad input: what the parsers are for.
                return ex;
            }
        }

        /// <summary>The engine's own rejections of bad input. Everything else is a bug.</summary>
        public static bool IsExpected(Exception ex) =>
            ex is BencodeException or BitTorrent.Dht.KrpcException or TorrentFormatException or PeerProtocolException or TrackerException or MagnetUriException
            // The peer closed the connection between two messages: the wire target's normal end of input.
            // The peer closed the connection in the middle of a handshake.
            || ex.GetType() == typeof(EndOfStreamException);

        /// <summary>Bencode: lenient and strict decoding; a strictly decoded value re-encodes to the same bytes
        /// (the decoder only accepts canonical bencode then, and info-hashes depend on it).</summary>
        private static void Bencode(ReadOnlySpan<byte> input)
        {
            var value = BencodeDecoder.Decode(input);
            Touch(value, 0);
            var strict = BencodeDecoder.Decode(input, new BencodeLimits { RejectUnsortedKeys = true, MaxDepth = 32, MaxTokens = 10_000 });
            var encoded = BencodeEncoder.Encode(strict);
            if (!encoded.AsSpan().SequenceEqual(input))
                throw new FuzzInvariantException("A strictly decoded bencode value did not re-encode to the input bytes.");
            if (strict.SourceOffset != 0 || strict.SourceLength != input.Length)
                throw new FuzzInvariantException($"The root's source range is {strict.SourceOffset}+{strict.SourceLength}, not 0+{input.Length}.");
        }

        private static void Touch(BValue value, int depth)
        {
            if (depth > 200) throw new FuzzInvariantException("The decoder returned a value nested deeper than its limit.");
            switch (value)
            {
                case BString s:
                    _ = s.Text;
                    _ = s.ToDisplayString();
                    break;
                case BInteger i:
                    _ = i.ToString();
                    break;
                case BList list:
                    foreach (var item in list) Touch(item, depth + 1);
                    break;
                case BDictionary dict:
                    foreach (var pair in dict)
                    {
                        Touch(pair.Key, depth + 1);
                        Touch(pair.Value, depth + 1);
                    }
                    break;
            }
        }

        /// <summary>Metainfo: parse a .torrent and read every property, file and piece the engine reads later.</summary>
        private static void Metainfo(ReadOnlySpan<byte> input)
        {
            var info = TorrentParser.Parse(input, "fuzz.torrent");
            _ = info.ToString();
            if (info.InfoHashBytes.Length != 20 || info.InfoHash.Length != 40)
                throw new FuzzInvariantException("An info-hash is not 20 bytes / 40 hex digits.");
#pragma warning disable CA5350 // SHA-1 is what BitTorrent v1 info-hashes are.
            using (var sha1 = SHA1.Create())
            {
                if (!sha1.ComputeHash(info.RawInfo.ToArray()).AsSpan().SequenceEqual(info.InfoHashBytes))
                    throw new FuzzInvariantException("The info-hash is not the SHA-1 of RawInfo.");
            }
#pragma warning restore CA5350
            if (info.PieceLength <= 0 || info.PieceCount < 0 || info.TotalSize < 0)
                throw new FuzzInvariantException($"Piece length {info.PieceLength}, piece count {info.PieceCount}, total size {info.TotalSize}.");
            long covered = 0;
            for (int i = 0; i < info.PieceCount; i++)
            {
                if (info.GetPieceHash(i).Length != 20) throw new FuzzInvariantException($"Piece {i} has no 20-byte hash.");
                int length = info.GetPieceLength(i);
                if (length <= 0 || length > info.PieceLength) throw new FuzzInvariantException($"Piece {i} is {length} bytes.");
                covered += length;
            }
            if (covered != info.TotalSize) throw new FuzzInvariantException($"Pieces cover {covered} bytes, the files {info.TotalSize}.");
            long offset = 0;
            foreach (var file in info.Files)
            {
                if (file.Offset != offset || file.Length < 0) throw new FuzzInvariantException($"File {file.Index} at {file.Offset}+{file.Length}, expected offset {offset}.");
                offset += file.Length;
                if (file.Length > 0 && (file.FirstPiece < 0 || file.LastPiece >= info.PieceCount || file.FirstPiece > file.LastPiece))
                    throw new FuzzInvariantException($"File {file.Index} spans pieces {file.FirstPiece}..{file.LastPiece} of {info.PieceCount}.");
                CheckSanitizedPath(file.SanitizedPath);
                _ = file.Path;
                _ = file.PathSegments.Count;
                _ = file.ToString();
            }
            if (offset != info.TotalSize) throw new FuzzInvariantException($"Files add up to {offset} bytes, TotalSize is {info.TotalSize}.");
            _ = info.Trackers.Count;
            foreach (var tier in info.TrackerTiers) _ = tier.Count;
            _ = info.WebSeeds.Count;
            _ = info.MagnetUri;
            _ = info.Warnings.Count;
            _ = info.LastPieceLength;
        }

        /// <summary>A sanitized path must stay inside the destination whatever the torrent said.</summary>
        private static void CheckSanitizedPath(string path)
        {
            if (path.Length == 0) throw new FuzzInvariantException("A file has an empty sanitized path.");
            if (path[0] == '/' || path.Contains('\\') || path.Contains(':') || path.IndexOf('\0') >= 0)
                throw new FuzzInvariantException($"Sanitized path '{path}' is rooted or has a separator or a NUL.");
            foreach (var segment in path.Split('/'))
            {
                if (segment.Length == 0 || segment == "." || segment == "..")
                    throw new FuzzInvariantException($"Sanitized path '{path}' has an empty, '.' or '..' segment.");
            }
        }

        /// <summary>Wire: what a peer sends after the TCP connect, through the engine's own reader. The first byte
        /// is the harness's: bit 0 = a handshake comes first, bit 1 = the torrent's piece count is known (the next
        /// two bytes, big-endian, plus one), bits 2-7 = bytes per stream read (0 = as many as asked), so the
        /// reader's buffer refills and split frames are exercised too. Each message read is re-encoded with the
        /// codec and read back: the fields must survive the round trip.</summary>
        private static void Wire(byte[] input)
        {
            if (input.Length == 0) return;
            byte flags = input[0];
            int pos = 1;
            int? pieceCount = null;
            if ((flags & 2) != 0)
            {
                if (input.Length < 3) return;
                pieceCount = ((input[1] << 8) | input[2]) + 1;
                pos = 3;
            }
            int chunk = flags >> 2;
            var limits = PeerMessageLimits.Default.WithPieceCount(pieceCount);
            using var stream = new ChunkedStream(input, pos, chunk);
            using var reader = new PeerMessageReader(stream, limits, bufferSize: 256);
            if ((flags & 1) != 0)
            {
                var handshake = reader.ReadHandshakeAsync(ReadOnlyMemory<byte>.Empty).AsTask().GetAwaiter().GetResult();
                _ = handshake.SupportsExtensionProtocol | handshake.SupportsFastExtension | handshake.SupportsDht;
                _ = PeerIdDecoder.Decode(handshake.PeerId).ToString();
                _ = PeerIdDecoder.ToPrintable(handshake.PeerId);
                var again = Handshake.Parse(handshake.ToArray(), handshake.InfoHash);
                if (!again.PeerId.SequenceEqual(handshake.PeerId) || !again.Reserved.SequenceEqual(handshake.Reserved))
                    throw new FuzzInvariantException("A handshake did not survive a round trip.");
            }
            for (int count = 0; count < 10_000; count++)
            {
                PeerMessage next;
                try
                {
                    next = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (EndOfStreamException end) when (end.GetType() == typeof(EndOfStreamException))
                {
                    return; // the input ended between two messages: a clean close
                }
                using var message = next;
                _ = message.ToString();
                if (message.Id == PeerMessageId.Bitfield && pieceCount is int pieces)
                {
                    var bitfield = Bitfield.FromWire(message.Payload.Span, pieces);
                    if (bitfield.Count > pieces) throw new FuzzInvariantException($"A bitfield has {bitfield.Count} of {pieces} pieces.");
                }
                if (message.Id == PeerMessageId.Extended && message.ExtendedId == 0)
                {
                    var extended = ExtendedHandshake.Decode(message.Payload.Span);
                    _ = extended.Extensions.Count;
                    _ = extended.ClientName;
                    if (extended.ClientName is { Length: > ExtendedHandshake.MaxClientNameLength })
                        throw new FuzzInvariantException("An extended handshake kept a client name over its limit.");
                }
                if (!message.IsUnknown) RoundTrip(message, limits);
            }
        }

        private static void RoundTrip(in PeerMessage message, PeerMessageLimits limits)
        {
            var bytes = PeerMessageCodec.Encode(message);
            if (bytes.Length != PeerMessageCodec.GetEncodedLength(message))
                throw new FuzzInvariantException($"{message} encoded to {bytes.Length} bytes, not the {PeerMessageCodec.GetEncodedLength(message)} announced.");
            using var stream = new MemoryStream(bytes);
            using var reader = new PeerMessageReader(stream, limits);
            using var copy = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            if (copy.Id != message.Id || copy.Index != message.Index || copy.Begin != message.Begin || copy.Length != message.Length
                || copy.Port != message.Port || copy.ExtendedId != message.ExtendedId || !copy.Payload.Span.SequenceEqual(message.Payload.Span))
                throw new FuzzInvariantException($"{message} read back as {copy}.");
            if (stream.Position != stream.Length) throw new FuzzInvariantException($"{message} left bytes unread after a round trip.");
        }

        /// <summary>HTTP tracker: the first byte picks announce, scrape or the failure-reason probe (as the client
        /// uses it on a non-2xx reply); the rest is the body.</summary>
        private static void TrackerHttp(ReadOnlySpan<byte> input)
        {
            if (input.IsEmpty) return;
            var body = input.Slice(1);
            switch (input[0] % 3)
            {
                case 0:
                    var announce = HttpTrackerResponseParser.ParseAnnounce(body, TrackerUrl, MaxPeers);
                    CheckAnnounce(announce);
                    break;
                case 1:
                    var scrape = HttpTrackerResponseParser.ParseScrape(body, TrackerUrl);
                    CheckScrape(scrape);
                    break;
                default:
                    _ = HttpTrackerResponseParser.TryGetFailureReason(body);
                    break;
            }
        }

        /// <summary>UDP tracker: the first byte picks connect, announce over IPv4 or IPv6, or scrape (then also how
        /// many info-hashes were asked for, 1-74); the rest is the datagram.</summary>
        private static void TrackerUdp(ReadOnlySpan<byte> input)
        {
            if (input.IsEmpty) return;
            byte selector = input[0];
            var reply = input.Slice(1);
            _ = UdpTrackerMessages.TryReadHeader(reply, out _, out _);
            switch (selector & 3)
            {
                case 0:
                    _ = UdpTrackerMessages.ParseConnect(reply, TrackerUrl);
                    break;
                case 1:
                case 2:
                    var announce = UdpTrackerMessages.ParseAnnounce(reply, ipv6: (selector & 3) == 2, MaxPeers, TrackerUrl);
                    CheckAnnounce(announce);
                    break;
                default:
                    int hashes = 1 + (selector >> 2) % UdpTrackerMessages.MaxScrapeHashes;
                    var asked = Enumerable.Range(0, hashes).Select(i => Enumerable.Repeat((byte)i, 20).ToArray()).ToList();
                    var scrape = UdpTrackerMessages.ParseScrape(reply, asked, TrackerUrl);
                    if (scrape.Count > hashes) throw new FuzzInvariantException($"A scrape of {hashes} info-hashes returned {scrape.Count} entries.");
                    CheckScrape(scrape);
                    break;
            }
        }

        private static void CheckAnnounce(AnnounceResponse response)
        {
            if (response.Peers.Count > MaxPeers) throw new FuzzInvariantException($"{response.Peers.Count} peers kept; the limit is {MaxPeers}.");
            // Zero is passed on (an HTTP tracker may say "interval 0"); SwarmAnnouncer's own floor spaces announces.
            if (response.Interval < TimeSpan.Zero || (response.MinInterval is TimeSpan min && min < TimeSpan.Zero))
                throw new FuzzInvariantException($"Announce interval {response.Interval}, min {response.MinInterval}.");
            if (response.Seeders < 0 || response.Leechers < 0 || response.Completed < 0)
                throw new FuzzInvariantException("A negative peer count was passed on.");
            foreach (var peer in response.Peers)
            {
                if (peer.EndPoint.Port <= 0 || peer.EndPoint.Port > 65535) throw new FuzzInvariantException($"Peer {peer} has port {peer.EndPoint.Port}.");
                _ = peer.ToString();
            }
            _ = response.TrackerId;
            _ = response.WarningMessage;
            _ = response.ExternalAddress?.ToString();
        }

        private static void CheckScrape(IReadOnlyDictionary<string, ScrapeEntry> scrape)
        {
            foreach (var pair in scrape)
            {
                if (pair.Key.Length != 40) throw new FuzzInvariantException($"Scrape key '{pair.Key}' is not 40 hex digits.");
                if (pair.Value.Seeders < 0 || pair.Value.Leechers < 0 || pair.Value.Completed < 0)
                    throw new FuzzInvariantException("A negative scrape count was passed on.");
                _ = pair.Value.Name;
            }
        }

        /// <summary>A read-only stream over the input that hands out at most <c>chunk</c> bytes per read, as a
        /// slow peer's socket does.</summary>
        private sealed class ChunkedStream : MemoryStream
        {
            private readonly int _chunk;

            public ChunkedStream(byte[] data, int offset, int chunk) : base(data, offset, data.Length - offset, writable: false) => _chunk = chunk;

            public override int Read(byte[] buffer, int offset, int count) =>
                base.Read(buffer, offset, _chunk > 0 ? Math.Min(count, _chunk) : count);

            public override int Read(Span<byte> buffer) =>
                base.Read(_chunk > 0 && buffer.Length > _chunk ? buffer.Slice(0, _chunk) : buffer);

            public override System.Threading.Tasks.Task<int> ReadAsync(byte[] buffer, int offset, int count, System.Threading.CancellationToken cancellationToken) =>
                System.Threading.Tasks.Task.FromResult(Read(buffer, offset, count));

            public override System.Threading.Tasks.ValueTask<int> ReadAsync(Memory<byte> buffer, System.Threading.CancellationToken cancellationToken = default) =>
                new System.Threading.Tasks.ValueTask<int>(Read(buffer.Span));
        }
    }

    /// <summary>A fuzz target found a result that breaks a documented property: reported as a crash.</summary>
    public sealed class FuzzInvariantException : Exception
    {
        public FuzzInvariantException(string message) : base(message) { }
    }
}
