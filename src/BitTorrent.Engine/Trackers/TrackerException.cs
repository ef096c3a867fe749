using System;

namespace BitTorrent.Trackers
{
    /// <summary>A tracker request failed. <see cref="Error"/> says how, <see cref="TrackerUrl"/> which tracker.</summary>
    public sealed class TrackerException : Exception
    {
        public TrackerException(TrackerError error, string trackerUrl, string message, Exception? innerException = null)
            : base(message, innerException)
        {
            Error = error;
            TrackerUrl = trackerUrl ?? string.Empty;
        }

        public TrackerError Error { get; }

        /// <summary>The tracker URL as it was given (before redirects).</summary>
        public string TrackerUrl { get; }

        /// <summary>The HTTP status code, for <see cref="TrackerError.HttpStatus"/> (and failures sent with a non-2xx status).</summary>
        public int? HttpStatusCode { get; internal set; }

        /// <summary>The tracker's own words, for <see cref="TrackerError.TrackerFailure"/>.</summary>
        public string? FailureReason { get; internal set; }
    }
}
