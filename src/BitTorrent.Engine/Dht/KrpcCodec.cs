using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BitTorrent.Bencoding;

namespace BitTorrent.Dht
{
    /// <summary>Reads and writes KRPC datagrams with our bencode codec. Decoding is strict and bounded: the size is
    /// checked before a byte is parsed, the bencode limits cap depth and value count, and every refusal is a
    /// <see cref="KrpcException"/> with a <see cref="KrpcError"/> kind.</summary>
    public static class KrpcCodec
    {
        /// <summary>The deepest legitimate message is 3 levels (root → r → values); a little slack, no more.</summary>
        private static readonly BencodeLimits Limits = new BencodeLimits
        {
            MaxInputBytes = KrpcMessage.MaxDatagramLength,
            MaxDepth = 6,
            MaxTokens = 512,
            RejectTrailingData = true,
        };

        public static string NameOf(KrpcMethod method) => method switch
        {
            KrpcMethod.Ping => "ping",
            KrpcMethod.FindNode => "find_node",
            KrpcMethod.GetPeers => "get_peers",
            KrpcMethod.AnnouncePeer => "announce_peer",
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "An unknown method has no name of its own."),
        };

        public static KrpcMessage Decode(ReadOnlySpan<byte> datagram)
        {
            if (datagram.Length > KrpcMessage.MaxDatagramLength)
                throw new KrpcException(KrpcError.TooLarge, $"A datagram of {datagram.Length} bytes (at most {KrpcMessage.MaxDatagramLength}).");
            BValue root;
            try
            {
                root = BencodeDecoder.Decode(datagram, Limits);
            }
            catch (BencodeException ex)
            {
                var kind = ex.Error switch
                {
                    BencodeError.DepthLimitExceeded or BencodeError.TokenLimitExceeded => KrpcError.LimitExceeded,
                    BencodeError.InputTooLarge => KrpcError.TooLarge,
                    _ => KrpcError.MalformedBencode,
                };
                throw new KrpcException(kind, "Not a KRPC message: " + ex.Detail, ex);
            }
            if (root is not BDictionary dict) throw new KrpcException(KrpcError.NotADictionary, "A KRPC message is a dictionary.");

            var message = new KrpcMessage();
            var t = dict["t"] as BString;
            if (t is null || t.Length == 0 || t.Length > KrpcMessage.MaxTransactionIdLength)
                throw new KrpcException(KrpcError.BadTransactionId, $"The transaction id is missing or not 1 to {KrpcMessage.MaxTransactionIdLength} bytes.");
            message.TransactionId = t.Bytes;
            try
            {
                DecodeFields(dict, message);
            }
            catch (KrpcException ex)
            {
                ex.TransactionId = t.Bytes;
                if (dict["y"] is BString { Length: 1 } type)
                    ex.MessageType = type.Bytes[0] switch { (byte)'q' => KrpcMessageType.Query, (byte)'r' => KrpcMessageType.Response, (byte)'e' => KrpcMessageType.Error, _ => null };
                throw;
            }
            return message;
        }

        private static void DecodeFields(BDictionary dict, KrpcMessage message)
        {
            message.Version = OptionalString(dict, "v", KrpcMessage.MaxVersionLength);
            if (dict["ro"] is { } ro) message.ReadOnly = (ro as BInteger ?? throw WrongType("ro")).Value == 1;
            if (OptionalString(dict, "ip", KrpcMessage.MaxDatagramLength) is { } ip) message.ExternalAddress = CompactPeer.Read(ip);

            var y = dict["y"] as BString;
            if (y is null || y.Length != 1) throw new KrpcException(KrpcError.BadMessageType, "The message type (y) is missing or not one letter.");
            switch ((char)y.Bytes[0])
            {
                case 'q': DecodeQuery(dict, message); break;
                case 'r': DecodeResponse(dict, message); break;
                case 'e': DecodeError(dict, message); break;
                default: throw new KrpcException(KrpcError.BadMessageType, "The message type (y) is not q, r or e.");
            }
        }

