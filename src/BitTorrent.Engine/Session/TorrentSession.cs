using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Metainfo;

namespace BitTorrent.Session
{
    /// <summary>What several torrents share: one identity (peer id), one listening port (incoming handshakes routed
    /// to the torrent by info-hash), the rate caps every torrent counts against, a limit of torrents checking or
    /// downloading at once, peer sources other than trackers, and one event stream for all of them.
    /// <para>Torrents are added, paused (their run stops cleanly: data flushed, resume record saved), resumed (a new
    /// run that keeps every verified piece) and removed (stopped, and their info-hash refused by the listener).
    /// Disposing stops every torrent (bounded wait), closes the listener and completes the event stream.</para>
    /// <para>Thread-safe: the cmdlets add from the pipeline thread while torrents run on the thread pool.</para></summary>
    public sealed partial class TorrentSession : IDisposable, IAsyncDisposable
    {
        private static readonly TimeSpan SchedulerTurn = TimeSpan.FromMilliseconds(250);
        /// <summary>The turn while torrents wait for one: a check that ends in seeding frees its turn without a signal,
        /// and a thousand short checks should not wait a quarter second each.</summary>
        private static readonly TimeSpan BusySchedulerTurn = TimeSpan.FromMilliseconds(50);

        private readonly object _sync = new object();
        private readonly TorrentSessionOptions _options;
        private readonly TimeProvider _time;
        private readonly TorrentServices _services;
        private readonly PeerListener? _listener;
        /// <summary>The sources of <see cref="TorrentSessionOptions.Discovery"/>, and local discovery when it is on.</summary>
        private readonly IReadOnlyList<IPeerDiscovery> _discovery;
        private readonly Dictionary<string, SessionTorrent> _torrents = new Dictionary<string, SessionTorrent>(StringComparer.Ordinal);
        private readonly CancellationTokenSource _stopAll = new CancellationTokenSource();
        private readonly SemaphoreSlim _wake = new SemaphoreSlim(0);
        private readonly Task _scheduler;
        private long _order;
        private bool _disposed;

