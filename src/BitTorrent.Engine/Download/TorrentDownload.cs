using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Hashing;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Downloads one torrent from a swarm into a destination folder.
    /// <para>Concurrency model: every peer has a read loop and a send loop (async I/O); all shared state (piece
    /// picker, sessions, counters) is guarded by one lock, taken briefly per message. Completed pieces are hashed from
    /// memory on the thread pool (bounded by the core count) and written by one writer at a time; only then is a
    /// piece "have". A one-second tick adapts request queues, detects snubbed peers, connects more peers, saves the
    /// resume record and decides completion or failure.</para></summary>
    public sealed class TorrentDownload
    {
        private readonly TorrentInfo _torrent;
        private readonly string _destination;
        private readonly DownloadOptions _options;
        private readonly object _sync = new object();
        private readonly List<PeerSession> _sessions = new List<PeerSession>();
        private readonly Dictionary<string, PeerCandidate> _candidates = new Dictionary<string, PeerCandidate>(StringComparer.Ordinal);
        private readonly HashSet<string> _peersUsed = new HashSet<string>(StringComparer.Ordinal);
        private readonly List<BlockRequest> _pickBuffer = new List<BlockRequest>(256);
        private readonly SemaphoreSlim _hashSlots = new SemaphoreSlim(Math.Max(1, Environment.ProcessorCount));
        private readonly SemaphoreSlim _writeLock = new SemaphoreSlim(1, 1);
        private readonly TorrentServices _services;
        private readonly byte[] _peerId;
        private readonly DateTime _started = DateTime.UtcNow;
        private readonly List<Task> _backgroundTasks = new List<Task>();

        private DownloadStorage? _storage;
        private SwarmAnnouncer? _announcer;
        private PiecePicker? _picker;
        private Bitfield _have;
        private Bitfield _wanted;
        private CancellationTokenSource? _runCts;
        private DownloadException? _fatal;
        private DownloadState _state = DownloadState.Checking;
        private long _totalWanted;
        private long _bytesVerified;
        private long _bytesResumed;
        private long _bytesDownloaded;
        private long _rateWindow;
        private double _rate;
        private int _hashFailures;
        private int _pendingVerifications;
        private int _connecting;
        private bool _resumeDirty;
        private DateTime _lastPayloadAt;
        private DateTime? _completedAt;
        private DateTime _lastChoke = DateTime.MinValue;
        private DateTime _lastOptimistic = DateTime.MinValue;
        private PeerSession? _optimistic;
        private long _bytesUploadedClosed;
        private int _peersServedClosed;
        private readonly Random _random = new Random();
        private TaskCompletionSource<bool> _done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        public TorrentDownload(TorrentInfo torrent, string destination, DownloadOptions? options = null, TorrentServices? services = null)
        {
            _services = services ?? new TorrentServices { ListenPort = options?.ListenPort ?? 0 };
            _peerId = _services.PeerId;
            _torrent = torrent ?? throw new ArgumentNullException(nameof(torrent));
            _destination = Path.GetFullPath(destination ?? throw new ArgumentNullException(nameof(destination)));
            _options = options ?? new DownloadOptions();
            _have = new Bitfield(torrent.PieceCount);
            _wanted = new Bitfield(torrent.PieceCount);
        }

        public TorrentInfo Torrent => _torrent;

        /// <summary>Where this torrent's events go (peers banned, hash failures, resume decisions): the session's
        /// queue, drained by the cmdlet on the pipeline thread.</summary>
        public EngineEventQueue Events => _services.Events;

        private void Publish(EngineEventKind kind, EventSeverity severity, string message, PeerSession? peer = null,
            PeerCloseReason reason = PeerCloseReason.None, int piece = -1, long count = 0, Exception? exception = null) =>
            _services.Events.Publish(new EngineEvent(kind, severity, message)
            {
                InfoHash = _torrent.InfoHash,
                TorrentName = _torrent.Name,
                Peer = peer is null ? null : new PeerAddress(peer.EndPoint).ToString(),
                Reason = reason,
                Piece = piece,
                Count = count,
                Exception = exception,
            });

        public DownloadStatus GetStatus()
        {
            lock (_sync)
            {
                return new DownloadStatus
                {
                    State = _state,
                    TotalWanted = _totalWanted,
                    BytesVerified = _bytesVerified,
                    BytesDownloaded = _bytesDownloaded,
                    DownloadRate = _rate,
                    BytesUploaded = BytesUploaded(),
                    UploadRate = _sessions.Sum(x => x.UploadRate),
                    ConnectedPeers = _sessions.Count,
                    KnownPeers = _candidates.Count,
                    PiecesVerified = _have.Count,
                    PiecesWanted = _wanted.Count,
                    HashFailures = _hashFailures,
                    Elapsed = DateTime.UtcNow - _started,
                };
            }
        }

        /// <summary>Adds peers to try (from a tracker, or given by the user).</summary>
        public void AddPeers(IEnumerable<IPEndPoint> peers, bool explicitPeer = false)
        {
            lock (_sync)
            {
                foreach (var ep in peers)
                {
                    var key = new PeerAddress(ep).ToString();
                    if (!_candidates.ContainsKey(key))
                        _candidates[key] = new PeerCandidate(ep, key) { Explicit = explicitPeer };
                }
            }
        }

        /// <summary>Runs the download to completion, failure, or cancellation (which stops it cleanly: data flushed,
        /// resume record written). Never throws for network trouble; returns a result with the outcome.</summary>
        public async Task<DownloadResult> RunAsync(CancellationToken cancellationToken)
        {
            _runCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var token = _runCts.Token;
            string? failure = null;
            DownloadOutcome outcome;
            try
            {
                await PrepareAsync(token).ConfigureAwait(false);
                if (_options.SeedOnly && !_picker!.IsComplete)
                    throw new DownloadException(DownloadError.SeedDataIncomplete,
                        $"The data in '{_destination}' has {_have.Count} of {_torrent.PieceCount} pieces of '{_torrent.Name}' ({100.0 * _have.Count / Math.Max(1, _torrent.PieceCount):0.#} %); seeding needs all of them.");
                if (_picker!.IsComplete && !WantsToSeed)
                {
                    outcome = DownloadOutcome.Completed;
                }
                else
                {
                    lock (_sync) _state = _picker.IsComplete ? DownloadState.Seeding : DownloadState.Downloading;
                    AddPeers(_options.Peers, explicitPeer: true);
                    _announcer = CreateAnnouncer();
                    _lastPayloadAt = DateTime.UtcNow;
                    _running = true;
                    outcome = await DownloadLoopAsync(token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && _fatal is null)
            {
                // Stopping a seed that has everything is the normal end of seeding, not an interrupted download.
                bool complete;
                lock (_sync) complete = _picker is not null && _picker.IsComplete && _pendingVerifications == 0;
                outcome = complete ? DownloadOutcome.Completed : DownloadOutcome.Stopped;
                failure = complete ? null : "Stopped by the user.";
            }
            catch (DownloadException ex)
            {
                _fatal ??= ex;
                outcome = DownloadOutcome.Failed;
            }
            catch (OperationCanceledException) when (_fatal is not null)
            {
                // A fatal error (a failed write) cancels the run: report the error, not the cancellation (the task
                // used to end as Canceled and the cmdlet could only say "ended without a result").
                outcome = DownloadOutcome.Failed;
            }

            if (_fatal is not null)
            {
                outcome = DownloadOutcome.Failed;
                failure = _fatal.Message;
            }

            await ShutdownAsync().ConfigureAwait(false);
            lock (_sync)
            {
                _state = outcome == DownloadOutcome.Completed ? DownloadState.Completed : outcome == DownloadOutcome.Stopped ? DownloadState.Stopped : DownloadState.Failed;
            }
            var elapsed = DateTime.UtcNow - _started;
            var result = new DownloadResult
            {
                Name = _torrent.Name,
                InfoHash = _torrent.InfoHash,
                DestinationPath = _destination,
                Files = SelectedFilePaths(),
                TotalSize = _torrent.TotalSize,
                SelectedSize = SelectedSize(),
                BytesDownloaded = Interlocked.Read(ref _bytesDownloaded),
                BytesResumed = _bytesResumed,
                Duration = elapsed,
                AverageRate = elapsed.TotalSeconds > 0 ? Interlocked.Read(ref _bytesDownloaded) / elapsed.TotalSeconds : 0,
                PeersUsed = _peersUsed.Count,
                BytesUploaded = BytesUploaded(),
                PeersServed = PeersServed(),
                HashFailures = _hashFailures,
                Status = outcome,
                Message = failure,
            };
            if (_fatal is not null) throw new DownloadFailedException(_fatal, result);
            return result;
        }

        // ---- start-up: storage and resume -----------------------------------------------------------------------

        private async Task PrepareAsync(CancellationToken token)
        {
            var selected = _options.SelectedFiles ?? Enumerable.Repeat(true, _torrent.Files.Count).ToArray();
            foreach (var f in _torrent.Files)
            {
                if (!selected[f.Index] || f.IsPadding || f.Length == 0) continue;
                for (int p = f.FirstPiece; p <= f.LastPiece; p++) _wanted.Set(p);
            }
            for (int p = 0; p < _torrent.PieceCount; p++)
                if (_wanted[p]) _totalWanted += _torrent.GetPieceLength(p);

            try
            {
                _storage = new DownloadStorage(_torrent, _destination, selected);
                _storage.Prepare();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is InvalidDataException)
            {
                throw new DownloadException(DownloadError.DestinationWriteFailed, $"Cannot prepare the destination '{_destination}': {ex.Message}", ex);
            }

            await Task.Run(() => RestoreVerifiedPiecesAsync(token), token).ConfigureAwait(false);
            foreach (var p in Enumerable.Range(0, _torrent.PieceCount))
                if (_have[p] && _wanted[p]) _bytesVerified += _torrent.GetPieceLength(p);
            _bytesResumed = _bytesVerified;
            try
            {
                _storage.FinishCompletedFiles(_have, Enumerable.Range(0, _torrent.Files.Count));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new DownloadException(DownloadError.DestinationWriteFailed, $"Cannot finish files in '{_destination}': {ex.Message}", ex);
            }

            int maxPartials = (int)Math.Max(4, Math.Min(4096, _options.MaxUnverifiedBytes / Math.Max(1, _torrent.PieceLength)));
            _picker = new PiecePicker(_torrent.PieceCount, _torrent.PieceLength, _torrent.TotalSize, _have, _wanted, maxPartials);
            if (!_options.SeedOnly && !_picker.IsComplete) ProbeDestination();
        }

        /// <summary>A destination that cannot be written (read-only, full, no permission) fails here, at once and
        /// clearly, instead of when the first piece arrives — or, with no peer, as NoPeersAvailable after the timeout.
        /// Seeding never writes, so it is not probed (data on read-only media can be seeded).</summary>
        private void ProbeDestination()
        {
            string probe = Path.Combine(_destination, ResumeRecord.FolderName, _torrent.InfoHash + "-" + Guid.NewGuid().ToString("N") + ".probe");
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
                using var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
                stream.WriteByte(0);
                stream.Flush();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new DownloadException(DownloadError.DestinationWriteFailed, $"The destination '{_destination}' cannot be written: {ex.Message}", ex);
            }
        }

        /// <summary>Pieces claimed by the resume record are trusted while every file they touch has the size and
        /// last-write time the record saved; every other piece with data on disk (written after the last save, before a
        /// crash; or in a file changed since) is hash-checked, so a restart re-downloads no more than what was in
        /// flight and never trusts data someone else modified.</summary>
        private async Task RestoreVerifiedPiecesAsync(CancellationToken token)
        {
            var storage = _storage!;
            var record = ResumeRecord.TryLoad(_destination, _torrent);
            var current = storage.Stamps();
            var unchanged = new bool[current.Length];
            if (record is not null)
                for (int f = 0; f < current.Length; f++)
                    unchanged[f] = current[f] is FileStamp now && record.Files[f] is FileStamp then && now.Equals(then);
            var toCheck = new List<int>();
            int trusted = 0;
            for (int p = 0; p < _torrent.PieceCount; p++)
            {
                if (!storage.PieceDataPresent(p)) continue;
                bool trust = record is not null && record.Pieces[p];
                if (trust)
                    foreach (var span in storage.Spans(p))
                        if (!_torrent.Files[span.File].IsPadding && !unchanged[span.File]) { trust = false; break; }
                if (trust) { _have.Set(p); trusted++; }
                else toCheck.Add(p);
            }
            if (toCheck.Count == 0)
            {
                if (trusted > 0) Publish(EngineEventKind.ResumeLoaded, EventSeverity.Verbose, $"Resumed {trusted} verified piece(s) from the resume record.", count: trusted);
                return;
            }
            // The same check as Test-Torrent, on the files as they are now (final or .part names).
            var paths = Enumerable.Range(0, _torrent.Files.Count).Select(storage.ExistingPath).ToArray();
            var location = TorrentDataLocation.FromPaths(_torrent, storage.Root, paths);
            var check = await PieceVerifier.VerifyAsync(_torrent, location, new VerificationOptions { Pieces = toCheck }, null, token).ConfigureAwait(false);
            int valid = 0;
            foreach (int p in toCheck)
                if (check.Pieces[p] == PieceState.Valid) { _have.Set(p); valid++; }
            Publish(EngineEventKind.ResumeChecked, EventSeverity.Verbose, $"Resume: {trusted} piece(s) from the resume record, {valid} of {toCheck.Count} other piece(s) on disk verified by hashing.", count: trusted + valid);
        }

        // ---- the main loop -------------------------------------------------------------------------------------

        private async Task<DownloadOutcome> DownloadLoopAsync(CancellationToken token)
        {
            var lastTick = DateTime.UtcNow;
            var lastResumeSave = DateTime.UtcNow;
            var lastKeepAlive = DateTime.UtcNow;
            Task? announce = null;
            while (true)
            {
                if (_fatal is not null) throw _fatal;
                token.ThrowIfCancellationRequested();
                var now = DateTime.UtcNow;
                bool done = IsDone();
                if (done)
                {
                    if (_completedAt is null)
                    {
                        _completedAt = now;
                        if (_announcer is not null && !_announcer.CompletedSent && _bytesResumed < _totalWanted)
                            _ = AnnounceAsync(TrackerEvent.Completed, token);
                        lock (_sync) _state = DownloadState.Seeding;
                    }
                    if (!KeepSeeding(now)) return DownloadOutcome.Completed;
                }

                double seconds = (now - lastTick).TotalSeconds;
                if (seconds >= 1)
                {
                    lastTick = now;
                    Tick(now, seconds);
                }
                if (now - lastKeepAlive > TimeSpan.FromSeconds(60))
                {
                    lastKeepAlive = now;
                    lock (_sync) foreach (var s in _sessions) s.Send(PeerMessage.KeepAlive);
                }
                if (_resumeDirty && now - lastResumeSave >= _options.ResumeSaveInterval)
                {
                    lastResumeSave = now;
                    await SaveResumeAsync(token).ConfigureAwait(false);
                }

                // Trackers: started at once, then on their interval, earlier when peers run low.
                if (_announcer is not null && (announce is null || announce.IsCompleted) && _announcer.IsDue(DateTimeOffset.UtcNow, NeedMorePeers()))
                    announce = AnnounceAsync(TrackerEvent.None, token);

                ConnectMorePeers(token);

                lock (_sync)
                {
                    if (done) { }
                    else if (_sessions.Count == 0 && _connecting == 0 && now - _lastPayloadAt > _options.NoPeersTimeout)
                        throw new DownloadException(DownloadError.NoPeersAvailable,
                            $"No peer sent data for {(int)_options.NoPeersTimeout.TotalSeconds} s and none is connected ({_candidates.Count} peer(s) known, none reachable).");
                    else if (now - _lastPayloadAt > _options.NoPeersTimeout + _options.NoPeersTimeout)
                        throw new DownloadException(DownloadError.NoPeersAvailable,
                            $"No peer sent data for {(int)(now - _lastPayloadAt).TotalSeconds} s ({_sessions.Count} connected peer(s) have nothing we need or do not serve).");
                }

                await Task.WhenAny(_done.Task, Task.Delay(100, token)).ConfigureAwait(false);
            }
        }

        private bool WantsToSeed => _options.SeedUntilCancelled || _options.SeedTime.HasValue || _options.SeedRatio.HasValue;

        /// <summary>After completion: seed until cancelled, or until the first of SeedTime and SeedRatio is reached.</summary>
        private bool KeepSeeding(DateTime now)
        {
            if (_options.SeedUntilCancelled) return true;
            if (!_options.SeedTime.HasValue && !_options.SeedRatio.HasValue) return false;
            if (_options.SeedTime is TimeSpan time && now - _completedAt!.Value >= time) return false;
            if (_options.SeedRatio is double ratio && BytesUploaded() >= ratio * Math.Max(1, _totalWanted)) return false;
            return true;
        }

        private long BytesUploaded()
        {
            lock (_sync) return _bytesUploadedClosed + _sessions.Sum(x => x.BytesUploaded);
        }

        private int PeersServed()
        {
            lock (_sync) return _peersServedClosed + _sessions.Count(x => x.BytesUploaded > 0);
        }

        private bool IsDone()
        {
            lock (_sync) return _picker!.IsComplete && _pendingVerifications == 0;
        }

        private bool NeedMorePeers()
        {
            lock (_sync) return _sessions.Count < _options.MaxConnections / 2 && _candidates.Values.Count(c => c.IsAvailable(DateTime.UtcNow)) < 5;
        }

        private SwarmAnnouncer? CreateAnnouncer()
        {
            if (!_options.UseTrackers) return null;
            IReadOnlyList<IReadOnlyList<string>> tiers = _options.TrackerOverride is { Count: > 0 } urls
                ? urls.Select(u => (IReadOnlyList<string>)new[] { u }).ToList()
                : _torrent.TrackerTiers;
            if (tiers.Count == 0) return null;
            return new SwarmAnnouncer(_torrent, tiers, _peerId, _options.ListenPort);
        }

        private long BytesLeft()
        {
            lock (_sync) return _totalWanted - _bytesVerified;
        }

        private async Task AnnounceAsync(TrackerEvent kind, CancellationToken token)
        {
            try
            {
                var (peers, problems) = await _announcer!.AnnounceAsync(kind, Interlocked.Read(ref _bytesDownloaded), BytesUploaded(), BytesLeft(), token).ConfigureAwait(false);
                foreach (var p in problems) Publish(EngineEventKind.TrackerFailed, EventSeverity.Verbose, p);
                if (peers.Count > 0) Publish(EngineEventKind.PeersDiscovered, EventSeverity.Verbose, $"Trackers gave {peers.Count} peer(s).", count: peers.Count);
                AddPeers(peers);
            }
            catch (OperationCanceledException) { }
            catch (Exception ex)
            {
                Publish(EngineEventKind.TrackerFailed, EventSeverity.Warning, "Announce failed: " + ex.Message, exception: ex);
            }
        }

        /// <summary>completed/stopped: best effort, bounded, never delaying the user for long.</summary>
        private async Task AnnounceBoundedAsync(TrackerEvent kind, TimeSpan limit)
        {
            using var cts = new CancellationTokenSource(limit);
            await AnnounceAsync(kind, cts.Token).ConfigureAwait(false);
        }

        private const int SilenceLimitMs = 150_000;

        private void Tick(DateTime now, double seconds)
        {
            lock (_sync)
            {
                _rate = _rate == 0 ? _rateWindow / seconds : 0.5 * (_rateWindow / seconds) + 0.5 * _rate;
                _rateWindow = 0;
                int nowTick = Environment.TickCount;
                foreach (var s in _sessions.ToArray())
                {
                    s.Tick(seconds);
                    long uploaded = s.BytesUploaded;
                    if (uploaded != s.UploadedAtLastTick) { s.UploadedAtLastTick = uploaded; s.LastUsefulAt = now; }
                    if (unchecked(nowTick - s.LastMessageTick) > SilenceLimitMs)
                    {
                        // Two minutes and a half without even a keep-alive ends the connection, as in BEP 3 practice.
                        s.Close($"silent for {SilenceLimitMs / 1000} s");
                        continue;
                    }
                    if (s.SendStalled(now, _options.SendStallTimeout))
                    {
                        // It stopped reading: the socket buffer is full and our writes wait. Free the slot.
                        Publish(EngineEventKind.PeerDisconnected, EventSeverity.Verbose, $"Disconnecting {s}: it has not read what we sent for {(int)_options.SendStallTimeout.TotalSeconds} s.", s, PeerCloseReason.SendStalled);
                        s.Connection.Abort();
                        continue;
                    }
                    int cap = Math.Max(1, Math.Min(_options.MaxRequestQueue, s.PeerRequestQueue));
                    if (s.Outstanding.Count > 0 && now - s.LastBlockAt > _options.SnubTimeout)
                    {
                        // Snubbed: give its requests to others, keep one outstanding to see if it recovers.
                        s.Snubbed = true;
                        DropOutstanding(s, sendCancel: true);
                        _picker!.ReleasePeer(s, discardItsBlocks: false);
                        s.DesiredQueue = 1;
                        Publish(EngineEventKind.PeerSnubbed, EventSeverity.Verbose, $"Peer {s} sent nothing for {(int)_options.SnubTimeout.TotalSeconds} s: snubbed, its requests go to other peers.", s);
                    }
                    else if (!s.Snubbed)
                    {
                        int fromRate = (int)Math.Min(int.MaxValue, s.DownloadRate * _options.RequestQueueSeconds / BlockRequest.BlockSize);
                        s.DesiredQueue = Math.Min(cap, Math.Max(Math.Max(_options.MinRequestQueue, fromRate), s.DesiredQueue));
                    }
                    UpdateInterest(s);
                }
                FillAllRequests();
                if (now - _lastChoke >= TimeSpan.FromSeconds(10)) { _lastChoke = now; Rechoke(now); }
            }
        }

        // ---- choking (who we upload to) ------------------------------------------------------------------------

        /// <summary>Every 10 s: the interested peers that give us the most (tit-for-tat) while downloading, or that
        /// take the most while seeding, get the regular upload slots; one more slot rotates every 30 s to a random
        /// choked peer (optimistic unchoke), so newcomers get a first piece to trade.</summary>
        private void Rechoke(DateTime now)
        {
            bool seeding = _picker!.IsComplete;
            var interested = _sessions.Where(x => x.PeerInterested && !x.Closed).ToList();
            var ranked = seeding
                ? SeedingOrder(interested, now)
                : interested.OrderByDescending(x => x.DownloadRate).ThenByDescending(x => x.UploadRate).ToList();
            int regular = Math.Max(1, _options.UploadSlots - 1);
            var unchoke = new HashSet<PeerSession>(ranked.Take(regular));
            if (_optimistic is null || _optimistic.Closed || !_optimistic.PeerInterested || now - _lastOptimistic >= TimeSpan.FromSeconds(30))
            {
                var choked = interested.Where(x => !unchoke.Contains(x)).ToList();
                _optimistic = choked.Count > 0 ? choked[_random.Next(choked.Count)] : null;
                _lastOptimistic = now;
            }
            if (_optimistic is not null) unchoke.Add(_optimistic);
            foreach (var x in _sessions)
            {
                if (unchoke.Contains(x)) Unchoke(x, now);
                else if (!x.AmChoking) Choke(x);
            }
        }

        /// <summary>How long a peer keeps its slot while seeding before those waiting get a turn.</summary>
        private static readonly TimeSpan SeedingTurn = TimeSpan.FromSeconds(30);

        /// <summary>Seeding round robin (libtorrent's default seed choker): peers in the middle of their turn keep
        /// their slot, then the peers that have waited longest, then those whose turn is over. A seed gains nothing
        /// from tit-for-tat, so every interested peer gets its share in turn.</summary>
        private static List<PeerSession> SeedingOrder(List<PeerSession> interested, DateTime now) =>
            interested
                .OrderBy(x => !x.AmChoking && now - x.UnchokedAt < SeedingTurn ? 0 : x.AmChoking ? 1 : 2)
                .ThenBy(x => x.AmChoking ? x.ChokedAt : x.UnchokedAt)
                .ToList();

        private void Unchoke(PeerSession s, DateTime now)
        {
            if (!s.AmChoking) return;
            s.AmChoking = false;
            s.UnchokedAt = now;
            s.Send(PeerMessage.Unchoke);
        }

        private void Choke(PeerSession s)
        {
            if (s.AmChoking) return;
            s.AmChoking = true;
            s.ChokedAt = DateTime.UtcNow;
            s.Send(PeerMessage.Choke);
            // BEP 3: a choke discards the peer's requests. BEP 6 peers are told which ones, by a reject each; requests
            // for allowed-fast pieces stay queued and are still served.
            var dropped = s.DropQueuedUploads(s.OurAllowedFast);
            if (s.SupportsFast)
                foreach (var b in dropped) s.Send(PeerMessage.RejectRequest(b.Piece, b.Offset, b.Length));
        }

        /// <summary>A peer became interested: give it a slot now if one is free, rather than at the next round.</summary>
        private void UnchokeIfSlotFree(PeerSession s)
        {
            if (!s.AmChoking) return;
            int unchoked = _sessions.Count(x => !x.AmChoking);
            if (unchoked < _options.UploadSlots) Unchoke(s, DateTime.UtcNow);
        }

        /// <summary>Most requests we decline (pieces we lack, requests while choked) before closing the connection:
        /// an honest peer's requests that crossed our choke are far fewer.</summary>
        private const int MaxDeclinedRequests = 1000;

        /// <summary>Checks a request (<see cref="UploadRequestPolicy"/>) and queues it, declines it (a 'reject
        /// request' for BEP 6 peers, silence for others) or returns false with a reason to close the connection.</summary>
        private bool OnRequest(PeerSession s, PeerMessage m, out string? reason)
        {
            var decision = UploadRequestPolicy.Decide(_torrent.GetPieceLength(m.Index), m.Begin, m.Length, _have[m.Index],
                s.AmChoking, s.OurAllowedFast.Contains(m.Index), s.PendingUploads >= _options.MaxUploadQueue, out reason);
            switch (decision)
            {
                case UploadDecision.Serve:
                    s.QueueUpload(new BlockRequest(m.Index, m.Begin, m.Length));
                    return true;
                case UploadDecision.Disconnect:
                    return false;
                default:
                    if (s.SupportsFast) s.Send(PeerMessage.RejectRequest(m.Index, m.Begin, m.Length));
                    // A peer that keeps asking for what we do not have, or while choked, is broken or hostile.
                    if (++s.BadRequests > MaxDeclinedRequests) { reason = $"{s.BadRequests} declined requests (last: {reason})"; return false; }
                    reason = null;
                    return true;
            }
        }

        // ---- connecting ----------------------------------------------------------------------------------------

        private void ConnectMorePeers(CancellationToken token)
        {
            lock (_sync)
            {
                // A seed dials out too (to -Peer addresses and tracker peers): some clients never connect to the
                // peers a tracker gives them (Transmission 3.00 drops loopback addresses as "martian"), so only our
                // connection reaches them. Peers known to be seeds are left alone once we are one.
                bool seeding = _picker!.IsComplete;
                var now = DateTime.UtcNow;
                bool starving = _sessions.Count == 0;
                foreach (var c in _candidates.Values)
                {
                    if (_sessions.Count + _connecting >= _options.MaxConnections || _connecting >= _options.MaxHalfOpen) break;
                    if (!c.IsAvailable(now, starving) || (seeding && c.KnownSeed)) continue;
                    c.Connecting = true;
                    _connecting++;
                    var task = ConnectAsync(c, token);
                    _backgroundTasks.Add(task);
                }
                _backgroundTasks.RemoveAll(t => t.IsCompleted);
            }
        }

        private async Task ConnectAsync(PeerCandidate candidate, CancellationToken token)
        {
            PeerConnection? connection = null;
            PeerSession? session = null;
            try
            {
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
                {
                    timeout.CancelAfter(_options.ConnectTimeout + _options.ConnectTimeout);
                    var limits = PeerMessageLimits.Default.WithPieceCount(_torrent.PieceCount);
                    connection = await PeerConnection.ConnectAsync(candidate.EndPoint, limits, timeout.Token).ConfigureAwait(false);
                    var ours = Handshake.Create(_torrent.InfoHashBytes, _peerId, extensionProtocol: true, fastExtension: true);
                    var theirs = await connection.ExchangeHandshakesAsync(ours, timeout.Token).ConfigureAwait(false);
                    if (theirs.PeerId.SequenceEqual(_peerId))
                        throw new IOException("Connected to ourselves.");
                    session = NewSession(connection, candidate.EndPoint, theirs);
                }
                lock (_sync)
                {
                    _connecting--;
                    candidate.Connecting = false;
                    candidate.Connected = true;
                    candidate.Failures = 0;
                    _sessions.Add(session);
                    _peersUsed.Add(candidate.Key);
                    SendGreeting(session);
                }
            }
            catch (Exception ex)
            {
                connection?.Dispose();
                lock (_sync)
                {
                    _connecting--;
                    candidate.Connecting = false;
                    candidate.Failed(DateTime.UtcNow);
                }
                if (!(ex is OperationCanceledException) || !token.IsCancellationRequested)
                    _services.Events.Publish(new EngineEvent(EngineEventKind.PeerConnectFailed, EventSeverity.Verbose, $"Could not connect to {candidate.Key}: {ex.Message}") { InfoHash = _torrent.InfoHash, TorrentName = _torrent.Name, Peer = candidate.Key, Exception = ex });
                return;
            }
            await RunSessionAsync(session, candidate, token).ConfigureAwait(false);
        }

        private PeerSession NewSession(PeerConnection connection, IPEndPoint endPoint, Handshake theirs) =>
            new PeerSession(connection, endPoint, theirs, _torrent.PieceCount)
            {
                DesiredQueue = _options.MinRequestQueue,
                ReadBlock = ReadBlockForUpload,
                UploadLimiter = _options.UploadLimiter,
            };

        private PooledBuffer? ReadBlockForUpload(BlockRequest block)
        {
            var storage = _storage;
            if (storage is null) return null;
            var buffer = new PooledBuffer(block.Length);
            try
            {
                if (storage.TryReadBlock(block.Piece, block.Offset, buffer.Array, block.Length)) return buffer;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException)
            {
                Publish(EngineEventKind.UploadReadFailed, EventSeverity.Warning, $"Could not read piece {block.Piece} to upload it: {ex.Message}", piece: block.Piece, exception: ex);
            }
            buffer.Dispose();
            return null;
        }

        // ---- incoming connections ------------------------------------------------------------------------------

        private volatile bool _running;

        /// <summary>Takes a connection a <see cref="PeerListener"/> accepted for this torrent (the peer's handshake
        /// is read; ours is sent here). Returns when the connection ends.</summary>
        internal async Task AcceptAsync(PeerConnection connection, Handshake theirs)
        {
            var token = _runCts?.Token ?? new CancellationToken(true);
            if (!_running || token.IsCancellationRequested || theirs.PeerId.SequenceEqual(_peerId)) { connection.Dispose(); return; }
            var endPoint = connection.RemoteEndPoint;
            var key = new PeerAddress(endPoint).ToString();
            PeerCandidate candidate;
            lock (_sync)
            {
                if (_candidates.TryGetValue(key, out var known) && known.Banned)
                {
                    connection.Dispose();
                    return;
                }
                // Full (in all, or for the caller's address): make room by dropping the peer idle longest (no payload
                // either way for a while) rather than turning the newcomer away — else peers that connect and sit
                // there (a handshake flood) keep every slot and lock honest peers out. One address gets at most
                // MaxConnectionsPerAddress incoming slots, so a crowd from one host cannot take them all.
                var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
                Func<PeerSession, bool> sameAddress = x => x.Incoming && (x.EndPoint.Address.IsIPv4MappedToIPv6 ? x.EndPoint.Address.MapToIPv4() : x.EndPoint.Address).Equals(address);
                bool addressFull = _sessions.Count(x => !x.Evicted && sameAddress(x)) >= _options.MaxConnectionsPerAddress;
                if (addressFull || _sessions.Count(x => !x.Evicted) >= _options.MaxConnections + 10)
                {
                    var victim = IdlestSession(DateTime.UtcNow, addressFull ? sameAddress : null);
                    if (victim is null)
                    {
                        connection.Dispose();
                        return;
                    }
                    victim.Evicted = true;
                    victim.Connection.Abort();
                }
                if (!_candidates.TryGetValue(key, out candidate!)) _candidates[key] = candidate = new PeerCandidate(endPoint, key) { Incoming = true };
                candidate.Connected = true;
            }
            PeerSession session;
            try
            {
                var ours = Handshake.Create(_torrent.InfoHashBytes, _peerId, extensionProtocol: true, fastExtension: true);
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
                {
                    timeout.CancelAfter(_options.ConnectTimeout);
                    await connection.Writer.WriteHandshakeAsync(ours, timeout.Token).ConfigureAwait(false);
                    await connection.Writer.FlushAsync(timeout.Token).ConfigureAwait(false);
                }
                session = NewSession(connection, endPoint, theirs);
                session.Incoming = true;
            }
            catch (Exception)
            {
                connection.Dispose();
                lock (_sync) candidate.Connected = false;
                return;
            }
            lock (_sync)
            {
                _sessions.Add(session);
                SendGreeting(session);
            }
            await RunSessionAsync(session, candidate, token).ConfigureAwait(false);
        }

        /// <summary>Idle this long (no payload either way, or since it connected) before a peer may be dropped to make
        /// room: a newcomer gets that long to start trading.</summary>
        private static readonly TimeSpan EvictableAfter = TimeSpan.FromSeconds(5);

        private PeerSession? IdlestSession(DateTime now, Func<PeerSession, bool>? among = null)
        {
            PeerSession? idlest = null;
            foreach (var x in _sessions)
            {
                if (x.Evicted || x.Closed || now - x.LastUsefulAt < EvictableAfter || (among is not null && !among(x))) continue;
                if (idlest is null || x.LastUsefulAt < idlest.LastUsefulAt) idlest = x;
            }
            return idlest;
        }

        private void SendGreeting(PeerSession session)
        {
            if (session.SupportsExtensions)
            {
                var ext = new ExtendedHandshake { ClientName = ClientIdentity.ClientName, RequestQueueLength = _options.MaxUploadQueue };
                session.Send(PeerMessage.Extended(0, ext.Encode()));
            }
            if (_have.Count == 0)
            {
                if (session.SupportsFast) session.Send(PeerMessage.HaveNone);
            }
            else if (_have.IsComplete && session.SupportsFast) session.Send(PeerMessage.HaveAll);
            else session.Send(PeerMessage.Bitfield(_have.ToArray()));
            if (session.SupportsFast && _have.Count > 0)
            {
                // BEP 6 allowed fast: a few pieces the peer may fetch while choked, to have something to trade.
                foreach (int piece in AllowedFastSet.Compute(session.EndPoint.Address, _torrent.InfoHashBytes, _torrent.PieceCount))
                {
                    if (!_have[piece]) continue;
                    session.OurAllowedFast.Add(piece);
                    session.Send(PeerMessage.AllowedFast(piece));
                }
            }
        }

        private async Task RunSessionAsync(PeerSession session, PeerCandidate candidate, CancellationToken token)
        {
            using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(token);
            var sendLoop = session.RunSendLoopAsync(sessionCts.Token);
            string? reason = null;
            try
            {
                var reader = session.Connection.Reader;
                while (!sessionCts.IsCancellationRequested)
                {
                    // No timer per read (that cost a timer per 64 KiB and kept thousands alive): the 1 s tick closes
                    // a connection that has been silent too long (see Tick).
                    var message = await reader.ReadAsync(sessionCts.Token).ConfigureAwait(false);
                    session.MessageReceived();
                    int payload = message.Id == PeerMessageId.Piece ? message.Payload.Length : 0;
                    using (message)
                    {
                        if (!HandleMessage(session, message, out reason)) break;
                    }
                    // The download cap holds back reading: the peer's sends then wait on TCP flow control.
                    if (payload > 0 && _options.DownloadLimiter is RateLimiter limiter)
                        await limiter.WaitAsync(payload + 13, sessionCts.Token).ConfigureAwait(false);
                    if (sendLoop.IsCompleted) { reason ??= "send failed"; break; }
                }
            }
            catch (OperationCanceledException) { }
            catch (PeerProtocolException ex) { reason = "protocol violation: " + ex.Message; }
            catch (Exception ex) when (ex is IOException || ex is EndOfStreamException || ex is System.Net.Sockets.SocketException || ex is ObjectDisposedException)
            {
                reason = session.CloseReason ?? "connection closed";
            }
            finally
            {
                sessionCts.Cancel();
                session.CompleteOutbox();
                session.Connection.Abort();
                try { await sendLoop.ConfigureAwait(false); } catch (Exception) { }
                session.Connection.Dispose();
                lock (_sync)
                {
                    RemoveSession(session);
                    candidate.Connected = false;
                    candidate.Failed(DateTime.UtcNow);
                    if (session.HashFailures >= _options.BanAfterHashFailures) candidate.Banned = true;
                    if (reason == BothSeedsReason) candidate.KnownSeed = true;
                }
                if (reason is not null && !token.IsCancellationRequested) Publish(EngineEventKind.PeerDisconnected, EventSeverity.Verbose, $"Disconnected from {session}: {reason}.", session, session.Banned ? PeerCloseReason.Banned : PeerCloseReason.ConnectionClosed);
            }
        }

        private void RemoveSession(PeerSession session)
        {
            if (session.Closed) return;
            session.Closed = true;
            _sessions.Remove(session);
            _bytesUploadedClosed += session.BytesUploaded;
            if (session.BytesUploaded > 0) _peersServedClosed++;
            if (ReferenceEquals(_optimistic, session)) _optimistic = null;
            // Its upload slot is free: give it to someone waiting.
            if (!session.AmChoking)
                foreach (var other in _sessions)
                    if (other.PeerInterested && other.AmChoking) { UnchokeIfSlotFree(other); break; }
            _picker!.RemovePeer(session.PeerHas);
            DropOutstanding(session, sendCancel: false);
            _picker.ReleasePeer(session, discardItsBlocks: session.HashFailures >= _options.BanAfterHashFailures);
            FillAllRequests();
        }

        // ---- messages ------------------------------------------------------------------------------------------

        /// <summary>Handles one message under the lock. Returns false (with a reason) to close the connection.</summary>
        private bool HandleMessage(PeerSession s, PeerMessage m, out string? reason)
        {
            reason = null;
            lock (_sync)
            {
                if (s.Closed) { reason = "closed"; return false; }
                switch (m.Id)
                {
                    case PeerMessageId.KeepAlive:
                        break;
                    case PeerMessageId.Choke:
                        s.PeerChoking = true;
                        // Without the fast extension a choke discards our requests; with it, rejects will follow.
                        if (!s.SupportsFast) DropOutstanding(s, sendCancel: false);
                        break;
                    case PeerMessageId.Unchoke:
                        s.PeerChoking = false;
                        FillRequests(s);
                        break;
                    case PeerMessageId.Interested:
                        s.PeerInterested = true;
                        UnchokeIfSlotFree(s);
                        break;
                    case PeerMessageId.NotInterested:
                        s.PeerInterested = false;
                        if (!s.AmChoking)
                        {
                            Choke(s);
                            foreach (var other in _sessions)
                                if (other.PeerInterested && other.AmChoking) { UnchokeIfSlotFree(other); break; }
                        }
                        break;
                    case PeerMessageId.Cancel:
                        // BEP 6: a cancelled request is answered with the block (if already on its way) or a reject.
                        if (s.CancelUpload(new BlockRequest(m.Index, m.Begin, m.Length)) && s.SupportsFast)
                            s.Send(PeerMessage.RejectRequest(m.Index, m.Begin, m.Length));
                        break;
                    case PeerMessageId.Port:
                    case PeerMessageId.Suggest:
                        break;
                    case PeerMessageId.Have:
                        if (!s.PeerHas[m.Index])
                        {
                            s.PeerHas.Set(m.Index);
                            _picker!.AddHave(m.Index);
                            if (!s.AmInterested && _picker.IsWanted(m.Index)) SetInterested(s, true);
                            if (BothSeeds(s)) { reason = BothSeedsReason; return false; }
                            FillRequests(s);
                        }
                        break;
                    case PeerMessageId.Bitfield:
                    case PeerMessageId.HaveAll:
                    case PeerMessageId.HaveNone:
                        // BEP 3 wants one of these first and only once, but aria2 1.36 sends 'have none' first and a
                        // full bitfield later, once it has pieces. So they are accepted at any time and merged with
                        // what the peer announced before (a peer's pieces only ever grow).
                        s.GotBitfield = true;
                        if ((m.Id == PeerMessageId.HaveAll || m.Id == PeerMessageId.HaveNone) && !s.SupportsFast)
                        {
                            reason = $"{m.Id} without the fast extension";
                            return false;
                        }
                        _picker!.RemovePeer(s.PeerHas);
                        if (m.Id == PeerMessageId.Bitfield) s.PeerHas.Or(Bitfield.FromWire(m.Payload.Span, _torrent.PieceCount));
                        else if (m.Id == PeerMessageId.HaveAll) s.PeerHas.SetAll();
                        _picker.AddPeer(s.PeerHas);
                        if (BothSeeds(s)) { reason = BothSeedsReason; return false; }
                        UpdateInterest(s);
                        FillRequests(s);
                        break;
                    case PeerMessageId.Request:
                        if (!OnRequest(s, m, out reason)) return false;
                        break;
                    case PeerMessageId.Piece:
                        OnBlock(s, m);
                        // Late blocks after a cancel or a snub are normal; a stream of blocks nobody asked for is not.
                        if (s.UnrequestedBlocks > 1000 + s.BytesDownloaded / BlockRequest.BlockSize) { reason = "too many blocks we did not ask for"; return false; }
                        break;
                    case PeerMessageId.RejectRequest:
                    {
                        var block = new BlockRequest(m.Index, m.Begin, m.Length);
                        if (s.Outstanding.Remove(block.Key)) _picker!.RequestDropped(block);
                        FillAllRequests();
                        break;
                    }
                    case PeerMessageId.AllowedFast:
                        if (s.AllowedFast.Count < 64 && m.Index < _torrent.PieceCount) s.AllowedFast.Add(m.Index);
                        if (s.PeerChoking) FillRequests(s);
                        break;
                    case PeerMessageId.Extended:
                        if (m.ExtendedId == 0) OnExtendedHandshake(s, m.Payload.Span);
                        break;
                }
                return true;
            }
        }

        /// <summary>A seed connected to a seed has nothing to give or take: close and free the connection slot.</summary>
        private const string BothSeedsReason = "both sides are seeds";

        private bool BothSeeds(PeerSession s) => _picker!.IsComplete && _pendingVerifications == 0 && s.PeerHas.IsComplete;

        private void OnExtendedHandshake(PeerSession s, ReadOnlySpan<byte> payload)
        {
            try
            {
                var hs = ExtendedHandshake.Decode(payload);
                if (hs.RequestQueueLength is int reqq && reqq > 0) s.PeerRequestQueue = Math.Min(reqq, _options.MaxRequestQueue);
                if (!string.IsNullOrEmpty(hs.ClientName)) s.Client = hs.ClientName!;
            }
            catch (PeerProtocolException)
            {
                // A broken extended handshake only costs us its information.
            }
        }

        private void OnBlock(PeerSession s, PeerMessage m)
        {
            var block = new BlockRequest(m.Index, m.Begin, m.Payload.Length);
            bool requested = s.Outstanding.Remove(block.Key);
            if (!requested)
            {
                // Only blocks asked of this peer are taken: a peer pushing data nobody requested could otherwise mix
                // garbage into pieces honest peers are filling, and have them blamed for the hash failure.
                s.UnrequestedBlocks++;
                return;
            }
            var outcome = _picker!.BlockReceived(block, m.Payload.Span, s, requested, out var partial);
            if (outcome == BlockOutcome.Unwanted) return;

            s.CountPayload(block.Length);
            s.LastBlockAt = DateTime.UtcNow;
            s.LastUsefulAt = s.LastBlockAt;
            _lastPayloadAt = s.LastBlockAt;
            Interlocked.Add(ref _bytesDownloaded, block.Length);
            _rateWindow += block.Length;
            if (s.Snubbed) { s.Snubbed = false; s.DesiredQueue = _options.MinRequestQueue; }
            else if (s.DesiredQueue < Math.Min(_options.MaxRequestQueue, s.PeerRequestQueue)) s.DesiredQueue++; // slow start

            if (_picker.InEndgame)
            {
                // Someone else may have the same block outstanding: cancel it there.
                foreach (var other in _sessions)
                {
                    if (other == s || !other.Outstanding.Remove(block.Key)) continue;
                    _picker.RequestDropped(block);
                    other.Send(PeerMessage.Cancel(block.Piece, block.Offset, block.Length));
                }
            }

            if (outcome == BlockOutcome.PieceComplete)
            {
                _pendingVerifications++;
                var p = partial!;
                _ = Task.Run(() => VerifyAndStoreAsync(p));
            }
            FillRequests(s);
        }

        // ---- requests ------------------------------------------------------------------------------------------

        private void UpdateInterest(PeerSession s)
        {
            bool want = _picker!.IsInteresting(s.PeerHas);
            if (want != s.AmInterested) SetInterested(s, want);
        }

        private static void SetInterested(PeerSession s, bool interested)
        {
            s.AmInterested = interested;
            s.Send(interested ? PeerMessage.Interested : PeerMessage.NotInterested);
        }

        private const int RequestBatch = 16;

        private void FillRequests(PeerSession s)
        {
            if (s.Closed || !s.AmInterested) return;
            bool choked = s.PeerChoking;
            if (choked && s.AllowedFast.Count == 0) return;
            int target = Math.Min(s.DesiredQueue, s.PeerRequestQueue);
            int want = target - s.Outstanding.Count;
            if (want <= 0) return;
            // Top the queue up in batches, not one request per block received: one send (and one wake-up of the send
            // loop) per batch instead of per 16 KiB. The queue never runs dry: half of it is still in flight.
            if (s.Outstanding.Count > 0 && want < Math.Min(RequestBatch, (target + 1) / 2)) return;
            _pickBuffer.Clear();
            _picker!.Pick(s.PeerHas, want, _pickBuffer, b => s.Outstanding.ContainsKey(b.Key), choked ? s.AllowedFast : null, s);
            foreach (var b in _pickBuffer)
            {
                s.Outstanding[b.Key] = b;
                s.Send(PeerMessage.Request(b.Piece, b.Offset, b.Length));
            }
        }

        private void FillAllRequests()
        {
            foreach (var s in _sessions) FillRequests(s);
        }

        private void DropOutstanding(PeerSession s, bool sendCancel)
        {
            foreach (var b in s.Outstanding.Values)
            {
                _picker!.RequestDropped(b);
                if (sendCancel) s.Send(PeerMessage.Cancel(b.Piece, b.Offset, b.Length));
            }
            s.Outstanding.Clear();
        }

        // ---- verification and storage --------------------------------------------------------------------------

        [ThreadStatic] private static SHA1? _sha1;

        private async Task VerifyAndStoreAsync(PartialPiece partial)
        {
            var token = _runCts!.Token;
            bool valid;
            await _hashSlots.WaitAsync().ConfigureAwait(false);
            try
            {
                var sha = _sha1 ??= SHA1.Create();
                var data = partial.Data;
                var hash = sha.ComputeHash(data.Array!, data.Offset, data.Count);
                valid = hash.AsSpan().SequenceEqual(_torrent.GetPieceHash(partial.Index));
            }
            finally
            {
                _hashSlots.Release();
            }

            if (!valid)
            {
                lock (_sync)
                {
                    _hashFailures++;
                    var sources = partial.Contributors.OfType<PeerSession>().ToList();
                    if (sources.Count == 1)
                    {
                        // The whole bad piece came from one peer: it is certainly lying (or broken).
                        Publish(EngineEventKind.HashFailed, EventSeverity.Warning, $"Piece {partial.Index} failed its hash check; it will be downloaded again.", piece: partial.Index, count: 1);
                        Ban(sources[0], $"it sent piece {partial.Index} alone, and it failed the hash check");
                    }
                    else
                    {
                        // Several peers sent blocks of it: blaming them all would ban honest peers along with a liar.
                        // Keep a hash of each block and who sent it, and fetch the piece again from one peer alone;
                        // once it verifies, the blocks that differ name the liar (libtorrent's smart ban).
                        Publish(EngineEventKind.HashFailed, EventSeverity.Warning, $"Piece {partial.Index} failed its hash check; it came from {sources.Count} peers, so it is fetched again from one peer alone.", piece: partial.Index, count: sources.Count);
                        RememberFailedBlocks(partial);
                    }
                    _picker!.MarkFailed(partial.Index, singleSource: sources.Count > 1);
                    _pendingVerifications--;
                    FillAllRequests();
                }
                return;
            }

            // A piece that failed before with blocks from several peers is good now: whoever sent a block that
            // differs from the good one lied. (Compared before the write: the buffer goes back to the pool after it.)
            FailedBlock[]? failedBlocks;
            lock (_sync)
            {
                if (_failedBlocks.TryGetValue(partial.Index, out failedBlocks)) _failedBlocks.Remove(partial.Index);
            }
            if (failedBlocks is not null)
            {
                var liars = FindLiars(partial, failedBlocks);
                lock (_sync)
                    foreach (var (liar, block) in liars)
                        Ban(liar, $"block {block} of piece {partial.Index} it sent differs from the verified piece");
            }

            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await _storage!.WritePieceAsync(partial.Index, partial.Data, CancellationToken.None).ConfigureAwait(false);
                lock (_sync)
                {
                    _picker!.MarkVerified(partial.Index);
                    if (_wanted[partial.Index]) _bytesVerified += partial.Length;
                    _resumeDirty = true;
                    foreach (var s in _sessions)
                        if (!s.PeerHas[partial.Index]) s.Send(PeerMessage.Have(partial.Index));
                    if (_picker.IsComplete)
                    {
                        foreach (var s in _sessions) if (s.AmInterested) SetInterested(s, false);
                    }
                    else
                    {
                        FillAllRequests(); // a slot for a new piece is free: ask now, not at the next tick or block
                    }
                }
                _storage.FinishCompletedFiles(_have, _storage.FilesOf(partial.Index));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _fatal ??= new DownloadException(DownloadError.DestinationWriteFailed,
                    $"Writing piece {partial.Index} to '{_destination}' failed: {ex.Message}", ex);
                try { _runCts.Cancel(); } catch (ObjectDisposedException) { }
            }
            finally
            {
                _writeLock.Release();
                lock (_sync)
                {
                    _pendingVerifications--;
                    if (_picker!.IsComplete && _pendingVerifications == 0) _done.TrySetResult(true);
                }
            }
        }

        // ---- smart ban --------------------------------------------------------------------------------------------

        /// <summary>A block of a piece that failed its hash check: who sent it and the SHA-1 of what they sent.</summary>
        private readonly struct FailedBlock
        {
            public FailedBlock(PeerSession? peer, byte[]? hash) { Peer = peer; Hash = hash; }
            public PeerSession? Peer { get; }
            public byte[]? Hash { get; }
        }

        /// <summary>Pieces whose failed blocks are remembered, at most <see cref="MaxRememberedFailures"/> (the oldest
        /// is forgotten first): a block costs 20 bytes and a reference, so this stays small. Guarded by _sync.</summary>
        private readonly Dictionary<int, FailedBlock[]> _failedBlocks = new Dictionary<int, FailedBlock[]>();
        private readonly Queue<int> _failedOrder = new Queue<int>();
        private const int MaxRememberedFailures = 64;

        private void RememberFailedBlocks(PartialPiece partial)
        {
            if (_failedBlocks.ContainsKey(partial.Index)) return; // the first failure's blocks are the evidence
            var sha = _sha1 ??= SHA1.Create();
            var data = partial.Data;
            var blocks = new FailedBlock[partial.BlockCount];
            for (int b = 0; b < blocks.Length; b++)
            {
                if (partial.Source(b) is not PeerSession peer) continue;
                blocks[b] = new FailedBlock(peer, sha.ComputeHash(data.Array!, data.Offset + b * BlockRequest.BlockSize, partial.BlockLength(b)));
            }
            while (_failedBlocks.Count >= MaxRememberedFailures && _failedOrder.Count > 0) _failedBlocks.Remove(_failedOrder.Dequeue());
            _failedBlocks[partial.Index] = blocks;
            _failedOrder.Enqueue(partial.Index);
        }

        private static List<(PeerSession Peer, int Block)> FindLiars(PartialPiece good, FailedBlock[] failed)
        {
            var liars = new List<(PeerSession, int)>();
            var seen = new HashSet<PeerSession>();
            using var sha = SHA1.Create();
            var data = good.Data;
            for (int b = 0; b < failed.Length && b < good.BlockCount; b++)
            {
                if (failed[b].Peer is not PeerSession peer || failed[b].Hash is not byte[] hash || seen.Contains(peer)) continue;
                var goodHash = sha.ComputeHash(data.Array!, data.Offset + b * BlockRequest.BlockSize, good.BlockLength(b));
                if (!goodHash.AsSpan().SequenceEqual(hash)) { liars.Add((peer, b)); seen.Add(peer); }
            }
            return liars;
        }

        /// <summary>Bans a peer (under the lock): it is disconnected, never dialled again, and every block it sent to
        /// a piece still in flight is dropped.</summary>
        private void Ban(PeerSession s, string why)
        {
            if (s.Banned) return;
            s.Banned = true;
            s.HashFailures = Math.Max(s.HashFailures + 1, _options.BanAfterHashFailures);
            Publish(EngineEventKind.PeerBanned, EventSeverity.Warning, $"Banning {s}: {why}.", s, PeerCloseReason.Banned);
            if (_candidates.TryGetValue(new PeerAddress(s.EndPoint).ToString(), out var candidate)) candidate.Banned = true;
            int dropped = _picker!.ReleasePeer(s, discardItsBlocks: true);
            if (dropped > 0) Publish(EngineEventKind.BlocksDiscarded, EventSeverity.Verbose, $"Dropped {dropped} block(s) from {s} in pieces still downloading.", s, count: dropped);
            s.Connection.Abort();
        }

        private async Task SaveResumeAsync(CancellationToken token)
        {
            await _writeLock.WaitAsync(token).ConfigureAwait(false);
            try
            {
                _storage!.Flush();
                Bitfield snapshot;
                lock (_sync)
                {
                    snapshot = Bitfield.FromWire(_have.Bytes, _have.Length);
                    _resumeDirty = false;
                }
                ResumeRecord.Save(_destination, _torrent, snapshot, _storage.Stamps());
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                Publish(EngineEventKind.ResumeSaveFailed, EventSeverity.Warning, "Could not save the resume record: " + ex.Message, exception: ex);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        // ---- shutdown ------------------------------------------------------------------------------------------

        private async Task ShutdownAsync()
        {
            PeerSession[] sessions;
            lock (_sync) sessions = _sessions.ToArray();
            _running = false;
            try { _runCts?.Cancel(); } catch (ObjectDisposedException) { }
            foreach (var s in sessions) s.Connection.Abort();

            // Pieces being hashed or written finish first: their buffers are in use, and a verified piece must not
            // be lost. Bounded: a stuck disk cannot hang the shutdown forever.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                lock (_sync) if (_pendingVerifications == 0) break;
                await Task.Delay(20).ConfigureAwait(false);
            }
            Task[] background;
            lock (_sync) background = _backgroundTasks.ToArray();
            await Task.WhenAny(Task.WhenAll(background), Task.Delay(5000)).ConfigureAwait(false);

            if (_announcer is not null)
            {
                if (_announcer.Started) await AnnounceBoundedAsync(TrackerEvent.Stopped, TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                _announcer.Dispose();
            }

            if (_storage is not null)
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
                try
                {
                    _storage.Flush();
                    lock (_sync) if (_picker is not null && _pendingVerifications == 0) _picker.ReleaseAll();
                    ResumeRecord.Save(_destination, _torrent, Bitfield.FromWire(_have.Bytes, _have.Length), _storage.Stamps());
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    Publish(EngineEventKind.ResumeSaveFailed, EventSeverity.Warning, "Could not save the resume record: " + ex.Message, exception: ex);
                }
                finally
                {
                    _storage.Dispose();
                    _writeLock.Release();
                }
            }
        }

        private IReadOnlyList<string> SelectedFilePaths()
        {
            var list = new List<string>();
            if (_storage is null) return list;
            foreach (var f in _torrent.Files)
            {
                if (f.IsPadding || !_storage.IsSelected(f.Index)) continue;
                list.Add(_storage.ExistingPath(f.Index) ?? _storage.FinalPath(f.Index));
            }
            return list;
        }

        private long SelectedSize()
        {
            long total = 0;
            var selected = _options.SelectedFiles;
            foreach (var f in _torrent.Files)
                if (!f.IsPadding && (selected is null || selected[f.Index])) total += f.Length;
            return total;
        }

        private sealed class PeerCandidate
        {
            public PeerCandidate(IPEndPoint endPoint, string key) { EndPoint = endPoint; Key = key; }
            public IPEndPoint EndPoint { get; }
            public string Key { get; }
            public bool Explicit { get; set; }
            /// <summary>Known only because it connected to us: never dialled back.</summary>
            public bool Incoming { get; set; }
            public bool Connecting { get; set; }
            public bool Connected { get; set; }
            public bool Banned { get; set; }
            /// <summary>It had every piece when we last met: a seed does not dial it again.</summary>
            public bool KnownSeed { get; set; }
            public int Failures { get; set; }
            public DateTime NextAttempt { get; set; }
            public DateTime LastFailure { get; set; }

            /// <param name="starving">No peer is connected at all: then a peer is retried at least every
            /// <see cref="StarvingRetry"/>, however often it failed (Transmission, for one, turns away a connection that
            /// comes too soon after another from the same address, and a long back-off would outlast -TimeoutSec).</param>
            public bool IsAvailable(DateTime now, bool starving = false) =>
                !Incoming && !Connecting && !Connected && !Banned && (NextAttempt <= now || (starving && now - LastFailure >= StarvingRetry));

            private static readonly TimeSpan StarvingRetry = TimeSpan.FromSeconds(3);

            /// <summary>Back off: 0.5, 1, 2, 4 … s up to 2 minutes. The first retry is quick because libtorrent-based
            /// peers (libtorrent 2.0.8, qBittorrent 4.5) close the very first incoming connection after they start
            /// seeding and accept the next one.</summary>
            public void Failed(DateTime now)
            {
                Failures++;
                LastFailure = now;
                NextAttempt = now + TimeSpan.FromSeconds(Math.Min(120, 0.5 * Math.Pow(2, Math.Min(Failures - 1, 8))));
            }
        }
    }

    /// <summary>A download that failed for a reason the user must act on (no peers, disk trouble). Carries the
    /// partial result so the cmdlet can still report what was done.</summary>
    public sealed class DownloadFailedException : Exception
    {
        public DownloadFailedException(DownloadException inner, DownloadResult result) : base(inner.Message, inner)
        {
            Error = inner.Error;
            Result = result;
        }

        public DownloadError Error { get; }
        public DownloadResult Result { get; }
    }
}
