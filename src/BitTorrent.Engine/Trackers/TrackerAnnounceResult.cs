using System;

namespace BitTorrent.Trackers
{
    /// <summary>The outcome of announcing to one tracker: a response or an error, never both.</summary>
    public sealed class TrackerAnnounceResult
    {
        internal TrackerAnnounceResult(TrackerEntry tracker, AnnounceResponse? response, TrackerException? error, TimeSpan elapsed, DateTimeOffset at)
        {
            Tracker = tracker;
            Response = response;
            Error = error;
            Elapsed = elapsed;
            At = at;
        }

        public TrackerEntry Tracker { get; }
        public AnnounceResponse? Response { get; }
        public TrackerException? Error { get; }
        public bool Succeeded => Response is not null;
        public TimeSpan Elapsed { get; }
        public DateTimeOffset At { get; }

        public override string ToString() => Succeeded
            ? $"{Tracker.Url}: {Response!.Peers.Count} peer(s)"
            : $"{Tracker.Url}: {Error!.Error} {Error.Message}";
    }
}
