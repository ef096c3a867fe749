using System;
using System.Net;

namespace BitTorrent.Dht
{
    /// <summary>What happened to a node offered to the table.</summary>
    public enum RoutingTableResult
    {
        /// <summary>Now in a bucket.</summary>
        Added,
        /// <summary>Was already in a bucket; its times were updated.</summary>
        Updated,
        /// <summary>Its bucket is full of good or questionable nodes: kept in the bucket's replacement cache.</summary>
        Replacement,
        /// <summary>Our own id, port 0, an unusable or filtered address, the other address family, an address another
        /// id already holds, or a known id at a new address.</summary>
        Rejected,
    }

    /// <summary>A bucket nothing touched for 15 minutes, and an id in its range to look up to refresh it.</summary>
    public readonly struct RefreshTarget
    {
        public RefreshTarget(int bucketIndex, NodeId target) { BucketIndex = bucketIndex; Target = target; }
        public int BucketIndex { get; }
        public NodeId Target { get; }
    }

    public sealed class RoutingTableOptions
    {
        /// <summary>Keep several ids per IP address (loopback test networks); off by default against Sybil floods.</summary>
        public bool AllowSameAddress { get; set; }

        /// <summary>An extra test every address must pass (null: none beyond <see cref="DhtAddressRules.IsUsable"/>).</summary>
        public Func<IPAddress, bool>? AddressFilter { get; set; }

        /// <summary>Replacement cache size per bucket.</summary>
        public int ReplacementCacheSize { get; set; } = 8;

        /// <summary>Source of refresh targets (tests pass a seeded one).</summary>
        public Random? Random { get; set; }
    }
}
