namespace BitTorrent.Trackers
{
    /// <summary>What went wrong talking to a tracker. Stable names: cmdlets map them to error ids and scripts
    /// match on them.</summary>
    public enum TrackerError
    {
        /// <summary>The tracker URL cannot be parsed, or has no host or port.</summary>
        InvalidUrl,
        /// <summary>The URL's scheme is not http, https or udp (e.g. wss:// WebTorrent trackers).</summary>
        UnsupportedScheme,
        /// <summary>The tracker's host name did not resolve.</summary>
        NameResolutionFailed,
        /// <summary>The connection was refused, reset or the network is unreachable.</summary>
        ConnectionFailed,
        /// <summary>No (complete) answer within the timeout the caller gave.</summary>
        Timeout,
        /// <summary>The HTTP tracker answered with a status other than 2xx (and no bencoded failure reason).</summary>
        HttpStatus,
        /// <summary>More HTTP redirects than allowed, or a redirect loop.</summary>
        TooManyRedirects,
        /// <summary>The reply is larger than the limit (<see cref="TrackerClientOptions.MaxResponseBytes"/>).</summary>
        ResponseTooLarge,
        /// <summary>The reply is not what the protocol says: not bencoded, not a dictionary, truncated, wrong action.</summary>
        InvalidResponse,
        /// <summary>The tracker refused the request and said why (HTTP <c>failure reason</c>, UDP action 3 error).</summary>
        TrackerFailure,
        /// <summary>The tracker has no scrape URL (BEP 48: the announce URL's last segment does not start with 'announce').</summary>
        ScrapeNotSupported,
        /// <summary>The proxy failed (unreachable, refused, wants credentials): see the inner <see cref="Connections.ProxyException"/>.</summary>
        ProxyFailed,
        /// <summary>The tracker cannot be reached under the session's network settings without going around them: a
        /// UDP tracker with a proxy set, or (on .NET Framework) an HTTP tracker with a bind address.</summary>
        NetworkSettingUnsupported,
    }
}