        /// <summary>Opens the session: binds the listener when one is asked for (a SocketException if the address or
        /// port cannot be used) and starts the discovery sources.</summary>
        public TorrentSession(TorrentSessionOptions? options = null)
        {
            _options = options ?? new TorrentSessionOptions();
            if (_options.MaxActiveTorrents < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxActiveTorrents must be at least 1.");
            _time = _options.Time ?? TimeProvider.System;
            Events = new EngineEventQueue(_options.EventCapacity);
            if (_options.UploadRateLimit > 0) UploadLimiter = new RateLimiter(_options.UploadRateLimit);
            if (_options.DownloadRateLimit > 0) DownloadLimiter = new RateLimiter(_options.DownloadRateLimit);
            if (_options.ListenAddress is not null)
            {
                _listener = new PeerListener(_options.ListenAddress, _options.ListenPort, _time);
                Events.Publish(new EngineEvent(EngineEventKind.ListenStarted, EventSeverity.Information,
                    $"Listening for peers on port {_listener.Port}.") { Count = _listener.Port });
            }
            _services = new TorrentServices
            {
                PeerId = ClientIdentity.NewPeerId(),
                Events = Events,
                ListenPort = ListenPort,
                Clock = _time,
                Connector = Connections.PeerConnectors.For(_options.Proxy, _options.BindAddress, _time),
                TrackerOptions = _options.Proxy is null && _options.BindAddress is null ? null
                    : new Trackers.TrackerClientOptions { Proxy = _options.Proxy, BindAddress = _options.BindAddress },
            };
            _discovery = DiscoverySources(_options, _time);
            foreach (var source in _discovery) source.Start(ListenPort);
            _scheduler = Task.Run(ScheduleLoopAsync);
        }

        /// <summary>Everything the session and its torrents have to say, in one bounded stream (one reader).</summary>
        public EngineEventQueue Events { get; }

        /// <summary>Our peer id, the same for every torrent of the session.</summary>
        public byte[] PeerId => _services.PeerId;

        /// <summary>The port peers connect to and trackers are told (0: not listening).</summary>
        public int ListenPort => _listener?.Port ?? 0;

        /// <summary>The session-wide caps (null: unlimited).</summary>
        public RateLimiter? UploadLimiter { get; }
        public RateLimiter? DownloadLimiter { get; }

        /// <summary>What each torrent of the session is lent: identity, event stream, announced port.</summary>
        public TorrentServices Services => _services;

        /// <summary>The peer sources in use: the options' and local discovery when it is on.</summary>
        internal IReadOnlyList<IPeerDiscovery> DiscoverySourcesInUse => _discovery;

        /// <summary>The torrents, in the order added.</summary>
        public IReadOnlyList<SessionTorrent> Torrents
        {
            get { lock (_sync) return _torrents.Values.OrderBy(t => t.Order).ToList(); }
        }

        public bool Contains(string infoHash)
        {
            lock (_sync) return _torrents.ContainsKey((infoHash ?? string.Empty).ToLowerInvariant());
        }

        /// <summary>Adds a torrent; it starts when it gets a turn. One torrent per info-hash: incoming peers are routed
        /// by it. Rate caps come from the session (and <paramref name="limits"/>), not from <paramref name="options"/>.</summary>
        public SessionTorrent Add(TorrentInfo torrent, string destination, DownloadOptions? options = null, TorrentLimits? limits = null)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            if (destination is null) throw new ArgumentNullException(nameof(destination));
            options ??= new DownloadOptions();
            if (options.UploadLimiter is not null || options.DownloadLimiter is not null)
                throw new ArgumentException("Rate limits of a session's torrent are set with TorrentLimits (and the session's own), not DownloadOptions.", nameof(options));
            var effective = options with
            {
                ListenPort = ListenPort,
                UploadLimiter = Limiter(limits?.UploadRateLimit ?? 0, UploadLimiter),
                DownloadLimiter = Limiter(limits?.DownloadRateLimit ?? 0, DownloadLimiter),
            };
            SessionTorrent added;
            lock (_sync)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(TorrentSession));
                if (_torrents.ContainsKey(torrent.InfoHash))
                    throw new InvalidOperationException($"The torrent {torrent.InfoHash} is already in this session.");
                added = new SessionTorrent(torrent, System.IO.Path.GetFullPath(destination), effective, _order++);
                _torrents.Add(torrent.InfoHash, added);
            }
            _listener?.Register(torrent.InfoHash, torrent.PieceCount, added.AcceptAsync);
            foreach (var source in _discovery)
            {
                string name = source is Discovery.LocalServiceDiscovery ? "Local discovery" : source.GetType().Name;
                source.Add(torrent, peers =>
                {
                    added.AddPeers(peers);
                    Events.Publish(new EngineEvent(EngineEventKind.PeersDiscovered, EventSeverity.Verbose, $"{name} gave {peers.Count} peer(s).")
                        { InfoHash = torrent.InfoHash, TorrentName = torrent.Name, Count = peers.Count });
                });
            }
            Publish(EngineEventKind.TorrentAdded, EventSeverity.Verbose, "Added to the session.", torrent);
            _wake.Release();
            return added;
        }

        /// <summary>Stops the torrent's run cleanly (flush, resume record) and keeps it in the session, Paused. A queued
        /// torrent is paused without starting.</summary>
        public async Task PauseAsync(SessionTorrent torrent)
        {
            Task? run;
            lock (_sync)
            {
                var state = torrent.RawState;
                if (state == TorrentState.Queued) { torrent.SetState(TorrentState.Paused); return; }
                if (state != TorrentState.Checking) return; // not running: nothing to pause
                torrent.PauseRequested = true;
                torrent.SetState(TorrentState.Pausing);
                run = torrent.Run;
                torrent.RunCancel?.Cancel();
            }
            if (run is not null) await run.ConfigureAwait(false);
        }

        /// <summary>Queues a paused torrent again; its next run keeps what the last one verified.</summary>
        public void Resume(SessionTorrent torrent)
        {
            lock (_sync)
            {
                if (torrent.RawState != TorrentState.Paused || torrent.Removed) return;
                torrent.SetState(TorrentState.Queued);
            }
            _wake.Release();
        }

        /// <summary>Stops the torrent (cleanly, if it runs), takes it out of the session and refuses its peers from now
        /// on. Its <see cref="SessionTorrent.Finished"/> completes.</summary>
        public async Task RemoveAsync(SessionTorrent torrent)
        {
            Task? run;
            lock (_sync)
            {
                if (torrent.Removed || !_torrents.Remove(torrent.InfoHash)) return;
                torrent.Removed = true;
                run = torrent.Run;
                torrent.RunCancel?.Cancel();
            }
            _listener?.Unregister(torrent.InfoHash);
            foreach (var source in _discovery) source.Remove(torrent.InfoHash);
            if (run is not null) await run.ConfigureAwait(false);
            // Never ran, or paused: finished now, as stopped.
            if (!torrent.Finished.IsCompleted)
            {
                torrent.SetState(TorrentState.Stopped);
                torrent.Finish(torrent.LastRun is null ? RunOutcome.NotStarted(torrent.Torrent, torrent.Destination) : RunOutcome.Stopped(torrent.LastRun));
            }
            Publish(EngineEventKind.TorrentRemoved, EventSeverity.Verbose, "Removed from the session.", torrent.Torrent);
            _wake.Release();
        }

        // ---- scheduling -----------------------------------------------------------------------------------------

        /// <summary>Starts queued torrents while fewer than MaxActiveTorrents check or download. Woken by adds, resumes
        /// and ended runs; also looks every quarter second, since a torrent that starts seeding frees its turn without
        /// telling anyone.</summary>
        private async Task ScheduleLoopAsync()
        {
            var token = _stopAll.Token;
            while (!token.IsCancellationRequested)
            {
                bool waiting = StartQueued();
                try
                {
                    using var turn = _time.CreateCancellationTokenSource(waiting ? BusySchedulerTurn : SchedulerTurn);
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(token, turn.Token);
                    await _wake.WaitAsync(either.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) { }
            }
        }

        /// <summary>Starts what may start; true when torrents are still waiting for a turn.</summary>
        private bool StartQueued()
        {
            List<SessionTorrent> toStart;
            lock (_sync)
            {
                if (_disposed) return false;
                var all = _torrents.Values.OrderBy(t => t.Order).ToList();
                int active = all.Count(t => t.HoldsTurn || t.RawState == TorrentState.Pausing);
                var queued = all.Where(t => t.RawState == TorrentState.Queued).ToList();
                toStart = queued.Take(Math.Max(0, _options.MaxActiveTorrents - active)).ToList();
                foreach (var t in toStart) StartRun(t);
                return queued.Count > toStart.Count;
            }
        }

        /// <summary>Starts one run of the torrent (under the lock, so pause and remove see it at once).</summary>
        private void StartRun(SessionTorrent torrent)
        {
            var download = new TorrentDownload(torrent.Torrent, torrent.Destination, torrent.Options, _services);
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopAll.Token);
            torrent.PauseRequested = false;
            torrent.Starting(download, cancel);
            torrent.Started(Task.Run(() => RunAsync(torrent, download, cancel.Token)));
        }

        private async Task RunAsync(SessionTorrent torrent, TorrentDownload download, CancellationToken token)
        {
            var outcome = await RunOutcome.RunAsync(download, torrent.Destination, token).ConfigureAwait(false);
            bool paused;
            lock (_sync)
            {
                paused = torrent.PauseRequested && !torrent.Removed && !_disposed;
                torrent.RunEnded(paused ? TorrentState.Paused : StateOf(outcome), outcome);
            }
            if (!paused)
            {
                // The run published its own StateChanged, TorrentCompleted and TorrentFailed events (one owner each).
                torrent.Finish(outcome);
            }
            _wake.Release();
        }

        private static TorrentState StateOf(RunOutcome outcome) => outcome.Result.Status switch
        {
            DownloadOutcome.Completed => TorrentState.Completed,
            DownloadOutcome.Failed => TorrentState.Failed,
            _ => TorrentState.Stopped,
        };

        /// <summary>The options' sources, and BEP 14 local discovery when asked for, not turned off by BITTORRENT_LSD=0,
        /// and the session listens somewhere other hosts can reach (a peer told a loopback-only port could not call).</summary>
        private static IReadOnlyList<IPeerDiscovery> DiscoverySources(TorrentSessionOptions options, TimeProvider time)
        {
            var listen = options.ListenAddress;
            if (!options.LocalDiscovery || Discovery.LocalDiscoveryOptions.DisabledByEnvironment || listen is null || IPAddress.IsLoopback(listen))
                return options.Discovery;
            bool anyAddress = listen.Equals(IPAddress.Any) || listen.Equals(IPAddress.IPv6Any);
            var lsd = new Discovery.LocalServiceDiscovery(new Discovery.LocalDiscoveryOptions
            {
                Time = time,
                InterfaceAddress = anyAddress ? null : listen,
                // Announcing an IPv6 group for a port that only listens on IPv4 (or the other way) would send callers nowhere.
                UseIpv4 = anyAddress || listen.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork,
                UseIpv6 = listen.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6,
            });
            return options.Discovery.Append(lsd).ToList();
        }

        private static RateLimiter? Limiter(long own, RateLimiter? session) =>
            own <= 0 ? session : session is null ? new RateLimiter(own) : new RateLimiter(own, session);

        private void Publish(EngineEventKind kind, EventSeverity severity, string message, TorrentInfo torrent) =>
            Events.Publish(new EngineEvent(kind, severity, message) { InfoHash = torrent.InfoHash, TorrentName = torrent.Name });

        // ---- the end ------------------------------------------------------------------------------------------

        /// <summary>Stops every torrent cleanly (waiting at most StopTimeout for their flush and resume records),
        /// reports the ones that never ran as stopped, closes the listener and the discovery sources, and completes
        /// the event stream (its reader drains what is left).</summary>
        public async ValueTask DisposeAsync()
        {
            List<SessionTorrent> all;
            lock (_sync)
            {
                if (_disposed) return;
                _disposed = true;
                all = _torrents.Values.ToList();
            }
            _stopAll.Cancel();
            _wake.Release();
            var runs = all.Select(t => t.Run).Where(r => r is not null).Cast<Task>().Append(_scheduler).ToArray();
            await Task.WhenAny(Task.WhenAll(runs), Task.Delay(_options.StopTimeout)).ConfigureAwait(false);
            // Torrents that never ran, or were paused, end as stopped with what their last run did; a run that did not
            // stop within the bound is reported as stopped all the same, so no reader waits for it forever.
            foreach (var t in all.OrderBy(t => t.Order))
            {
                if (t.Finished.IsCompleted) continue;
                t.SetState(TorrentState.Stopped);
                t.Finish(t.LastRun is null ? RunOutcome.NotStarted(t.Torrent, t.Destination) : RunOutcome.Stopped(t.LastRun));
            }
            _listener?.Dispose();
            foreach (var source in _discovery)
            {
                try { source.Dispose(); } catch (Exception) { /* a source's trouble must not stop the others' */ }
            }
            Events.Complete();
        }

        public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
