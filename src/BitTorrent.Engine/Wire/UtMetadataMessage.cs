using System;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;

namespace BitTorrent.Wire
{
    /// <summary>BEP 9 <c>msg_type</c>. (The spec's reject example says <c>i1e</c>; its list, and every client, use 2.)</summary>
    public enum UtMetadataMessageType
    {
        Request = 0,
        Data = 1,
        Reject = 2,
    }

    /// <summary>A ut_metadata (BEP 9) message: a bencoded dictionary with <c>msg_type</c> and <c>piece</c>
    /// (and <c>total_size</c> for data), followed — for data only — by the raw block, in one extended message.
    /// The payload is what follows the extended id byte.</summary>
    public readonly struct UtMetadataMessage
    {
        /// <summary>Metadata travels in 16 KiB blocks; all but the last are exactly this long.</summary>
        public const int BlockSize = 16 * 1024;

        /// <summary>Largest message accepted: a block plus its dictionary. libtorrent disconnects above it too.</summary>
        public const int MaxMessageLength = 17 * 1024;

        /// <summary>Largest metadata we fetch or believe a peer about: the size of the largest .torrent we read.</summary>
        public const long MaxMetadataSize = TorrentParser.MaxTorrentFileBytes;

        /// <summary>Blocks in the largest metadata: bounds <c>piece</c> before anything else looks at it.</summary>
        public const int MaxBlocks = (int)((MaxMetadataSize + BlockSize - 1) / BlockSize);

        private static readonly BencodeLimits DecodeLimits = new BencodeLimits
        {
            MaxInputBytes = MaxMessageLength,
            MaxDepth = 8,
            MaxTokens = 256,
            RejectTrailingData = false,
        };

        private UtMetadataMessage(UtMetadataMessageType type, int piece, long totalSize, ReadOnlyMemory<byte> data)
        {
            Type = type;
            Piece = piece;
            TotalSize = totalSize;
            Data = data;
        }

        public UtMetadataMessageType Type { get; }

        /// <summary>The block index (0-based, 16 KiB each).</summary>
        public int Piece { get; }

        /// <summary><c>total_size</c> of a data message (0 for the others).</summary>
        public long TotalSize { get; }

        /// <summary>The raw block of a data message, as received (a slice of the payload given to <see cref="TryDecode"/>).</summary>
        public ReadOnlyMemory<byte> Data { get; }

        /// <summary>Blocks in metadata of <paramref name="size"/> bytes.</summary>
        public static int BlockCount(long size) => (int)((size + BlockSize - 1) / BlockSize);

        /// <summary>Length of block <paramref name="piece"/> of metadata of <paramref name="size"/> bytes.</summary>
        public static int BlockLength(long size, int piece) => (int)Math.Min(BlockSize, size - (long)piece * BlockSize);

        /// <summary>Reads a ut_metadata message. False for an unknown <c>msg_type</c> (BEP 9: ignore it). Throws
        /// <see cref="PeerProtocolException"/> for a message over 17 KiB, one that is not a dictionary, lacks
        /// <c>msg_type</c> or <c>piece</c>, has a negative piece, or is data for a block no metadata can have, without
        /// a sane <c>total_size</c> or with a block over 16 KiB: the peer is broken or hostile, and is dropped.
        /// (A request past the end is decoded: it gets a reject.)</summary>
        public static bool TryDecode(ReadOnlyMemory<byte> payload, out UtMetadataMessage message)
        {
            message = default;
            if (payload.Length > MaxMessageLength)
                throw Invalid(PeerProtocolError.MessageTooLarge, $"A ut_metadata message of {payload.Length} bytes; the limit is {MaxMessageLength}.");
            BValue root;
            int consumed;
            try
            {
                root = BencodeDecoder.DecodePrefix(payload.Span, out consumed, DecodeLimits);
            }
            catch (BencodeException ex)
            {
                throw Invalid(PeerProtocolError.InvalidMetadataMessage, "A ut_metadata message is not valid bencode: " + ex.Message);
            }
            if (root is not BDictionary dict) throw Invalid(PeerProtocolError.InvalidMetadataMessage, "A ut_metadata message is not a dictionary.");
            if (dict["msg_type"] is not BInteger type) throw Invalid(PeerProtocolError.InvalidMetadataMessage, "A ut_metadata message has no integer msg_type.");
            if (dict["piece"] is not BInteger piece) throw Invalid(PeerProtocolError.InvalidMetadataMessage, "A ut_metadata message has no integer piece.");
            if (type.Value < 0 || type.Value > 2) return false;
            if (piece.Value < 0 || piece.Value > int.MaxValue)
                throw Invalid(PeerProtocolError.InvalidMetadataMessage, $"A ut_metadata message for block {piece.Value}.");

            var kind = (UtMetadataMessageType)type.Value;
            if (kind != UtMetadataMessageType.Data)
            {
                // A request past the end is answered with a reject (BEP 9), not a disconnect: the server decides.
                // Bytes after the dictionary of a request or reject mean nothing; they are not an error.
                message = new UtMetadataMessage(kind, (int)piece.Value, 0, ReadOnlyMemory<byte>.Empty);
                return true;
            }
            if (dict["total_size"] is not BInteger total || total.Value <= 0 || total.Value > MaxMetadataSize)
                throw Invalid(PeerProtocolError.InvalidMetadataSize,
                    $"A ut_metadata data message without a total_size between 1 and {MaxMetadataSize}.");
            if (piece.Value >= MaxBlocks)
                throw Invalid(PeerProtocolError.InvalidMetadataMessage, $"A ut_metadata block {piece.Value}; metadata has at most {MaxBlocks}.");
            var data = payload.Slice(consumed);
            if (data.Length > BlockSize)
                throw Invalid(PeerProtocolError.InvalidMetadataMessage, $"A ut_metadata block of {data.Length} bytes; blocks are at most {BlockSize}.");
            message = new UtMetadataMessage(kind, (int)piece.Value, total.Value, data);
            return true;
        }

        public static byte[] EncodeRequest(int piece) => EncodeHeader(UtMetadataMessageType.Request, piece, null, 0);

        public static byte[] EncodeReject(int piece) => EncodeHeader(UtMetadataMessageType.Reject, piece, null, 0);

        /// <summary>A data message: the dictionary, then <paramref name="block"/> as is.</summary>
        public static byte[] EncodeData(int piece, long totalSize, ReadOnlySpan<byte> block)
        {
            if (block.Length > BlockSize) throw new ArgumentOutOfRangeException(nameof(block), block.Length, $"A block is at most {BlockSize} bytes.");
            var bytes = EncodeHeader(UtMetadataMessageType.Data, piece, totalSize, block.Length);
            block.CopyTo(bytes.AsSpan(bytes.Length - block.Length));
            return bytes;
        }

        private static byte[] EncodeHeader(UtMetadataMessageType type, int piece, long? totalSize, int trailing)
        {
            if (piece < 0) throw new ArgumentOutOfRangeException(nameof(piece), piece, "A block index is not negative.");
            var dict = new BDictionary();
            dict.Set("msg_type", new BInteger((int)type));
            dict.Set("piece", new BInteger(piece));
            if (totalSize is long size) dict.Set("total_size", new BInteger(size));
            var header = BencodeEncoder.Encode(dict);
            if (trailing == 0) return header;
            var bytes = new byte[header.Length + trailing];
            header.CopyTo(bytes, 0);
            return bytes;
        }

        public override string ToString() => Type == UtMetadataMessageType.Data
            ? $"ut_metadata data {Piece} ({Data.Length} of {TotalSize} bytes)"
            : $"ut_metadata {Type.ToString().ToLowerInvariant()} {Piece}";

        private static PeerProtocolException Invalid(PeerProtocolError error, string message) => new PeerProtocolException(error, message);
    }
}
