using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Threading;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;
using BitTorrent.PowerShell.Jobs;
using BitTorrent.Wire;
using BitTorrent.Session;
using BitTorrent.Storage;
using System.Linq;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>What Start-TorrentDownload and Start-TorrentSeed share: torrent input (paths or TorrentInfo objects),
    /// peers and trackers, the listening port, how many torrents run at once, and running in the foreground with
    /// progress or as a job.</summary>
    public abstract class SwarmCmdlet : TorrentPathCmdlet
    {
        protected const string TorrentSet = "Torrent";
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        /// <summary>The command's torrents, run in one TorrentSession.</summary>
        private protected SwarmSession Swarm { get; } = new SwarmSession();
        private protected List<IPEndPoint> Peers { get; } = new List<IPEndPoint>();

        /// <summary>Torrents from Get-TorrentInfo, by value or by property name (Test-Torrent's results carry one).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TorrentSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("InputObject")]
        [ValidateNotNull]
        public TorrentInfo[] Torrent { get; set; } = Array.Empty<TorrentInfo>();

        /// <summary>Peers to connect to directly, as "ip:port" or "[ipv6]:port".</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(PeerAddressCompleter))]
        public string[] Peer { get; set; } = Array.Empty<string>();

        /// <summary>Tracker URLs (http, https, udp) to use instead of the torrents' own.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TorrentTrackerCompleter))]
        public string[] Tracker { get; set; } = Array.Empty<string>();

        /// <summary>Do not contact trackers (use -Peer and incoming connections only).</summary>
        [Parameter]
        public SwitchParameter NoTracker { get; set; }

        /// <summary>Do not announce the torrents on the local network or take peers from it (BEP 14 local service
        /// discovery; private torrents never use it). The environment variable BITTORRENT_LSD=0 turns it off for the
        /// whole process.</summary>
        [Parameter]
        public SwitchParameter NoLocalDiscovery { get; set; }

        /// <summary>TCP port to accept peers on (0: a free port).</summary>
        [Parameter]
        [ValidateRange(0, 65535)]
        public int Port { get; set; }

        /// <summary>Address to accept peers on: '::' (every interface, IPv4 and IPv6), or e.g. 127.0.0.1.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ListenAddress { get; set; } = "::";

        /// <summary>The local address outgoing connections (peers, trackers, the proxy) leave from, so they use that
        /// interface (a VPN's, say). Default: -ListenAddress when it is one specific, non-loopback address.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BindAddress { get; set; }

        /// <summary>A proxy for outgoing peer connections and HTTP(S) trackers: http://host:port (HTTP CONNECT) or
        /// socks5://host:port. UDP trackers are skipped with a warning; incoming connections do not use it.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        /// <summary>User name and password for -Proxy (SOCKS5 username/password, or HTTP Basic).</summary>
        [Parameter]
        [ValidateNotNull]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        /// <summary>Most torrents checking or downloading at the same time (a torrent that seeds does not count).</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 3;

        /// <summary>Most peers connected per torrent.</summary>
        [Parameter]
        [ValidateRange(1, 1000)]
        public int MaxPeers { get; set; } = 50;

        /// <summary>Most bytes per second uploaded, all torrents of this command together (0: unlimited).</summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long UploadRateLimit { get; set; }

        /// <summary>Most bytes per second downloaded, all torrents of this command together (0: unlimited).</summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long DownloadRateLimit { get; set; }

        /// <summary>Return a job at once and run in the background.</summary>
        [Parameter]
        public SwitchParameter AsJob { get; set; }

        protected abstract string JobName { get; }

        /// <summary>Called for each torrent read from the input.</summary>
        protected abstract void Queue(TorrentInfo torrent);

        /// <summary>Called for each magnet link (or info-hash) in the input.</summary>
        private protected abstract void QueueMagnet(MagnetUri magnet);

        /// <summary>The folder's kept metadata for a magnet link (<c>.bittorrent/&lt;info-hash&gt;.torrent</c>, checked
        /// against the info-hash), or null: then it must be fetched.</summary>
        private protected TorrentInfo? CachedMetadata(string folder, MagnetUri magnet)
        {
            TorrentInfo? kept = null;
            try
            {
                kept = MetadataCache.TryLoad(folder, magnet.InfoHash!, magnet.Name);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteWarning($"The kept metadata '{MetadataCache.GetPath(folder, magnet.InfoHash!)}' cannot be read ({ex.Message}); it is fetched again.");
            }
            if (kept is not null) WriteVerbose($"{kept.Name}: metadata from '{MetadataCache.GetPath(folder, magnet.InfoHash!)}' (not fetched again).");
            return kept;
        }

        /// <summary>How a magnet link's metadata is fetched: the command's -Peer, -Tracker and -NoTracker.</summary>
        private protected MetadataFetchOptions FetchOptions(TimeSpan timeout)
        {
            var options = new MetadataFetchOptions { NoTracker = NoTracker, Timeout = timeout, MaxConnections = Math.Min(MaxPeers, 16) };
            foreach (var peer in Peers) options.Peers.Add(peer);
            foreach (var url in Tracker) options.Trackers.Add(url);
            return options;
        }

        /// <summary>The torrent's options with a magnet link's x.pe peers added to -Peer (its trackers are in the
        /// fetched torrent already): after the metadata, the download goes on with the peers that gave it.</summary>
        private protected static DownloadOptions WithMagnetPeers(DownloadOptions options, MagnetUri? magnet)
        {
            if (magnet is null || magnet.Peers.Count == 0) return options;
            var peers = new List<IPEndPoint>(options.Peers);
            foreach (var p in magnet.Peers)
                if (p.Address is not null && !peers.Any(x => x.Address.Equals(p.Address) && x.Port == p.Port)) peers.Add(new IPEndPoint(p.Address, p.Port));
            return options with { Peers = peers };
        }

        protected override void BeginProcessing()
        {
            foreach (var text in Peer)
            {
                if (PeerAddress.TryParse(text, out var address) && address.Address is not null)
                {
                    Peers.Add(new IPEndPoint(address.Address, address.Port));
                    continue;
                }
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{text}' is not a peer address (expected ip:port or [ipv6]:port)."),
                    Errors.InvalidPeerAddressId, ErrorCategory.InvalidArgument, text));
            }
            foreach (var url in Tracker)
            {
                try { TrackerUrl.Parse(url); }
                catch (TrackerException ex) { ThrowTerminatingError(Errors.InvalidTrackerUrl(ex, url)); }
            }
            if (!IPAddress.TryParse(ListenAddress, out var listen))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{ListenAddress}' is not an IP address."),
                    Errors.InvalidPeerAddressId, ErrorCategory.InvalidArgument, ListenAddress));
            // One session for the command: one port and one peer id for every torrent, and caps they share.
            Swarm.SessionOptions = new BitTorrent.Session.TorrentSessionOptions
            {
                ListenAddress = listen,
                ListenPort = Port,
                BindAddress = NetworkParameters.Bind(this, BindAddress, listen),
                Proxy = NetworkParameters.Proxy(this, Proxy, ProxyCredential),
                UploadRateLimit = UploadRateLimit,
                DownloadRateLimit = DownloadRateLimit,
                MaxActiveTorrents = ThrottleLimit,
                LocalDiscovery = !NoLocalDiscovery,
            };
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == TorrentSet)
            {
                foreach (var t in Torrent) Queue(t);
                return;
            }
            foreach (var source in ResolveInputs())
            {
                if (source.Magnet is not null)
                {
                    QueueMagnet(source.Magnet);
                    continue;
                }
                var t = ReadTorrent(source.Path!);
                if (t is not null) Queue(t);
            }
        }

        protected override void EndProcessing()
        {
            if (Swarm.Count == 0) return;
            if (AsJob)
            {
                var job = new TorrentJob(MyInvocation.Line, JobName, Swarm);
                JobRepository.Add(job);
                job.StartJob();
                WriteObject(job);
                return;
            }
            Swarm.Run(new CmdletSink(this), _cancel.Token);
        }

        protected override void StopProcessing() => _cancel.Cancel();

        /// <summary>Options shared by both cmdlets for one torrent.</summary>
        private protected DownloadOptions BaseOptions() => new DownloadOptions
        {
            Peers = Peers,
            UseTrackers = !NoTracker,
            TrackerOverride = Tracker.Length > 0 ? Tracker : null,
            MaxConnections = MaxPeers,
        };

        /// <summary>A folder path for output: resolved against the current location; must not be a file.</summary>
        private protected string ResolveFolder(string path, string errorId)
        {
            string full = string.IsNullOrEmpty(path) ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            if (File.Exists(full))
                ThrowTerminatingError(new ErrorRecord(new IOException($"'{full}' is a file, not a folder."), errorId, ErrorCategory.InvalidArgument, full));
            return full;
        }
    }
}