        private static void DecodeQuery(BDictionary dict, KrpcMessage message)
        {
            message.Type = KrpcMessageType.Query;
            var q = Required<BString>(dict, "q");
            if (q.Length == 0 || q.Length > KrpcMessage.MaxMethodNameLength)
                throw new KrpcException(KrpcError.FieldTooLong, $"A method name of {q.Length} bytes.");
            message.MethodName = q.ToDisplayString();
            message.Method = message.MethodName switch
            {
                "ping" => KrpcMethod.Ping,
                "find_node" => KrpcMethod.FindNode,
                "get_peers" => KrpcMethod.GetPeers,
                "announce_peer" => KrpcMethod.AnnouncePeer,
                _ => KrpcMethod.Unknown,
            };
            var a = Required<BDictionary>(dict, "a");
            message.Id = RequiredId(a, "id");
            message.Want = ReadWant(a);
            switch (message.Method)
            {
                case KrpcMethod.FindNode:
                    message.Target = RequiredId(a, "target");
                    break;
                case KrpcMethod.GetPeers:
                    message.InfoHash = RequiredId(a, "info_hash");
                    break;
                case KrpcMethod.AnnouncePeer:
                    message.InfoHash = RequiredId(a, "info_hash");
                    message.Token = OptionalString(a, "token", KrpcMessage.MaxTokenLength)
                        ?? throw new KrpcException(KrpcError.MissingField, "announce_peer without a token.");
                    if (a["implied_port"] is { } implied) message.ImpliedPort = (implied as BInteger ?? throw WrongType("implied_port")).Value == 1;
                    if (a["port"] is { } portValue)
                    {
                        long port = (portValue as BInteger ?? throw WrongType("port")).Value;
                        if (port < 0 || port > 65535) throw WrongType("port");
                        message.Port = (int)port;
                    }
                    if (message.Port == 0 && !message.ImpliedPort)
                        throw new KrpcException(KrpcError.MissingField, "announce_peer without a port (and no implied_port).");
                    break;
            }
        }

        private static void DecodeResponse(BDictionary dict, KrpcMessage message)
        {
            message.Type = KrpcMessageType.Response;
            var r = Required<BDictionary>(dict, "r");
            message.Id = RequiredId(r, "id");
            message.Token = OptionalString(r, "token", KrpcMessage.MaxTokenLength);
            int dropped = 0;
            if (r["nodes"] is { } nodes)
            {
                message.Nodes = CompactNode.ParseList((nodes as BString ?? throw WrongType("nodes")).Span, ipv6: false, out int n);
                dropped += n;
            }
            if (r["nodes6"] is { } nodes6)
            {
                message.Nodes6 = CompactNode.ParseList((nodes6 as BString ?? throw WrongType("nodes6")).Span, ipv6: true, out int n);
                dropped += n;
            }
            if (r["values"] is { } valuesValue)
            {
                var values = valuesValue as BList ?? throw WrongType("values");
                message.Values = new List<IPEndPoint>(values.Count);
                foreach (var item in values)
                {
                    var peer = CompactPeer.Read((item as BString ?? throw WrongType("values")).Span);
                    if (peer is null) dropped++;
                    else message.Values.Add(peer);
                }
            }
            message.DroppedPortZeroEntries = dropped;
        }

        private static void DecodeError(BDictionary dict, KrpcMessage message)
        {
            message.Type = KrpcMessageType.Error;
            var e = dict["e"] as BList;
            if (e is null || e.Count < 2 || e[0] is not BInteger code || e[1] is not BString text)
                throw new KrpcException(KrpcError.BadError, "The error (e) is not a list of a code and a message.");
            if (code.Value < int.MinValue || code.Value > int.MaxValue) throw new KrpcException(KrpcError.BadError, "An error code out of range.");
            message.ErrorCode = (int)code.Value;
            message.ErrorMessage = text.ToDisplayString();
        }

        private static KrpcWant ReadWant(BDictionary a)
        {
            if (a["want"] is not { } value) return KrpcWant.None;
            var list = value as BList ?? throw WrongType("want");
            var want = KrpcWant.None;
            foreach (var item in list)
            {
                // Unknown entries are ignored (BEP 32 leaves room for more families); non-strings are not.
                var s = item as BString ?? throw WrongType("want");
                if (s.Length != 2 || s.Bytes[0] != (byte)'n') continue;
                if (s.Bytes[1] == (byte)'4') want |= KrpcWant.Ipv4;
                else if (s.Bytes[1] == (byte)'6') want |= KrpcWant.Ipv6;
            }
            return want;
        }

        private static T Required<T>(BDictionary dict, string key) where T : BValue
        {
            var value = dict[key] ?? throw new KrpcException(KrpcError.MissingField, $"No '{key}'.");
            return value as T ?? throw WrongType(key);
        }

        private static NodeId RequiredId(BDictionary dict, string key)
        {
            var s = Required<BString>(dict, key);
            if (!NodeId.TryRead(s.Span, out var id))
                throw new KrpcException(KrpcError.BadNodeId, $"'{key}' is {s.Length} bytes, not {NodeId.Length}.");
            return id;
        }

