using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>Asks a torrent's trackers who is in the swarm without staying in it. Trackers hand out peers only in
    /// reply to an announce, and an announce lists the announcer; so each tracker gets an announce with event
    /// <c>started</c> (as a leecher that has nothing: <c>left</c> = the torrent's size) and, once it answered, one
    /// with event <c>stopped</c>, which removes us again. Our own entry (our peer id, or our announced port on one
    /// of our addresses) is taken out of every reply, since another tracker of the same torrent, or the same
    /// tracker over HTTP and UDP, may list us between the two.</summary>
    public sealed class TrackerPeerQuery
    {
        private static readonly TimeSpan MaxStopTimeout = TimeSpan.FromSeconds(5);
        private readonly TrackerClient _client;
        private readonly TrackerAnnouncer _announcer;
        private readonly HashSet<IPAddress> _ownAddresses;

        /// <param name="request">The started announce: our peer id, key, port, numwant and <c>left</c>.</param>
        /// <param name="timeout">Per tracker request.</param>
        /// <param name="ownAddresses">Addresses that are us; null = loopback and every interface address.</param>
        public TrackerPeerQuery(TrackerClient client, TrackerTierList trackers, AnnounceRequest request, TimeSpan timeout, IEnumerable<IPAddress>? ownAddresses = null)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            _announcer = new TrackerAnnouncer(client, trackers ?? throw new ArgumentNullException(nameof(trackers)));
            Request = (request ?? throw new ArgumentNullException(nameof(request))) with { Event = TrackerEvent.Started };
            Timeout = timeout;
            _ownAddresses = new HashSet<IPAddress>((ownAddresses ?? LocalAddresses()).Select(PeerEndPoint.Normalize));
        }

        public TrackerTierList Trackers => _announcer.Trackers;
        public AnnounceRequest Request { get; }
        public TimeSpan Timeout { get; }

        /// <summary>Announces (started) to one tracker; calls <paramref name="answered"/> as soon as it replied (on a
        /// worker thread), then sends the stopped announce and returns the whole outcome.</summary>
        public async Task<TrackerPeerQueryResult> QueryAsync(TrackerEntry tracker, Action<TrackerPeerQueryResult>? answered = null, CancellationToken cancellationToken = default)
        {
            var announce = await _announcer.AnnounceOneAsync(tracker, Request, Timeout, cancellationToken).ConfigureAwait(false);
            var result = new TrackerPeerQueryResult(announce);
            if (announce.Response is not AnnounceResponse response) return result;

            var external = response.ExternalAddress is IPAddress ext ? PeerEndPoint.Normalize(ext) : null;
            var peers = new List<TrackerPeer>(response.Peers.Count);
            foreach (var peer in response.Peers)
            {
                if (IsSelf(peer, external)) result.SelfListed = true;
                else peers.Add(peer);
            }
            result.Peers = peers;
            answered?.Invoke(result);

            // Leave the swarm again (not after a cancel: the query ends at once and the tracker forgets us after
            // its interval).
            var stop = Request with { Event = TrackerEvent.Stopped, NumWant = 0 };
            try
            {
                var stopTimeout = Timeout < MaxStopTimeout ? Timeout : MaxStopTimeout;
                result.StoppedResponse = await _client.AnnounceAsync(tracker.Url, tracker.TrackerId is string id ? stop with { TrackerId = id } : stop,
                    stopTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TrackerException ex)
            {
                result.StopError = ex;
            }
            return result;
        }

        /// <summary>Scrapes one tracker for this torrent; the counts, or null and the error.</summary>
        public async Task<(ScrapeEntry? Counts, TrackerException? Error)> ScrapeAsync(TrackerEntry tracker, CancellationToken cancellationToken = default)
        {
            try
            {
                var all = await _client.ScrapeAsync(tracker.Url, new[] { Request.InfoHash }, Timeout, cancellationToken).ConfigureAwait(false);
                if (all.TryGetValue(Hex.ToLower(Request.InfoHash), out var counts)) return (counts, null);
                return (null, new TrackerException(TrackerError.InvalidResponse, tracker.Url, "The scrape reply has no entry for this torrent."));
            }
            catch (TrackerException ex)
            {
                return (null, ex);
            }
        }

        /// <summary>True when a listed peer is this query itself.</summary>
        public bool IsSelf(TrackerPeer peer, IPAddress? externalAddress = null)
        {
            if (peer.PeerId is byte[] id && id.AsSpan().SequenceEqual(Request.PeerId)) return true;
            if (peer.EndPoint.Port != Request.Port) return false;
            var address = PeerEndPoint.Normalize(peer.EndPoint.Address);
            return _ownAddresses.Contains(address) || address.Equals(externalAddress);
        }

        /// <summary>Loopback plus every unicast address of this machine's interfaces.</summary>
        public static IReadOnlyList<IPAddress> LocalAddresses()
        {
            var list = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
            try
            {
                foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var a in nic.GetIPProperties().UnicastAddresses)
                    if (a.Address.AddressFamily == AddressFamily.InterNetwork || a.Address.AddressFamily == AddressFamily.InterNetworkV6)
                        list.Add(a.Address.AddressFamily == AddressFamily.InterNetworkV6 && a.Address.ScopeId != 0 ? new IPAddress(a.Address.GetAddressBytes()) : a.Address);
            }
            catch (NetworkInformationException)
            {
                // Without the interface list only loopback is recognised; the peer id check still works.
            }
            return list;
        }
    }

    /// <summary>What one tracker said to a <see cref="TrackerPeerQuery"/>.</summary>
    public sealed class TrackerPeerQueryResult
    {
        internal TrackerPeerQueryResult(TrackerAnnounceResult announce) => Announce = announce;

        public TrackerAnnounceResult Announce { get; }
        public TrackerEntry Tracker => Announce.Tracker;

        /// <summary>The peers it listed, without ourselves.</summary>
        public IReadOnlyList<TrackerPeer> Peers { get; internal set; } = Array.Empty<TrackerPeer>();

        /// <summary>True if the reply listed this query itself (and it was removed from <see cref="Peers"/>).</summary>
        public bool SelfListed { get; internal set; }

        /// <summary>The reply to our stopped announce: its counts no longer include us.</summary>
        public AnnounceResponse? StoppedResponse { get; internal set; }

        /// <summary>Why the stopped announce failed, if it did (we then stay listed until the tracker times us out).</summary>
        public TrackerException? StopError { get; internal set; }
    }
}
