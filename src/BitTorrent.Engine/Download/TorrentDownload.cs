using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Downloads one torrent from a swarm into a destination folder, and seeds it. This class is the
    /// torrent's lifetime: Checking → Downloading → Seeding → Completed, or Stopped / Failed, each change published
    /// as a <see cref="EngineEventKind.StateChanged"/> event; the run loop and its 1 s tick; the status and the
    /// result. The work is done by parts, each testable alone: <see cref="PeerConnections"/> and
    /// <see cref="PeerCandidates"/> (who we talk to), <see cref="MessageDispatcher"/> (what they said),
    /// <see cref="RequestScheduler"/> and <see cref="PiecePicker"/> (what we ask for), <see cref="UploadSlots"/> and
    /// <see cref="Choker"/> (whom we serve), <see cref="PieceCompletion"/> and <see cref="SmartBan"/> (what arrived).
    /// <para>Concurrency model: one lock per torrent (<see cref="TorrentLock"/>). Every peer has a read loop and a
    /// send loop (async I/O); the read loop takes the lock once per message and hands the message to the parts.
    /// Every method of every part that changes state asserts the lock is held (DEBUG builds throw otherwise).
    /// Hashing, disk I/O, socket writes and waits never happen under it (asserted where they happen): completed
    /// pieces are hashed on the thread pool (bounded by the core count) and written by one writer at a time, then
    /// marked "have" under the lock. All time comes from <see cref="TorrentServices.Clock"/>.</para></summary>
    public sealed class TorrentDownload
    {
        private static readonly TimeSpan LoopInterval = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(60);

        private readonly TorrentContext _ctx;
        private readonly RequestScheduler _requests;
        private readonly UploadSlots _uploads;
        private readonly SmartBan _smartBan;
        private readonly PieceCompletion _completion;
        private readonly PeerConnections _connections;
        private readonly DateTime _started;
        private CancellationTokenSource? _runCts;
        private DownloadException? _fatal;
        private DownloadState _state = DownloadState.Checking;
        private long _bytesResumed;
        private double _rate;
        private DateTime? _completedAt;
        private SwarmAnnouncer? _announcer;
        private volatile bool _running;
        private volatile TaskCompletionSource<bool> _wake = NewSignal();

        public TorrentDownload(TorrentInfo torrent, string destination, DownloadOptions? options = null, TorrentServices? services = null)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            options ??= new DownloadOptions();
            services ??= new TorrentServices { ListenPort = options.ListenPort };
            _ctx = new TorrentContext(torrent, Path.GetFullPath(destination ?? throw new ArgumentNullException(nameof(destination))), options, services);
            _requests = new RequestScheduler(_ctx);
            _uploads = new UploadSlots(_ctx);
            _smartBan = new SmartBan(_ctx);
            _completion = new PieceCompletion(_ctx, _requests, _smartBan, Fail, Wake);
            _connections = new PeerConnections(_ctx, new MessageDispatcher(_ctx, _requests, _uploads, _completion), _requests, _uploads, _completion);
            _started = _ctx.Now;
        }

        public TorrentInfo Torrent => _ctx.Torrent;

        /// <summary>Where this torrent's events go (state changes, peers banned, hash failures, resume decisions): the
        /// session's queue, drained by the cmdlet on the pipeline thread.</summary>
        public EngineEventQueue Events => _ctx.Services.Events;

        public DownloadState State
        {
            get { using (_ctx.Lock.Enter()) return _state; }
        }

        public DownloadStatus GetStatus()
        {
            using (_ctx.Lock.Enter())
            {
                return new DownloadStatus
                {
                    State = _state,
                    TotalWanted = _ctx.TotalWanted,
                    BytesVerified = _ctx.BytesVerified,
                    BytesDownloaded = Interlocked.Read(ref _ctx.BytesDownloaded),
                    DownloadRate = _rate,
                    BytesUploaded = BytesUploaded(),
                    UploadRate = _ctx.Sessions.Sum(x => x.UploadRate),
                    ConnectedPeers = _ctx.Sessions.Count,
                    KnownPeers = _ctx.Candidates.Count,
                    PiecesVerified = _ctx.Have.Count,
                    PiecesWanted = _ctx.Wanted.Count,
                    HashFailures = _ctx.HashFailures,
                    Elapsed = _ctx.Now - _started,
                };
            }
        }

        /// <summary>Adds peers to try (from a tracker, or given by the user).</summary>
        public void AddPeers(IEnumerable<IPEndPoint> peers, bool explicitPeer = false)
        {
            using (_ctx.Lock.Enter())
                foreach (var ep in peers) _ctx.Candidates.Add(ep, explicitPeer);
            Wake();
        }

        /// <summary>Takes a connection a <see cref="PeerListener"/> accepted for this torrent (the peer's handshake
        /// is read; ours is sent here). Returns when the connection ends.</summary>
        internal Task AcceptAsync(PeerConnection connection, Handshake theirs)
        {
            var token = _runCts?.Token ?? new CancellationToken(true);
            if (!_running || token.IsCancellationRequested || theirs.PeerId.SequenceEqual(_ctx.Services.PeerId))
            {
                connection.Dispose();
                return Task.CompletedTask;
            }
            return _connections.AcceptAsync(connection, theirs, token);
        }

        /// <summary>Runs the download to completion, failure, or cancellation (which stops it cleanly: data flushed,
        /// resume record written). Never throws for network or disk trouble: the result says how it ended, with
        /// <see cref="DownloadResult.Error"/> and a <see cref="EngineEventKind.TorrentFailed"/> event on failure.</summary>
        public async Task<DownloadResult> RunAsync(CancellationToken cancellationToken)
        {
            _runCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var token = _runCts.Token;
            DownloadOutcome outcome;
            string? message = null;
            Exception? unexpected = null;
            SetState(DownloadState.Checking);
            try
            {
                await PrepareAsync(token).ConfigureAwait(false);
                if (_ctx.Options.SeedOnly && !_ctx.Picker.IsComplete)
                    throw new DownloadException(DownloadError.SeedDataIncomplete,
                        $"The data in '{_ctx.Destination}' has {_ctx.Have.Count} of {_ctx.Torrent.PieceCount} pieces of '{_ctx.Torrent.Name}' ({100.0 * _ctx.Have.Count / Math.Max(1, _ctx.Torrent.PieceCount):0.#} %); seeding needs all of them.");
                if (_ctx.Picker.IsComplete && !WantsToSeed)
                {
                    outcome = DownloadOutcome.Completed;
                }
                else
                {
                    SetState(_ctx.Picker.IsComplete ? DownloadState.Seeding : DownloadState.Downloading);
                    AddPeers(_ctx.Options.Peers, explicitPeer: true);
                    _announcer = CreateAnnouncer();
                    using (_ctx.Lock.Enter()) _ctx.LastPayloadAt = _ctx.Now;
                    _running = true;
                    outcome = await RunLoopAsync(token).ConfigureAwait(false);
                }
            }
            catch (DownloadException ex)
            {
                Fail(ex);
                outcome = DownloadOutcome.Failed;
            }
            catch (OperationCanceledException) when (_fatal is null && cancellationToken.IsCancellationRequested)
            {
                // Stopping a seed that has everything is the normal end of seeding, not an interrupted download.
                bool complete;
                using (_ctx.Lock.Enter()) complete = _ctx.IsDone;
                outcome = complete ? DownloadOutcome.Completed : DownloadOutcome.Stopped;
                message = complete ? null : "Stopped by the user.";
            }
            catch (OperationCanceledException) when (_fatal is not null)
            {
                // A fatal error (a failed write) cancels the run: the error is the outcome, not the cancellation.
                outcome = DownloadOutcome.Failed;
            }
            catch (OperationCanceledException)
            {
                outcome = DownloadOutcome.Stopped;
                message = "Stopped.";
            }
            catch (Exception ex)
            {
                // A bug, not a network or disk problem: still a result (and an event), never a crashed host.
                unexpected = ex;
                outcome = DownloadOutcome.Failed;
            }

            var fatal = _fatal;
            if (fatal is not null) { outcome = DownloadOutcome.Failed; message = fatal.Message; }
            else if (unexpected is not null) message = "The download failed unexpectedly: " + unexpected.Message;

            await ShutdownAsync().ConfigureAwait(false);
            var state = outcome == DownloadOutcome.Completed ? DownloadState.Completed : outcome == DownloadOutcome.Stopped ? DownloadState.Stopped : DownloadState.Failed;
            SetState(state);
            if (outcome == DownloadOutcome.Failed)
                _ctx.Publish(EngineEventKind.TorrentFailed, EventSeverity.Error, message!, exception: (Exception?)fatal ?? unexpected, error: fatal?.Error);
            return Result(outcome, message, fatal, unexpected);
        }

        private void SetState(DownloadState state)
        {
            using (_ctx.Lock.Enter())
            {
                if (_state == state && state != DownloadState.Checking) return;
                _state = state;
            }
            _ctx.Publish(EngineEventKind.StateChanged, EventSeverity.Information, $"Now {state.ToString().ToLowerInvariant()}.", state: state);
        }

        /// <summary>Ends the run with an error the user must act on (the first one wins).</summary>
        private void Fail(DownloadException error)
        {
            Interlocked.CompareExchange(ref _fatal, error, null);
            try { _runCts?.Cancel(); } catch (ObjectDisposedException) { }
            Wake();
        }

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Wakes the run loop early (peers added, a piece verified or failed).</summary>
        private void Wake() => _wake.TrySetResult(true);

        // ---- start-up: storage and resume ---------------------------------------------------------------------

        private async Task PrepareAsync(CancellationToken token)
        {
            var torrent = _ctx.Torrent;
            var selected = _ctx.Options.SelectedFiles ?? Enumerable.Repeat(true, torrent.Files.Count).ToArray();
            long totalWanted = 0;
            using (_ctx.Lock.Enter())
            {
                foreach (var f in torrent.Files)
                {
                    if (!selected[f.Index] || f.IsPadding || f.Length == 0) continue;
                    for (int p = f.FirstPiece; p <= f.LastPiece; p++) _ctx.Wanted.Set(p);
                }
                for (int p = 0; p < torrent.PieceCount; p++)
                    if (_ctx.Wanted[p]) totalWanted += torrent.GetPieceLength(p);
                _ctx.TotalWanted = totalWanted;
            }

            try
            {
                _ctx.Storage = _ctx.Services.StorageFactory?.Invoke(torrent, _ctx.Destination, selected) ?? new DownloadStorage(torrent, _ctx.Destination, selected);
                _ctx.Storage.Prepare();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
            {
                throw new DownloadException(DownloadError.DestinationWriteFailed, $"Cannot prepare the destination '{_ctx.Destination}': {ex.Message}", ex);
            }

            await Task.Run(() => _completion.RestoreAsync(token), token).ConfigureAwait(false);
            using (_ctx.Lock.Enter())
            {
                for (int p = 0; p < torrent.PieceCount; p++)
                    if (_ctx.Have[p] && _ctx.Wanted[p]) _ctx.BytesVerified += torrent.GetPieceLength(p);
                _bytesResumed = _ctx.BytesVerified;
            }
            try
            {
                _ctx.Storage.FinishCompletedFiles(_ctx.Have, Enumerable.Range(0, torrent.Files.Count));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new DownloadException(DownloadError.DestinationWriteFailed, $"Cannot finish files in '{_ctx.Destination}': {ex.Message}", ex);
            }

            int maxPartials = (int)Math.Max(4, Math.Min(4096, _ctx.Options.MaxUnverifiedBytes / Math.Max(1, torrent.PieceLength)));
            using (_ctx.Lock.Enter())
                _ctx.Picker = new PiecePicker(torrent.PieceCount, torrent.PieceLength, torrent.TotalSize, _ctx.Have, _ctx.Wanted, maxPartials);
            // A destination that cannot be written fails now, clearly, rather than when the first piece arrives (or,
            // with no peer, as NoPeersAvailable). Seeding never writes, so data on read-only media can be seeded.
            if (!_ctx.Options.SeedOnly && !_ctx.Picker.IsComplete)
            {
                try { _ctx.Storage.ProbeWritable(); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw new DownloadException(DownloadError.DestinationWriteFailed, $"The destination '{_ctx.Destination}' cannot be written: {ex.Message}", ex);
                }
            }
        }

        // ---- the run loop ---------------------------------------------------------------------------------------

        private async Task<DownloadOutcome> RunLoopAsync(CancellationToken token)
        {
            var clock = _ctx.Clock;
            var lastTick = _ctx.Now;
            var lastResumeSave = lastTick;
            var lastKeepAlive = lastTick;
            Task? announce = null;
            while (true)
            {
                if (_fatal is not null) throw _fatal;
                token.ThrowIfCancellationRequested();
                var wake = _wake;
                if (wake.Task.IsCompleted) _wake = wake = NewSignal();
                var now = _ctx.Now;
                bool done;
                using (_ctx.Lock.Enter()) done = _ctx.IsDone;
                if (done)
                {
                    if (_completedAt is null)
                    {
                        _completedAt = now;
                        if (_announcer is not null && !_announcer.CompletedSent && _bytesResumed < _ctx.TotalWanted)
                            _ = AnnounceAsync(TrackerEvent.Completed, token);
                        if (_bytesResumed < _ctx.TotalWanted)
                            _ctx.Publish(EngineEventKind.TorrentCompleted, EventSeverity.Information, "Every wanted piece is downloaded and verified.");
                        SetState(DownloadState.Seeding);
                    }
                    if (!KeepSeeding(now)) return DownloadOutcome.Completed;
                }

                double seconds = (now - lastTick).TotalSeconds;
                if (seconds >= TickInterval.TotalSeconds)
                {
                    lastTick = now;
                    Tick(now, seconds);
                }
                if (now - lastKeepAlive > KeepAliveInterval)
                {
                    lastKeepAlive = now;
                    using (_ctx.Lock.Enter()) foreach (var s in _ctx.Sessions) s.Send(PeerMessage.KeepAlive);
                }
                if (_completion.ResumeDirty && now - lastResumeSave >= _ctx.Options.ResumeSaveInterval)
                {
                    lastResumeSave = now;
                    await _completion.SaveResumeAsync(token).ConfigureAwait(false);
                }

                // Trackers: started at once, then on their interval, earlier when peers run low.
                if (_announcer is not null && (announce is null || announce.IsCompleted) && _announcer.IsDue(clock.GetUtcNow(), NeedMorePeers()))
                    announce = AnnounceAsync(TrackerEvent.None, token);

                using (_ctx.Lock.Enter())
                {
                    _connections.ConnectMore(token);
                    if (!done) CheckForPeers(now);
                }

                await Task.WhenAny(wake.Task, clock.Delay(LoopInterval, token)).ConfigureAwait(false);
            }
        }

        /// <summary>Fails with NoPeersAvailable when nobody has sent data for the timeout and nobody is connected (or
        /// for twice the timeout, connected or not: the peers have nothing we need or do not serve). A dial in flight
        /// does not hold it off: a starving download retries its peers every few seconds, so one nearly always is.</summary>
        private void CheckForPeers(DateTime now)
        {
            var options = _ctx.Options;
            var idle = now - _ctx.LastPayloadAt;
            if (_ctx.Sessions.Count == 0 && idle > options.NoPeersTimeout)
            {
                // Through a proxy that is down (or refuses us), every peer fails the same way: say so, not "no peers".
                var proxyFailure = (_ctx.Services.Connector as Connections.ProxyPeerConnector)?.LastProxyFailure ?? _announcer?.LastProxyFailure;
                if (proxyFailure is not null)
                    throw new DownloadException(proxyFailure.Error == Connections.ProxyError.ProxyAuthenticationFailed
                        ? DownloadError.ProxyAuthenticationFailed : DownloadError.ProxyConnectFailed, proxyFailure.Message, proxyFailure);
                var lastFailure = _ctx.Candidates.DescribeLastFailure();
                throw new DownloadException(DownloadError.NoPeersAvailable,
                    $"No peer sent data for {(int)options.NoPeersTimeout.TotalSeconds} s and none is connected ({_ctx.Candidates.Count} peer(s) known, none reachable" +
                    (lastFailure is null ? ")." : $"; last failure: {lastFailure})."));
            }
            if (idle > options.NoPeersTimeout + options.NoPeersTimeout)
                throw new DownloadException(DownloadError.NoPeersAvailable,
                    $"No peer sent data for {(int)idle.TotalSeconds} s ({_ctx.Sessions.Count} connected peer(s) have nothing we need or do not serve).");
        }

        /// <summary>Ticks run so far (tests driving a fake clock wait for the next one).</summary>
        internal long TickCount => Interlocked.Read(ref _tickCount);
        private long _tickCount;

        /// <summary>Blocks read straight into their piece's buffer so far (tests: the copy-free path is the one taken).</summary>
        internal long BlocksReceivedInPlace
        {
            get { using (_ctx.Lock.Enter()) return _ctx.BlocksReceivedInPlace; }
        }

        /// <summary>Peer exchange counters (tests): messages sent and received, peers learnt, entries left out.</summary>
        internal (int Sent, int Received, int Learnt, int Ignored) PexCounters
        {
            get { using (_ctx.Lock.Enter()) return (_ctx.Pex.MessagesSent, _ctx.Pex.MessagesReceived, _ctx.Pex.PeersLearnt, _ctx.Pex.EntriesIgnored); }
        }

        /// <summary>Makes the run loop look at the clock now (tests, after advancing a fake clock).</summary>
        internal void Nudge() => Wake();

        private void Tick(DateTime now, double seconds)
        {
            using (_ctx.Lock.Enter())
            {
                _rate = _rate == 0 ? _ctx.RateWindow / seconds : 0.5 * (_ctx.RateWindow / seconds) + 0.5 * _rate;
                _ctx.RateWindow = 0;
                _connections.Tick(now, seconds);
                _ctx.Pex.Tick();
                _requests.FillAllRequests();
                _uploads.Tick(now);
            }
            Interlocked.Increment(ref _tickCount);
        }

        private bool WantsToSeed => _ctx.Options.SeedUntilCancelled || _ctx.Options.SeedTime.HasValue || _ctx.Options.SeedRatio.HasValue;

        /// <summary>After completion: seed until cancelled, or until the first of SeedTime and SeedRatio is reached.</summary>
        private bool KeepSeeding(DateTime now)
        {
            var options = _ctx.Options;
            if (options.SeedUntilCancelled) return true;
            if (!options.SeedTime.HasValue && !options.SeedRatio.HasValue) return false;
            if (options.SeedTime is TimeSpan time && now - _completedAt!.Value >= time) return false;
            if (options.SeedRatio is double ratio && BytesUploaded() >= ratio * Math.Max(1, _ctx.TotalWanted)) return false;
            return true;
        }

        private long BytesUploaded()
        {
            using (_ctx.Lock.Enter()) return _ctx.BytesUploadedClosed + _ctx.Sessions.Sum(x => x.BytesUploaded);
        }

        private int PeersServed()
        {
            using (_ctx.Lock.Enter()) return _ctx.PeersServedClosed + _ctx.Sessions.Count(x => x.BytesUploaded > 0);
        }

        // ---- trackers -------------------------------------------------------------------------------------------

        private bool NeedMorePeers()
        {
            using (_ctx.Lock.Enter()) return _ctx.Sessions.Count < _ctx.Options.MaxConnections / 2 && _ctx.Candidates.AvailableCount(_ctx.Now) < 5;
        }

        private SwarmAnnouncer? CreateAnnouncer()
        {
            if (!_ctx.Options.UseTrackers) return null;
            IReadOnlyList<IReadOnlyList<string>> tiers = _ctx.Options.TrackerOverride is { Count: > 0 } urls
                ? urls.Select(u => (IReadOnlyList<string>)new[] { u }).ToList()
                : _ctx.Torrent.TrackerTiers;
            if (tiers.Count == 0) return null;
            return new SwarmAnnouncer(_ctx.Torrent, tiers, _ctx.Services.PeerId, _ctx.Services.ListenPort, _ctx.Clock, _ctx.Services.TrackerOptions);
        }

        private async Task AnnounceAsync(TrackerEvent kind, CancellationToken token)
        {
            try
            {
                long left;
                using (_ctx.Lock.Enter()) left = _ctx.TotalWanted - _ctx.BytesVerified;
                var (peers, problems) = await _announcer!.AnnounceAsync(kind, Interlocked.Read(ref _ctx.BytesDownloaded), BytesUploaded(), left, token).ConfigureAwait(false);
                foreach (var p in problems) _ctx.Publish(EngineEventKind.TrackerFailed, EventSeverity.Verbose, p);
                if (peers.Count > 0) _ctx.Publish(EngineEventKind.PeersDiscovered, EventSeverity.Verbose, $"Trackers gave {peers.Count} peer(s).", count: peers.Count);
                AddPeers(peers);
            }
            catch (OperationCanceledException) { }
            catch (Exception ex)
            {
                _ctx.Publish(EngineEventKind.TrackerFailed, EventSeverity.Warning, "Announce failed: " + ex.Message, exception: ex);
            }
        }

        // ---- shutdown and result --------------------------------------------------------------------------------

        private async Task ShutdownAsync()
        {
            _running = false;
            try { _runCts?.Cancel(); } catch (ObjectDisposedException) { }
            _connections.AbortAll();

            // Pieces being hashed or written finish first: their buffers are in use, and a verified piece must not
            // be lost. Bounded: a stuck disk cannot hang the shutdown forever.
            var clock = _ctx.Clock;
            await Task.WhenAny(_completion.WhenIdle(), clock.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
            await Task.WhenAny(Task.WhenAll(_connections.Background()), clock.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);

            if (_announcer is not null)
            {
                if (_announcer.Started)
                {
                    // 'stopped': best effort, bounded, never delaying the user for long.
                    using var cts = clock.CreateCancellationTokenSource(TimeSpan.FromSeconds(3));
                    await AnnounceAsync(TrackerEvent.Stopped, cts.Token).ConfigureAwait(false);
                }
                _announcer.Dispose();
            }
            await _completion.CloseAsync().ConfigureAwait(false);
        }

        private DownloadResult Result(DownloadOutcome outcome, string? message, DownloadException? fatal, Exception? unexpected)
        {
            var elapsed = _ctx.Now - _started;
            long downloaded = Interlocked.Read(ref _ctx.BytesDownloaded);
            var selected = _ctx.Options.SelectedFiles;
            long selectedSize = _ctx.Torrent.Files.Where(f => !f.IsPadding && (selected is null || selected[f.Index])).Sum(f => f.Length);
            int hashFailures;
            using (_ctx.Lock.Enter()) hashFailures = _ctx.HashFailures;
            return new DownloadResult
            {
                Name = _ctx.Torrent.Name,
                InfoHash = _ctx.Torrent.InfoHash,
                DestinationPath = _ctx.Destination,
                Files = _ctx.Storage?.SelectedFilePaths() ?? Array.Empty<string>(),
                TotalSize = _ctx.Torrent.TotalSize,
                SelectedSize = selectedSize,
                BytesDownloaded = downloaded,
                BytesResumed = _bytesResumed,
                Duration = elapsed,
                AverageRate = elapsed.TotalSeconds > 0 ? downloaded / elapsed.TotalSeconds : 0,
                PeersUsed = _ctx.Candidates.UsedCount,
                BytesUploaded = BytesUploaded(),
                PeersServed = PeersServed(),
                HashFailures = hashFailures,
                Status = outcome,
                Message = message,
                Error = fatal?.Error,
                Exception = (Exception?)fatal ?? unexpected,
            };
        }
    }
}
