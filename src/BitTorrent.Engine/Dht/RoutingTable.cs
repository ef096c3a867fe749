using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace BitTorrent.Dht
{
    /// <summary>BEP 5's routing table for one address family (BEP 32: an IPv4 and an IPv6 table are two instances).
    /// Bucket i holds the nodes whose id shares exactly i leading bits with ours; the last bucket holds all nodes
    /// sharing at least that many, and only it splits, so the table is finest near our id. Bounded: at most 160
    /// buckets × <see cref="K"/> = 1,280 nodes plus 160 × <see cref="RoutingTableOptions.ReplacementCacheSize"/>
    /// (1,280 by default) replacements. It does no I/O: the caller pings <see cref="NodesToPing"/>, looks up
    /// <see cref="BucketsNeedingRefresh"/> and reports back through <see cref="Responded"/> and <see cref="Failed"/>.
    /// Not thread-safe: the DHT node's single loop owns it.</summary>
    public sealed partial class RoutingTable
    {
        public const int K = 8;
        public const int MaxBuckets = NodeId.Length * 8;
        public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(15);

        /// <summary>A node queried this recently is not listed to ping again: its answer or timeout is pending.</summary>
        public static readonly TimeSpan PendingQueryWindow = TimeSpan.FromSeconds(15);

        private readonly TimeProvider _time;
        private readonly RoutingTableOptions _options;
        private readonly Random _random;
        private readonly List<Bucket> _buckets = new List<Bucket>();
        private readonly Dictionary<IPAddress, NodeId> _byAddress = new Dictionary<IPAddress, NodeId>();

        public RoutingTable(NodeId ownId, AddressFamily family, TimeProvider time, RoutingTableOptions? options = null)
        {
            if (family != AddressFamily.InterNetwork && family != AddressFamily.InterNetworkV6)
                throw new ArgumentOutOfRangeException(nameof(family));
            OwnId = ownId;
            Family = family;
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _options = options ?? new RoutingTableOptions();
            if (_options.ReplacementCacheSize < 0) throw new ArgumentOutOfRangeException(nameof(options));
            _random = _options.Random ?? new Random();
            _buckets.Add(new Bucket(_time.GetUtcNow()));
        }

        public NodeId OwnId { get; }
        public AddressFamily Family { get; }
        public int BucketCount => _buckets.Count;

        /// <summary>Nodes in buckets (replacements not counted).</summary>
        public int Count { get { int n = 0; foreach (var b in _buckets) n += b.Nodes.Count; return n; } }

        public IReadOnlyList<DhtNode> BucketNodes(int index) => _buckets[index].Nodes;
        public IReadOnlyList<DhtNode> BucketReplacements(int index) => _buckets[index].Replacements;

        /// <summary>The index of the bucket <paramref name="id"/> belongs in.</summary>
        public int BucketIndexOf(NodeId id) => Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1);

        /// <summary>A node we learned of (a nodes list, a peer's PORT message) but have not heard from.</summary>
        public RoutingTableResult Add(NodeId id, IPEndPoint endPoint) => Offer(id, endPoint, Contact.None);

        /// <summary>The node answered one of our queries: good from now.</summary>
        public RoutingTableResult Responded(NodeId id, IPEndPoint endPoint) => Offer(id, endPoint, Contact.Response);

        /// <summary>The node sent us a query: good if it has answered us before, else as <see cref="Add"/>.</summary>
        public RoutingTableResult QueriedUs(NodeId id, IPEndPoint endPoint) => Offer(id, endPoint, Contact.Query);

        /// <summary>We sent the node a query (a ping from <see cref="NodesToPing"/> or a lookup step): it leaves the
        /// ping list for <see cref="PendingQueryWindow"/> so it is not pinged twice while the answer is due.</summary>
        public void Queried(NodeId id)
        {
            var bucket = _buckets[BucketIndexOf(id)];
            var node = Find(bucket.Nodes, id) ?? Find(bucket.Replacements, id);
            if (node != null) node.LastQueriedByUs = _time.GetUtcNow();
        }

        /// <summary>A query to the node timed out. After <see cref="DhtNode.MaxFailedQueries"/> in a row it is bad and
        /// the best replacement takes its place at once; a replacement that fails is forgotten.</summary>
        public void Failed(NodeId id)
        {
            if (_buckets.Count == 0) return;
            var bucket = _buckets[BucketIndexOf(id)];
            int at = IndexOf(bucket.Nodes, id);
            if (at >= 0)
            {
                var node = bucket.Nodes[at];
                node.FailedQueries++;
                if (node.StateAt(_time.GetUtcNow()) == DhtNodeState.Bad && bucket.Replacements.Count > 0)
                {
                    Forget(node);
                    bucket.Nodes.RemoveAt(at);
                    bucket.Nodes.Add(TakeBestReplacement(bucket));
                    bucket.LastChanged = _time.GetUtcNow();
                }
                return;
            }
            at = IndexOf(bucket.Replacements, id);
            if (at >= 0)
            {
                Forget(bucket.Replacements[at]);
                bucket.Replacements.RemoveAt(at);
            }
        }

        /// <summary>Questionable nodes in full buckets that have a replacement waiting, least recently seen first:
        /// BEP 5 pings them before a newcomer may take their place (an answer keeps them, failures replace them).</summary>
        public IReadOnlyList<DhtNode> NodesToPing()
        {
            var now = _time.GetUtcNow();
            var result = new List<DhtNode>();
            foreach (var bucket in _buckets)
            {
                if (bucket.Replacements.Count == 0 || bucket.Nodes.Count < K) continue;
                var questionable = bucket.Nodes.FindAll(n => n.StateAt(now) == DhtNodeState.Questionable
                    && !(n.LastQueriedByUs.HasValue && now - n.LastQueriedByUs.Value < PendingQueryWindow));
                questionable.Sort((a, b) => Nullable.Compare(a.LastSeen, b.LastSeen));
                result.AddRange(questionable);
            }
            return result;
        }

        /// <summary>The <paramref name="count"/> nodes closest to <paramref name="target"/> by XOR distance, closest
        /// first. Bad nodes never; questionable ones only when <paramref name="includeQuestionable"/> (a lookup may
        /// start from them; a find_node or get_peers reply to others should hand out only good nodes).</summary>
        public IReadOnlyList<DhtNode> Closest(NodeId target, int count, bool includeQuestionable = false)
        {
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
            var now = _time.GetUtcNow();
            var candidates = new List<DhtNode>();
            foreach (var bucket in _buckets)
                foreach (var node in bucket.Nodes)
                {
                    var state = node.StateAt(now);
                    if (state == DhtNodeState.Good || (includeQuestionable && state == DhtNodeState.Questionable))
                        candidates.Add(node);
                }
            candidates.Sort((a, b) => target.CompareDistance(a.Id, b.Id));
            if (candidates.Count > count) candidates.RemoveRange(count, candidates.Count - count);
            return candidates;
        }

        /// <summary>Buckets unchanged for <see cref="RefreshInterval"/>, each with a random id in its range.</summary>
        public IReadOnlyList<RefreshTarget> BucketsNeedingRefresh()
        {
            var now = _time.GetUtcNow();
            var result = new List<RefreshTarget>();
            for (int i = 0; i < _buckets.Count; i++)
                if (now - _buckets[i].LastChanged >= RefreshInterval) result.Add(new RefreshTarget(i, RandomIdInBucket(i)));
            return result;
        }

        /// <summary>The caller started a refresh lookup for the bucket: not reported again for another interval.</summary>
        public void MarkRefreshed(int bucketIndex) => _buckets[bucketIndex].LastChanged = _time.GetUtcNow();

        /// <summary>An id sharing exactly <paramref name="bucketIndex"/> leading bits with ours (at least that many
        /// for the last bucket), random after that.</summary>
        public NodeId RandomIdInBucket(int bucketIndex)
        {
            if (bucketIndex < 0 || bucketIndex >= _buckets.Count) throw new ArgumentOutOfRangeException(nameof(bucketIndex));
            var bytes = new byte[NodeId.Length];
            _random.NextBytes(bytes);
            var own = OwnId.Bytes;
            for (int bit = 0; bit < bucketIndex; bit++) SetBit(bytes, bit, GetBit(own, bit));
            if (bucketIndex < _buckets.Count - 1) SetBit(bytes, bucketIndex, !GetBit(own, bucketIndex));
            return new NodeId(bytes);
        }

        private RoutingTableResult Offer(NodeId id, IPEndPoint endPoint, Contact contact)
        {
            if (endPoint == null) throw new ArgumentNullException(nameof(endPoint));
            if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
            if (id == OwnId || endPoint.Port == 0 || endPoint.AddressFamily != Family
                || !DhtAddressRules.IsUsable(endPoint.Address)
                || (_options.AddressFilter != null && !_options.AddressFilter(endPoint.Address)))
                return RoutingTableResult.Rejected;
            var now = _time.GetUtcNow();
            var bucket = _buckets[BucketIndexOf(id)];

            var known = Find(bucket.Nodes, id);
            if (known != null)
            {
                // An id claiming a new address is more likely a spoof than a move; the old entry goes bad if it moved.
                if (!known.EndPoint.Equals(endPoint)) return RoutingTableResult.Rejected;
                Touch(known, contact, now);
                if (contact == Contact.Response) bucket.LastChanged = now;
                return RoutingTableResult.Updated;
            }
            var waiting = Find(bucket.Replacements, id);
            if (waiting != null)
            {
                if (!waiting.EndPoint.Equals(endPoint)) return RoutingTableResult.Rejected;
                Touch(waiting, contact, now);
                // A replacement that answers takes a bad node's place at once (BEP 5: bad nodes are replaced).
                int badAt = contact == Contact.Response ? bucket.Nodes.FindIndex(n => n.StateAt(now) == DhtNodeState.Bad) : -1;
                if (badAt < 0) return RoutingTableResult.Replacement;
                Forget(bucket.Nodes[badAt]);
                bucket.Nodes.RemoveAt(badAt);
                bucket.Replacements.Remove(waiting);
                bucket.Nodes.Add(waiting);
                bucket.LastChanged = now;
                return RoutingTableResult.Added;
            }
            if (!_options.AllowSameAddress && _byAddress.ContainsKey(endPoint.Address)) return RoutingTableResult.Rejected;

            var node = new DhtNode(id, endPoint, now);
            Touch(node, contact, now);
            while (true)
            {
                int index = BucketIndexOf(id);
                bucket = _buckets[index];
                if (bucket.Nodes.Count < K)
                {
                    Insert(bucket, node, now);
                    return RoutingTableResult.Added;
                }
                int bad = bucket.Nodes.FindIndex(n => n.StateAt(now) == DhtNodeState.Bad);
                if (bad >= 0)
                {
                    Forget(bucket.Nodes[bad]);
                    bucket.Nodes.RemoveAt(bad);
                    Insert(bucket, node, now);
                    return RoutingTableResult.Added;
                }
                if (index == _buckets.Count - 1 && _buckets.Count < MaxBuckets)
                {
                    Split();
                    continue;
                }
                if (_options.ReplacementCacheSize == 0) return RoutingTableResult.Rejected;
                if (bucket.Replacements.Count >= _options.ReplacementCacheSize)
                {
                    // Make room by dropping the oldest entry that never answered us, else the oldest entry.
                    int drop = bucket.Replacements.FindIndex(n => !n.LastResponse.HasValue);
                    if (drop < 0) drop = 0;
                    Forget(bucket.Replacements[drop]);
                    bucket.Replacements.RemoveAt(drop);
                }
                bucket.Replacements.Add(node);
                Remember(node);
                return RoutingTableResult.Replacement;
            }
        }

        private static void Touch(DhtNode node, Contact contact, DateTimeOffset now)
        {
            if (contact == Contact.Response) { node.LastResponse = now; node.FailedQueries = 0; }
            else if (contact == Contact.Query) node.LastQueryFromNode = now;
        }

        private void Insert(Bucket bucket, DhtNode node, DateTimeOffset now)
        {
            bucket.Nodes.Add(node);
            bucket.LastChanged = now;
            Remember(node);
        }

        private static DhtNode? Find(List<DhtNode> nodes, NodeId id)
        {
            int at = IndexOf(nodes, id);
            return at >= 0 ? nodes[at] : null;
        }

        private static int IndexOf(List<DhtNode> nodes, NodeId id)
        {
            for (int i = 0; i < nodes.Count; i++) if (nodes[i].Id == id) return i;
            return -1;
        }

        private static bool GetBit(ReadOnlySpan<byte> bytes, int bit) => (bytes[bit >> 3] & (0x80 >> (bit & 7))) != 0;

        private static void SetBit(byte[] bytes, int bit, bool value)
        {
            if (value) bytes[bit >> 3] |= (byte)(0x80 >> (bit & 7));
            else bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        private enum Contact { None, Query, Response }

        private sealed class Bucket
        {
            public Bucket(DateTimeOffset lastChanged) { LastChanged = lastChanged; }
            public readonly List<DhtNode> Nodes = new List<DhtNode>(K);
            public readonly List<DhtNode> Replacements = new List<DhtNode>();
            public DateTimeOffset LastChanged;
        }
    }
}
