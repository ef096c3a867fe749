using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Discovery
{
    /// <summary>Bounds the datagrams local discovery reads: so many a minute from each sender address, so many a minute
    /// from everyone together (spoofed senders get past the first, not the second), and a bounded table of senders.
    /// Token buckets on the caller's clock. Not thread-safe: one lock around it.</summary>
    internal sealed class LsdReceiveLimiter
    {
        /// <summary>A host with a thousand torrents sends about forty datagrams at once (25 info-hashes each); a
        /// little more than that per minute from one address.</summary>
        public const int PerSourcePerMinute = 64;

        /// <summary>A LAN of a few dozen such hosts, each announcing every five minutes.</summary>
        public const int AllSourcesPerMinute = 512;

        /// <summary>Most senders remembered; past it, the idlest are forgotten (a forgotten sender starts with a
        /// full bucket, which the global bucket still bounds).</summary>
        public const int MostSources = 1024;

        private readonly Dictionary<IPAddress, Bucket> _sources = new Dictionary<IPAddress, Bucket>();
        private Bucket _all;

        public LsdReceiveLimiter(DateTimeOffset now)
        {
            _all = Bucket.Full(AllSourcesPerMinute, now);
        }

        public int SourceCount => _sources.Count;

        /// <summary>True when a datagram from <paramref name="source"/> may be read now (and counts it).</summary>
        public bool TryTake(IPAddress source, DateTimeOffset now)
        {
            if (!_sources.TryGetValue(source, out var bucket))
            {
                if (_sources.Count >= MostSources) Forget(now);
                bucket = Bucket.Full(PerSourcePerMinute, now);
            }
            bucket = bucket.Refilled(PerSourcePerMinute, now);
            _all = _all.Refilled(AllSourcesPerMinute, now);
            bool allowed = bucket.Tokens >= 1 && _all.Tokens >= 1;
            if (allowed)
            {
                bucket.Tokens -= 1;
                _all.Tokens -= 1;
            }
            _sources[source] = bucket;
            return allowed;
        }

        /// <summary>Drops senders whose bucket has refilled (idle for a minute); if none has, the half least recently
        /// heard from.</summary>
        private void Forget(DateTimeOffset now)
        {
            var idle = new List<IPAddress>();
            foreach (var pair in _sources)
                if (pair.Value.Refilled(PerSourcePerMinute, now).Tokens >= PerSourcePerMinute) idle.Add(pair.Key);
            if (idle.Count == 0)
            {
                var byAge = new List<KeyValuePair<IPAddress, Bucket>>(_sources);
                byAge.Sort((a, b) => a.Value.At.CompareTo(b.Value.At));
                for (int i = 0; i < byAge.Count / 2; i++) idle.Add(byAge[i].Key);
            }
            foreach (var address in idle) _sources.Remove(address);
        }

        private struct Bucket
        {
            public double Tokens;
            public DateTimeOffset At;

            public static Bucket Full(int perMinute, DateTimeOffset now) => new Bucket { Tokens = perMinute, At = now };

            public Bucket Refilled(int perMinute, DateTimeOffset now)
            {
                double minutes = Math.Max(0, (now - At).TotalMinutes);
                return new Bucket { Tokens = Math.Min(perMinute, Tokens + minutes * perMinute), At = now > At ? now : At };
            }
        }
    }
}