        private static byte[]? OptionalString(BDictionary dict, string key, int maxLength)
        {
            if (dict[key] is not { } value) return null;
            var s = value as BString ?? throw WrongType(key);
            if (s.Length > maxLength) throw new KrpcException(KrpcError.FieldTooLong, $"'{key}' is {s.Length} bytes (at most {maxLength}).");
            return s.Bytes;
        }

        private static KrpcException WrongType(string key) => new KrpcException(KrpcError.WrongType, $"'{key}' has the wrong type or an out-of-range value.");

        /// <summary>The bencoded datagram of <paramref name="message"/>. Throws ArgumentException for a message we must
        /// not send (bad transaction id, unknown method without a name, a query without its required fields).</summary>
        public static byte[] Encode(KrpcMessage message)
        {
            if (message is null) throw new ArgumentNullException(nameof(message));
            var tid = message.TransactionId;
            if (tid is null || tid.Length == 0 || tid.Length > KrpcMessage.MaxTransactionIdLength)
                throw new ArgumentException($"A transaction id is 1 to {KrpcMessage.MaxTransactionIdLength} bytes.", nameof(message));
            var dict = new BDictionary();
            dict.Set("t", new BString(tid));
            if (message.Version is { } v) dict.Set("v", new BString(v));
            if (message.ReadOnly) dict.Set("ro", new BInteger(1));
            if (message.ExternalAddress is { } ip) dict.Set("ip", new BString(CompactPeer.Write(ip)));
            switch (message.Type)
            {
                case KrpcMessageType.Query:
                    dict.Set("y", new BString("q"));
                    string name = message.Method == KrpcMethod.Unknown ? message.MethodName : NameOf(message.Method);
                    if (string.IsNullOrEmpty(name)) throw new ArgumentException("A query needs a method name.", nameof(message));
                    dict.Set("q", new BString(name));
                    dict.Set("a", QueryArguments(message));
                    break;
                case KrpcMessageType.Response:
                    dict.Set("y", new BString("r"));
                    dict.Set("r", ResponseValues(message));
                    break;
                case KrpcMessageType.Error:
                    dict.Set("y", new BString("e"));
                    dict.Set("e", new BList(new BValue[] { new BInteger(message.ErrorCode), new BString(Encoding.UTF8.GetBytes(message.ErrorMessage ?? string.Empty)) }));
                    break;
                default:
                    throw new ArgumentException($"Unknown message type {message.Type}.", nameof(message));
            }
            return BencodeEncoder.Encode(dict);
        }

        private static BDictionary QueryArguments(KrpcMessage message)
        {
            var a = new BDictionary();
            a.Set("id", new BString(message.Id.Bytes.ToArray()));
            switch (message.Method)
            {
                case KrpcMethod.FindNode:
                    a.Set("target", new BString(message.Target.Bytes.ToArray()));
                    break;
                case KrpcMethod.GetPeers:
                    a.Set("info_hash", new BString(message.InfoHash.Bytes.ToArray()));
                    break;
                case KrpcMethod.AnnouncePeer:
                    if (message.Token is null) throw new ArgumentException("announce_peer needs a token.", nameof(message));
                    if (message.Port < 0 || message.Port > 65535) throw new ArgumentException("A port is 0 to 65535.", nameof(message));
                    a.Set("info_hash", new BString(message.InfoHash.Bytes.ToArray()));
                    a.Set("port", new BInteger(message.Port));
                    a.Set("token", new BString(message.Token));
                    if (message.ImpliedPort) a.Set("implied_port", new BInteger(1));
                    break;
            }
            if (message.Want != KrpcWant.None)
            {
                var want = new BList();
                if ((message.Want & KrpcWant.Ipv4) != 0) want.Add(new BString("n4"));
                if ((message.Want & KrpcWant.Ipv6) != 0) want.Add(new BString("n6"));
                a.Set("want", want);
            }
            return a;
        }

        private static BDictionary ResponseValues(KrpcMessage message)
        {
            var r = new BDictionary();
            r.Set("id", new BString(message.Id.Bytes.ToArray()));
            if (message.Token is { } token) r.Set("token", new BString(token));
            if (message.Nodes is { } nodes) r.Set("nodes", new BString(CompactNode.WriteList(nodes, ipv6: false)));
            if (message.Nodes6 is { } nodes6) r.Set("nodes6", new BString(CompactNode.WriteList(nodes6, ipv6: true)));
            if (message.Values is { } values)
            {
                var list = new BList();
                foreach (var peer in values) list.Add(new BString(CompactPeer.Write(peer)));
                r.Set("values", list);
            }
            return r;
        }
    }
}
