using System;
using System.Net;

namespace BitTorrent.Dht
{
    /// <summary>BEP 5's three node states.</summary>
    public enum DhtNodeState
    {
        /// <summary>Answered one of our queries in the last 15 minutes, or has answered once and queried us in
        /// the last 15 minutes.</summary>
        Good,
        /// <summary>Neither good nor bad: quiet for 15 minutes, or never heard from (learned from a nodes list).</summary>
        Questionable,
        /// <summary>Failed <see cref="DhtNode.MaxFailedQueries"/> queries in a row.</summary>
        Bad,
    }

    /// <summary>What the routing table knows of one node. Times come from the table's TimeProvider; the state is
    /// computed from them at the moment asked, so nothing needs a timer.</summary>
    public sealed class DhtNode
    {
        /// <summary>BEP 5: "good" for this long after it last answered us (or queried us, once it has answered).</summary>
        public static readonly TimeSpan GoodFor = TimeSpan.FromMinutes(15);

        /// <summary>Failed queries in a row that make a node bad (BEP 5 says "multiple"; libtorrent and others use 2–3).</summary>
        public const int MaxFailedQueries = 2;

        public DhtNode(NodeId id, IPEndPoint endPoint, DateTimeOffset addedAt)
        {
            Id = id;
            EndPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
            AddedAt = addedAt;
        }

        public NodeId Id { get; }
        public IPEndPoint EndPoint { get; }
        public DateTimeOffset AddedAt { get; }

        /// <summary>When it last answered one of our queries; null if it never has.</summary>
        public DateTimeOffset? LastResponse { get; internal set; }

        /// <summary>When it last sent us a query; null if it never has.</summary>
        public DateTimeOffset? LastQueryFromNode { get; internal set; }

        /// <summary>When we last sent it a query (the table's <see cref="RoutingTable.Queried"/>); null if never.</summary>
        public DateTimeOffset? LastQueriedByUs { get; internal set; }

        /// <summary>Our queries to it that timed out since its last answer.</summary>
        public int FailedQueries { get; internal set; }

        /// <summary>The later of its last answer and (once it has answered) its last query: "last seen".</summary>
        public DateTimeOffset? LastSeen
        {
            get
            {
                if (!LastResponse.HasValue) return null;
                if (LastQueryFromNode.HasValue && LastQueryFromNode.Value > LastResponse.Value) return LastQueryFromNode;
                return LastResponse;
            }
        }

        public DhtNodeState StateAt(DateTimeOffset now)
        {
            if (FailedQueries >= MaxFailedQueries) return DhtNodeState.Bad;
            var seen = LastSeen;
            return seen.HasValue && now - seen.Value < GoodFor ? DhtNodeState.Good : DhtNodeState.Questionable;
        }

        public override string ToString() => Id + "@" + EndPoint;
    }
}
