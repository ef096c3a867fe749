using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Session;

namespace BitTorrent.Discovery
{
    /// <summary>BEP 14 local service discovery: announces the session's torrents on the LAN multicast groups and
    /// reports the peers other hosts announce for torrents we have.
    /// <para>Each public torrent (never a private one, BEP 27) is announced about a second after it is added, then
    /// every <see cref="LocalDiscoveryOptions.AnnounceInterval"/>, never more than once a minute (also across a
    /// remove and re-add); torrents due together share datagrams. What is read is bounded per sender and for
    /// everyone together (<see cref="LsdReceiveLimiter"/>), and our own datagrams are known by our cookie.</para>
    /// <para>The environment variable BITTORRENT_LSD=0 leaves it inert (no socket). A host without IPv6 (or IPv4)
    /// multicast uses the family it has; without either, nothing is announced or heard, and nothing fails. No
    /// exception leaves its timer or receive loops.</para></summary>
    public sealed class LocalServiceDiscovery : IPeerDiscovery
    {
        /// <summary>BEP 14: a torrent is announced no more than once a minute.</summary>
        public static readonly TimeSpan MinAnnounceInterval = TimeSpan.FromMinutes(1);

        /// <summary>How often the announcing timer looks for torrents due.</summary>
        private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

        /// <summary>Info-hashes announced per tick at most (about eight datagrams a family); the rest wait a tick.</summary>
        private const int MostInfoHashesPerTick = 200;

        /// <summary>Consecutive receive errors after which a socket is given up (it is broken, not busy).</summary>
        private const int MostConsecutiveErrors = 100;

        private readonly object _sync = new object();
        private readonly LocalDiscoveryOptions _options;
        private readonly TimeProvider _time;
        private readonly TimeSpan _interval;
        private readonly Dictionary<string, Entry> _torrents = new Dictionary<string, Entry>(StringComparer.Ordinal);
        /// <summary>When each info-hash was last announced (kept a minute after a removal, for the once-a-minute rule).</summary>
        private readonly Dictionary<string, DateTimeOffset> _lastAnnounced = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        private readonly List<LsdChannel> _channels = new List<LsdChannel>();
        private readonly LsdReceiveLimiter _limiter;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<Task> _receivers = new List<Task>();
        private ITimer? _timer;
        private int _listenPort;
        private int _ticking;
        private bool _started, _disposed;

        public LocalServiceDiscovery(LocalDiscoveryOptions? options = null)
        {
            _options = options ?? new LocalDiscoveryOptions();
            _time = _options.Time ?? TimeProvider.System;
            _interval = _options.AnnounceInterval < MinAnnounceInterval ? MinAnnounceInterval : _options.AnnounceInterval;
            Cookie = _options.Cookie ?? LsdMessage.NewCookie();
            _limiter = new LsdReceiveLimiter(_time.GetUtcNow());
        }

        /// <summary>Ours: datagrams carrying it are our own, looped back.</summary>
        public string Cookie { get; }

        public LocalDiscoveryStatistics Statistics { get; } = new LocalDiscoveryStatistics();

        /// <summary>True when at least one socket is open (false: disabled by the environment, or no multicast here).</summary>
        public bool IsActive
        {
            get { lock (_sync) return _channels.Count > 0; }
        }

        /// <summary>The local end points of the open sockets (tests send to them).</summary>
        public IReadOnlyList<IPEndPoint> LocalEndPoints
        {
            get { lock (_sync) return _channels.Select(c => c.LocalEndPoint).ToList(); }
        }

