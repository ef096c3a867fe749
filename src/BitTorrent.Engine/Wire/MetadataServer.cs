using System;
using System.Collections.Generic;

namespace BitTorrent.Wire
{
    /// <summary>An answer to a ut_metadata request: the payload to send under the peer's ut_metadata id.</summary>
    public readonly struct MetadataReply
    {
        public MetadataReply(UtMetadataMessageType type, int piece, byte[] payload)
        {
            Type = type;
            Piece = piece;
            Payload = payload;
        }

        /// <summary><see cref="UtMetadataMessageType.Data"/> or <see cref="UtMetadataMessageType.Reject"/>.</summary>
        public UtMetadataMessageType Type { get; }
        public int Piece { get; }
        public byte[] Payload { get; }
    }

    /// <summary>Serves our metadata to peers by BEP 9, without sockets. A request for a block we have gets it; a
    /// request outside the metadata, any request while we have no verified metadata, and requests beyond
    /// <see cref="ServedPerWindow"/> a minute from one peer get a reject (BEP 9 allows rejecting after "number of
    /// pieces × factor"); a peer that keeps asking past <see cref="FloodLimit"/> a minute is a flood and is dropped.
    /// Not thread-safe: one owner calls it.</summary>
    public sealed class MetadataServer<TPeer> where TPeer : notnull
    {
        public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

        private readonly ReadOnlyMemory<byte> _metadata;
        private readonly bool _hasMetadata;
        private readonly TimeProvider _clock;
        private readonly Dictionary<TPeer, PeerWindow> _peers = new Dictionary<TPeer, PeerWindow>();

        /// <summary><paramref name="metadata"/>: the verified info dictionary as the torrent has it, or null for a
        /// torrent whose metadata we are still fetching (every request is then rejected).</summary>
        public MetadataServer(ReadOnlyMemory<byte>? metadata, TimeProvider clock)
        {
            _clock = clock ?? throw new ArgumentNullException(nameof(clock));
            if (metadata is ReadOnlyMemory<byte> bytes)
            {
                if (bytes.Length == 0 || bytes.Length > UtMetadataMessage.MaxMetadataSize)
                    throw new ArgumentOutOfRangeException(nameof(metadata), bytes.Length, $"Metadata is 1 to {UtMetadataMessage.MaxMetadataSize} bytes.");
                _metadata = bytes;
                _hasMetadata = true;
            }
            BlockCount = _hasMetadata ? UtMetadataMessage.BlockCount(_metadata.Length) : 0;
            // Every block twice, plus slack for a restart after a hash failure elsewhere.
            ServedPerWindow = 2 * BlockCount + 8;
            FloodLimit = Math.Max(10 * ServedPerWindow, 200);
        }

        public int BlockCount { get; }

        /// <summary>Requests answered with data per peer per <see cref="Window"/>; later ones are rejected.</summary>
        public int ServedPerWindow { get; }

        /// <summary>Requests per peer per <see cref="Window"/> above which the peer is dropped.</summary>
        public int FloodLimit { get; }

        /// <summary>The metadata_size to put in our extended handshake (null without metadata).</summary>
        public long? MetadataSize => _hasMetadata ? _metadata.Length : (long?)null;

        /// <summary>Answers one request. Throws <see cref="PeerProtocolException"/>
        /// (<see cref="PeerProtocolError.MetadataRequestFlood"/>) when the peer is flooding: drop it.</summary>
        public MetadataReply HandleRequest(TPeer peer, int piece)
        {
            long now = _clock.GetTimestamp();
            if (!_peers.TryGetValue(peer, out var window) || _clock.GetElapsedTime(window.Start, now) >= Window)
                _peers[peer] = window = new PeerWindow { Start = now };
            window.Requests++;
            if (window.Requests > FloodLimit)
                throw new PeerProtocolException(PeerProtocolError.MetadataRequestFlood,
                    $"{window.Requests} ut_metadata requests within a minute for metadata of {BlockCount} blocks.");
            if (!_hasMetadata || piece < 0 || piece >= BlockCount || window.Requests > ServedPerWindow)
                return new MetadataReply(UtMetadataMessageType.Reject, piece, UtMetadataMessage.EncodeReject(Math.Max(piece, 0)));
            int offset = piece * UtMetadataMessage.BlockSize;
            int length = UtMetadataMessage.BlockLength(_metadata.Length, piece);
            return new MetadataReply(UtMetadataMessageType.Data, piece,
                UtMetadataMessage.EncodeData(piece, _metadata.Length, _metadata.Span.Slice(offset, length)));
        }

        public void RemovePeer(TPeer peer) => _peers.Remove(peer);

        private sealed class PeerWindow
        {
            public long Start;
            public int Requests;
        }
    }
}
