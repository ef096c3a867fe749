using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Dht
{
    /// <summary>The three KRPC message types (the <c>y</c> key).</summary>
    public enum KrpcMessageType
    {
        Query,
        Response,
        Error,
    }

    /// <summary>The BEP 5 query methods; anything else is <see cref="Unknown"/> with its name kept in
    /// <see cref="KrpcMessage.MethodName"/> (so the node can answer 204, method unknown).</summary>
    public enum KrpcMethod
    {
        Unknown,
        Ping,
        FindNode,
        GetPeers,
        AnnouncePeer,
    }

    /// <summary>BEP 32 <c>want</c>: which node lists the querier asks for.</summary>
    [Flags]
    public enum KrpcWant
    {
        None = 0,
        Ipv4 = 1,
        Ipv6 = 2,
    }

    /// <summary>The error codes of BEP 5.</summary>
    public static class KrpcErrorCode
    {
        public const int Generic = 201;
        public const int Server = 202;
        public const int Protocol = 203;
        public const int MethodUnknown = 204;
    }

    /// <summary>One KRPC message (BEP 5, with BEP 32 <c>nodes6</c>/<c>want</c>, BEP 42 <c>ip</c>, BEP 43 <c>ro</c>).
    /// A plain data object: <see cref="KrpcCodec"/> reads and writes it. Fields that do not apply to the
    /// message's type and method are left at their defaults.</summary>
    public sealed class KrpcMessage
    {
        /// <summary>Largest datagram decoded: an Ethernet payload is 1500 bytes; anything over this is refused unread.</summary>
        public const int MaxDatagramLength = 2048;

        /// <summary>Longest transaction id kept (ours are 2 bytes; libtorrent's 2, others up to 8).</summary>
        public const int MaxTransactionIdLength = 16;

        /// <summary>Longest token, method name and version accepted (tokens in the wild are 4 to 20 bytes).</summary>
        public const int MaxTokenLength = 64;
        public const int MaxMethodNameLength = 64;
        public const int MaxVersionLength = 32;

        public KrpcMessageType Type { get; set; }

        /// <summary><c>t</c>: echoed in the reply, 1 to <see cref="MaxTransactionIdLength"/> bytes.</summary>
        public byte[] TransactionId { get; set; } = Array.Empty<byte>();

        /// <summary><c>v</c>: the sender's client version (2 letters and 2 bytes by convention), if sent.</summary>
        public byte[]? Version { get; set; }

        /// <summary><c>ro</c> = 1 (BEP 43): the querier is read-only and must not be added to routing tables.</summary>
        public bool ReadOnly { get; set; }

        /// <summary><c>ip</c> (BEP 42): the address the responder saw us at (our external address).</summary>
        public IPEndPoint? ExternalAddress { get; set; }

        // ---- queries ----

        public KrpcMethod Method { get; set; }

        /// <summary><c>q</c> as sent (the well-known names for known methods).</summary>
        public string MethodName { get; set; } = string.Empty;

        /// <summary><c>id</c> of the querier (in <c>a</c>) or the responder (in <c>r</c>).</summary>
        public NodeId Id { get; set; }

        /// <summary><c>target</c> of find_node.</summary>
        public NodeId Target { get; set; }

        /// <summary><c>info_hash</c> of get_peers and announce_peer.</summary>
        public NodeId InfoHash { get; set; }

        /// <summary><c>port</c> of announce_peer (0 when absent; only valid so with <see cref="ImpliedPort"/>).</summary>
        public int Port { get; set; }

        /// <summary><c>implied_port</c> = 1: use the datagram's source port instead of <see cref="Port"/>.</summary>
        public bool ImpliedPort { get; set; }

        /// <summary><c>token</c> of announce_peer (query) or get_peers (response).</summary>
        public byte[]? Token { get; set; }

        public KrpcWant Want { get; set; }

        // ---- responses ----

        /// <summary><c>nodes</c> (IPv4), port-0 entries dropped; null when the key was absent.</summary>
        public List<CompactNode>? Nodes { get; set; }

        /// <summary><c>nodes6</c> (BEP 32), port-0 entries dropped; null when absent.</summary>
        public List<CompactNode>? Nodes6 { get; set; }

        /// <summary><c>values</c>: peers of get_peers, IPv4 and IPv6, port-0 entries dropped; null when absent.</summary>
        public List<IPEndPoint>? Values { get; set; }

        /// <summary>Node and peer entries left out because their port was 0.</summary>
        public int DroppedPortZeroEntries { get; set; }

        // ---- errors ----

        public int ErrorCode { get; set; }
        public string ErrorMessage { get; set; } = string.Empty;

        public static KrpcMessage Query(byte[] transactionId, KrpcMethod method, NodeId id) => new KrpcMessage
        {
            Type = KrpcMessageType.Query, TransactionId = transactionId, Method = method, MethodName = KrpcCodec.NameOf(method), Id = id,
        };

        public static KrpcMessage Response(byte[] transactionId, NodeId id) => new KrpcMessage
        {
            Type = KrpcMessageType.Response, TransactionId = transactionId, Id = id,
        };

        public static KrpcMessage Failure(byte[] transactionId, int code, string message) => new KrpcMessage
        {
            Type = KrpcMessageType.Error, TransactionId = transactionId, ErrorCode = code, ErrorMessage = message ?? string.Empty,
        };
    }
}
