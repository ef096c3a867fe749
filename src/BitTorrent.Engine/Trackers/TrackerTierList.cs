using System;
using System.Collections.Generic;
using System.Linq;

namespace BitTorrent.Trackers
{
    /// <summary>A torrent's trackers as BEP 12 tiers. Each tier is shuffled once when the list is made; a tracker
    /// that answers is moved to the front of its tier, so it is asked first next time. Thread-safe.</summary>
    public sealed class TrackerTierList
    {
        private readonly object _lock = new object();
        private readonly List<List<TrackerEntry>> _tiers;

        /// <param name="tiers">URLs tier by tier (e.g. <c>TorrentInfo.TrackerTiers</c>); blanks and duplicates
        /// (across all tiers) are dropped, as are empty tiers.</param>
        /// <param name="random">Source of the shuffle; pass a seeded one for a repeatable order.</param>
        public TrackerTierList(IEnumerable<IEnumerable<string>> tiers, Random? random = null)
        {
            if (tiers is null) throw new ArgumentNullException(nameof(tiers));
            random ??= new Random();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            _tiers = new List<List<TrackerEntry>>();
            foreach (var tier in tiers)
            {
                if (tier is null) continue;
                var urls = tier.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.Trim()).Where(seen.Add).ToList();
                if (urls.Count == 0) continue;
                for (int i = urls.Count - 1; i > 0; i--) // Fisher–Yates
                {
                    int j = random.Next(i + 1);
                    (urls[i], urls[j]) = (urls[j], urls[i]);
                }
                int index = _tiers.Count;
                _tiers.Add(urls.Select(u => new TrackerEntry(u, index)).ToList());
            }
        }

        /// <summary>Number of tiers.</summary>
        public int TierCount { get { lock (_lock) return _tiers.Count; } }

        /// <summary>A snapshot of the tiers in their current order.</summary>
        public IReadOnlyList<IReadOnlyList<TrackerEntry>> Tiers
        {
            get { lock (_lock) return _tiers.Select(t => (IReadOnlyList<TrackerEntry>)t.ToArray()).ToArray(); }
        }

        /// <summary>Every tracker, tier by tier, in the current order.</summary>
        public IReadOnlyList<TrackerEntry> All
        {
            get { lock (_lock) return _tiers.SelectMany(t => t).ToArray(); }
        }

        /// <summary>BEP 12: moves a tracker that answered to the front of its tier.</summary>
        public void MoveToFront(TrackerEntry entry)
        {
            if (entry is null) throw new ArgumentNullException(nameof(entry));
            lock (_lock)
            {
                if (entry.Tier >= _tiers.Count) return;
                var tier = _tiers[entry.Tier];
                if (tier.Remove(entry)) tier.Insert(0, entry);
            }
        }
    }
}
