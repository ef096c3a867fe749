using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace BitTorrent.Dht
{
    /// <summary>A node as KRPC lists it: its id and its UDP endpoint (compact form: 20-byte id, 4- or 16-byte address,
    /// 2-byte big-endian port; 26 bytes for IPv4, 38 for IPv6).</summary>
    public readonly struct CompactNode : IEquatable<CompactNode>
    {
        public const int Ipv4Length = NodeId.Length + 6;
        public const int Ipv6Length = NodeId.Length + 18;

        public CompactNode(NodeId id, IPEndPoint endPoint)
        {
            Id = id;
            EndPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
        }

        public NodeId Id { get; }
        public IPEndPoint EndPoint { get; }

        /// <summary>Reads a <c>nodes</c> (IPv4) or <c>nodes6</c> (IPv6) string. Entries with port 0 are dropped (no one
        /// can be reached on it) and counted in <paramref name="droppedPortZero"/>; a length that is not a whole number
        /// of entries is <see cref="KrpcError.BadCompactNodes"/>.</summary>
        public static List<CompactNode> ParseList(ReadOnlySpan<byte> data, bool ipv6, out int droppedPortZero)
        {
            int size = ipv6 ? Ipv6Length : Ipv4Length;
            if (data.Length % size != 0)
                throw new KrpcException(KrpcError.BadCompactNodes, $"A {(ipv6 ? "nodes6" : "nodes")} string of {data.Length} bytes is not a multiple of {size}.");
            var nodes = new List<CompactNode>(data.Length / size);
            droppedPortZero = 0;
            for (int offset = 0; offset < data.Length; offset += size)
            {
                var entry = data.Slice(offset, size);
                var endPoint = CompactPeer.Read(entry.Slice(NodeId.Length));
                if (endPoint is null) { droppedPortZero++; continue; }
                nodes.Add(new CompactNode(new NodeId(entry.Slice(0, NodeId.Length)), endPoint));
            }
            return nodes;
        }

        /// <summary>Writes <paramref name="nodes"/> as one compact string; every node must be of the list's family.</summary>
        public static byte[] WriteList(IReadOnlyCollection<CompactNode> nodes, bool ipv6)
        {
            if (nodes is null) throw new ArgumentNullException(nameof(nodes));
            int size = ipv6 ? Ipv6Length : Ipv4Length;
            var result = new byte[nodes.Count * size];
            int offset = 0;
            foreach (var node in nodes)
            {
                if (node.EndPoint is null) throw new ArgumentException("A node without an endpoint.", nameof(nodes));
                if ((node.EndPoint.AddressFamily == AddressFamily.InterNetworkV6) != ipv6)
                    throw new ArgumentException($"Node {node.EndPoint} is not of the list's address family.", nameof(nodes));
                node.Id.Bytes.CopyTo(result.AsSpan(offset));
                CompactPeer.Write(node.EndPoint, result.AsSpan(offset + NodeId.Length));
                offset += size;
            }
            return result;
        }

        public bool Equals(CompactNode other) => Id == other.Id && Equals(EndPoint, other.EndPoint);
        public override bool Equals(object? obj) => obj is CompactNode other && Equals(other);
        public override int GetHashCode() => Id.GetHashCode() ^ (EndPoint?.GetHashCode() ?? 0);
        public override string ToString() => $"{Id}@{EndPoint}";
    }

    /// <summary>Compact peer and address entries: 4-byte IPv4 or 16-byte IPv6 address followed by a 2-byte
    /// big-endian port (6 or 18 bytes), as in <c>values</c> and BEP 42's <c>ip</c>.</summary>
    public static class CompactPeer
    {
        public const int Ipv4Length = 6;
        public const int Ipv6Length = 18;

        /// <summary>The endpoint of a 6- or 18-byte entry, or null when its port is 0 (unreachable: dropped by callers).
        /// Any other length is <see cref="KrpcError.BadCompactPeer"/>.</summary>
        public static IPEndPoint? Read(ReadOnlySpan<byte> entry)
        {
            if (entry.Length != Ipv4Length && entry.Length != Ipv6Length)
                throw new KrpcException(KrpcError.BadCompactPeer, $"A compact address of {entry.Length} bytes (6 or 18 expected).");
            int addressLength = entry.Length - 2;
            int port = entry[addressLength] << 8 | entry[addressLength + 1];
            if (port == 0) return null;
            return new IPEndPoint(new IPAddress(entry.Slice(0, addressLength).ToArray()), port);
        }

        /// <summary>The 6- or 18-byte form of <paramref name="endPoint"/>.</summary>
        public static byte[] Write(IPEndPoint endPoint)
        {
            if (endPoint is null) throw new ArgumentNullException(nameof(endPoint));
            var result = new byte[endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? Ipv6Length : Ipv4Length];
            Write(endPoint, result);
            return result;
        }

        internal static void Write(IPEndPoint endPoint, Span<byte> destination)
        {
            if (endPoint.AddressFamily != AddressFamily.InterNetwork && endPoint.AddressFamily != AddressFamily.InterNetworkV6)
                throw new ArgumentException($"{endPoint} is neither IPv4 nor IPv6.", nameof(endPoint));
            var address = endPoint.Address.GetAddressBytes();
            address.CopyTo(destination);
            destination[address.Length] = (byte)(endPoint.Port >> 8);
            destination[address.Length + 1] = (byte)endPoint.Port;
        }
    }
}