        public void Start(int listenPort)
        {
            lock (_sync)
            {
                if (_started || _disposed) return;
                _started = true;
                _listenPort = listenPort;
                if (_options.ListenEndPoint is not null)
                {
                    _channels.Add(LsdChannel.OpenUnicast(_options.ListenEndPoint, _options.Destinations));
                }
                else
                {
                    if (LocalDiscoveryOptions.DisabledByEnvironment) return;
                    try
                    {
                        if (_options.UseIpv4 && LsdChannel.OpenMulticast(ipv6: false, _options.InterfaceAddress) is LsdChannel v4) _channels.Add(v4);
                        if (_options.UseIpv6 && LsdChannel.OpenMulticast(ipv6: true, _options.InterfaceAddress) is LsdChannel v6) _channels.Add(v6);
                    }
                    catch (Exception)
                    {
                        // Whatever this host's network stack does, the session goes on without local discovery (or
                        // with the family that opened).
                    }
                }
                if (_channels.Count == 0) return;
                foreach (var channel in _channels) _receivers.Add(Task.Run(() => ReceiveLoopAsync(channel)));
                _timer = _time.CreateTimer(_ => OnTick(), null, Tick, Tick);
            }
        }

        public void Add(TorrentInfo torrent, Action<IReadOnlyList<IPEndPoint>> peersFound)
        {
            if (torrent is null || peersFound is null) return;
            // BEP 27: a private torrent's peers come from its trackers only; it is neither announced nor looked for.
            if (torrent.IsPrivate || torrent.InfoHashBytes.Length != 20) return;
            var now = _time.GetUtcNow();
            lock (_sync)
            {
                if (_disposed) return;
                var due = now + _options.FirstAnnounceDelay;
                if (_lastAnnounced.TryGetValue(torrent.InfoHash, out var last) && last + MinAnnounceInterval > due) due = last + MinAnnounceInterval;
                _torrents[torrent.InfoHash] = new Entry(torrent.InfoHashBytes, peersFound) { Due = due };
            }
        }

        public void Remove(string infoHash)
        {
            if (infoHash is null) return;
            lock (_sync) _torrents.Remove(infoHash.ToLowerInvariant());
        }

        /// <summary>True when the torrent with this info-hash is being announced and looked for.</summary>
        public bool Contains(string infoHash)
        {
            lock (_sync) return _torrents.ContainsKey(infoHash.ToLowerInvariant());
        }

        // ---- announcing -------------------------------------------------------------------------------------------

        /// <summary>The timer: announces the torrents due, batched. Never overlaps itself, never throws.</summary>
        private void OnTick()
        {
            if (Interlocked.Exchange(ref _ticking, 1) == 1) return;
            try { AnnounceDue(); }
            catch (Exception) { /* a bad tick must not take the host down; the next one tries again */ }
            finally { Volatile.Write(ref _ticking, 0); }
        }

        private void AnnounceDue()
        {
            var now = _time.GetUtcNow();
            List<byte[]> hashes;
            List<LsdChannel> channels;
            lock (_sync)
            {
                if (_disposed || _listenPort <= 0) return;
                ForgetOldAnnouncements(now);
                var due = _torrents.Where(t => t.Value.Due <= now).OrderBy(t => t.Value.Due).Take(MostInfoHashesPerTick).ToList();
                if (due.Count == 0) return;
                foreach (var pair in due)
                {
                    pair.Value.Due = now + _interval;
                    _lastAnnounced[pair.Key] = now;
                }
                hashes = due.Select(d => d.Value.InfoHash).ToList();
                channels = _channels.ToList();
            }
            foreach (var channel in channels)
            {
                IReadOnlyList<byte[]> datagrams = LsdMessage.Build(channel.IsIpv6, _listenPort, hashes, Cookie);
                foreach (var datagram in datagrams)
                {
                    int failed;
                    try { failed = channel.Send(datagram); }
                    catch (ObjectDisposedException) { return; }
                    for (int i = 0; i < failed; i++) Statistics.SendFailed();
                    Statistics.Sent(CountInfoHashes(datagram));
                }
            }
        }

        /// <summary>The Infohash lines of a datagram we built (the only header starting with 'I').</summary>
        private static int CountInfoHashes(byte[] datagram)
        {
            int count = 0;
            for (int i = 0; i + 9 <= datagram.Length; i++)
                if (datagram[i] == (byte)'\n' && datagram[i + 1] == (byte)'I') count++;
            return count;
        }

