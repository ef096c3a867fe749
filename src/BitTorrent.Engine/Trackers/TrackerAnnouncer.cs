using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>Announces one torrent to its trackers. Two policies:
    /// <see cref="AnnounceAsync"/> is BEP 12 proper — tiers in order, trackers within a tier in their (shuffled,
    /// working-first) order, stop at the first that answers; <see cref="AnnounceToAllAsync"/> asks every tracker at
    /// once (libtorrent's announce_to_all_tiers/trackers), for queries that want the whole swarm. Either way each
    /// tracker's state is recorded on its <see cref="TrackerEntry"/> and its tracker id is sent back to it.
    /// Many announcers (one per torrent) share one <see cref="TrackerClient"/> and run concurrently.</summary>
    public sealed class TrackerAnnouncer
    {
        private readonly TrackerClient _client;

        public TrackerAnnouncer(TrackerClient client, TrackerTierList trackers)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            Trackers = trackers ?? throw new ArgumentNullException(nameof(trackers));
        }

        public TrackerTierList Trackers { get; }

        /// <summary>BEP 12: tries trackers tier by tier and returns every attempt, in order; the last one succeeded
        /// unless all failed. The tracker that answered moves to the front of its tier.</summary>
        /// <param name="timeout">Per tracker.</param>
        public async Task<IReadOnlyList<TrackerAnnounceResult>> AnnounceAsync(AnnounceRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            var attempts = new List<TrackerAnnounceResult>();
            foreach (var tier in Trackers.Tiers)
            {
                foreach (var tracker in tier)
                {
                    var result = await AnnounceOneAsync(tracker, request, timeout, cancellationToken).ConfigureAwait(false);
                    attempts.Add(result);
                    if (result.Succeeded) return attempts;
                }
            }
            return attempts;
        }

        /// <summary>Announces to every tracker concurrently; results in tier order. Trackers that answer move to the
        /// front of their tiers.</summary>
        public async Task<IReadOnlyList<TrackerAnnounceResult>> AnnounceToAllAsync(AnnounceRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            var tasks = Trackers.All.Select(t => AnnounceOneAsync(t, request, timeout, cancellationToken)).ToArray();
            return await Task.WhenAll(tasks).ConfigureAwait(false);
        }

        /// <summary>Announces to one tracker of this torrent and records the outcome. Never throws a
        /// <see cref="TrackerException"/> (it is in the result); cancellation still throws.</summary>
        public async Task<TrackerAnnounceResult> AnnounceOneAsync(TrackerEntry tracker, AnnounceRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            if (tracker is null) throw new ArgumentNullException(nameof(tracker));
            var withId = tracker.TrackerId is string id ? request with { TrackerId = id } : request;
            var clock = Stopwatch.StartNew();
            try
            {
                var response = await _client.AnnounceAsync(tracker.Url, withId, timeout, cancellationToken).ConfigureAwait(false);
                var at = DateTimeOffset.UtcNow;
                tracker.RecordSuccess(response, at);
                if (request.Event != TrackerEvent.Stopped) Trackers.MoveToFront(tracker);
                return new TrackerAnnounceResult(tracker, response, null, clock.Elapsed, at);
            }
            catch (TrackerException ex)
            {
                var at = DateTimeOffset.UtcNow;
                tracker.RecordFailure(ex, at);
                return new TrackerAnnounceResult(tracker, null, ex, clock.Elapsed, at);
            }
        }
    }
}
