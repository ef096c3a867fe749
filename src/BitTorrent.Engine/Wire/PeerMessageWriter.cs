using System;
using System.Buffers;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Wire
{
    /// <summary>Batches outgoing messages in one pooled buffer and writes them to the stream on
    /// <see cref="FlushAsync"/> (or when the buffer fills), so a burst of haves, requests and blocks costs one
    /// socket write rather than one each. Not thread-safe: one writer loop per connection.</summary>
    public sealed class PeerMessageWriter : IDisposable
    {
        public const int DefaultBufferSize = 64 * 1024;

        private readonly Stream _stream;
        private byte[]? _buffer;
        private int _count;

        public PeerMessageWriter(Stream stream, int bufferSize = DefaultBufferSize)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            if (bufferSize < Handshake.Length) throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, $"At least {Handshake.Length} bytes.");
            _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        }

        /// <summary>Bytes waiting for the next flush.</summary>
        public int BufferedBytes => _count;

        /// <summary>Bytes handed to the stream so far.</summary>
        public long BytesSent { get; private set; }

        private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PeerMessageWriter));

        public ValueTask WriteHandshakeAsync(Handshake handshake, CancellationToken cancellationToken = default)
        {
            if (handshake is null) throw new ArgumentNullException(nameof(handshake));
            if (Buffer.Length - _count >= Handshake.Length)
            {
                handshake.WriteTo(new Span<byte>(Buffer, _count, Handshake.Length));
                _count += Handshake.Length;
                return default;
            }
            return new ValueTask(FlushThenAsync(() =>
            {
                handshake.WriteTo(new Span<byte>(Buffer, _count, Handshake.Length));
                _count += Handshake.Length;
            }, cancellationToken));
        }

        /// <summary>Queues a message; writes to the stream only when the buffer is full.</summary>
        public ValueTask WriteAsync(PeerMessage message, CancellationToken cancellationToken = default)
        {
            int length = PeerMessageCodec.GetEncodedLength(message);
            if (Buffer.Length - _count >= length)
            {
                _count += PeerMessageCodec.Encode(message, new Span<byte>(Buffer, _count, length));
                return default;
            }
            return new ValueTask(WriteSlowAsync(message, length, cancellationToken));
        }

        /// <summary>Writes everything queued to the stream and flushes it.</summary>
        public async Task FlushAsync(CancellationToken cancellationToken = default)
        {
            await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public void Dispose()
        {
            var buffer = Interlocked.Exchange(ref _buffer, null);
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }

        private async Task WriteSlowAsync(PeerMessage message, int length, CancellationToken cancellationToken)
        {
            await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            if (length <= Buffer.Length)
            {
                _count += PeerMessageCodec.Encode(message, new Span<byte>(Buffer, 0, length));
                return;
            }
            // Bigger than the whole buffer (a bitfield of a huge torrent): header here, payload straight from its memory.
            if (!PeerMessageCodec.HasPayload(message.Id)) throw new InvalidOperationException($"A {message.Id} message cannot exceed the write buffer.");
            int header = length - message.Payload.Length;   // 5 (bitfield), 13 (piece) or 6 (extended)
            var buffer = Buffer;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)(length - 4));
            buffer[4] = (byte)message.Id;
            if (message.Id == PeerMessageId.Piece)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(buffer, 5, 4), (uint)message.Index);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(buffer, 9, 4), (uint)message.Begin);
            }
            else if (message.Id == PeerMessageId.Extended)
            {
                buffer[5] = message.ExtendedId;
            }
            _count = header;
            await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            await WriteMemoryAsync(message.Payload, cancellationToken).ConfigureAwait(false);
        }

        private async Task FlushThenAsync(Action append, CancellationToken cancellationToken)
        {
            await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            append();
        }

        private async Task WriteBufferAsync(CancellationToken cancellationToken)
        {
            if (_count == 0) return;
            int count = _count;
            _count = 0;
            await _stream.WriteAsync(Buffer, 0, count, cancellationToken).ConfigureAwait(false);
            BytesSent += count;
        }

        private async Task WriteMemoryAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            if (MemoryMarshal.TryGetArray(payload, out var segment))
            {
                await _stream.WriteAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
                BytesSent += segment.Count;
                return;
            }
            var buffer = Buffer;
            for (int offset = 0; offset < payload.Length; offset += buffer.Length)
            {
                int n = Math.Min(buffer.Length, payload.Length - offset);
                payload.Span.Slice(offset, n).CopyTo(buffer);
                await _stream.WriteAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
                BytesSent += n;
            }
        }
    }
}
