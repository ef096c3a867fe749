using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>UDP tracker client (BEP 15): connect, then announce or scrape with the connection id, which is reused
    /// for its one-minute lifetime. Transaction ids are random and checked; replies from another address or port
    /// are ignored; retransmissions follow the spec's schedule within the caller's timeout. Thread-safe; one
    /// instance serves many torrents.</summary>
    public sealed class UdpTrackerClient : IDisposable
    {
        private readonly TrackerClientOptions _options;
        private readonly TimeProvider _time;
        private readonly ConcurrentDictionary<IPEndPoint, ConnectionId> _connections = new ConcurrentDictionary<IPEndPoint, ConnectionId>();
        private readonly object _socketLock = new object();
        private UdpTrackerSocket? _socket4, _socket6;
        private bool _disposed;

        public UdpTrackerClient(TrackerClientOptions? options = null)
        {
            _options = options ?? TrackerClientOptions.Default;
            _time = _options.TimeProvider ?? TimeProvider.System;
        }

        /// <summary>Datagrams dropped so far (unknown transaction id, wrong sender, too short).</summary>
        public int IgnoredDatagrams => (_socket4?.IgnoredDatagrams ?? 0) + (_socket6?.IgnoredDatagrams ?? 0);

        /// <summary>Connect requests sent so far (each one a fresh connection id, or a retransmission).</summary>
        public int ConnectRequests => Volatile.Read(ref _connectRequests);
        private int _connectRequests;

        public Task<AnnounceResponse> AnnounceAsync(Uri tracker, AnnounceRequest request, TimeSpan timeout, CancellationToken cancellationToken) =>
            RunAsync(tracker, timeout, cancellationToken, async (socket, target, schedule, url, ct) =>
            {
                bool ipv6 = target.AddressFamily == AddressFamily.InterNetworkV6;
                var reply = await WithConnectionAsync(socket, target, schedule, url, ct,
                    connectionId => txid => UdpTrackerMessages.BuildAnnounce(connectionId, txid, request)).ConfigureAwait(false);
                return UdpTrackerMessages.ParseAnnounce(reply, ipv6, _options.MaxPeersPerResponse, url);
            });

        public Task<IReadOnlyDictionary<string, ScrapeEntry>> ScrapeAsync(Uri tracker, IReadOnlyList<byte[]> infoHashes, TimeSpan timeout, CancellationToken cancellationToken) =>
            RunAsync(tracker, timeout, cancellationToken, async (socket, target, schedule, url, ct) =>
            {
                var result = new Dictionary<string, ScrapeEntry>(StringComparer.Ordinal);
                for (int start = 0; start < infoHashes.Count; start += UdpTrackerMessages.MaxScrapeHashes)
                {
                    var chunk = infoHashes.Skip(start).Take(UdpTrackerMessages.MaxScrapeHashes).ToArray();
                    var reply = await WithConnectionAsync(socket, target, schedule, url, ct,
                        connectionId => txid => UdpTrackerMessages.BuildScrape(connectionId, txid, chunk)).ConfigureAwait(false);
                    foreach (var pair in UdpTrackerMessages.ParseScrape(reply, chunk, url)) result[pair.Key] = pair.Value;
                }
                return (IReadOnlyDictionary<string, ScrapeEntry>)result;
            });

        private delegate Task<T> Operation<T>(UdpTrackerSocket socket, IPEndPoint target, UdpRetrySchedule schedule, string url, CancellationToken ct);

        /// <summary>Resolves the tracker, runs the operation under the timeout and turns every failure into a
        /// <see cref="TrackerException"/> (or <see cref="OperationCanceledException"/> if the caller cancelled).</summary>
        private async Task<T> RunAsync<T>(Uri tracker, TimeSpan timeout, CancellationToken cancellationToken, Operation<T> operation)
        {
            string url = tracker.OriginalString;
            // The timeout runs on the options' clock (a fake one in tests), linked with the caller's token.
            using var timer = _time.CreateCancellationTokenSource(timeout);
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            var schedule = new UdpRetrySchedule(_options.UdpRetryBase);
            // A UDP tracker cannot be reached through the proxy (no SOCKS5 UDP ASSOCIATE here); asking it directly
            // would go around the proxy, so it is not asked at all.
            if (_options.Proxy is not null)
                throw new TrackerException(TrackerError.NetworkSettingUnsupported, url, $"UDP trackers cannot be reached through the proxy {_options.Proxy.Text}; skipped.");
            try
            {
                var target = await ResolveAsync(tracker, url, timeoutCts.Token).ConfigureAwait(false);
                if (_options.BindAddress is { } bind && bind.AddressFamily != target.AddressFamily)
                    throw new TrackerException(TrackerError.NetworkSettingUnsupported, url, $"The tracker's address {target.Address} cannot be reached from the bind address {bind} (another address family).");
                var socket = GetSocket(target.AddressFamily);
                return await operation(socket, target, schedule, url, timeoutCts.Token).ConfigureAwait(false);
            }
            catch (TrackerException)
            {
                throw;
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The tracker request was cancelled.", ex, cancellationToken);
            }
            catch (Exception ex) when (timeoutCts.IsCancellationRequested)
            {
                string retries = schedule.Timeouts > 0 ? $" ({schedule.Timeouts} retransmission(s))" : string.Empty;
                throw new TrackerException(TrackerError.Timeout, url, $"The tracker did not answer within {timeout.TotalSeconds:0.###} s{retries}.", ex);
            }
            catch (SocketException ex)
            {
                throw new TrackerException(TrackerError.ConnectionFailed, url, $"Could not talk to the tracker: {ex.Message}", ex);
            }
            catch (ObjectDisposedException ex)
            {
                throw new OperationCanceledException("The tracker client was closed.", ex);
            }
        }

        /// <summary>Sends a request that needs a connection id: a cached one if still valid, else a fresh connect.
        /// If the tracker rejects a request made with a cached id (it may have expired on its side), the id is
        /// dropped and the request is made once more with a fresh one.</summary>
        private async Task<byte[]> WithConnectionAsync(UdpTrackerSocket socket, IPEndPoint target, UdpRetrySchedule schedule, string url,
            CancellationToken ct, Func<long, Func<uint, byte[]>> build)
        {
            for (int round = 0; ; round++)
            {
                bool cached = TryGetConnectionId(target, out long connectionId);
                if (!cached)
                {
                    Interlocked.Increment(ref _connectRequests);
                    var connectReply = await socket.ExchangeAsync(target, UdpTrackerMessages.BuildConnect, schedule, ct).ConfigureAwait(false);
                    connectionId = UdpTrackerMessages.ParseConnect(connectReply, url);
                    _connections[target] = new ConnectionId(connectionId, _time.GetTimestamp());
                }
                var reply = await socket.ExchangeAsync(target, build(connectionId), schedule, ct).ConfigureAwait(false);
                if (UdpTrackerMessages.TryReadHeader(reply, out int action, out _) && action == UdpTrackerMessages.ActionError)
                {
                    _connections.TryRemove(target, out _);
                    if (cached && round == 0) continue;
                }
                return reply;
            }
        }

        private bool TryGetConnectionId(IPEndPoint target, out long connectionId)
        {
            connectionId = 0;
            if (!_connections.TryGetValue(target, out var entry)) return false;
            if (_time.GetElapsedTime(entry.ReceivedAt) >= _options.UdpConnectionIdLifetime)
            {
                _connections.TryRemove(target, out _);
                return false;
            }
            connectionId = entry.Id;
            return true;
        }

        private static async Task<IPEndPoint> ResolveAsync(Uri tracker, string url, CancellationToken ct)
        {
            string host = tracker.DnsSafeHost;
            if (IPAddress.TryParse(host, out var literal)) return new IPEndPoint(PeerEndPoint.Normalize(literal), tracker.Port);
            var lookup = Dns.GetHostAddressesAsync(host);
            var cancelled = Task.Delay(System.Threading.Timeout.Infinite, ct);
            if (await Task.WhenAny(lookup, cancelled).ConfigureAwait(false) == cancelled)
            {
                _ = lookup.ContinueWith(t => t.Exception, TaskScheduler.Default); // observe a late failure
                ct.ThrowIfCancellationRequested();
            }
            IPAddress[] addresses;
            try { addresses = await lookup.ConfigureAwait(false); }
            catch (SocketException ex) { throw new TrackerException(TrackerError.NameResolutionFailed, url, $"The tracker's host name did not resolve: {ex.Message}", ex); }
            // IPv4 first: most UDP trackers listen on IPv4 only, even where the name also has an AAAA record.
            var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6)
                ?? throw new TrackerException(TrackerError.NameResolutionFailed, url, $"The tracker's host name '{host}' has no address.");
            return new IPEndPoint(chosen, tracker.Port);
        }

        private UdpTrackerSocket GetSocket(AddressFamily family)
        {
            lock (_socketLock)
            {
                if (_disposed) throw new ObjectDisposedException(nameof(UdpTrackerClient));
                if (family == AddressFamily.InterNetworkV6) return _socket6 ??= new UdpTrackerSocket(family, _time, _options.BindAddress);
                return _socket4 ??= new UdpTrackerSocket(AddressFamily.InterNetwork, _time, _options.BindAddress);
            }
        }

        public void Dispose()
        {
            lock (_socketLock)
            {
                if (_disposed) return;
                _disposed = true;
                _socket4?.Dispose();
                _socket6?.Dispose();
            }
        }

        private sealed class ConnectionId
        {
            public ConnectionId(long id, long receivedAt) { Id = id; ReceivedAt = receivedAt; }
            public long Id { get; }
            /// <summary>When the id was received, as a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
            public long ReceivedAt { get; }
        }
    }
}
