using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Wire
{
    /// <summary>What we have told one peer by PEX, and the next message for it: the peers connected now that it was
    /// not told about (added) and the ones it was told about that are gone (dropped), at most
    /// <see cref="PexMessage.MaxPeersPerMessage"/> of each (the rest wait for the next message), at most one message
    /// per <see cref="Interval"/> (BEP 11), none when nothing changed. An address is never both added and dropped in
    /// one message. Not thread-safe: the connection's owner calls it.</summary>
    public sealed class PexState
    {
        /// <summary>BEP 11: no more than one message a minute.</summary>
        public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

        private readonly TimeProvider _clock;
        private readonly List<IPEndPoint> _advertised = new List<IPEndPoint>();
        private readonly HashSet<IPEndPoint> _advertisedSet = new HashSet<IPEndPoint>();
        private long? _lastSent;

        public PexState(TimeProvider clock) => _clock = clock ?? throw new ArgumentNullException(nameof(clock));

        /// <summary>The peers this one has been told about and not told are gone.</summary>
        public IReadOnlyCollection<IPEndPoint> Advertised => _advertised;

        /// <summary>When a message may be built again (now, if never sent).</summary>
        public bool IsDue => _lastSent is not long last || _clock.GetElapsedTime(last) >= Interval;

        /// <summary>The next message given the peers connected now (their listen endpoints, with flags), leaving out
        /// <paramref name="recipient"/> itself and unusable addresses. False when it is too soon or nothing changed;
        /// otherwise the message is taken as sent.</summary>
        public bool TryCreateMessage(IEnumerable<PexPeer> connected, IPEndPoint? recipient, out PexMessage message)
        {
            message = null!;
            if (!IsDue) return false;
            var now = new Dictionary<IPEndPoint, PexFlags>();
            var order = new List<IPEndPoint>();
            foreach (var peer in connected)
            {
                var endPoint = peer.EndPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(peer.EndPoint.Address.MapToIPv4(), peer.EndPoint.Port) : peer.EndPoint;
                if (endPoint.Equals(recipient) || !PexMessage.IsUsable(endPoint) || now.ContainsKey(endPoint)) continue;
                now[endPoint] = peer.Flags;
                order.Add(endPoint);
            }
            var added = new List<PexPeer>();
            foreach (var endPoint in order)
            {
                if (added.Count >= PexMessage.MaxPeersPerMessage) break;
                if (!_advertisedSet.Contains(endPoint)) added.Add(new PexPeer(endPoint, now[endPoint]));
            }
            var dropped = new List<IPEndPoint>();
            foreach (var endPoint in _advertised)
            {
                if (dropped.Count >= PexMessage.MaxPeersPerMessage) break;
                if (!now.ContainsKey(endPoint)) dropped.Add(endPoint);
            }
            if (added.Count == 0 && dropped.Count == 0) return false;

            foreach (var endPoint in dropped)
            {
                _advertisedSet.Remove(endPoint);
                _advertised.Remove(endPoint);
            }
            foreach (var peer in added)
            {
                _advertisedSet.Add(peer.EndPoint);
                _advertised.Add(peer.EndPoint);
            }
            _lastSent = _clock.GetTimestamp();
            message = new PexMessage(added, dropped);
            return true;
        }
    }

    /// <summary>The receiving side's check on BEP 11's one message a minute. Like libtorrent it allows a burst:
    /// the seventh message within a minute is a flood (<see cref="PeerProtocolError.PexFlood"/>: drop the peer).</summary>
    public sealed class PexFloodGuard
    {
        public const int AllowedPerMinute = 6;

        private readonly TimeProvider _clock;
        private readonly long[] _recent = new long[AllowedPerMinute];
        private int _count;
        private int _next;

        public PexFloodGuard(TimeProvider clock) => _clock = clock ?? throw new ArgumentNullException(nameof(clock));

        /// <summary>Call for each ut_pex message received; throws <see cref="PeerProtocolException"/> for a flood.</summary>
        public void OnMessage()
        {
            long now = _clock.GetTimestamp();
            // _recent[_next] is the oldest of the last six once the ring is full.
            if (_count == AllowedPerMinute && _clock.GetElapsedTime(_recent[_next], now) < TimeSpan.FromMinutes(1))
                throw new PeerProtocolException(PeerProtocolError.PexFlood, $"More than {AllowedPerMinute} ut_pex messages within a minute.");
            _recent[_next] = now;
            _next = (_next + 1) % AllowedPerMinute;
            if (_count < AllowedPerMinute) _count++;
        }
    }
}
