using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.Session
{
    /// <summary>Fetches a magnet link's info dictionary from its swarm (BEP 9): peers from the link's <c>x.pe</c>,
    /// the caller's list and the trackers (the link's <c>tr</c> and the caller's, announced as a leecher that needs
    /// everything), dialled through the session's connector, BEP 3 and BEP 10 handshakes, then 16 KiB blocks asked of
    /// several peers at once (<see cref="MetadataDownload{TPeer}"/>: at most two per peer, re-asked of others when
    /// slow or rejected). Nothing is trusted until the whole hashes to the info-hash; when it does not, the peers that
    /// sent blocks are banned and it is fetched again from the others. A peer that gives an impossible metadata_size
    /// is dropped; data nobody asked for is ignored up to <see cref="MaxUnsolicited"/>, then its sender is dropped.
    /// <para>One lock (<c>_sync</c>) guards the download, the candidates and the peer set; sockets are read and
    /// written outside it.</para></summary>
    internal sealed partial class MetadataFetcher
    {
        /// <summary>Most peer addresses kept (from trackers and the lists); more are ignored.</summary>
        public const int MaxCandidates = 2000;

        /// <summary>Unasked metadata blocks a peer may send before it is dropped.</summary>
        public const int MaxUnsolicited = 16;

        /// <summary>Host names among a link's x.pe peers that are looked up (the rest are ignored).</summary>
        public const int MaxPeerNames = 8;

        /// <summary>Attempts per address before it is given up.</summary>
        public const int MaxAttempts = 3;

        private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
        private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);
        /// <summary>A connected peer that has not offered metadata by then is dropped for someone else.</summary>
        private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);
        /// <summary>A peer that answers none of our requests for this long is dropped (its blocks went to others
        /// after <see cref="MetadataDownload{TPeer}.ReaskAfter"/> already; this frees its connection slot).</summary>
        private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);

        private readonly object _sync = new object();
        private readonly MagnetUri _magnet;
        private readonly MetadataFetchOptions _options;
        private readonly TorrentServices _services;
        private readonly TimeProvider _clock;
        private readonly byte[] _infoHash;
        private readonly string _infoHashText;
        private readonly string _name;
        private readonly MetadataDownload<MetadataFetchPeer> _download;
        private readonly Dictionary<string, Candidate> _candidates = new Dictionary<string, Candidate>(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<MetadataFetchPeer> _peers = new HashSet<MetadataFetchPeer>();
        private readonly List<Task> _background = new List<Task>();
        private readonly TaskCompletionSource<byte[]> _done = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        private SwarmAnnouncer? _announcer;
        private Task? _announce;
        private CancellationToken _token;
        private long _lastProgress;
        private int _connecting;
        private int _connectFailures;
        private bool _started;

        public MetadataFetcher(MagnetUri magnet, MetadataFetchOptions options, TorrentServices services)
        {
            _magnet = magnet ?? throw new ArgumentNullException(nameof(magnet));
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _services = services ?? throw new ArgumentNullException(nameof(services));
            _infoHash = magnet.InfoHashBytes ?? throw new ArgumentException("Only a v1 (btih) info-hash can be fetched from peers.", nameof(magnet));
            if (options.Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.Timeout, "The timeout must be positive.");
            if (options.MaxConnections < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxConnections, "At least one connection.");
            _clock = services.Clock;
            _infoHashText = Hex.ToLower(_infoHash);
            _name = string.IsNullOrEmpty(magnet.Name) ? _infoHashText : magnet.Name!;
            _download = new MetadataDownload<MetadataFetchPeer>(_infoHash, _clock);
        }

        /// <summary>What the fetch knows of the torrent: its info-hash and a name (the magnet's dn, else the hash);
        /// handed to trackers and discovery sources, which need no more.</summary>
        public TorrentInfo Placeholder => new TorrentInfo { InfoHashBytes = _infoHash, InfoHash = _infoHashText, Name = _name };

        /// <summary>Peers from elsewhere (the session's discovery sources); from any thread.</summary>
        public void AddPeers(IReadOnlyList<IPEndPoint> peers)
        {
            int added;
            lock (_sync) added = AddCandidates(peers, "local discovery");
            // Before the run starts, the first tick dials them.
            if (added > 0 && Volatile.Read(ref _started)) Tick();
        }

        /// <summary>Peers connected now (for tests and progress).</summary>
        public int ConnectedPeers { get { lock (_sync) return _peers.Count; } }

        /// <summary>Runs until the metadata is verified (returned, exactly as received), nothing arrived for the
        /// timeout (<see cref="DownloadException"/>: NoPeersAvailable, or ProxyConnectFailed/ProxyAuthenticationFailed
        /// when every peer failed at the proxy) or <paramref name="cancellationToken"/> fires.</summary>
        public async Task<byte[]> RunAsync(CancellationToken cancellationToken)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _token = stop.Token;
            _lastProgress = _clock.GetTimestamp();
            Volatile.Write(ref _started, true);
            var listed = await ListedPeersAsync(stop.Token).ConfigureAwait(false);
            lock (_sync) AddCandidates(listed, "the magnet link and the peer list");
            if (!_options.NoTracker)
            {
                var tiers = _magnet.Trackers.Concat(_options.Trackers).Distinct(StringComparer.Ordinal).Select(t => (IReadOnlyList<string>)new[] { t }).ToList();
                if (tiers.Count > 0)
                {
                    _announcer = new SwarmAnnouncer(Placeholder, tiers, _services.PeerId, _services.ListenPort, _clock, _services.TrackerOptions);
                }
            }
            using var timer = _clock.CreateTimer(_ => Tick(), null, TickInterval, TickInterval);
            using (stop.Token.Register(() => _done.TrySetCanceled()))
            {
                Tick();
                try
                {
                    var metadata = await _done.Task.ConfigureAwait(false);
                    Publish(EngineEventKind.MetadataReceived, EventSeverity.Information,
                        $"Received the torrent's metadata ({metadata.Length} bytes) from peers; it matches the info-hash.", count: metadata.Length);
                    return metadata;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                finally
                {
                    stop.Cancel();
                    await StopAsync().ConfigureAwait(false);
                }
            }
        }

        /// <summary>The link's x.pe peers (host names resolved, bounded by the run's token) and the caller's.</summary>
        private async Task<List<IPEndPoint>> ListedPeersAsync(CancellationToken token)
        {
            var endPoints = new List<IPEndPoint>(_options.Peers);
            int names = 0;
            foreach (var address in _magnet.Peers)
            {
                if (address.Address is IPAddress ip) { endPoints.Add(new IPEndPoint(ip, address.Port)); continue; }
                // Names are looked up one at a time, each bounded: a link listing thousands must not stall the fetch.
                if (++names > MaxPeerNames) continue;
                try
                {
                    using var resolve = CancellationTokenSource.CreateLinkedTokenSource(token);
                    resolve.CancelAfter(ConnectTimeout);
                    endPoints.AddRange(await address.ResolveAsync(resolve.Token).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException || ex is OperationCanceledException)
                {
                    if (token.IsCancellationRequested) throw;
                    Publish(EngineEventKind.PeerConnectFailed, EventSeverity.Verbose, $"Cannot resolve the magnet link's peer {address}: {ex.Message}", peer: address.ToString(), exception: ex);
                }
            }
            return endPoints;
        }

        /// <summary>Once a second (and at the start): give up after the timeout without progress, announce when due,
        /// dial while there is room, drop peers that never offered metadata, and re-ask slow blocks.</summary>
        private void Tick()
        {
            if (!Volatile.Read(ref _started) || _done.Task.IsCompleted || _token.IsCancellationRequested) return;
            var ready = new List<MetadataFetchPeer>();
            lock (_sync)
            {
                long now = _clock.GetTimestamp();
                if (_clock.GetElapsedTime(_lastProgress, now) >= _options.Timeout)
                {
                    _done.TrySetException(NoMetadata());
                    return;
                }
                if (_announcer is not null && (_announce is null || _announce.IsCompleted) && _announcer.IsDue(_clock.GetUtcNow(), _peers.Count < _options.MaxConnections))
                {
                    var announcer = _announcer;
                    _announce = Task.Run(() => AnnounceAsync(announcer));   // not a byte of HTTP or UDP under the lock
                }
                ConnectMore(now);
                foreach (var peer in _peers)
                {
                    if (!peer.Ready)
                    {
                        if (_clock.GetElapsedTime(peer.ConnectedAt, now) >= ReadyTimeout) peer.Close(PeerCloseReason.NoMetadata);
                    }
                    else if (peer.WaitingSince is long since && _clock.GetElapsedTime(since, now) >= AnswerTimeout) peer.Close(PeerCloseReason.Silent);
                    else ready.Add(peer);
                }
            }
            foreach (var peer in ready) Pump(peer);
        }

        private DownloadException NoMetadata()
        {
            // Through a proxy that is down (or refuses us), every peer fails the same way: say so, not "no peers".
            if (_peers.Count == 0
                && ((_services.Connector as Connections.ProxyPeerConnector)?.LastProxyFailure ?? _announcer?.LastProxyFailure) is Connections.ProxyException proxyFailure)
                return new DownloadException(proxyFailure.Error == Connections.ProxyError.ProxyAuthenticationFailed
                    ? DownloadError.ProxyAuthenticationFailed : DownloadError.ProxyConnectFailed, proxyFailure.Message, proxyFailure);
            string tried;
            lock (_sync) tried = _candidates.Count == 0 ? "no peer was found" : $"{_candidates.Count} peer(s) were tried, {_connectFailures} connection attempt(s) failed";
            return new DownloadException(DownloadError.NoPeersAvailable,
                $"No metadata was found for {_infoHashText} within {_options.Timeout.TotalSeconds:0.#} s: {tried}, and no peer sent the torrent's info dictionary.");
        }

        private async Task AnnounceAsync(SwarmAnnouncer announcer)
        {
            try
            {
                // left is unknown without the metadata; 16 KiB (libtorrent's choice) keeps us a leecher, to whom
                // trackers hand out seeds too (left=0 would be a seed, and some trackers then list no seeds).
                var (peers, problems) = await announcer.AnnounceAsync(TrackerEvent.None, 0, 0, UtMetadataMessage.BlockSize, _token).ConfigureAwait(false);
                foreach (var problem in problems) Publish(EngineEventKind.TrackerFailed, EventSeverity.Verbose, problem);
                int added;
                lock (_sync) added = AddCandidates(peers, "the trackers");
                if (added > 0) Tick();
            }
            catch (OperationCanceledException) { }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                Publish(EngineEventKind.TrackerFailed, EventSeverity.Verbose, "Announcing failed: " + ex.Message, exception: ex);
            }
        }

        /// <summary>Adds addresses to dial (lock held); returns how many were new.</summary>
        private int AddCandidates(IEnumerable<IPEndPoint> endPoints, string source)
        {
            int added = 0;
            foreach (var endPoint in endPoints)
            {
                if (_candidates.Count >= MaxCandidates) break;
                if (endPoint.Port <= 0 || endPoint.Port > 65535) continue;
                var normal = endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
                var key = new PeerAddress(normal).ToString();
                if (_candidates.ContainsKey(key)) continue;
                _candidates.Add(key, new Candidate(normal, key));
                added++;
            }
            if (added > 0)
                Publish(EngineEventKind.PeersDiscovered, EventSeverity.Verbose, $"{added} peer(s) to ask for the metadata, from {source}.", count: added);
            return added;
        }

        /// <summary>Dials candidates while there is room (lock held).</summary>
        private void ConnectMore(long now)
        {
            _background.RemoveAll(t => t.IsCompleted);
            foreach (var candidate in _candidates.Values)
            {
                if (_peers.Count + _connecting >= _options.MaxConnections) break;
                if (candidate.Banned || candidate.Busy || candidate.Attempts >= MaxAttempts) continue;
                if (candidate.Attempts > 0 && _clock.GetElapsedTime(candidate.LastAttempt, now) < RetryAfter) continue;
                candidate.Busy = true;
                candidate.Attempts++;
                candidate.LastAttempt = now;
                _connecting++;
                _background.Add(Task.Run(() => RunPeerAsync(candidate)));
            }
        }

        /// <summary>After the end: every connection closed (bounded wait), the trackers told we left.</summary>
        private async Task StopAsync()
        {
            Task[] background;
            lock (_sync)
            {
                foreach (var peer in _peers) peer.Close(PeerCloseReason.Stopped);
                background = _background.ToArray();
            }
            await Task.WhenAny(Task.WhenAll(background), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            if (_announcer is SwarmAnnouncer announcer)
            {
                var last = _announce ?? Task.CompletedTask;
                // The stopped announce runs on after we return (a few seconds at most); the tracker client goes with it.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await Task.WhenAny(last, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
                        if (!announcer.Started) return;
                        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                        await announcer.AnnounceAsync(TrackerEvent.Stopped, 0, 0, UtMetadataMessage.BlockSize, bounded.Token).ConfigureAwait(false);
                    }
                    catch (Exception) { /* a tracker we could not tell forgets us after its interval */ }
                    finally { announcer.Dispose(); }
                });
            }
        }

        private void Publish(EngineEventKind kind, EventSeverity severity, string message, string? peer = null, PeerCloseReason reason = PeerCloseReason.None,
            PeerProtocolError? protocolError = null, long count = 0, Exception? exception = null) =>
            _services.Events.Publish(new EngineEvent(kind, severity, message)
            {
                Time = _clock.GetUtcNow(),
                InfoHash = _infoHashText,
                TorrentName = _name,
                Peer = peer,
                Reason = reason,
                ProtocolError = protocolError,
                Count = count,
                Exception = exception,
            });

        /// <summary>An address to ask (lock).</summary>
        private sealed class Candidate
        {
            public Candidate(IPEndPoint endPoint, string key)
            {
                EndPoint = endPoint;
                Key = key;
            }

            public IPEndPoint EndPoint { get; }
            public string Key { get; }
            public int Attempts;
            public long LastAttempt;
            /// <summary>Being dialled or connected.</summary>
            public bool Busy;
            /// <summary>Sent metadata that failed the hash check, or broke the protocol: never dialled again.</summary>
            public bool Banned;
        }
    }
}
