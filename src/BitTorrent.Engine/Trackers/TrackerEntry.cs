using System;

namespace BitTorrent.Trackers
{
    /// <summary>One tracker of a torrent and what we last heard from it. Updated by <see cref="TrackerAnnouncer"/>;
    /// the download engine reads <see cref="NextAnnounceAfter"/> and <see cref="TrackerId"/> from here.</summary>
    public sealed class TrackerEntry
    {
        private readonly object _lock = new object();

        internal TrackerEntry(string url, int tier)
        {
            Url = url;
            Tier = tier;
        }

        public string Url { get; }

        /// <summary>0-based tier, in the torrent's announce-list order.</summary>
        public int Tier { get; }

        /// <summary>The tracker id from its last reply, sent back on the next announce (HTTP).</summary>
        public string? TrackerId { get { lock (_lock) return _trackerId; } }

        public AnnounceResponse? LastResponse { get { lock (_lock) return _lastResponse; } }
        public TrackerException? LastError { get { lock (_lock) return _lastError; } }
        public DateTimeOffset? LastAnnounce { get { lock (_lock) return _lastAnnounce; } }

        /// <summary>Failures since the last success.</summary>
        public int ConsecutiveFailures { get { lock (_lock) return _failures; } }

        /// <summary>When the next regular announce is due: last success + interval (never before min interval).</summary>
        public DateTimeOffset? NextAnnounceAfter
        {
            get
            {
                lock (_lock)
                {
                    if (_lastResponse is null || _lastAnnounce is null) return null;
                    var wait = _lastResponse.Interval;
                    if (_lastResponse.MinInterval is TimeSpan min && min > wait) wait = min;
                    return _lastAnnounce.Value + wait;
                }
            }
        }

        private string? _trackerId;
        private AnnounceResponse? _lastResponse;
        private TrackerException? _lastError;
        private DateTimeOffset? _lastAnnounce;
        private int _failures;

        internal void RecordSuccess(AnnounceResponse response, DateTimeOffset at)
        {
            lock (_lock)
            {
                _lastResponse = response;
                _lastError = null;
                _lastAnnounce = at;
                _failures = 0;
                if (!string.IsNullOrEmpty(response.TrackerId)) _trackerId = response.TrackerId;
            }
        }

        internal void RecordFailure(TrackerException error, DateTimeOffset at)
        {
            lock (_lock)
            {
                _lastError = error;
                _lastAnnounce = at;
                _failures++;
            }
        }

        public override string ToString() => $"{Url} (tier {Tier})";
    }
}
