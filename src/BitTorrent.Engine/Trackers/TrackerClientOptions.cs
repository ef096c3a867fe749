using System;

namespace BitTorrent.Trackers
{
    /// <summary>Limits and timings for tracker clients. Every number read off the wire is bounded by one of these.</summary>
    public sealed class TrackerClientOptions
    {
        public static TrackerClientOptions Default { get; } = new TrackerClientOptions();

        /// <summary>Largest HTTP body accepted, after decompression (and the most compressed bytes read). 4 MiB: a
        /// compact list of 1 000 peers is 6 KB, so anything near this is hostile or broken.</summary>
        public int MaxResponseBytes { get; init; } = 4 * 1024 * 1024;

        /// <summary>HTTP redirects followed per request before giving up (<see cref="TrackerError.TooManyRedirects"/>).</summary>
        public int MaxRedirects { get; init; } = 5;

        /// <summary>Peers kept from one reply (IPv4 and IPv6 together); the rest are counted in
        /// <see cref="AnnounceResponse.PeersDiscarded"/>. 1 000 is five times the usual numwant of 200.</summary>
        public int MaxPeersPerResponse { get; init; } = 1000;

        /// <summary>Tracker requests in flight at once across all torrents using one client; the rest wait their
        /// turn (their timeout starts when they get one).</summary>
        public int MaxConcurrentRequests { get; init; } = 32;

        /// <summary>BEP 15: a UDP request is sent again if no answer came after <c>RetryBase · 2^n</c> (n = 0…8),
        /// always within the caller's timeout. The spec says 15 s.</summary>
        public TimeSpan UdpRetryBase { get; init; } = TimeSpan.FromSeconds(15);

        /// <summary>BEP 15: a connection id may be used for one minute after it was received.</summary>
        public TimeSpan UdpConnectionIdLifetime { get; init; } = TimeSpan.FromMinutes(1);

        /// <summary>The clock behind every tracker timeout, UDP retransmission wait and connection id lifetime; tests
        /// pass a fake one and advance it instead of waiting.</summary>
        public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

        /// <summary>The proxy every HTTP(S) tracker request is tunnelled through (null: direct). UDP trackers cannot
        /// go through it and fail with <see cref="TrackerError.NetworkSettingUnsupported"/> rather than go around it.</summary>
        public Connections.ProxySettings? Proxy { get; init; }

        /// <summary>The local address tracker connections and datagrams leave from (null: the system's choice). A
        /// tracker of the other address family fails rather than being reached from another interface.</summary>
        public System.Net.IPAddress? BindAddress { get; init; }

        /// <summary>Sent as the HTTP User-Agent.</summary>
        public string UserAgent { get; init; } = "BitTorrentForPowerShell/0.1.0";
    }
}
