using System;
using System.Buffers.Binary;

namespace BitTorrent.Wire
{
    /// <summary>The wire format of peer messages: a 4-byte big-endian length, an id byte, then the fields.
    /// Encoding writes into caller-provided spans; the checks here are what <see cref="PeerMessageReader"/> applies
    /// to every frame before it reads (or rents room for) the payload.</summary>
    public static class PeerMessageCodec
    {
        /// <summary>Bytes before a piece message's block: id, index, begin.</summary>
        public const int PieceHeaderLength = 9;

        internal static bool IsKnown(PeerMessageId id) => id switch
        {
            PeerMessageId.KeepAlive or PeerMessageId.Choke or PeerMessageId.Unchoke or PeerMessageId.Interested
                or PeerMessageId.NotInterested or PeerMessageId.Have or PeerMessageId.Bitfield or PeerMessageId.Request
                or PeerMessageId.Piece or PeerMessageId.Cancel or PeerMessageId.Port or PeerMessageId.Suggest
                or PeerMessageId.HaveAll or PeerMessageId.HaveNone or PeerMessageId.RejectRequest
                or PeerMessageId.AllowedFast or PeerMessageId.Extended => true,
            _ => false,
        };

        /// <summary>True for messages whose payload the reader hands out in a pooled buffer.</summary>
        internal static bool HasPayload(PeerMessageId id) =>
            id == PeerMessageId.Bitfield || id == PeerMessageId.Piece || id == PeerMessageId.Extended;

        /// <summary>Bytes the message takes on the wire, length prefix included.</summary>
        public static int GetEncodedLength(in PeerMessage message) => 4 + GetFrameLength(message);

        private static int GetFrameLength(in PeerMessage message) => message.Id switch
        {
            PeerMessageId.KeepAlive => 0,
            PeerMessageId.Choke or PeerMessageId.Unchoke or PeerMessageId.Interested or PeerMessageId.NotInterested
                or PeerMessageId.HaveAll or PeerMessageId.HaveNone => 1,
            PeerMessageId.Have or PeerMessageId.Suggest or PeerMessageId.AllowedFast => 5,
            PeerMessageId.Request or PeerMessageId.Cancel or PeerMessageId.RejectRequest => 13,
            PeerMessageId.Port => 3,
            PeerMessageId.Bitfield => 1 + message.Payload.Length,
            PeerMessageId.Piece => PieceHeaderLength + message.Payload.Length,
            PeerMessageId.Extended => 2 + message.Payload.Length,
            _ => throw new ArgumentException($"Cannot encode message id {(int)message.Id}.", nameof(message)),
        };

