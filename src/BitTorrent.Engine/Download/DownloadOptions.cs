using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Download
{
    /// <summary>Knobs of one torrent download. Defaults follow the mature engines (libtorrent, Transmission).</summary>
    public sealed record DownloadOptions
    {
        /// <summary>Peers to connect to directly, besides (or instead of) the trackers' peers.</summary>
        public IReadOnlyList<IPEndPoint> Peers { get; init; } = Array.Empty<IPEndPoint>();

        /// <summary>Ask the torrent's trackers for peers (announce started/completed/stopped, re-announce on interval).</summary>
        public bool UseTrackers { get; init; } = true;

        /// <summary>Tracker URLs to use instead of the torrent's own.</summary>
        public IReadOnlyList<string>? TrackerOverride { get; init; }

        /// <summary>Files to download (one flag per file); null: all of them.</summary>
        public bool[]? SelectedFiles { get; init; }

        /// <summary>Most peers connected at once (libtorrent and Transmission use 50 per torrent).</summary>
        public int MaxConnections { get; init; } = 50;

        /// <summary>Most incoming connections from one IP address: one host opening hundreds of connections cannot
        /// fill every slot (libtorrent allows one per address by default; this leaves room for a few clients behind
        /// one NAT, or for the 16 leechers of demo/Start-Demo.ps1 on one machine).</summary>
        public int MaxConnectionsPerAddress { get; init; } = 16;

        /// <summary>Most connection attempts in progress at once.</summary>
        public int MaxHalfOpen { get; init; } = 10;

        public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

        /// <summary>A peer with requests outstanding that sends nothing for this long is snubbed: its requests go to others.</summary>
        public TimeSpan SnubTimeout { get; init; } = TimeSpan.FromSeconds(20);

        /// <summary>Give up with NoPeersAvailable when no peer has sent data for this long (and none is connected).</summary>
        public TimeSpan NoPeersTimeout { get; init; } = TimeSpan.FromSeconds(60);

        /// <summary>Bytes of pieces held in memory while their blocks arrive (bounds memory whatever the torrent size);
        /// complete pieces waiting for their write may add a quarter of it (see PiecePicker.MaxAwaitingVerification).
        /// 32 MiB keeps four fast loopback peers' request pipelines full (a 256 MiB bench: the same throughput as
        /// 48 MiB, 14-18 MB less peak resident memory in the median).</summary>
        public long MaxUnverifiedBytes { get; init; } = 32L * 1024 * 1024;

        /// <summary>Seconds of data to keep requested from a peer (libtorrent's request_queue_time).</summary>
        public double RequestQueueSeconds { get; init; } = 3;

        /// <summary>Smallest and largest request pipeline per peer (the peer's reqq lowers the largest).</summary>
        public int MinRequestQueue { get; init; } = 16;
        public int MaxRequestQueue { get; init; } = 500;

        /// <summary>How often the resume record is saved while downloading.</summary>
        public TimeSpan ResumeSaveInterval { get; init; } = TimeSpan.FromSeconds(2);

        /// <summary>Port announced to trackers (0: none listening yet).</summary>
        public int ListenPort { get; init; }

        /// <summary>Peers we upload to at once (libtorrent and Transmission use 8); one of them is the optimistic slot.</summary>
        public int UploadSlots { get; init; } = 8;

        /// <summary>Upload requests accepted per peer and not yet served; more are rejected (BEP 6) or ignored.</summary>
        public int MaxUploadQueue { get; init; } = 2000;

        /// <summary>Seed what is on disk and never download: incomplete data is an error (SeedDataIncomplete).</summary>
        public bool SeedOnly { get; init; }

        /// <summary>Keep seeding after completion until cancelled.</summary>
        public bool SeedUntilCancelled { get; init; }

        /// <summary>Keep seeding after completion for this long (null: no time-based seeding).</summary>
        public TimeSpan? SeedTime { get; init; }

        /// <summary>Keep seeding after completion until uploaded / size reaches this (null: no ratio-based seeding).
        /// With both SeedTime and SeedRatio, seeding stops when the first is reached.</summary>
        public double? SeedRatio { get; init; }

        /// <summary>Caps upload bytes per second (null: unlimited). One limiter may be shared by several downloads
        /// (a cmdlet's batch) so the cap holds for all of them together.</summary>
        public RateLimiter? UploadLimiter { get; init; }

        /// <summary>Caps download bytes per second (null: unlimited); shareable like <see cref="UploadLimiter"/>.</summary>
        public RateLimiter? DownloadLimiter { get; init; }

        /// <summary>A peer whose socket accepts nothing of what we send for this long has stopped reading: it is
        /// disconnected, so it holds neither an upload slot nor our memory.</summary>
        public TimeSpan SendStallTimeout { get; init; } = TimeSpan.FromSeconds(60);

        /// <summary>Hash failures after which a peer that sent bad data is banned.</summary>
        public int BanAfterHashFailures { get; init; } = 2;
    }
}
