using System;
using System.Security.Cryptography;

namespace BitTorrent.Dht
{
    /// <summary>A 160-bit DHT node id (BEP 5), also the key space of info-hashes. Distance is XOR, compared as an
    /// unsigned big-endian number: the Kademlia metric the routing table and every lookup sort by.</summary>
    public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
    {
        public const int Length = 20;
        private readonly byte[]? _bytes;

        public NodeId(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length != Length) throw new ArgumentException("A node id is 20 bytes.", nameof(bytes));
            _bytes = bytes.ToArray();
        }

        /// <summary>The id's bytes (a copy is never needed: the array is never handed out for writing).</summary>
        public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[Length];

        /// <summary>A random id (before our external address is known; BEP 42 ids come from that address).</summary>
        public static NodeId Random()
        {
            var bytes = new byte[Length];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            return new NodeId(bytes);
        }

        /// <summary>Exactly 20 bytes, else false (a KRPC field of another length is garbage).</summary>
        public static bool TryRead(ReadOnlySpan<byte> bytes, out NodeId id)
        {
            id = default;
            if (bytes.Length != Length) return false;
            id = new NodeId(bytes);
            return true;
        }

        /// <summary>this XOR other.</summary>
        public NodeId Xor(NodeId other)
        {
            var a = Bytes;
            var b = other.Bytes;
            var result = new byte[Length];
            for (int i = 0; i < Length; i++) result[i] = (byte)(a[i] ^ b[i]);
            return new NodeId(result);
        }

        /// <summary>Which of <paramref name="a"/> and <paramref name="b"/> is closer to this id: negative when a is,
        /// positive when b is, 0 when they are the same id.</summary>
        public int CompareDistance(NodeId a, NodeId b)
        {
            var t = Bytes;
            var x = a.Bytes;
            var y = b.Bytes;
            for (int i = 0; i < Length; i++)
            {
                int dx = t[i] ^ x[i], dy = t[i] ^ y[i];
                if (dx != dy) return dx < dy ? -1 : 1;
            }
            return 0;
        }

        /// <summary>The number of leading bits this id shares with <paramref name="other"/> (160 when equal): the
        /// index of the k-bucket the other id falls in, counted from the far end.</summary>
        public int CommonPrefixLength(NodeId other)
        {
            var a = Bytes;
            var b = other.Bytes;
            for (int i = 0; i < Length; i++)
            {
                int x = a[i] ^ b[i];
                if (x == 0) continue;
                int bits = 0;
                while ((x & 0x80) == 0) { x <<= 1; bits++; }
                return i * 8 + bits;
            }
            return Length * 8;
        }

        public bool Equals(NodeId other) => Bytes.SequenceEqual(other.Bytes);
        public override bool Equals(object? obj) => obj is NodeId other && Equals(other);
        public override int GetHashCode()
        {
            var b = Bytes;
            return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24;
        }

        /// <summary>Numeric order of the ids (big-endian, unsigned).</summary>
        public int CompareTo(NodeId other) => Bytes.SequenceCompareTo(other.Bytes);

        public static bool operator ==(NodeId a, NodeId b) => a.Equals(b);
        public static bool operator !=(NodeId a, NodeId b) => !a.Equals(b);

        /// <summary>40 lowercase hex digits.</summary>
        public override string ToString() => Hex.ToLower(Bytes.ToArray());
    }
}
