using System;
using System.Buffers;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Threading;

namespace BitTorrent.Download
{
    /// <summary>A piece being downloaded: which of its blocks are requested or received, and the received bytes in a
    /// pooled buffer, so the piece is hashed from memory (never read back from disk) before it is written.
    /// <para>Blocks are read off the wire straight into the buffer: a reader first claims the block (<see cref="TryClaim"/>),
    /// which keeps anyone else from writing there and keeps the buffer from going back to the pool until the claim
    /// ends (<see cref="ReceiveClaimed"/> or <see cref="Unclaim"/>). SHA-1 is fed as blocks arrive, over the received
    /// prefix (<see cref="AdvanceHash"/>), so the check at the end hashes what is left, usually nothing.</para>
    /// <para>Threads: everything but the hashing is guarded by the torrent's lock. The hash state has a lock of its
    /// own (taken after the torrent's lock, never the other way round), so blocks are hashed outside the torrent's
    /// lock while the methods that drop blocks or the buffer wait for a hash in progress.</para></summary>
    internal sealed class PartialPiece
    {
        private readonly byte[] _requesters; // outstanding requests per block (saturates at 255)
        private readonly bool[] _received;     // written under the torrent's lock, read by the hasher (Volatile)
        private readonly bool[] _claimed;      // a reader is writing the block into the buffer
        private readonly object?[] _sources;   // the peer each received block came from
        private byte[]? _buffer;
        private int _claims;                   // open claims: the buffer stays rented until they end
        private bool _released;

        private readonly object _hashLock = new object();
        private IncrementalHash? _sha1;
        private int _hashedBlocks;             // blocks [0, _hashedBlocks) are in _sha1
        private bool _hashDirty;               // _sha1 holds data not yet taken out

