using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Wire
{
    /// <summary>Names the memory a piece message's block is read into (exactly <paramref name="length"/> bytes, backed
    /// by an array), or returns null to have it read into a pooled buffer as any other payload. The owner is the
    /// message's <see cref="PeerMessage.PayloadOwner"/>: disposed with the message, or by the reader if the block
    /// cannot be read whole (the connection failed), so whoever handed the memory out learns it is free again.</summary>
    /// <param name="index">The piece index, already checked against the torrent's piece count.</param>
    /// <param name="begin">The block's offset in the piece (not checked: the resolver knows the piece's length).</param>
    /// <param name="length">The block's length, at most <see cref="PeerMessageLimits.MaxBlockLength"/>.</param>
    public delegate IMemoryOwner<byte>? BlockDestinationResolver(int index, int begin, int length);

    /// <summary>Reads the handshake and then length-prefixed messages from a peer's stream. Reads go into one pooled
    /// receive buffer (many small messages per socket read); payloads are copied out of it, or read straight from the
    /// stream, into pooled buffers the consumer returns by disposing the message. Every length is checked against
    /// <see cref="Limits"/> before any room is rented for it, so a hostile prefix is rejected at the cost of 5 bytes.
    /// A piece message's block can instead go straight into memory the consumer names (<see cref="BlockDestination"/>:
    /// the piece's own buffer), which saves copying every downloaded byte once more.
    /// One reader per connection, used by one reader loop at a time.</summary>
    public sealed class PeerMessageReader : IDisposable
    {
        public const int DefaultBufferSize = 64 * 1024;

        private readonly Stream _stream;
        private byte[]? _buffer;
        private int _start;
        private int _end;

        public PeerMessageReader(Stream stream, PeerMessageLimits? limits = null, int bufferSize = DefaultBufferSize)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            if (bufferSize < Handshake.Length) throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, $"At least {Handshake.Length} bytes.");
            Limits = limits ?? PeerMessageLimits.Default;
            _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        }

        /// <summary>The limits applied to each message; set a piece count once the torrent's metadata is known.</summary>
        public PeerMessageLimits Limits { get; set; }

        /// <summary>Where a piece message's block goes instead of a pooled buffer (null: always a pooled buffer). Asked
        /// once per piece message, after every length check has passed and before any byte of the block is read.</summary>
        public BlockDestinationResolver? BlockDestination { get; set; }

        /// <summary>Bytes read from the stream so far.</summary>
        public long BytesReceived { get; private set; }

        private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PeerMessageReader));

        /// <summary>Reads the peer's handshake. The protocol string is checked as soon as its 20 bytes arrive; with
        /// a non-empty <paramref name="expectedInfoHash"/> the info-hash must match.</summary>
        /// <exception cref="EndOfStreamException">The peer closed the connection before sending a byte.</exception>
        /// <exception cref="PeerProtocolException">Wrong protocol string, wrong info-hash, or a cut-off handshake.</exception>
        public async ValueTask<Handshake> ReadHandshakeAsync(ReadOnlyMemory<byte> expectedInfoHash, CancellationToken cancellationToken = default)
        {
            await FillAsync(1, atFrameStart: true, cancellationToken).ConfigureAwait(false);
            // A first byte other than 19 is not BitTorrent (an HTTP server, a TLS port …): say so now rather than
            // wait for 20 bytes that may never come.
            if (Buffer[_start] != Handshake.ProtocolString.Length) Handshake.ValidatePrefix(new ReadOnlySpan<byte>(Buffer, _start, _end - _start));
            await FillAsync(Handshake.PrefixLength, atFrameStart: false, cancellationToken).ConfigureAwait(false);
            Handshake.ValidatePrefix(new ReadOnlySpan<byte>(Buffer, _start, Handshake.PrefixLength));
            await FillAsync(Handshake.Length, atFrameStart: false, cancellationToken).ConfigureAwait(false);
            var handshake = Handshake.Parse(new ReadOnlySpan<byte>(Buffer, _start, Handshake.Length), expectedInfoHash.Span);
            Consume(Handshake.Length);
            return handshake;
        }

        /// <summary>Reads the next message. Dispose it (or its <see cref="PeerMessage.PayloadOwner"/>) when done.</summary>
        /// <exception cref="EndOfStreamException">The peer closed the connection between two messages.</exception>
        /// <exception cref="PeerProtocolException">The peer broke the protocol; close the connection.</exception>
        public async ValueTask<PeerMessage> ReadAsync(CancellationToken cancellationToken = default)
        {
            await FillAsync(4, atFrameStart: true, cancellationToken).ConfigureAwait(false);
            uint prefix = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(Buffer, _start, 4));
            var limits = Limits;
            PeerMessageCodec.CheckFrameLength(prefix, limits);
            if (prefix == 0)
            {
                Consume(4);
                return PeerMessage.KeepAlive;
            }

            int frameLength = (int)prefix;
            await FillAsync(5, atFrameStart: false, cancellationToken).ConfigureAwait(false);
            byte id = Buffer[_start + 4];
            PeerMessageCodec.CheckLengthForId(id, frameLength, limits);
            var kind = (PeerMessageId)id;

            if (!PeerMessageCodec.IsKnown(kind))
            {
                Consume(5);
                await SkipAsync(frameLength - 1, cancellationToken).ConfigureAwait(false);
                return PeerMessage.Unknown(id);
            }

            if (!PeerMessageCodec.HasPayload(kind))
            {
                await FillAsync(4 + frameLength, atFrameStart: false, cancellationToken).ConfigureAwait(false);
                var message = PeerMessageCodec.ParseFixed(id, new ReadOnlySpan<byte>(Buffer, _start + 5, frameLength - 1), limits);
                Consume(4 + frameLength);
                return message;
            }

            int header = kind == PeerMessageId.Piece ? PeerMessageCodec.PieceHeaderLength : kind == PeerMessageId.Extended ? 2 : 1;
            await FillAsync(4 + header, atFrameStart: false, cancellationToken).ConfigureAwait(false);
            int index = 0, begin = 0;
            byte extendedId = 0;
            if (kind == PeerMessageId.Piece) (index, begin) = PeerMessageCodec.ParsePieceHeader(new ReadOnlySpan<byte>(Buffer, _start + 5, 8), limits);
            else if (kind == PeerMessageId.Extended) extendedId = Buffer[_start + 5];
            Consume(4 + header);

            if (kind == PeerMessageId.Piece && BlockDestination is BlockDestinationResolver resolve &&
                TakeDestination(resolve, index, begin, frameLength - header) is (IMemoryOwner<byte> target, ArraySegment<byte> room))
            {
                try
                {
                    await ReadExactlyAsync(room.Array!, room.Offset, room.Count, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    target.Dispose();
                    throw;
                }
                return PeerMessage.WithPayload(kind, target, target.Memory, index, begin);
            }

            var payload = new PooledBuffer(frameLength - header);
            try
            {
                await ReadExactlyAsync(payload.Array, 0, payload.Length, cancellationToken).ConfigureAwait(false);
                if (kind == PeerMessageId.Bitfield && limits.PieceCount is int pieces)
                    Bitfield.ValidateWireFormat(payload.Memory.Span, pieces);
            }
            catch
            {
                payload.Dispose();
                throw;
            }
            return PeerMessage.WithPayload(kind, payload, index, begin, extendedId);
        }

        public void Dispose()
        {
            var buffer = Interlocked.Exchange(ref _buffer, null);
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }

        /// <summary>Asks the resolver for the block's memory; anything other than exactly <paramref name="length"/>
        /// array-backed bytes is given back and the pooled path is used.</summary>
        private static (IMemoryOwner<byte>, ArraySegment<byte>)? TakeDestination(BlockDestinationResolver resolve, int index, int begin, int length)
        {
            var target = resolve(index, begin, length);
            if (target is null) return null;
            var memory = target.Memory;
            if (memory.Length == length && MemoryMarshal.TryGetArray<byte>(memory, out var room)) return (target, room);
            target.Dispose();
            return null;
        }

        private void Consume(int count)
        {
            _start += count;
            if (_start == _end) _start = _end = 0;
        }

        /// <summary>Makes at least <paramref name="count"/> bytes (count ≤ buffer size) available at _start.</summary>
        private ValueTask FillAsync(int count, bool atFrameStart, CancellationToken cancellationToken) =>
            _end - _start >= count ? default : new ValueTask(FillSlowAsync(count, atFrameStart, cancellationToken));

        private async Task FillSlowAsync(int count, bool atFrameStart, CancellationToken cancellationToken)
        {
            var buffer = Buffer;
            if (_start + count > buffer.Length)
            {
                System.Buffer.BlockCopy(buffer, _start, buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            while (_end - _start < count)
            {
                int read = await _stream.ReadAsync(buffer, _end, buffer.Length - _end, cancellationToken).ConfigureAwait(false);
                if (read <= 0) throw EndOfStream(atFrameStart && _end == _start);
                _end += read;
                BytesReceived += read;
            }
        }

        /// <summary>Fills destination[offset..offset+count) from what is buffered, then from the stream: a large remainder goes
        /// straight into <paramref name="destination"/> (no second copy), a small one through the receive buffer.
        /// Why the buffer: a 64 KiB read ends a few bytes into the next block, and reading just those bytes on their
        /// own cost one more syscall (and often an async completion) per 64 KiB, half of all reads in a profile; a
        /// buffered read takes them together with whatever the peer has sent since.</summary>
        private async Task ReadExactlyAsync(byte[] destination, int offset, int count, CancellationToken cancellationToken)
        {
            int filled = 0;
            while (true)
            {
                int buffered = Math.Min(count - filled, _end - _start);
                System.Buffer.BlockCopy(Buffer, _start, destination, offset + filled, buffered);
                Consume(buffered);
                filled += buffered;
                int left = count - filled;
                if (left == 0) return;
                if (left > Buffer.Length / 2)
                {
                    int read = await _stream.ReadAsync(destination, offset + filled, left, cancellationToken).ConfigureAwait(false);
                    if (read <= 0) throw EndOfStream(false);
                    filled += read;
                    BytesReceived += read;
                }
                else
                {
                    // The buffer is empty here (all of it was consumed above): one read refills it.
                    await FillSlowAsync(1, atFrameStart: false, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async Task SkipAsync(int count, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                if (_end == _start) await FillAsync(1, atFrameStart: false, cancellationToken).ConfigureAwait(false);
                int n = Math.Min(count, _end - _start);
                Consume(n);
                count -= n;
            }
        }

        private static Exception EndOfStream(bool clean) => clean
            ? new EndOfStreamException("The peer closed the connection.")
            : new PeerProtocolException(PeerProtocolError.TruncatedFrame, "The peer closed the connection in the middle of a message.");
    }
}
