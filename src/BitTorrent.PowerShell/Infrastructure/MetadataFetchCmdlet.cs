using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.Session;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Base for the cmdlets that turn a magnet link into a <see cref="TorrentInfo"/> without downloading the
    /// content (Get-TorrentInfo, Save-TorrentFile): -Path/-LiteralPath take .torrent files, magnet links and
    /// info-hashes; a magnet link's metadata is fetched from its swarm (x.pe peers, its trackers, -Peer, -Tracker) in
    /// one session for the whole command, waited for on the pipeline thread with a progress record, and ended by
    /// Ctrl+C.</summary>
    public abstract class MetadataFetchCmdlet : TorrentPathCmdlet, IDisposable
    {
        private const int ProgressActivityId = 0x4D44;   // "MD"
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly List<IPEndPoint> _peers = new List<IPEndPoint>();
        private TorrentSession? _session;

        /// <summary>Peers to ask for a magnet link's metadata, besides its x.pe peers: "ip:port" or "[ipv6]:port".</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(PeerAddressCompleter))]
        public string[] Peer { get; set; } = Array.Empty<string>();

        /// <summary>Trackers to ask for a magnet link's peers, besides its own (tr).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Tracker { get; set; } = Array.Empty<string>();

        /// <summary>Ask no tracker for a magnet link's peers: only x.pe and -Peer.</summary>
        [Parameter]
        public SwitchParameter NoTracker { get; set; }

        /// <summary>Give up on a magnet link (NoPeersAvailable) when no peer has sent metadata for this many seconds.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 60;

        /// <summary>The local address the fetch's connections (peers, trackers, the proxy) leave from.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BindAddress { get; set; }

        /// <summary>A proxy for the fetch's peer connections and HTTP(S) trackers: http://host:port or
        /// socks5://host:port. UDP trackers are skipped with it.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        /// <summary>User name and password for -Proxy.</summary>
        [Parameter]
        [ValidateNotNull]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        private TorrentSessionOptions _sessionOptions = new TorrentSessionOptions();

        protected override void BeginProcessing()
        {
            // Checked before anything is read or fetched: a bad value stops the command, so nothing goes around them.
            _sessionOptions = new TorrentSessionOptions
            {
                BindAddress = NetworkParameters.Bind(this, BindAddress, null),
                Proxy = NetworkParameters.Proxy(this, Proxy, ProxyCredential),
            };
            foreach (var text in Peer)
            {
                if (PeerAddress.TryParse(text, out var address) && address.Address is not null)
                {
                    _peers.Add(new IPEndPoint(address.Address, address.Port));
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
        }

        protected override void StopProcessing() => _cancel.Cancel();

        /// <summary>The torrent a source names: the .torrent file read, or the magnet link's metadata fetched. Null
        /// after an error record (the command goes on with the next input).</summary>
        private protected TorrentInfo? Load(TorrentSource source) =>
            source.Magnet is null ? ReadTorrent(source.Path!) : Fetch(source.Magnet);

        /// <summary>Fetches a magnet link's metadata, pumping the session's events and a progress record on the
        /// pipeline thread until it arrives, fails (an error record: NoPeersAvailable when no peer had it within
        /// -TimeoutSec) or the command is stopped.</summary>
        private protected TorrentInfo? Fetch(MagnetUri magnet)
        {
            string name = TorrentInput.DisplayName(magnet);
            var session = Session();
            if (session is null) return null;
            var options = new MetadataFetchOptions { NoTracker = NoTracker, Timeout = TimeSpan.FromSeconds(TimeoutSec) };
            foreach (var peer in _peers) options.Peers.Add(peer);
            foreach (var url in Tracker) options.Trackers.Add(url);
            var started = DateTime.UtcNow;
            using var pump = new EnginePump(new CmdletSink(this), _cancel.Token)
            {
                Events = session.Events,
                Progress = sink => sink.WriteProgress(new ProgressRecord(ProgressActivityId, $"Fetching metadata {name}",
                    $"Asking peers for the metadata of {magnet.InfoHash} · {(int)(DateTime.UtcNow - started).TotalSeconds} s")),
            };
            WriteVerbose($"Fetching the metadata of '{name}' ({magnet.InfoHash}) from {magnet.Peers.Count + _peers.Count} named peer(s)" +
                (NoTracker ? " (no trackers)." : $" and {magnet.Trackers.Count + Tracker.Length} tracker(s)."));
            var fetch = Task.Run(() => session.FetchMetadataAsync(magnet, options, pump.Token));
            try
            {
                var torrent = pump.Await(fetch);
                WriteVerbose($"{torrent.Name}: metadata fetched ({torrent.InfoHash}, {torrent.Files.Count} file(s), {Units.FormatBytes(torrent.TotalSize)}).");
                return torrent;
            }
            catch (OperationCanceledException) when (pump.Stopping)
            {
                pump.RethrowIfStopped();
                throw new PipelineStoppedException();
            }
            catch (DownloadException ex)
            {
                WriteError(Errors.TorrentFailed(ex.Error, ex, ex.Message, name, magnet, null, "Fetching the metadata of"));
            }
            catch (TorrentFormatException ex)
            {
                WriteError(Errors.InvalidFetchedTorrent(ex, magnet));
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException))
            {
                WriteError(Errors.TorrentFailed(null, ex, ex.Message, name, magnet, null, "Fetching the metadata of"));
            }
            finally
            {
                pump.Sink.WriteProgress(new ProgressRecord(ProgressActivityId, $"Fetching metadata {name}", "Done") { RecordType = ProgressRecordType.Completed });
            }
            return null;
        }

        /// <summary>The command's session, made on the first magnet link (a port for peers that call back, one peer id).</summary>
        private TorrentSession? Session()
        {
            if (_session is not null) return _session;
            try
            {
                _session = new TorrentSession(_sessionOptions);
            }
            catch (SocketException ex)
            {
                WriteError(Errors.ListenFailed(ex, null, 0));
            }
            return _session;
        }

        public void Dispose()
        {
            _cancel.Cancel();
            _session?.Dispose();
            GC.SuppressFinalize(this);
        }
    }
}
