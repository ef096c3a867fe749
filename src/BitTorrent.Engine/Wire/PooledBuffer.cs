using System;
using System.Buffers;
using System.Threading;

namespace BitTorrent.Wire
{
    /// <summary>A payload in an array rented from <see cref="ArrayPool{T}.Shared"/>. Dispose returns the array;
    /// disposing twice is harmless (the second call does nothing), so a copied message cannot return it twice.</summary>
    public sealed class PooledBuffer : IMemoryOwner<byte>
    {
        private byte[]? _array;
        private readonly int _length;

        public PooledBuffer(int length)
        {
            if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
            _length = length;
            _array = length == 0 ? System.Array.Empty<byte>() : ArrayPool<byte>.Shared.Rent(length);
        }

        public int Length => _length;

        public Memory<byte> Memory => new Memory<byte>(_array ?? throw new ObjectDisposedException(nameof(PooledBuffer)), 0, _length);

        /// <summary>The rented array (longer than <see cref="Length"/>); for APIs that take arrays.</summary>
        internal byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));

        public void Dispose()
        {
            var array = Interlocked.Exchange(ref _array, null);
            if (array is not null && array.Length > 0) ArrayPool<byte>.Shared.Return(array);
        }
    }
}
