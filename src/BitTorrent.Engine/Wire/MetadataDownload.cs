using System;
using System.Collections.Generic;
using System.Security.Cryptography;

namespace BitTorrent.Wire
{
    /// <summary>What became of a ut_metadata data message.</summary>
    public enum MetadataBlockOutcome
    {
        /// <summary>Stored; more blocks are missing.</summary>
        Accepted,

        /// <summary>Not asked of this peer (or asked before a restart): ignored, nothing stored.</summary>
        Unsolicited,

        /// <summary>Asked, but another peer's copy came first: ignored.</summary>
        Duplicate,

        /// <summary>The last block: the metadata hashes to the info-hash and is in <see cref="MetadataDownload{TPeer}.Metadata"/>.</summary>
        Completed,

        /// <summary>The last block, but the whole does not hash to the info-hash: every peer that sent a block is
        /// banned (listed in the out parameter) and the download starts over.</summary>
        HashMismatch,
    }

    /// <summary>Fetches a torrent's metadata (the info dictionary) from peers by BEP 9, without sockets: the caller
    /// tells it which peers are there and what they sent, and asks it which 16 KiB block to request of whom. The
    /// rules are libtorrent's: at most <see cref="MaxOutstandingPerPeer"/> requests per peer, a block asked of one
    /// peer is not asked of another within <see cref="ReaskAfter"/> unless the first left or rejected, a peer that
    /// rejects is not asked again for <see cref="RejectBackoff"/>. Blocks are checked for their exact size and
    /// total_size; the assembled bytes, as received, must hash to the info-hash (SHA-1 for a 20-byte v1 hash,
    /// SHA-256 for a 32-byte v2 one) before they are handed out. Not thread-safe: one owner (the torrent's loop)
    /// calls it.</summary>
    public sealed class MetadataDownload<TPeer> where TPeer : notnull
    {
        public const int MaxOutstandingPerPeer = 2;
        public static readonly TimeSpan ReaskAfter = TimeSpan.FromSeconds(3);
        public static readonly TimeSpan RejectBackoff = TimeSpan.FromMinutes(1);

        private readonly byte[] _infoHash;
        private readonly TimeProvider _clock;
        private readonly Dictionary<TPeer, PeerState> _peers = new Dictionary<TPeer, PeerState>();
        private readonly HashSet<TPeer> _banned = new HashSet<TPeer>();
        private Block[] _blocks = Array.Empty<Block>();
        private byte[]? _buffer;
        private int _received;

        public MetadataDownload(byte[] infoHash, TimeProvider clock)
        {
            if (infoHash is null || (infoHash.Length != 20 && infoHash.Length != 32))
                throw new ArgumentException("An info-hash is 20 (v1, SHA-1) or 32 (v2, SHA-256) bytes.", nameof(infoHash));
            _infoHash = (byte[])infoHash.Clone();
            _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        }

        /// <summary>The size being assembled: fixed by the first request, until a hash failure starts over.</summary>
        public long? Size { get; private set; }

        public int BlockCount => _blocks.Length;
        public int ReceivedBlocks => _received;

        /// <summary>The verified metadata, exactly as received, once <see cref="MetadataBlockOutcome.Completed"/>.</summary>
        public byte[]? Metadata { get; private set; }

        public bool IsComplete => Metadata is not null;

        /// <summary>Hash failures so far.</summary>
        public int Failures { get; private set; }

        public bool IsBanned(TPeer peer) => _banned.Contains(peer);

        /// <summary>A peer with ut_metadata, and the metadata_size of its extended handshake (call again when it sends
        /// another). Null or 0: it cannot serve metadata yet. Throws <see cref="PeerProtocolException"/>
        /// (<see cref="PeerProtocolError.InvalidMetadataSize"/>) for a negative size or one above
        /// <see cref="UtMetadataMessage.MaxMetadataSize"/>: drop that peer.</summary>
        public void AddPeer(TPeer peer, long? metadataSize)
        {
            if (metadataSize is long bad && (bad < 0 || bad > UtMetadataMessage.MaxMetadataSize))
                throw new PeerProtocolException(PeerProtocolError.InvalidMetadataSize,
                    $"The peer says the metadata is {bad} bytes; it is 1 to {UtMetadataMessage.MaxMetadataSize}.");
            if (!_peers.TryGetValue(peer, out var state)) _peers[peer] = state = new PeerState();
            state.Size = metadataSize is > 0 ? metadataSize : null;
        }

        /// <summary>The peer left: what it was asked may be asked of others at once.</summary>
        public void RemovePeer(TPeer peer)
        {
            if (!_peers.TryGetValue(peer, out var state)) return;
            foreach (int piece in state.Outstanding) Forget(piece);
            _peers.Remove(peer);
            // Nobody left gives the size being assembled (a peer that named a size of its own and left): what was
            // received can never be completed, so the size is chosen again by the next request.
            if (Size is long size && !IsComplete)
            {
                foreach (var other in _peers.Values)
                    if (other.Size == size) return;
                Restart();
            }
        }

