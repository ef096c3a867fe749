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
        private byte[]? _buffer;

        public PartialPiece(int index, int length)
        {
            Index = index;
            Length = length;
            BlockCount = (length + BlockRequest.BlockSize - 1) / BlockRequest.BlockSize;
            _requesters = new byte[BlockCount];
            _received = new bool[BlockCount];
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
            ReceivedBlocks++;
            Contributors.Add(peer);
            return true;
        }

        /// <summary>After a failed hash check: every block is wanted again.</summary>
        public void Reset()
        {
            Array.Clear(_received, 0, _received.Length);
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
