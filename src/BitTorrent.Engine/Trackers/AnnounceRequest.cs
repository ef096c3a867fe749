using System;

namespace BitTorrent.Trackers
{
    /// <summary>What we tell a tracker in an announce (BEP 3, BEP 15). Immutable; use <c>with</c> to vary it
    /// (e.g. the announcer adds each tracker's own tracker id).</summary>
    public sealed record AnnounceRequest
    {
        private readonly int _port = 6881;
        private readonly int _numWant = DefaultNumWant;
        private readonly long _uploaded, _downloaded, _left;

        /// <summary>libtorrent's default <c>num_want</c>; most trackers cap lower (opentracker: 200).</summary>
        public const int DefaultNumWant = 200;

        public AnnounceRequest(byte[] infoHash, byte[] peerId)
        {
            if (infoHash is null || infoHash.Length != 20) throw new ArgumentException("The info-hash must be 20 bytes.", nameof(infoHash));
            if (peerId is null || peerId.Length != 20) throw new ArgumentException("The peer id must be 20 bytes.", nameof(peerId));
            InfoHash = infoHash;
            PeerId = peerId;
        }

        /// <summary>The torrent's 20-byte (v1) info-hash.</summary>
        public byte[] InfoHash { get; }

        /// <summary>Our 20-byte peer id (<see cref="ClientIdentity.NewPeerId"/>).</summary>
        public byte[] PeerId { get; }

        /// <summary>The TCP port we accept peers on (0–65535).</summary>
        public int Port
        {
            get => _port;
            init => _port = value >= 0 && value <= 65535 ? value : throw new ArgumentOutOfRangeException(nameof(Port));
        }

        public long Uploaded { get => _uploaded; init => _uploaded = NonNegative(value, nameof(Uploaded)); }
        public long Downloaded { get => _downloaded; init => _downloaded = NonNegative(value, nameof(Downloaded)); }

        /// <summary>Bytes we still need; 0 means we are a seed.</summary>
        public long Left { get => _left; init => _left = NonNegative(value, nameof(Left)); }

        public TrackerEvent Event { get; init; }

        /// <summary>How many peers we ask for; -1 lets the tracker choose (BEP 15's default).</summary>
        public int NumWant
        {
            get => _numWant;
            init => _numWant = value >= -1 ? value : throw new ArgumentOutOfRangeException(nameof(NumWant));
        }

        /// <summary>A random number kept for the session, so a tracker recognises us if our IP changes.</summary>
        public uint Key { get; init; }

        /// <summary>Ask for the compact peer list (BEP 23). Many trackers (opentracker) answer nothing else.</summary>
        public bool Compact { get; init; } = true;

        /// <summary>The <c>tracker id</c> this tracker gave us in an earlier reply (HTTP only), sent back as <c>trackerid</c>.</summary>
        public string? TrackerId { get; init; }

        private static long NonNegative(long value, string name) =>
            value >= 0 ? value : throw new ArgumentOutOfRangeException(name);
    }
}