        public PartialPiece(int index, int length)
        {
            Index = index;
            Length = length;
            BlockCount = (length + BlockRequest.BlockSize - 1) / BlockRequest.BlockSize;
            _requesters = new byte[BlockCount];
            _received = new bool[BlockCount];
            _claimed = new bool[BlockCount];
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

        public ArraySegment<byte> Data => new ArraySegment<byte>(_released ? throw new ObjectDisposedException(nameof(PartialPiece)) : _buffer!, 0, Length);

        public int BlockLength(int block) => block == BlockCount - 1 ? Length - block * BlockRequest.BlockSize : BlockRequest.BlockSize;

        public BlockRequest Block(int block) => new BlockRequest(Index, block * BlockRequest.BlockSize, BlockLength(block));

        public bool IsReceived(int block) => _received[block];

        /// <summary>Whether a reader is writing the block into the buffer right now.</summary>
        public bool IsClaimed(int block) => _claimed[block];

        /// <summary>Whether the buffer is still rented (false once it went back to the pool; for tests).</summary>
        internal bool HoldsBuffer => _buffer is not null;

        /// <summary>Blocks [0, HashedBlocks) have been fed to SHA-1 (for tests).</summary>
        public int HashedBlocks { get { lock (_hashLock) return _hashedBlocks; } }

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

        /// <summary>Stores a block by copying it; false if it was already received (a duplicate from endgame), or is
        /// being read into the buffer by another peer right now (that one may still fail; if so, it is asked again).</summary>
        public bool Receive(int block, ReadOnlySpan<byte> data, object peer)
        {
            if (_released || _received[block] || _claimed[block]) return false;
            data.CopyTo(new Span<byte>(_buffer, block * BlockRequest.BlockSize, data.Length));
            MarkReceived(block, peer);
            return true;
        }

        /// <summary>Reserves a block's place in the buffer for a reader to write into: false if the block is received,
        /// already claimed, or the piece is gone. Every true must be followed by <see cref="ReceiveClaimed"/> or
        /// <see cref="Unclaim"/>.</summary>
        public bool TryClaim(int block)
        {
            if (_released || _received[block] || _claimed[block]) return false;
            _claimed[block] = true;
            _claims++;
            return true;
        }

        /// <summary>The block's place in the buffer (only while the block is claimed).</summary>
        public Memory<byte> BlockMemory(int block) =>
            new Memory<byte>(_buffer ?? throw new ObjectDisposedException(nameof(PartialPiece)), block * BlockRequest.BlockSize, BlockLength(block));

        /// <summary>A claimed block has been read whole: it is received. False (the claim just ends) if the piece was
        /// released meanwhile.</summary>
        public bool ReceiveClaimed(int block, object peer)
        {
            if (!_claimed[block]) throw new InvalidOperationException($"Block {block} of piece {Index} is not claimed.");
            EndClaim(block);
            if (_released) return false;
            MarkReceived(block, peer);
            return true;
        }

        /// <summary>A claimed block was not received (the read failed, or the block was not wanted after all).</summary>
        public void Unclaim(int block)
        {
            if (!_claimed[block]) throw new InvalidOperationException($"Block {block} of piece {Index} is not claimed.");
            EndClaim(block);
        }

        private void EndClaim(int block)
        {
            _claimed[block] = false;
            _claims--;
            if (_released && _claims == 0) ReturnBuffer();
        }

        private void MarkReceived(int block, object peer)
        {
            if (_requesters[block] == 0) UnrequestedBlocks--;
            // Published after the bytes: the hasher, on another thread, reads the flag and then the block.
            Volatile.Write(ref _received[block], true);
            _sources[block] = peer;
            ReceivedBlocks++;
            Contributors.Add(peer);
        }

        // ---- SHA-1, fed as blocks arrive ------------------------------------------------------------------------

        /// <summary>Feeds SHA-1 the received blocks that extend the hashed prefix (a block that arrived before a gap
        /// is hashed once the gap fills). Called outside the torrent's lock, on the thread that just received a block
        /// (the bytes are still in its cache); harmless at any time, including after the piece is gone.</summary>
        public void AdvanceHash()
        {
            lock (_hashLock) AdvanceHashLocked();
        }

        /// <summary>Hashes what is left and compares with <paramref name="expected"/>. Only for a complete piece; the
        /// hash state is then empty again (a failed piece is <see cref="Reset"/> and hashed anew).</summary>
        /// <exception cref="ObjectDisposedException">The piece was released.</exception>
        public bool HashMatches(ReadOnlySpan<byte> expected)
        {
            lock (_hashLock)
            {
                if (_released) throw new ObjectDisposedException(nameof(PartialPiece));
                AdvanceHashLocked();
                if (_hashedBlocks != BlockCount) throw new InvalidOperationException($"Piece {Index} is not complete.");
                var sha1 = _sha1 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                byte[] hash = sha1.GetHashAndReset();
                _hashDirty = false;
                return hash.AsSpan().SequenceEqual(expected);
            }
        }

        private void AdvanceHashLocked()
        {
            if (_released) return;
            while (_hashedBlocks < BlockCount && Volatile.Read(ref _received[_hashedBlocks]))
            {
                var sha1 = _sha1 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                sha1.AppendData(_buffer!, _hashedBlocks * BlockRequest.BlockSize, BlockLength(_hashedBlocks));
                _hashDirty = true;
                _hashedBlocks++;
            }
        }

        /// <summary>Empties the hash state (blocks were dropped, or the piece starts over). Under the hash lock.</summary>
        private void RestartHashLocked()
        {
            if (_hashDirty) _sha1!.GetHashAndReset();
            _hashDirty = false;
            _hashedBlocks = 0;
        }

        /// <summary>Forgets the blocks that came from peers matching <paramref name="from"/> (a banned peer's, or
        /// those of the owner of a single-source piece that gave up): they are wanted again. Returns how many.</summary>
        public int Discard(Func<object, bool> from)
        {
            int discarded = 0;
            lock (_hashLock)
            {
                for (int b = 0; b < BlockCount; b++)
                {
                    if (!_received[b] || _sources[b] is not object source || !from(source)) continue;
                    _received[b] = false;
                    _sources[b] = null;
                    ReceivedBlocks--;
                    if (_requesters[b] == 0) UnrequestedBlocks++;
                    discarded++;
                    // SHA-1 cannot take bytes back: a dropped block inside the hashed prefix means hashing anew (the
                    // blocks still held are hashed again from the buffer as the prefix grows back).
                    if (b < _hashedBlocks) RestartHashLocked();
                }
            }
            Contributors.Clear();
            foreach (var source in _sources) if (source is not null) Contributors.Add(source);
            return discarded;
        }

        /// <summary>After a failed hash check: every block is wanted again.</summary>
        public void Reset()
        {
            lock (_hashLock)
            {
                Array.Clear(_received, 0, _received.Length);
                RestartHashLocked();
            }
            Array.Clear(_sources, 0, _sources.Length);
            Owner = null;
            ReceivedBlocks = 0;
            int unrequested = 0;
            for (int i = 0; i < BlockCount; i++) if (_requesters[i] == 0) unrequested++;
            UnrequestedBlocks = unrequested;
            Contributors.Clear();
        }

        /// <summary>The piece is done with (verified, or the download stops): the buffer goes back to the pool, now or,
        /// if readers still write into it, when the last claim ends. Safe to call more than once.</summary>
        public void Release()
        {
            lock (_hashLock)
            {
                if (_released) return;
                _released = true; // the hasher stops here; a hash in progress finished before the lock was ours
                _sha1?.Dispose();
                _sha1 = null;
            }
            if (_claims == 0) ReturnBuffer();
        }

        private void ReturnBuffer()
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
