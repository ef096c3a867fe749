using System;
using System.Net;

namespace BitTorrent.Trackers
{
    /// <summary>One peer as a tracker listed it: an address and port, and the peer id when the tracker sent the
    /// dictionary model (compact lists carry none). Equal when the end points are equal.</summary>
    public sealed class TrackerPeer : IEquatable<TrackerPeer>
    {
        public TrackerPeer(IPEndPoint endPoint, byte[]? peerId = null)
        {
            EndPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
            PeerId = peerId;
        }

        public IPEndPoint EndPoint { get; }

        /// <summary>The 20-byte peer id, or null (compact peer lists do not carry it).</summary>
        public byte[]? PeerId { get; }

        public bool Equals(TrackerPeer? other) => other is not null && EndPoint.Equals(other.EndPoint);
        public override bool Equals(object? obj) => obj is TrackerPeer p && Equals(p);
        public override int GetHashCode() => EndPoint.GetHashCode();
        public override string ToString() => PeerEndPoint.Format(EndPoint.Address, EndPoint.Port);
    }
}