        /// <summary>Under the lock: announcements over a minute old no longer hold anything back.</summary>
        private void ForgetOldAnnouncements(DateTimeOffset now)
        {
            if (_lastAnnounced.Count <= _torrents.Count) return;
            foreach (var key in _lastAnnounced.Where(p => !_torrents.ContainsKey(p.Key) && p.Value + MinAnnounceInterval <= now).Select(p => p.Key).ToList())
                _lastAnnounced.Remove(key);
        }

        // ---- listening --------------------------------------------------------------------------------------------

        private async Task ReceiveLoopAsync(LsdChannel channel)
        {
            // One byte over the largest datagram read, so a longer one is seen as too long rather than cut short.
            var buffer = new byte[LsdMessage.MaxReceiveLength + 1];
            EndPoint any = new IPEndPoint(channel.IsIpv6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            int errors = 0;
            while (!_stop.IsCancellationRequested)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await channel.Socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
                    errors = 0;
                }
                catch (ObjectDisposedException) { return; }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
                {
                    // Longer than the buffer: not a BEP 14 sender, and bounded like any other datagram.
                    Statistics.Received();
                    Statistics.Reject(LsdRejectReason.TooLarge);
                    continue;
                }
                catch (Exception)
                {
                    if (_stop.IsCancellationRequested || ++errors >= MostConsecutiveErrors) return;
                    continue;
                }
                try
                {
                    if (received.RemoteEndPoint is IPEndPoint source)
                        Handle(new ReadOnlySpan<byte>(buffer, 0, received.ReceivedBytes), source);
                }
                catch (Exception) { /* one datagram's trouble (a torrent's callback, say) must not stop the others */ }
            }
        }

        /// <summary>One datagram from <paramref name="source"/>: bounded, parsed, and its peer handed to each of our
        /// torrents it names.</summary>
        internal void Handle(ReadOnlySpan<byte> datagram, IPEndPoint source)
        {
            Statistics.Received();
            var address = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
            if (!IsPeerAddress(address))
            {
                Statistics.BadSource();
                return;
            }
            var now = _time.GetUtcNow();
            lock (_sync)
            {
                if (!_limiter.TryTake(address, now))
                {
                    Statistics.Limited();
                    return;
                }
            }
            if (!LsdMessage.TryParse(datagram, Cookie, out var announcement, out var reason))
            {
                Statistics.Reject(reason);
                return;
            }
            var peer = new[] { new IPEndPoint(address, announcement.Port) };
            var found = new List<Action<IReadOnlyList<IPEndPoint>>>();
            lock (_sync)
            {
                if (_disposed) return;
                foreach (var hash in announcement.InfoHashes)
                {
                    if (_torrents.TryGetValue(hash, out var entry)) found.Add(entry.PeersFound);
                    else Statistics.Unknown();
                }
            }
            // Outside the lock: a torrent's callback may take its own locks.
            foreach (var report in found)
            {
                try
                {
                    report(peer);
                    Statistics.Reported();
                }
                catch (Exception) { /* the torrent's trouble, not ours */ }
            }
        }

        /// <summary>An address a peer could be at (not multicast, broadcast or unspecified).</summary>
        private static bool IsPeerAddress(IPAddress address)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                var b = address.GetAddressBytes();
                return b[0] != 0 && b[0] < 224;
            }
            return !address.IsIPv6Multicast && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6None);
        }

        public void Dispose()
        {
            List<LsdChannel> channels;
            lock (_sync)
            {
                if (_disposed) return;
                _disposed = true;
                _torrents.Clear();
                channels = _channels.ToList();
                _channels.Clear();
            }
            _stop.Cancel();
            _timer?.Dispose();
            foreach (var channel in channels)
            {
                try { channel.Dispose(); } catch (Exception) { /* closing is best effort */ }
            }
        }

        private sealed class Entry
        {
            public Entry(byte[] infoHash, Action<IReadOnlyList<IPEndPoint>> peersFound)
            {
                InfoHash = infoHash;
                PeersFound = peersFound;
            }

            public byte[] InfoHash { get; }
            public Action<IReadOnlyList<IPEndPoint>> PeersFound { get; }
            public DateTimeOffset Due { get; set; }
        }
    }
}
