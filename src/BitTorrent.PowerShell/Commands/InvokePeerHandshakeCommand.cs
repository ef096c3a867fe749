using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Connections;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Connects to peers, exchanges the BitTorrent handshakes (BEP 3 and BEP 10) and reports who each peer
    /// is, what it supports and how much of the torrent it has. Handshakes run concurrently on worker threads and post
    /// their outcomes to the <see cref="EnginePump"/>; only the pipeline thread writes output, errors and progress.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "PeerHandshake", DefaultParameterSetName = InfoHashSet)]
    [OutputType(typeof(PeerHandshakeResult))]
    public sealed class InvokePeerHandshakeCommand : PSCmdlet, IDisposable
    {
        private const string InfoHashSet = "InfoHash";
        private const string TorrentSet = "Torrent";
        private const string TorrentPathSet = "TorrentPath";
        private const int ProgressActivityId = 0x5045;   // "PE"

        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private EnginePump? _pump;
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private SemaphoreSlim? _throttle;
        private TorrentTarget? _torrent;
        private int _started;
        private int _finished;
        private int _succeeded;

        /// <summary>Peers as "ip:port", "[ipv6]:port" or "host:port"; binds the EndPoint property of piped objects
        /// (such as Get-TorrentPeer's output). Optional with a torrent: its trackers are asked for peers instead.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = InfoHashSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 0, ParameterSetName = TorrentSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 0, ParameterSetName = TorrentPathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("EndPoint")]
        [PeerText]
        [ArgumentCompleter(typeof(PeerAddressCompleter))]
        public string[] Peer { get; set; } = Array.Empty<string>();

        /// <summary>The torrent's info-hash (40 hex or 32 base32 characters) or a magnet link; binds the InfoHash
        /// property of piped objects. (-TorrentPath takes a magnet link without -Peer: its x.pe and trackers' peers.)</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = InfoHashSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string InfoHash { get; set; } = "";

        /// <summary>Torrents (from Get-TorrentInfo), by value or by property name, as every cmdlet of the module takes
        /// them: give the info-hash and the piece count, so each peer's share of the pieces can be computed.</summary>
        [Parameter(Mandatory = true, ParameterSetName = TorrentSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("InputObject")]
        [ValidateNotNull]
        public TorrentInfo[] Torrent { get; set; } = Array.Empty<TorrentInfo>();

        /// <summary>Path to the .torrent file, used as typed (like -Torrent); or a magnet link.</summary>
        [Parameter(Mandatory = true, ParameterSetName = TorrentPathSet)]
        [ValidateNotNullOrEmpty]
        public string TorrentPath { get; set; } = "";

        /// <summary>Most handshakes in flight at once.</summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = 16;

        /// <summary>Seconds allowed per peer to connect and answer the handshake.</summary>
        [Parameter]
        [ValidateRange(1, 600)]
        public int TimeoutSec { get; set; } = 10;

        /// <summary>The local address connections (peers, trackers, the proxy) leave from: the interface to use.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BindAddress { get; set; }

        /// <summary>A proxy for the peer connections and HTTP(S) trackers: http://host:port (HTTP CONNECT) or
        /// socks5://host:port. UDP trackers are skipped with it; peers are never dialled around it.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        /// <summary>User name and password for -Proxy (SOCKS5 username/password, or HTTP Basic).</summary>
        [Parameter]
        [ValidateNotNull]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        private IPeerConnector? _connector;
        private TrackerClientOptions? _trackerOptions;

        protected override void BeginProcessing()
        {
            // Checked first: a bad value stops the command before any peer or tracker is contacted.
            var bind = NetworkParameters.Bind(this, BindAddress, null);
            var proxy = NetworkParameters.Proxy(this, Proxy, ProxyCredential);
            _connector = PeerConnectors.For(proxy, bind);
            if (bind is not null || proxy is not null) _trackerOptions = new TrackerClientOptions { BindAddress = bind, Proxy = proxy };
            _throttle = new SemaphoreSlim(ThrottleLimit, ThrottleLimit);
            _pump = new EnginePump(new CmdletSink(this), _cancel.Token);
            if (ParameterSetName == TorrentPathSet)
            {
                if (TorrentInput.IsMagnetText(this, TorrentPath, literalPath: true))
                {
                    if (!TorrentInput.TryParse(TorrentPath, out var magnet, out var error)) ThrowTerminatingError(error!);
                    _torrent = TorrentTarget.From(magnet!);
                }
                else if (LoadTorrent(TorrentPath) is TorrentInfo loaded)
                {
                    _torrent = TorrentTarget.From(loaded);
                }
            }
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == InfoHashSet)
            {
                if (TryParseInfoHash(InfoHash, out var infoHash))
                {
                    HandshakeAll(Peer ?? Array.Empty<string>(), infoHash, null);
                    return;
                }
                if (!MagnetUri.LooksLikeMagnet(InfoHash))
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException($"'{InfoHash}' is not an info-hash: it takes 40 hex or 32 base32 characters (a v1 SHA-1), or a magnet link."),
                        Errors.InvalidInfoHashId, ErrorCategory.InvalidArgument, InfoHash));
                    return;
                }
                if (TorrentInput.Parse(this, InfoHash) is MagnetUri magnet) Handshake(TorrentTarget.From(magnet));
            }
            else
            {
                foreach (var torrent in ParameterSetName == TorrentSet ? Torrent.Select(TorrentTarget.From) : new[] { _torrent! })
                {
                    if (_cancel.IsCancellationRequested) return;
                    Handshake(torrent);
                }
            }
        }

        /// <summary>One torrent: -Peer when given, else the magnet link's x.pe peers and whatever its trackers list.</summary>
        private void Handshake(TorrentTarget torrent)
        {
            if (Peer is { Length: > 0 })
            {
                HandshakeAll(Peer, torrent.InfoHashBytes, torrent.PieceCount);
                return;
            }
            var peers = torrent.Peers.Select(p => p.ToString()).ToList();
            if (torrent.TrackerCount > 0 || peers.Count == 0) peers.AddRange(AskTrackers(torrent));
            HandshakeAll(peers, torrent.InfoHashBytes, torrent.PieceCount);
        }

        /// <summary>No -Peer with a torrent: the torrent's trackers say who to handshake with. Waits on the pipeline
        /// thread (each tracker request is bounded by -TimeoutSec; Ctrl+C ends the wait) and reports like
        /// Get-TorrentPeer: failures are warnings when another tracker worked, errors when none did.</summary>
        private IReadOnlyList<string> AskTrackers(TorrentTarget torrent)
        {
            if (torrent.TrackerCount == 0)
            {
                WriteError(TrackerPeerLookup.NoTrackers(torrent));
                return Array.Empty<string>();
            }
            WriteVerbose($"No -Peer: asking the {torrent.TrackerCount} tracker(s) of '{torrent.Name}' for peers.");
            TrackerPeerLookup.Answer answer;
            try
            {
                var ask = Task.Run(() => TrackerPeerLookup.AskAsync(torrent, TimeSpan.FromSeconds(TimeoutSec), _cancel.Token, _trackerOptions));
                ask.Wait(_cancel.Token);
                answer = ask.Result;
            }
            catch (OperationCanceledException)
            {
                return Array.Empty<string>();
            }
            catch (AggregateException ex) when (ex.InnerException is OperationCanceledException)
            {
                return Array.Empty<string>();
            }
            foreach (var failure in answer.Failures)
            {
                if (answer.Working > 0) WriteWarning($"Tracker '{failure.TrackerUrl}' failed for '{torrent.Name}' ({failure.Error}): {failure.Message}");
                else WriteError(Errors.TrackerFailed(failure, torrent));
            }
            if (answer.Working > 0 && answer.Peers.Count == 0)
                WriteWarning($"The trackers of '{torrent.Name}' list no peers (other than this query).");
            WriteVerbose($"'{torrent.Name}': {answer.Peers.Count} peer(s) from {answer.Working} of {answer.TrackerCount} tracker(s).");
            return answer.Peers.Select(p => p.ToString()).ToArray();
        }

        private void HandshakeAll(IEnumerable<string> peers, byte[] infoHash, int? pieceCount)
        {
            foreach (var text in peers)
            {
                if (!PeerAddress.TryParse(text, out var address))
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException($"'{text}' is not a peer address: use ip:port, [ipv6]:port or host:port."),
                        Errors.InvalidPeerAddressId, ErrorCategory.InvalidArgument, text));
                    continue;
                }
                // The same peer often comes back from several trackers: ask it once per torrent.
                if (!_seen.Add(address + "|" + Hex.ToLower(infoHash))) continue;
                Start(address, new PeerHandshakeOptions(infoHash)
                {
                    PieceCount = pieceCount,
                    Timeout = TimeSpan.FromSeconds(TimeoutSec),
                    MessageWindow = TimeSpan.FromSeconds(Math.Min(3, TimeoutSec)),
                    Connector = _connector,
                });
            }
            _pump!.Turn();
        }

        protected override void EndProcessing()
        {
            // Until every started handshake is done, or the pipeline is stopped (noticed within a tenth of a second).
            _pump!.RunUntil(() => _finished == _started);
            _pump.Sink.WriteProgress(new ProgressRecord(ProgressActivityId, "Peer handshakes", "Done") { RecordType = ProgressRecordType.Completed });
            _pump.RethrowIfStopped();
        }

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose()
        {
            _cancel.Cancel();
            // Tasks still running (the pipeline was stopped) end on the cancel; they may still add outcomes, so the
            // collection and the token source are left to the garbage collector in that case.
            if (_finished == _started)
            {
                _cancel.Dispose();
                _throttle?.Dispose();
            }
        }

        private void Start(PeerAddress address, PeerHandshakeOptions options)
        {
            var throttle = _throttle!;
            var pump = _pump!;
            var token = _cancel.Token;
            _started++;
            _ = Task.Run(async () =>
            {
                Outcome outcome;
                bool entered = false;
                try
                {
                    await throttle.WaitAsync(token).ConfigureAwait(false);
                    entered = true;
                    outcome = new Outcome(address, await PeerHandshaker.RunAsync(address, options, token).ConfigureAwait(false), null);
                }
                catch (PeerConnectionException ex)
                {
                    outcome = new Outcome(address, null, ex);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    outcome = new Outcome(address, null, null);
                }
                catch (Exception ex)
                {
                    outcome = new Outcome(address, null, ex);
                }
                finally
                {
                    if (entered) throttle.Release();
                }
                pump.Post(sink => Report(outcome, sink));
            });
        }

        /// <summary>Writes one finished handshake (pipeline thread).</summary>
        private void Report(Outcome outcome, IRecordSink sink)
        {
            _finished++;
            if (outcome.Result is not null)
            {
                _succeeded++;
                sink.WriteObject(outcome.Result);
            }
            else if (outcome.Error is PeerConnectionException failure)
            {
                sink.WriteError(Errors.PeerFailed(failure));
            }
            else if (outcome.Error is ProxyException proxyFailure)
            {
                sink.WriteError(Errors.ProxyFailed(proxyFailure, outcome.Address.ToString()));
            }
            else if (outcome.Error is not null)
            {
                sink.WriteError(new ErrorRecord(outcome.Error, Errors.PeerHandshakeFailedId, ErrorCategory.NotSpecified, outcome.Address.ToString()));
            }
            sink.WriteProgress(new ProgressRecord(ProgressActivityId, "Peer handshakes",
                $"{_finished} of {_started} peers done, {_succeeded} answered")
            {
                PercentComplete = (int)(100L * _finished / _started),
                CurrentOperation = outcome.Address.ToString(),
            });
        }

        private TorrentInfo? LoadTorrent(string path)
        {
            string resolved;
            try
            {
                resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            }
            catch (Exception ex) when (ex is ItemNotFoundException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException
                || ex is NotSupportedException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, Errors.InvalidPathId, ErrorCategory.InvalidArgument, path));
                return null;
            }
            try
            {
                return TorrentParser.ParseFile(resolved);
            }
            catch (TorrentFormatException ex)
            {
                ThrowTerminatingError(Errors.InvalidTorrent(ex, resolved));
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                ThrowTerminatingError(Errors.FileNotFound(resolved, Directory.Exists(resolved)));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, Errors.TorrentFileReadFailedId, ErrorCategory.ReadError, resolved));
            }
            return null;
        }

        private static bool TryParseInfoHash(string text, out byte[] infoHash)
        {
            infoHash = Array.Empty<byte>();
            text = text?.Trim() ?? "";
            // A bare info-hash (hex or base32); a magnet link is read by the caller.
            if (text.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) || !MagnetUri.TryParse(text, out var magnet, out _)) return false;
            infoHash = magnet.InfoHashBytes!;
            return true;
        }

        private sealed class Outcome
        {
            public Outcome(PeerAddress address, PeerHandshakeResult? result, Exception? error)
            {
                Address = address;
                Result = result;
                Error = error;
            }

            public PeerAddress Address { get; }
            public PeerHandshakeResult? Result { get; }
            public Exception? Error { get; }
        }
    }
}
