using System;

namespace BitTorrent.Dht
{
    /// <summary>Why a KRPC datagram was refused. Stable names: the node counts drops by kind and tests key on them.</summary>
    public enum KrpcError
    {
        /// <summary>Over <see cref="KrpcMessage.MaxDatagramLength"/> bytes; refused before decoding.</summary>
        TooLarge,

        /// <summary>Not bencode (truncated, bad syntax, trailing bytes).</summary>
        MalformedBencode,

        /// <summary>Bencode nested deeper or with more values than any KRPC message has.</summary>
        LimitExceeded,

        /// <summary>The root value is not a dictionary.</summary>
        NotADictionary,

        /// <summary>No <c>t</c>, or one that is not a string of 1 to <see cref="KrpcMessage.MaxTransactionIdLength"/> bytes.</summary>
        BadTransactionId,

        /// <summary>No <c>y</c>, or one other than q, r or e.</summary>
        BadMessageType,

        /// <summary>A required key is missing (<c>q</c>, <c>a</c>, <c>r</c>, <c>e</c>, a method's arguments).</summary>
        MissingField,

        /// <summary>A key holds a value of the wrong bencode type, or a value out of range (a port, a flag).</summary>
        WrongType,

        /// <summary>A node id, target or info-hash that is not exactly 20 bytes.</summary>
        BadNodeId,

        /// <summary><c>nodes</c> not a multiple of 26 bytes, or <c>nodes6</c> not a multiple of 38.</summary>
        BadCompactNodes,

        /// <summary>A <c>values</c> entry, or the <c>ip</c> field, that is not 6 (IPv4) or 18 (IPv6) bytes.</summary>
        BadCompactPeer,

        /// <summary><c>e</c> is not a list of an integer code and a string message.</summary>
        BadError,

        /// <summary>A token, method name or version string longer than its bound.</summary>
        FieldTooLong,
    }

    /// <summary>Thrown for every refused KRPC datagram; the decoder throws nothing else.</summary>
    public sealed class KrpcException : FormatException
    {
        public KrpcException(KrpcError error, string detail, Exception? inner = null)
            : base(detail, inner)
        {
            Error = error;
        }

        public KrpcError Error { get; }

        /// <summary>The datagram's transaction id when it was read before the refusal (so the node can still answer
        /// 203, protocol error, to a malformed query); null otherwise.</summary>
        public byte[]? TransactionId { get; internal set; }

        /// <summary>The message type (<c>y</c>) when it was read before the refusal: only a refused query is answered.</summary>
        public KrpcMessageType? MessageType { get; internal set; }
    }
}
