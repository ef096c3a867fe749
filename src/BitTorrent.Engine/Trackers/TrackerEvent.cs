namespace BitTorrent.Trackers
{
    /// <summary>The <c>event</c> of an announce. The numeric values are BEP 15's (UDP); HTTP sends the names.</summary>
    public enum TrackerEvent
    {
        /// <summary>A regular announce (HTTP omits the parameter).</summary>
        None = 0,
        /// <summary>The download finished (sent once, not when starting as a seed).</summary>
        Completed = 1,
        /// <summary>The first announce of a session.</summary>
        Started = 2,
        /// <summary>We are leaving the swarm; trackers drop us and reply without peers.</summary>
        Stopped = 3,
    }
}