        /// <summary>The next block to request of <paramref name="peer"/>, if any; recorded as asked now. Call until it
        /// returns false whenever a peer may take more (after a handshake, data, reject or a timer).</summary>
        public bool TryGetRequest(TPeer peer, out int piece)
        {
            piece = -1;
            if (IsComplete || _banned.Contains(peer) || !_peers.TryGetValue(peer, out var state) || state.Size is null) return false;
            if (state.Outstanding.Count >= MaxOutstandingPerPeer) return false;
            long now = _clock.GetTimestamp();
            if (state.RejectedAt is long rejected && _clock.GetElapsedTime(rejected, now) < RejectBackoff) return false;
            if (Size is null) Start(state.Size.Value);
            // A size nobody is fetching any more (its peers rejected or went quiet before sending a block) gives way
            // to this peer's: one peer naming a false size and then stalling must not keep the honest ones idle.
            else if (state.Size != Size && _received == 0 && !AnyOutstanding()) Start(state.Size.Value);
            if (state.Size != Size) return false;

            // Blocks nobody is waiting for first, then blocks whose request has been out for longer than ReaskAfter.
            int stale = -1;
            for (int i = 0; i < _blocks.Length; i++)
            {
                var block = _blocks[i];
                if (block.Received || state.Outstanding.Contains(i)) continue;
                if (block.Outstanding == 0) { piece = i; break; }
                if (stale < 0 && _clock.GetElapsedTime(block.LastAsked, now) >= ReaskAfter) stale = i;
            }
            if (piece < 0) piece = stale;
            if (piece < 0) return false;
            _blocks[piece].Outstanding++;
            _blocks[piece].LastAsked = now;
            state.Outstanding.Add(piece);
            return true;
        }

        /// <summary>A data message from <paramref name="peer"/>. Throws <see cref="PeerProtocolException"/> when a
        /// block we asked for has the wrong total_size or length (drop the peer). <paramref name="banned"/> lists
        /// the peers to disconnect and ban after a <see cref="MetadataBlockOutcome.HashMismatch"/>.</summary>
        public MetadataBlockOutcome OnData(TPeer peer, int piece, long totalSize, ReadOnlySpan<byte> data, out IReadOnlyList<TPeer> banned)
        {
            banned = Array.Empty<TPeer>();
            if (!_peers.TryGetValue(peer, out var state) || !state.Outstanding.Remove(piece)) return MetadataBlockOutcome.Unsolicited;
            Forget(piece);
            long size = Size!.Value;
            if (totalSize != size)
                throw new PeerProtocolException(PeerProtocolError.InvalidMetadataSize, $"A metadata block says total_size {totalSize}; the metadata is {size} bytes.");
            int expected = UtMetadataMessage.BlockLength(size, piece);
            if (data.Length != expected)
                throw new PeerProtocolException(PeerProtocolError.InvalidMetadataMessage, $"Metadata block {piece} is {data.Length} bytes; it must be {expected}.");
            ref var block = ref _blocks[piece];
            if (block.Received) return MetadataBlockOutcome.Duplicate;
            data.CopyTo(_buffer!.AsSpan(piece * UtMetadataMessage.BlockSize));
            block.Received = true;
            block.Source = peer;
            block.HasSource = true;
            if (++_received < _blocks.Length) return MetadataBlockOutcome.Accepted;

            if (HashMatches(_buffer!))
            {
                Metadata = _buffer;
                foreach (var other in _peers.Values) other.Outstanding.Clear();
                return MetadataBlockOutcome.Completed;
            }
            var culprits = new List<TPeer>();
            foreach (var b in _blocks)
                if (b.HasSource && _banned.Add(b.Source!)) culprits.Add(b.Source!);
            foreach (var culprit in culprits) _peers.Remove(culprit);
            Failures++;
            Restart();
            banned = culprits;
            return MetadataBlockOutcome.HashMismatch;
        }

        /// <summary><see cref="OnData(TPeer, int, long, ReadOnlySpan{byte}, out IReadOnlyList{TPeer})"/> for a decoded message.</summary>
        public MetadataBlockOutcome OnData(TPeer peer, in UtMetadataMessage message, out IReadOnlyList<TPeer> banned) =>
            OnData(peer, message.Piece, message.TotalSize, message.Data.Span, out banned);

        /// <summary>The peer rejected a request: the block goes to others, and this peer rests for
        /// <see cref="RejectBackoff"/>. False for a reject of something not asked (ignored).</summary>
        public bool OnReject(TPeer peer, int piece)
        {
            if (!_peers.TryGetValue(peer, out var state) || !state.Outstanding.Remove(piece)) return false;
            Forget(piece);
            state.RejectedAt = _clock.GetTimestamp();
            return true;
        }

        private bool AnyOutstanding()
        {
            foreach (var block in _blocks)
                if (block.Outstanding > 0) return true;
            return false;
        }

        private void Start(long size)
        {
            Size = size;
            _buffer = new byte[size];
            _blocks = new Block[UtMetadataMessage.BlockCount(size)];
            _received = 0;
        }

        /// <summary>After a hash failure: nothing kept, nothing outstanding (late answers are unsolicited), and the
        /// size is chosen again by the next request.</summary>
        private void Restart()
        {
            Size = null;
            _buffer = null;
            _blocks = Array.Empty<Block>();
            _received = 0;
            foreach (var state in _peers.Values) state.Outstanding.Clear();
        }

        /// <summary>One request for the block is over (answered, rejected or its peer gone).</summary>
        private void Forget(int piece)
        {
            if ((uint)piece >= (uint)_blocks.Length) return;
            ref var block = ref _blocks[piece];
            if (block.Outstanding > 0) block.Outstanding--;
        }

        private bool HashMatches(byte[] metadata)
        {
#pragma warning disable CA5350 // SHA-1 is what BitTorrent v1 info-hashes are.
            using HashAlgorithm hash = _infoHash.Length == 20 ? SHA1.Create() : SHA256.Create();
#pragma warning restore CA5350
            return hash.ComputeHash(metadata).AsSpan().SequenceEqual(_infoHash);
        }

        private struct Block
        {
            public bool Received;
            public int Outstanding;
            public long LastAsked;
            public bool HasSource;
            public TPeer? Source;
        }

        private sealed class PeerState
        {
            public long? Size;
            public long? RejectedAt;
            public readonly HashSet<int> Outstanding = new HashSet<int>();
        }
    }
}
