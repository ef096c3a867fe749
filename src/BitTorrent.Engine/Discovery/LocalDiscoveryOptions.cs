using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;

namespace BitTorrent.Discovery
{
    /// <summary>How a <see cref="LocalServiceDiscovery"/> is set up. The defaults are BEP 14's: the IPv4 group
    /// 239.192.152.143:6771 and the IPv6 group [ff15::efc0:988f]:6771 on every multicast interface.</summary>
    public sealed record LocalDiscoveryOptions
    {
        /// <summary>The environment variable that, set to 0, turns local discovery off for the whole process (tests
        /// and benchmarks must not multicast on the machine's real interfaces).</summary>
        public const string EnvironmentVariable = "BITTORRENT_LSD";

        /// <summary>Take part on the IPv4 group (skipped quietly where the host has no IPv4 multicast).</summary>
        public bool UseIpv4 { get; init; } = true;

        /// <summary>Take part on the IPv6 group (skipped quietly where the host has no IPv6 multicast).</summary>
        public bool UseIpv6 { get; init; } = true;

        /// <summary>Only the interface holding this address (the session's specific listen address); null: every
        /// interface that is up and does multicast.</summary>
        public IPAddress? InterfaceAddress { get; init; }

        /// <summary>Unicast instead of multicast: listen on this end point and send to <see cref="Destinations"/>, join
        /// no group. For tests on loopback, where multicast does not go; the environment switch does not apply.</summary>
        public IPEndPoint? ListenEndPoint { get; init; }

        /// <summary>Where announcements go with <see cref="ListenEndPoint"/>.</summary>
        public IReadOnlyList<IPEndPoint> Destinations { get; init; } = Array.Empty<IPEndPoint>();

        /// <summary>How often each torrent is announced again (BEP 14 asks for no more than once a minute; clients
        /// use about five minutes). Never below one minute.</summary>
        public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromMinutes(5);

        /// <summary>How long after being added a torrent is first announced, so torrents added together share
        /// datagrams.</summary>
        public TimeSpan FirstAnnounceDelay { get; init; } = TimeSpan.FromSeconds(1);

        /// <summary>Our cookie (1–64 printable characters), to recognise our own announcements looped back; null: a
        /// random one.</summary>
        public string? Cookie { get; init; }

        /// <summary>The clock for announcing and rate limits (null: the system's).</summary>
        public TimeProvider? Time { get; init; }

        /// <summary>True when <see cref="EnvironmentVariable"/> is "0".</summary>
        public static bool DisabledByEnvironment =>
            Environment.GetEnvironmentVariable(EnvironmentVariable) is string value && value.Trim() == "0";
    }

    /// <summary>What a <see cref="LocalServiceDiscovery"/> has done, for tests and diagnostics (thread-safe counts).</summary>
    public sealed class LocalDiscoveryStatistics
    {
        private long _datagramsSent, _infoHashesAnnounced, _sendFailures, _datagramsReceived, _rateLimited, _peersReported, _unknownTorrents, _badSources;
        private readonly long[] _rejected = new long[Enum.GetValues(typeof(LsdRejectReason)).Length];

        public long DatagramsSent => Interlocked.Read(ref _datagramsSent);
        /// <summary>Info-hashes sent, one count per info-hash per datagram.</summary>
        public long InfoHashesAnnounced => Interlocked.Read(ref _infoHashesAnnounced);
        public long SendFailures => Interlocked.Read(ref _sendFailures);
        public long DatagramsReceived => Interlocked.Read(ref _datagramsReceived);
        /// <summary>Datagrams dropped unread because their sender (or everyone together) sent too many.</summary>
        public long RateLimited => Interlocked.Read(ref _rateLimited);
        /// <summary>Peers handed to torrents (one per torrent per announcement).</summary>
        public long PeersReported => Interlocked.Read(ref _peersReported);
        /// <summary>Announced info-hashes that are not ours (or are private), ignored.</summary>
        public long UnknownTorrents => Interlocked.Read(ref _unknownTorrents);

        /// <summary>Datagrams from a multicast, broadcast or unspecified sender address, dropped.</summary>
        public long BadSources => Interlocked.Read(ref _badSources);

        public long Rejected(LsdRejectReason reason) => Interlocked.Read(ref _rejected[(int)reason]);

        internal void Sent(int infoHashes)
        {
            Interlocked.Increment(ref _datagramsSent);
            Interlocked.Add(ref _infoHashesAnnounced, infoHashes);
        }

        internal void SendFailed() => Interlocked.Increment(ref _sendFailures);
        internal void Received() => Interlocked.Increment(ref _datagramsReceived);
        internal void Limited() => Interlocked.Increment(ref _rateLimited);
        internal void Reported() => Interlocked.Increment(ref _peersReported);
        internal void Unknown() => Interlocked.Increment(ref _unknownTorrents);
        internal void BadSource() => Interlocked.Increment(ref _badSources);
        internal void Reject(LsdRejectReason reason) => Interlocked.Increment(ref _rejected[(int)reason]);
    }
}
