using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;

namespace BitTorrent.Download
{
    /// <summary>A download's side of the trackers: <c>started</c> once, regular announces when the trackers' interval
    /// says so (earlier when peers run low, never before the min interval or 30 s), <c>completed</c> once when the
    /// download finishes, <c>stopped</c> at the end. Tiers follow BEP 12 (first tracker that answers wins).</summary>
    internal sealed class SwarmAnnouncer : IDisposable
    {
        private static readonly TimeSpan PerTrackerTimeout = TimeSpan.FromSeconds(10);
        private static readonly TimeSpan EarliestReannounce = TimeSpan.FromSeconds(30);
        private readonly TrackerClient _client;
        private readonly TrackerAnnouncer _announcer;
        private readonly TorrentInfo _torrent;
        private readonly byte[] _peerId;
        private readonly int _port;
        private readonly uint _key;
        private readonly TimeProvider _clock;
        private DateTimeOffset _lastAnnounce = DateTimeOffset.MinValue;

        public SwarmAnnouncer(TorrentInfo torrent, IReadOnlyList<IReadOnlyList<string>> tiers, byte[] peerId, int port, TimeProvider? clock = null, TrackerClientOptions? trackerOptions = null)
        {
            _client = new TrackerClient(trackerOptions);
            _clock = clock ?? TimeProvider.System;
            _torrent = torrent;
            _peerId = peerId;
            // Until this download accepts connections itself, announce a random dynamic port (as Get-TorrentPeer
            // does) rather than 0, which some trackers reject, or 6881, which may be a real client's entry.
            _port = port > 0 ? port : new Random().Next(49152, 65536);
            _key = (uint)new Random().Next();
            _announcer = new TrackerAnnouncer(_client, new TrackerTierList(tiers));
        }

        public bool HasTrackers => _announcer.Trackers.All.Count > 0;

        /// <summary>True once a <c>started</c> announce succeeded (so a <c>stopped</c> is owed).</summary>
        public bool Started { get; private set; }

        public bool CompletedSent { get; private set; }

        /// <summary>The proxy's failure in the last announce where no tracker answered and at least one failed at the
        /// proxy (null: a tracker answered, or none failed for the proxy).</summary>
        public Connections.ProxyException? LastProxyFailure { get; private set; }

        /// <summary>Whether a regular announce is due now; <paramref name="needPeers"/> asks for one early.</summary>
        public bool IsDue(DateTimeOffset now, bool needPeers)
        {
            if (!Started) return now - _lastAnnounce > EarliestReannounce || _lastAnnounce == DateTimeOffset.MinValue;
            if (now - _lastAnnounce < EarliestReannounce) return false;
            var due = _announcer.Trackers.All.Select(t => t.NextAnnounceAfter).Where(d => d.HasValue).Select(d => d!.Value).DefaultIfEmpty(now).Min();
            if (now >= due) return true;
            if (!needPeers) return false;
            var minInterval = _announcer.Trackers.All.Select(t => t.LastResponse?.MinInterval).Where(m => m.HasValue).Select(m => m!.Value).DefaultIfEmpty(TimeSpan.Zero).Max();
            return now - _lastAnnounce >= minInterval;
        }

        /// <summary>Announces (BEP 12) and returns the peers, plus a line per failed tracker for the user.
        /// <paramref name="uploaded"/> is what private trackers compute the ratio from, so it is the torrent's
        /// total bytes sent to peers, never 0 by omission.</summary>
        public async Task<(IReadOnlyList<IPEndPoint> Peers, IReadOnlyList<string> Problems)> AnnounceAsync(
            TrackerEvent kind, long downloaded, long uploaded, long left, CancellationToken cancellationToken)
        {
            if (!Started && kind == TrackerEvent.None) kind = TrackerEvent.Started;
            _lastAnnounce = _clock.GetUtcNow();
            var request = new AnnounceRequest(_torrent.InfoHashBytes, _peerId)
            {
                Port = _port,
                Downloaded = downloaded,
                Uploaded = uploaded,
                Left = left,
                Event = kind,
                Key = _key,
                NumWant = kind == TrackerEvent.Stopped ? 0 : AnnounceRequest.DefaultNumWant,
            };
            var attempts = await _announcer.AnnounceAsync(request, PerTrackerTimeout, cancellationToken).ConfigureAwait(false);
            var peers = new List<IPEndPoint>();
            var problems = new List<string>();
            Connections.ProxyException? proxyFailure = null;
            foreach (var a in attempts)
            {
                if (a.Succeeded)
                {
                    if (kind == TrackerEvent.Started) Started = true;
                    if (kind == TrackerEvent.Completed) CompletedSent = true;
                    foreach (var p in a.Response!.Peers)
                        if (!IsSelf(p, a.Response.ExternalAddress)) peers.Add(p.EndPoint);
                    if (a.Response.WarningMessage is string w) problems.Add($"Tracker {a.Tracker.Url} warns: {w}");
                }
                else
                {
                    problems.Add($"Tracker {a.Tracker.Url} failed: {a.Error?.Message}");
                    if (a.Error?.InnerException is Connections.ProxyException pe) proxyFailure = pe;
                }
            }
            LastProxyFailure = attempts.Any(a => a.Succeeded) ? null : proxyFailure;
            return (peers, problems);
        }

        /// <summary>Our own entry comes back in the peer list; compact lists carry no peer id, so an entry with our
        /// announced port on a loopback address or the address the tracker sees for us is taken to be us.</summary>
        private bool IsSelf(TrackerPeer peer, IPAddress? external)
        {
            if (peer.PeerId is not null) return peer.PeerId.AsSpan().SequenceEqual(_peerId);
            if (peer.EndPoint.Port != _port) return false;
            return IPAddress.IsLoopback(peer.EndPoint.Address) || (external is not null && external.Equals(peer.EndPoint.Address));
        }

        public void Dispose() => _client.Dispose();
    }
}