        /// <summary>Writes the message (length prefix included) and returns the bytes written.</summary>
        public static int Encode(in PeerMessage message, Span<byte> destination)
        {
            int frame = GetFrameLength(message);
            if (destination.Length < 4 + frame) throw new ArgumentException("The destination is too short for the message.", nameof(destination));
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)frame);
            if (frame == 0) return 4;
            destination[4] = (byte)message.Id;
            var body = destination.Slice(5);
            switch (message.Id)
            {
                case PeerMessageId.Have:
                case PeerMessageId.Suggest:
                case PeerMessageId.AllowedFast:
                    BinaryPrimitives.WriteUInt32BigEndian(body, (uint)message.Index);
                    break;
                case PeerMessageId.Request:
                case PeerMessageId.Cancel:
                case PeerMessageId.RejectRequest:
                    BinaryPrimitives.WriteUInt32BigEndian(body, (uint)message.Index);
                    BinaryPrimitives.WriteUInt32BigEndian(body.Slice(4), (uint)message.Begin);
                    BinaryPrimitives.WriteUInt32BigEndian(body.Slice(8), (uint)message.Length);
                    break;
                case PeerMessageId.Port:
                    BinaryPrimitives.WriteUInt16BigEndian(body, message.Port);
                    break;
                case PeerMessageId.Bitfield:
                    message.Payload.Span.CopyTo(body);
                    break;
                case PeerMessageId.Piece:
                    BinaryPrimitives.WriteUInt32BigEndian(body, (uint)message.Index);
                    BinaryPrimitives.WriteUInt32BigEndian(body.Slice(4), (uint)message.Begin);
                    message.Payload.Span.CopyTo(body.Slice(8));
                    break;
                case PeerMessageId.Extended:
                    body[0] = message.ExtendedId;
                    message.Payload.Span.CopyTo(body.Slice(1));
                    break;
            }
            return 4 + frame;
        }

        public static byte[] Encode(in PeerMessage message)
        {
            var bytes = new byte[GetEncodedLength(message)];
            Encode(message, bytes);
            return bytes;
        }

        /// <summary>Writes the 13 bytes that precede a block in a piece message (length, id, index, begin), for
        /// senders that write the block itself straight from its own buffer.</summary>
        public static void WritePieceHeader(Span<byte> destination, int index, int begin, int blockLength)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(PieceHeaderLength + blockLength));
            destination[4] = (byte)PeerMessageId.Piece;
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(5), (uint)index);
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(9), (uint)begin);
        }

        /// <summary>First check on a length prefix, before even the id is read.</summary>
        internal static void CheckFrameLength(uint frameLength, PeerMessageLimits limits)
        {
            if (frameLength > (uint)limits.MaxFrameLength)
            {
                throw new PeerProtocolException(PeerProtocolError.MessageTooLarge,
                    $"The peer announced a {frameLength}-byte message; no message may exceed {limits.MaxFrameLength} bytes.");
            }
        }

        /// <summary>Checks that a frame's length fits its id. <paramref name="frameLength"/> counts the id byte.</summary>
        internal static void CheckLengthForId(byte id, int frameLength, PeerMessageLimits limits)
        {
            int expected;
            switch ((PeerMessageId)id)
            {
                case PeerMessageId.Choke:
                case PeerMessageId.Unchoke:
                case PeerMessageId.Interested:
                case PeerMessageId.NotInterested:
                case PeerMessageId.HaveAll:
                case PeerMessageId.HaveNone:
                    expected = 1; break;
                case PeerMessageId.Have:
                case PeerMessageId.Suggest:
                case PeerMessageId.AllowedFast:
                    expected = 5; break;
                case PeerMessageId.Request:
                case PeerMessageId.Cancel:
                case PeerMessageId.RejectRequest:
                    expected = 13; break;
                case PeerMessageId.Port:
                    expected = 3; break;
                case PeerMessageId.Piece:
                    if (frameLength > PieceHeaderLength + limits.MaxBlockLength)
                        throw TooLarge("piece", frameLength, PieceHeaderLength + limits.MaxBlockLength);
                    if (frameLength <= PieceHeaderLength)
                        throw Malformed($"A piece message needs index, begin and a block; this one is {frameLength} bytes.");
                    return;
                case PeerMessageId.Bitfield:
                    int bits = frameLength - 1;
                    if (bits > limits.MaxBitfieldLength) throw TooLarge("bitfield", frameLength, 1 + limits.MaxBitfieldLength);
                    if (limits.PieceCount.HasValue && bits != limits.MaxBitfieldLength)
                    {
                        throw new PeerProtocolException(PeerProtocolError.BitfieldWrongLength,
                            $"The torrent has {limits.PieceCount} pieces, so a bitfield is {limits.MaxBitfieldLength} bytes; the peer sent {bits}.");
                    }
                    if (bits == 0) throw Malformed("An empty bitfield message.");
                    return;
                case PeerMessageId.Extended:
                    if (frameLength > 2 + limits.MaxExtendedLength) throw TooLarge("extended", frameLength, 2 + limits.MaxExtendedLength);
                    if (frameLength < 2) throw Malformed("An extended message without its extended id.");
                    return;
                default:
                    if (frameLength > limits.MaxUnknownLength) throw TooLarge($"id {id}", frameLength, limits.MaxUnknownLength);
                    return;
            }
            if (frameLength != expected)
                throw Malformed($"A {(PeerMessageId)id} message is {expected} bytes with its id; the peer sent {frameLength}.");
        }

        /// <summary>Parses a fixed-size message whose length <see cref="CheckLengthForId"/> accepted.
        /// <paramref name="fields"/> is what follows the id byte.</summary>
        internal static PeerMessage ParseFixed(byte id, ReadOnlySpan<byte> fields, PeerMessageLimits limits)
        {
            var kind = (PeerMessageId)id;
            switch (kind)
            {
                case PeerMessageId.Have:
                case PeerMessageId.Suggest:
                case PeerMessageId.AllowedFast:
                    return PeerMessage.Fixed(kind, ReadIndex(fields, limits, kind));
                case PeerMessageId.Request:
                case PeerMessageId.Cancel:
                case PeerMessageId.RejectRequest:
                    int index = ReadIndex(fields, limits, kind);
                    int begin = ReadNonNegative(fields.Slice(4), kind, "begin");
                    int length = ReadNonNegative(fields.Slice(8), kind, "length");
                    if (kind == PeerMessageId.Request && (length == 0 || length > limits.MaxBlockLength))
                        throw Malformed($"The peer requested {length} bytes; blocks are 1 to {limits.MaxBlockLength} bytes.");
                    return PeerMessage.Fixed(kind, index, begin, length);
                case PeerMessageId.Port:
                    return PeerMessage.Fixed(kind, port: BinaryPrimitives.ReadUInt16BigEndian(fields));
                default:
                    return PeerMessage.Fixed(kind);
            }
        }

        /// <summary>Reads the index and begin of a piece message's header (the 8 bytes after the id).</summary>
        internal static (int Index, int Begin) ParsePieceHeader(ReadOnlySpan<byte> fields, PeerMessageLimits limits) =>
            (ReadIndex(fields, limits, PeerMessageId.Piece), ReadNonNegative(fields.Slice(4), PeerMessageId.Piece, "begin"));

        private static int ReadIndex(ReadOnlySpan<byte> fields, PeerMessageLimits limits, PeerMessageId kind)
        {
            uint index = BinaryPrimitives.ReadUInt32BigEndian(fields);
            uint bound = limits.PieceCount is int n ? (uint)n : PeerMessageLimits.MaxPieceCount;
            if (index >= bound)
            {
                throw new PeerProtocolException(PeerProtocolError.PieceIndexOutOfRange,
                    $"A {kind} message names piece {index}; the torrent has {(limits.PieceCount is int c ? c.ToString() : "at most " + bound)} pieces.");
            }
            return (int)index;
        }

        private static int ReadNonNegative(ReadOnlySpan<byte> field, PeerMessageId kind, string name)
        {
            uint value = BinaryPrimitives.ReadUInt32BigEndian(field);
            if (value > int.MaxValue) throw Malformed($"A {kind} message has {name} {value}, out of range.");
            return (int)value;
        }

        private static PeerProtocolException TooLarge(string kind, int length, int max) =>
            new PeerProtocolException(PeerProtocolError.MessageTooLarge, $"The peer announced a {length}-byte {kind} message; the limit is {max} bytes.");

        private static PeerProtocolException Malformed(string message) =>
            new PeerProtocolException(PeerProtocolError.MalformedMessage, message);
    }
}
