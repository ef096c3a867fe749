using System;
using System.Buffers;
using System.Collections.Generic;

namespace BitTorrent.Download
{
    /// <summary>A piece being downloaded: which of its blocks are requested or received, and the received bytes in a
    /// pooled buffer, so the piece is hashed from memory (never read back from disk) before it is written.</summary>
    internal sealed class PartialPiece
    {
        private readonly byte[] _requesters; // outstanding requests per block (saturates at 255)
        private readonly bool[] _received;
        private readonly object?[] _sources;   // the peer each received block came from
        private byte[]? _buffer;

        public PartialPiece(int index, int length)
        {
            Index = index;
            Length = length;
            BlockCount = (length + BlockRequest.BlockSize - 1) / BlockRequest.BlockSize;
            _requesters = new byte[BlockCount];
            _received = new bool[BlockCount];
            _sources = new object?[BlockCount];
            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        public int Index { get; }
        public int Length { get; }
        public int BlockCount { get; }
        public int ReceivedBlocks { get; private set; }

        /// <summary>Blocks never requested and not received.</summary>
        public int UnrequestedBlocks { get; private set; } = -1;

        public bool IsComplete => ReceivedBlocks == BlockCount;

        /// <summary>Peers that sent at least one block of this piece (blamed if the hash fails).</summary>
        public HashSet<object> Contributors { get; } = new HashSet<object>(ReferenceEqualityComparer.Instance);

        public ArraySegment<byte> Data => new ArraySegment<byte>(_buffer ?? throw new ObjectDisposedException(nameof(PartialPiece)), 0, Length);

        public int BlockLength(int block) => block == BlockCount - 1 ? Length - block * BlockRequest.BlockSize : BlockRequest.BlockSize;

        public BlockRequest Block(int block) => new BlockRequest(Index, block * BlockRequest.BlockSize, BlockLength(block));

        public bool IsReceived(int block) => _received[block];

        /// <summary>The peer a received block came from (null when not received).</summary>
        public object? Source(int block) => _sources[block];

        /// <summary>After a hash failure with blocks from several peers, the piece is fetched again from one peer
        /// alone: then a second failure names the liar for certain, and a success lets the blocks of the failed attempt
        /// be compared with the good ones (see TorrentDownload's smart ban).</summary>
        public bool SingleSource { get; set; }

        /// <summary>The one peer a <see cref="SingleSource"/> piece is being fetched from (null: not yet chosen).</summary>
        public object? Owner { get; set; }

        /// <summary>Whether blocks of this piece may be asked of <paramref name="peer"/>.</summary>
        public bool MayServe(object? peer) => !SingleSource || Owner is null || ReferenceEquals(Owner, peer);
        public int Requesters(int block) => _requesters[block];

        public void Initialize()
        {
            UnrequestedBlocks = BlockCount;
        }

        public void MarkRequested(int block)
        {
            if (_requesters[block] == 0 && !_received[block]) UnrequestedBlocks--;
            if (_requesters[block] < byte.MaxValue) _requesters[block]++;
        }

        public void MarkRequestDropped(int block)
        {
            if (_requesters[block] == 0) return;
            _requesters[block]--;
            if (_requesters[block] == 0 && !_received[block]) UnrequestedBlocks++;
        }

        /// <summary>Stores a block; false if it was already received (a duplicate from endgame).</summary>
        public bool Receive(int block, ReadOnlySpan<byte> data, object peer)
        {
            if (_received[block]) return false;
            data.CopyTo(new Span<byte>(_buffer, block * BlockRequest.BlockSize, data.Length));
            if (_requesters[block] == 0) UnrequestedBlocks--;
            _received[block] = true;
            _sources[block] = peer;
            ReceivedBlocks++;
            Contributors.Add(peer);
            return true;
        }

        /// <summary>Forgets the blocks that came from peers matching <paramref name="from"/> (a banned peer's, or
        /// those of the owner of a single-source piece that gave up): they are wanted again. Returns how many.</summary>
        public int Discard(Func<object, bool> from)
        {
            int discarded = 0;
            for (int b = 0; b < BlockCount; b++)
            {
                if (!_received[b] || _sources[b] is not object source || !from(source)) continue;
                _received[b] = false;
                _sources[b] = null;
                ReceivedBlocks--;
                if (_requesters[b] == 0) UnrequestedBlocks++;
                discarded++;
            }
            Contributors.Clear();
            foreach (var source in _sources) if (source is not null) Contributors.Add(source);
            return discarded;
        }

        /// <summary>After a failed hash check: every block is wanted again.</summary>
        public void Reset()
        {
            Array.Clear(_received, 0, _received.Length);
            Array.Clear(_sources, 0, _sources.Length);
            Owner = null;
            ReceivedBlocks = 0;
            int unrequested = 0;
            for (int i = 0; i < BlockCount; i++) if (_requesters[i] == 0) unrequested++;
            UnrequestedBlocks = unrequested;
            Contributors.Clear();
        }

        public void Release()
        {
            var b = _buffer;
            _buffer = null;
            if (b is not null) ArrayPool<byte>.Shared.Return(b);
        }

        private sealed class ReferenceEqualityComparer : IEqualityComparer<object>
        {
            public static readonly ReferenceEqualityComparer Instance = new ReferenceEqualityComparer();
            public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);
            public int GetHashCode(object obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }
}
