namespace BitTorrent.Trackers
{
    /// <summary>A tracker's scrape counts for one torrent (BEP 48 <c>files</c> entry, or a BEP 15 scrape triple).</summary>
    public sealed class ScrapeEntry
    {
        public ScrapeEntry(string infoHash, int seeders, int leechers, int completed)
        {
            InfoHash = infoHash;
            Seeders = seeders;
            Leechers = leechers;
            Completed = completed;
        }

        /// <summary>40 lower-case hex digits.</summary>
        public string InfoHash { get; }

        /// <summary>Peers with the whole torrent (<c>complete</c>).</summary>
        public int Seeders { get; }

        /// <summary>Peers still downloading (<c>incomplete</c>).</summary>
        public int Leechers { get; }

        /// <summary>Downloads the tracker has seen finish (<c>downloaded</c>).</summary>
        public int Completed { get; }

        /// <summary>The torrent name, when an HTTP tracker sends one (optional <c>name</c> key).</summary>
        public string? Name { get; internal set; }
    }
}
