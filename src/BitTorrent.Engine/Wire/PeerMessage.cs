using System;
using System.Buffers;

namespace BitTorrent.Wire
{
    /// <summary>One peer wire message. A struct, so reading the fixed-size messages (have, request, choke …)
    /// allocates nothing. Messages with a payload read off the wire (bitfield, piece, extended) carry it in a pooled
    /// buffer: dispose the message when done, or take <see cref="PayloadOwner"/> to keep the payload longer (and
    /// dispose that instead).</summary>
    public readonly struct PeerMessage : IDisposable
    {
        private PeerMessage(PeerMessageId id, int index = 0, int begin = 0, int length = 0, ushort port = 0,
            byte extendedId = 0, ReadOnlyMemory<byte> payload = default, IMemoryOwner<byte>? owner = null)
        {
            Id = id;
            Index = index;
            Begin = begin;
            Length = length;
            Port = port;
            ExtendedId = extendedId;
            Payload = payload;
            PayloadOwner = owner;
        }

        public PeerMessageId Id { get; }

        /// <summary>Piece index: have, request, piece, cancel, suggest, reject request, allowed fast.</summary>
        public int Index { get; }

        /// <summary>Byte offset in the piece: request, piece, cancel, reject request.</summary>
        public int Begin { get; }

        /// <summary>Block length: request, cancel, reject request (for a piece it is the payload length).</summary>
        public int Length { get; }

        /// <summary>DHT port (the 'port' message).</summary>
        public ushort Port { get; }

        /// <summary>Extended message id (0 = the BEP 10 handshake).</summary>
        public byte ExtendedId { get; }

        /// <summary>Bitfield bytes, the block of a piece message, or what follows the extended id.</summary>
        public ReadOnlyMemory<byte> Payload { get; }

        /// <summary>The pooled buffer behind <see cref="Payload"/> when the message was read off the wire.</summary>
        public IMemoryOwner<byte>? PayloadOwner { get; }

        /// <summary>True for ids this codec does not know (BEP 3: ignored; their payload is skipped, not kept).</summary>
        public bool IsUnknown => !PeerMessageCodec.IsKnown(Id);

        public static PeerMessage KeepAlive => new PeerMessage(PeerMessageId.KeepAlive);
        public static PeerMessage Choke => new PeerMessage(PeerMessageId.Choke);
        public static PeerMessage Unchoke => new PeerMessage(PeerMessageId.Unchoke);
        public static PeerMessage Interested => new PeerMessage(PeerMessageId.Interested);
        public static PeerMessage NotInterested => new PeerMessage(PeerMessageId.NotInterested);
        public static PeerMessage HaveAll => new PeerMessage(PeerMessageId.HaveAll);
        public static PeerMessage HaveNone => new PeerMessage(PeerMessageId.HaveNone);

        public static PeerMessage Have(int index) => new PeerMessage(PeerMessageId.Have, NonNegative(index, nameof(index)));
        public static PeerMessage Suggest(int index) => new PeerMessage(PeerMessageId.Suggest, NonNegative(index, nameof(index)));
        public static PeerMessage AllowedFast(int index) => new PeerMessage(PeerMessageId.AllowedFast, NonNegative(index, nameof(index)));

        public static PeerMessage Bitfield(ReadOnlyMemory<byte> bits) => new PeerMessage(PeerMessageId.Bitfield, payload: bits);

        public static PeerMessage Request(int index, int begin, int length) =>
            new PeerMessage(PeerMessageId.Request, NonNegative(index, nameof(index)), NonNegative(begin, nameof(begin)), NonNegative(length, nameof(length)));

        public static PeerMessage Cancel(int index, int begin, int length) =>
            new PeerMessage(PeerMessageId.Cancel, NonNegative(index, nameof(index)), NonNegative(begin, nameof(begin)), NonNegative(length, nameof(length)));

        public static PeerMessage RejectRequest(int index, int begin, int length) =>
            new PeerMessage(PeerMessageId.RejectRequest, NonNegative(index, nameof(index)), NonNegative(begin, nameof(begin)), NonNegative(length, nameof(length)));

        public static PeerMessage Piece(int index, int begin, ReadOnlyMemory<byte> block) =>
            new PeerMessage(PeerMessageId.Piece, NonNegative(index, nameof(index)), NonNegative(begin, nameof(begin)), block.Length, payload: block);

        public static PeerMessage DhtPort(ushort port) => new PeerMessage(PeerMessageId.Port, port: port);

        public static PeerMessage Extended(byte extendedId, ReadOnlyMemory<byte> payload) =>
            new PeerMessage(PeerMessageId.Extended, extendedId: extendedId, payload: payload);

        // Constructors the reader uses for messages read off the wire.
        internal static PeerMessage Fixed(PeerMessageId id, int index = 0, int begin = 0, int length = 0, ushort port = 0) =>
            new PeerMessage(id, index, begin, length, port);

        internal static PeerMessage WithPayload(PeerMessageId id, PooledBuffer owner, int index = 0, int begin = 0, byte extendedId = 0) =>
            new PeerMessage(id, index, begin, id == PeerMessageId.Piece ? owner.Length : 0, extendedId: extendedId, payload: owner.Memory, owner: owner);

        /// <summary>A piece message whose block was read into memory the consumer named (see
        /// <see cref="PeerMessageReader.BlockDestination"/>).</summary>
        internal static PeerMessage WithPayload(PeerMessageId id, IMemoryOwner<byte> owner, Memory<byte> payload, int index, int begin) =>
            new PeerMessage(id, index, begin, payload.Length, payload: payload, owner: owner);

        internal static PeerMessage Unknown(byte id) => new PeerMessage((PeerMessageId)id);

        /// <summary>Returns the pooled payload, if any. Safe to call more than once.</summary>
        public void Dispose() => PayloadOwner?.Dispose();

        public override string ToString() => Id switch
        {
            PeerMessageId.Have or PeerMessageId.Suggest or PeerMessageId.AllowedFast => $"{Id} {Index}",
            PeerMessageId.Request or PeerMessageId.Cancel or PeerMessageId.RejectRequest => $"{Id} {Index}:{Begin}+{Length}",
            PeerMessageId.Piece => $"{Id} {Index}:{Begin}+{Payload.Length}",
            PeerMessageId.Bitfield => $"{Id} ({Payload.Length} bytes)",
            PeerMessageId.Port => $"{Id} {Port}",
            PeerMessageId.Extended => $"{Id} #{ExtendedId} ({Payload.Length} bytes)",
            _ => IsUnknown ? $"Unknown id {(int)Id}" : Id.ToString(),
        };

        private static int NonNegative(int value, string name) =>
            value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, "Must not be negative.");
    }
}
