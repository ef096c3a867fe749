using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Peer exchange (BEP 11, ut_pex) for one torrent, downloading or seeding. Sending: on the torrent's
    /// tick, each peer that has ut_pex in its extended handshake is told which peers we are connected to now (the
    /// ones it can connect to: those we dialled, and those that called us and told us their listen port) and which
    /// it was told about are gone — at most one message a minute and 50 added per message (<see cref="PexState"/>).
    /// Receiving: the peers a message adds become dial candidates, bounded per message, per sender and per torrent
    /// (<see cref="PeerCandidates.MaxFromPex"/>); unusable addresses, ours, those already connected and those the
    /// sender cannot vouch for (<see cref="AddressScope.MayExchange"/>) are left out. A peer sending more than
    /// BEP 11's one message a minute allows (beyond a small burst), or one that is not bencode, is dropped
    /// (ProtocolViolation: <see cref="PeerProtocolError.PexFlood"/>, <see cref="PeerProtocolError.InvalidPexMessage"/>).
    /// A private torrent (BEP 27) does none of this. Everything runs under the torrent's lock.</summary>
    internal sealed class PeerExchange
    {
        /// <summary>Most peers learnt from one message (BEP 11 lets a sender add 50 a message).</summary>
        public const int MaxLearntPerMessage = PexMessage.MaxPeersPerMessage;

        /// <summary>Most new peers one connection may teach us: one peer cannot fill the torrent's room for learnt
        /// peers on its own.</summary>
        public const int MaxLearntPerPeer = 100;

        /// <summary>Most of our own addresses remembered from peers' <c>yourip</c>.</summary>
        private const int MaxOwnAddresses = 16;

        private readonly TorrentContext _ctx;
        private readonly Dictionary<PeerSession, PexPeerState> _peers = new Dictionary<PeerSession, PexPeerState>();
        private readonly HashSet<IPAddress> _ownAddresses = new HashSet<IPAddress>();

        public PeerExchange(TorrentContext context) => _ctx = context;

        /// <summary>BEP 27: a private torrent's peers come from its trackers only.</summary>
        public bool Enabled => !_ctx.Torrent.IsPrivate;

        /// <summary>ut_pex messages sent, messages received, peers learnt and entries ignored, in this run (lock).</summary>
        public int MessagesSent { get; private set; }
        public int MessagesReceived { get; private set; }
        public int PeersLearnt { get; private set; }
        public int EntriesIgnored { get; private set; }

        /// <summary>A peer's extended handshake (the first or a later one): its ut_pex id, listen port, our address.</summary>
        public void OnExtendedHandshake(PeerSession session, ExtendedHandshake handshake)
        {
            _ctx.Lock.AssertHeld();
            var state = StateOf(session);
            state.Extensions.Apply(handshake);
            if (handshake.ListenPort is int port) state.ListenPort = port;
            if (handshake.YourIp is IPAddress ours && _ownAddresses.Count < MaxOwnAddresses) _ownAddresses.Add(AddressScope.Unmapped(ours));
        }

        /// <summary>A ut_pex message from a peer (sent under the id we gave ut_pex). Throws
        /// <see cref="PeerProtocolException"/> for a flood or a message that is not a bencoded dictionary.</summary>
        public void OnMessage(PeerSession session, ReadOnlySpan<byte> payload)
        {
            _ctx.Lock.AssertHeld();
            // We never offered ut_pex for a private torrent: whatever a peer sends under that id is not read.
            if (!Enabled) return;
            var state = StateOf(session);
            state.Guard.OnMessage();
            var message = PexMessage.Decode(payload);
            MessagesReceived++;

            int ignored = message.IgnoredCount;
            var connected = new HashSet<IPEndPoint>(_ctx.Sessions.Select(ConnectableEndPoint).OfType<IPEndPoint>());
            var wanted = new List<(IPEndPoint, bool)>();
            foreach (var peer in message.Added)
            {
                var endPoint = new IPEndPoint(AddressScope.Unmapped(peer.EndPoint.Address), peer.EndPoint.Port);
                if (wanted.Count >= MaxLearntPerMessage || state.Learnt + wanted.Count >= MaxLearntPerPeer
                    || !AddressScope.MayExchange(endPoint.Address, session.EndPoint.Address) || IsOurs(endPoint) || connected.Contains(endPoint))
                {
                    ignored++;
                    continue;
                }
                wanted.Add((endPoint, (peer.Flags & PexFlags.Seed) != 0));
            }
            // Dropped peers stay known: the sender lost them, which does not mean we cannot reach them.
            var added = _ctx.Candidates.AddFromPex(wanted);
            state.Learnt += added.Count;
            PeersLearnt += added.Count;
            EntriesIgnored += ignored;
            if (added.Count > 0)
                _ctx.Publish(EngineEventKind.PeersExchanged, EventSeverity.Verbose,
                    $"Learnt {added.Count} peer(s) by peer exchange from {session} ({ignored} left out).", session, count: added.Count);
        }

        /// <summary>Once a second: sends each ut_pex peer whose minute is up what changed since its last message.</summary>
        public void Tick()
        {
            _ctx.Lock.AssertHeld();
            foreach (var gone in _peers.Keys.Where(s => s.Closed).ToList()) _peers.Remove(gone);
            if (!Enabled || _peers.Count == 0) return;

            var connectable = new List<(PeerSession Session, PexPeer Peer)>();
            foreach (var s in _ctx.Sessions)
            {
                if (s.Closed || s.Evicted || s.Banned || s.CloseReason != PeerCloseReason.None) continue;
                if (ConnectableEndPoint(s) is not IPEndPoint endPoint) continue;
                var flags = s.Incoming ? PexFlags.None : PexFlags.Reachable;
                if (s.PeerHas.IsComplete) flags |= PexFlags.Seed;
                connectable.Add((s, new PexPeer(endPoint, flags)));
            }
            foreach (var entry in _peers)
            {
                var recipient = entry.Key;
                var state = entry.Value;
                if (recipient.Closed || !state.Extensions.TryGetId(ExtensionNames.UtPex, out byte id)) continue;
                state.Outgoing ??= new PexState(_ctx.Clock);
                if (!state.Outgoing.IsDue) continue;
                var shareable = connectable
                    .Where(c => c.Session != recipient && AddressScope.MayExchange(c.Peer.EndPoint.Address, recipient.EndPoint.Address))
                    .Select(c => c.Peer);
                if (!state.Outgoing.TryCreateMessage(shareable, ConnectableEndPoint(recipient) ?? recipient.EndPoint, out var message)) continue;
                recipient.Send(PeerMessage.Extended(id, message.Encode()));
                MessagesSent++;
            }
        }

        /// <summary>Where a connected peer accepts connections: the address we dialled, or for a peer that called us
        /// its address with the listen port it told us (null if it did not).</summary>
        private IPEndPoint? ConnectableEndPoint(PeerSession s)
        {
            var address = AddressScope.Unmapped(s.EndPoint.Address);
            if (!s.Incoming) return new IPEndPoint(address, s.EndPoint.Port);
            return _peers.TryGetValue(s, out var state) && state.ListenPort is int port ? new IPEndPoint(address, port) : null;
        }

        /// <summary>Our own listen endpoint under any of our addresses (loopback, this host's, or as peers see us).</summary>
        private bool IsOurs(IPEndPoint endPoint)
        {
            int port = _ctx.Services.ListenPort;
            if (port <= 0 || endPoint.Port != port) return false;
            var address = endPoint.Address;
            return AddressScope.IsLoopback(address) || _ownAddresses.Contains(address) || AddressScope.HostAddresses.Contains(address);
        }

        private PexPeerState StateOf(PeerSession session)
        {
            if (!_peers.TryGetValue(session, out var state)) _peers[session] = state = new PexPeerState(_ctx.Clock);
            return state;
        }

        /// <summary>What peer exchange keeps per connection.</summary>
        private sealed class PexPeerState
        {
            public PexPeerState(TimeProvider clock) => Guard = new PexFloodGuard(clock);

            /// <summary>The ids it wants our extension messages under (its extended handshakes applied in order).</summary>
            public PeerExtensionTable Extensions { get; } = new PeerExtensionTable();
            /// <summary><c>p</c> from its extended handshake.</summary>
            public int? ListenPort { get; set; }
            /// <summary>What it was told, and when it may be told again (made once it supports ut_pex).</summary>
            public PexState? Outgoing { get; set; }
            public PexFloodGuard Guard { get; }
            /// <summary>New peers it taught us.</summary>
            public int Learnt { get; set; }
        }
    }
}
