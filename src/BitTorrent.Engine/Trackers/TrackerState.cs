namespace BitTorrent.Trackers
{
    /// <summary>How a tracker did when we last asked it.</summary>
    public enum TrackerState
    {
        /// <summary>Not asked (e.g. only scraped, or skipped).</summary>
        NotContacted,
        /// <summary>It answered the announce.</summary>
        Working,
        /// <summary>It did not answer, or refused.</summary>
        Failed,
    }
}
