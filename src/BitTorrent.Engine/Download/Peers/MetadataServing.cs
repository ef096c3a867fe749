using System;
using System.Collections.Generic;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>A download's or seed's side of BEP 9: every ut_metadata request a peer sends is answered from the
    /// torrent's own info dictionary (<see cref="Metainfo.TorrentInfo.RawInfo"/>) through a
    /// <see cref="MetadataServer{TPeer}"/> — data for a block we have, a reject for one outside it or past the per-peer
    /// budget, the connection dropped for a flood. We already have the metadata, so data and rejects a peer sends are
    /// nothing we asked for: ignored, up to <see cref="MaxUnsolicited"/> per peer. Everything runs under the torrent's
    /// lock (the dispatcher's).</summary>
    internal sealed class MetadataServing
    {
        /// <summary>ut_metadata data or rejects a peer may send us unasked before it is dropped.</summary>
        public const int MaxUnsolicited = 64;

        private readonly TorrentContext _ctx;
        private readonly MetadataServer<PeerSession> _server;
        private readonly Dictionary<PeerSession, int> _unsolicited = new Dictionary<PeerSession, int>();

        public MetadataServing(TorrentContext context)
        {
            _ctx = context;
            var raw = context.Torrent.RawInfo;
            // A torrent made without its info bytes (none is, outside tests) has nothing to serve: every request is rejected.
            bool usable = raw.Length > 0 && raw.Length <= UtMetadataMessage.MaxMetadataSize;
            _server = new MetadataServer<PeerSession>(usable ? raw : (ReadOnlyMemory<byte>?)null, context.Clock);
        }

        /// <summary>The metadata_size of our extended handshake (null when there is nothing to serve).</summary>
        public long? MetadataSize => _server.MetadataSize;

        /// <summary>One ut_metadata message (the payload after the extended id). False: the peer keeps sending what we
        /// never asked for and is to be dropped. Throws <see cref="PeerProtocolException"/> for a malformed message or
        /// a request flood.</summary>
        public bool OnMessage(PeerSession session, ReadOnlyMemory<byte> payload)
        {
            _ctx.Lock.AssertHeld();
            if (!UtMetadataMessage.TryDecode(payload, out var message)) return true;   // unknown msg_type: BEP 9 says ignore
            if (message.Type != UtMetadataMessageType.Request)
            {
                _unsolicited.TryGetValue(session, out int count);
                _unsolicited[session] = ++count;
                return count <= MaxUnsolicited;
            }
            var reply = _server.HandleRequest(session, message.Piece);
            // A peer that asks without telling us its ut_metadata id cannot be answered (BEP 10: we send under its id).
            if (!session.Extensions.TryGetId(ExtensionNames.UtMetadata, out byte id)) return true;
            session.Send(PeerMessage.Extended(id, reply.Payload));
            return true;
        }

        public void OnSessionRemoved(PeerSession session)
        {
            _ctx.Lock.AssertHeld();
            _server.RemovePeer(session);
            _unsolicited.Remove(session);
        }
    }
}
