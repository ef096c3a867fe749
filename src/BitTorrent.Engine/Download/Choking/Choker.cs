using System;
using System.Collections.Generic;
using System.Linq;

namespace BitTorrent.Download
{
    /// <summary>What the choker knows of one connected peer at a round.</summary>
    internal readonly struct ChokeCandidate
    {
        public ChokeCandidate(object peer, bool interested, bool amChoking, double downloadRate, double uploadRate, DateTime unchokedAt, DateTime chokedAt)
        {
            Peer = peer;
            Interested = interested;
            AmChoking = amChoking;
            DownloadRate = downloadRate;
            UploadRate = uploadRate;
            UnchokedAt = unchokedAt;
            ChokedAt = chokedAt;
        }

        public object Peer { get; }
        /// <summary>It wants something we have.</summary>
        public bool Interested { get; }
        /// <summary>We choke it now.</summary>
        public bool AmChoking { get; }
        /// <summary>What it gives us (bytes/s): tit-for-tat while downloading.</summary>
        public double DownloadRate { get; }
        /// <summary>What it takes from us (bytes/s).</summary>
        public double UploadRate { get; }
        public DateTime UnchokedAt { get; }
        public DateTime ChokedAt { get; }
    }

    /// <summary>The choker's answer: who holds an upload slot after the round, and the optimistic slot's peer.</summary>
    internal sealed class ChokeDecision
    {
        public ChokeDecision(HashSet<object> unchoked, object? optimistic, DateTime optimisticSince)
        {
            Unchoked = unchoked;
            Optimistic = optimistic;
            OptimisticSince = optimisticSince;
        }

        /// <summary>Peers to unchoke (every other peer is choked).</summary>
        public HashSet<object> Unchoked { get; }
        public object? Optimistic { get; }
        /// <summary>When the optimistic slot last changed hands.</summary>
        public DateTime OptimisticSince { get; }
    }

    /// <summary>Who we upload to (libtorrent's <c>unchoke_sort</c> as a pure function: no sockets, no lock, no
    /// clock of its own). Every round (10 s) the interested peers that give us the most (tit-for-tat) while
    /// downloading, or by seeding round robin while seeding, get the regular slots; one more slot rotates every 30 s
    /// to a random choked peer (optimistic unchoke), so newcomers get a first piece to trade.</summary>
    internal static class Choker
    {
        /// <summary>Between two rounds.</summary>
        public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

        /// <summary>How long the optimistic slot stays with one peer.</summary>
        public static readonly TimeSpan OptimisticInterval = TimeSpan.FromSeconds(30);

        /// <summary>How long a peer keeps its slot while seeding before those waiting get a turn.</summary>
        public static readonly TimeSpan SeedingTurn = TimeSpan.FromSeconds(30);

        /// <param name="peers">Every connected peer (closed ones left out).</param>
        /// <param name="slots">Upload slots in all, the optimistic one included (at least one regular slot).</param>
        /// <param name="optimistic">The current optimistic peer (null: none), kept until its 30 s are over unless it
        /// left or lost interest.</param>
        /// <param name="pick">Chooses an index below its argument (a random choice; tests fix it).</param>
        public static ChokeDecision Decide(IReadOnlyList<ChokeCandidate> peers, bool seeding, DateTime now, int slots,
            object? optimistic, DateTime optimisticSince, Func<int, int> pick)
        {
            var interested = peers.Where(x => x.Interested).ToList();
            var ranked = seeding
                ? SeedingOrder(interested, now)
                : interested.OrderByDescending(x => x.DownloadRate).ThenByDescending(x => x.UploadRate).ToList();
            int regular = Math.Max(1, slots - 1);
            var unchoke = new HashSet<object>(ranked.Take(regular).Select(x => x.Peer), ReferenceComparer.Instance);
            bool keep = optimistic is not null && interested.Any(x => ReferenceEquals(x.Peer, optimistic)) && now - optimisticSince < OptimisticInterval;
            if (!keep)
            {
                var choked = interested.Where(x => !unchoke.Contains(x.Peer)).ToList();
                optimistic = choked.Count > 0 ? choked[pick(choked.Count)].Peer : null;
                optimisticSince = now;
            }
            if (optimistic is not null) unchoke.Add(optimistic);
            return new ChokeDecision(unchoke, optimistic, optimisticSince);
        }

        /// <summary>Seeding round robin (libtorrent's default seed choker): peers in the middle of their turn keep
        /// their slot, then the peers that have waited longest, then those whose turn is over. A seed gains nothing
        /// from tit-for-tat, so every interested peer gets its share in turn.</summary>
        private static List<ChokeCandidate> SeedingOrder(List<ChokeCandidate> interested, DateTime now) =>
            interested
                .OrderBy(x => !x.AmChoking && now - x.UnchokedAt < SeedingTurn ? 0 : x.AmChoking ? 1 : 2)
                .ThenBy(x => x.AmChoking ? x.ChokedAt : x.UnchokedAt)
                .ToList();

        private sealed class ReferenceComparer : IEqualityComparer<object>
        {
            public static readonly ReferenceComparer Instance = new ReferenceComparer();
            public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);
            public int GetHashCode(object obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }
}
