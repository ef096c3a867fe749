using System.Buffers;
using System.Runtime.InteropServices;
using BitTorrent.Wire;
using Xunit;
using static BitTorrent.Tests.Wire.WireTestData;

namespace BitTorrent.Tests.Wire;

/// <summary>A piece message's block read straight into memory the consumer names (the piece's buffer), instead of a
/// pooled buffer the consumer then copies from: the same checks, the same bytes, and the memory given back when the
/// block cannot be read whole.</summary>
public class PeerMessageReaderDirectReceiveTests
{
    private const int Pieces = 20;

    private static byte[] Block(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed)).ToArray();

    /// <summary>Hands out slices of one "piece buffer" and records every call and every return.</summary>
    private sealed class Destinations
    {
        public byte[] Piece { get; } = new byte[4 * 16384];
        public List<(int Index, int Begin, int Length)> Asked { get; } = new();
        public List<Slice> Given { get; } = new();
        public Func<int, int, int, IMemoryOwner<byte>?>? Override { get; set; }

        public IMemoryOwner<byte>? Resolve(int index, int begin, int length)
        {
            Asked.Add((index, begin, length));
            if (Override is not null) return Override(index, begin, length);
            var slice = new Slice(new Memory<byte>(Piece, begin, length));
            Given.Add(slice);
            return slice;
        }
    }

    private sealed class Slice(Memory<byte> memory) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = memory;
        public int Disposals { get; private set; }
        public void Dispose() => Disposals++;
    }

    private static PeerMessageReader ReaderOver(byte[] wire, Destinations destinations, int chunk = int.MaxValue, int bufferSize = PeerMessageReader.DefaultBufferSize)
    {
        var reader = new PeerMessageReader(new ChunkedStream(wire, chunk), PeerMessageLimits.Default.WithPieceCount(Pieces), bufferSize);
        reader.BlockDestination = destinations.Resolve;
        return reader;
    }

    [Theory]
    [InlineData(int.MaxValue, PeerMessageReader.DefaultBufferSize)]  // the whole block already buffered
    [InlineData(1000, PeerMessageReader.DefaultBufferSize)]          // trickles in through the receive buffer
    [InlineData(int.MaxValue, 128)]                                  // most of it read from the stream straight into place
    public async Task A_wanted_block_is_read_into_the_memory_the_resolver_names(int chunk, int bufferSize)
    {
        var block = Block(16384, 1);
        var wire = PeerMessageCodec.Encode(PeerMessage.Piece(3, 16384, block))
            .Concat(PeerMessageCodec.Encode(PeerMessage.Have(5))).ToArray();
        var destinations = new Destinations();
        using var reader = ReaderOver(wire, destinations, chunk, bufferSize);

        var message = await reader.ReadAsync();

        Assert.Equal(PeerMessageId.Piece, message.Id);
        Assert.Equal((3, 16384), (message.Index, message.Begin));
        Assert.Equal(16384, message.Length);
        Assert.Equal(new[] { (3, 16384, 16384) }, destinations.Asked);
        var given = Assert.Single(destinations.Given);
        Assert.Same(given, message.PayloadOwner);                       // no pooled buffer in between
        Assert.Equal(block, destinations.Piece.AsSpan(16384, 16384).ToArray());
        Assert.True(MemoryMarshal.TryGetArray(message.Payload, out var payload));
        Assert.Same(destinations.Piece, payload.Array);
        Assert.Equal(16384, payload.Offset);
        Assert.Equal(0, given.Disposals);
        message.Dispose();
        Assert.Equal(1, given.Disposals);                               // the consumer's dispose reaches the owner

        var next = await reader.ReadAsync();                            // the stream is in step after the block
        Assert.Equal((PeerMessageId.Have, 5), (next.Id, next.Index));
        Assert.Equal(wire.Length, reader.BytesReceived);
    }

    [Fact]
    public async Task A_null_from_the_resolver_means_a_pooled_buffer_as_before()
    {
        var block = Block(5000, 2);
        var destinations = new Destinations { Override = (_, _, _) => null };
        using var reader = ReaderOver(PeerMessageCodec.Encode(PeerMessage.Piece(1, 0, block)), destinations);

        using var message = await reader.ReadAsync();

        Assert.IsType<PooledBuffer>(message.PayloadOwner);
        Assert.Equal(block, message.Payload.ToArray());
        Assert.Equal(new[] { (1, 0, 5000) }, destinations.Asked);
        Assert.All(destinations.Piece, b => Assert.Equal(0, b));        // nothing written where it was not asked
    }

    [Theory]
    [InlineData(100)]     // shorter than the block
    [InlineData(16385)]   // longer than the block
    public async Task Memory_of_the_wrong_length_is_given_back_and_the_pooled_path_used(int length)
    {
        var block = Block(16384, 3);
        var wrong = new Slice(new byte[length]);
        var destinations = new Destinations { Override = (_, _, _) => wrong };
        using var reader = ReaderOver(PeerMessageCodec.Encode(PeerMessage.Piece(2, 0, block)), destinations);

        using var message = await reader.ReadAsync();

        Assert.Equal(1, wrong.Disposals);
        Assert.IsType<PooledBuffer>(message.PayloadOwner);
        Assert.Equal(block, message.Payload.ToArray());
        Assert.All(wrong.Memory.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Memory_not_backed_by_an_array_is_given_back_and_the_pooled_path_used()
    {
        var block = Block(16384, 4);
        using var native = new NativeMemory(16384);
        var destinations = new Destinations { Override = (_, _, _) => native };
        using var reader = ReaderOver(PeerMessageCodec.Encode(PeerMessage.Piece(2, 0, block)), destinations);

        using var message = await reader.ReadAsync();

        Assert.Equal(1, native.Disposals);
        Assert.Equal(block, message.Payload.ToArray());
    }

    [Fact]
    public async Task A_piece_longer_than_a_block_ends_the_connection_before_the_resolver_is_asked()
    {
        var wire = BigEndian(9 + 16384 + 1).Concat(new byte[] { 7, 0, 0, 0, 1, 0, 0, 0, 0 }).Concat(new byte[16385]).ToArray();
        var destinations = new Destinations();
        using var reader = ReaderOver(wire, destinations);

        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());

        Assert.Equal(PeerProtocolError.MessageTooLarge, ex.Error);
        Assert.Empty(destinations.Asked);
        Assert.All(destinations.Piece, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task A_piece_index_outside_the_torrent_ends_the_connection_before_the_resolver_is_asked()
    {
        var wire = Frame(new byte[] { 7, 0, 0, 0, Pieces, 0, 0, 0, 0 }.Concat(new byte[100]).ToArray());
        var destinations = new Destinations();
        using var reader = ReaderOver(wire, destinations);

        await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());

        Assert.Empty(destinations.Asked);
    }

    [Theory]
    [InlineData(9 + 4 + 10)]        // cut inside what was buffered with the header
    [InlineData(9 + 4 + 16000)]     // cut inside the part read straight from the stream
    public async Task A_block_cut_off_by_the_peer_gives_its_memory_back_once(int keep)
    {
        var wire = PeerMessageCodec.Encode(PeerMessage.Piece(0, 0, Block(16384, 5))).AsSpan(0, keep).ToArray();
        var destinations = new Destinations();
        using var reader = ReaderOver(wire, destinations, chunk: 4096, bufferSize: 128);

        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());

        Assert.Equal(PeerProtocolError.TruncatedFrame, ex.Error);
        Assert.Equal(1, Assert.Single(destinations.Given).Disposals);
    }

    [Fact]
    public async Task Only_piece_messages_ask_the_resolver()
    {
        var wire = PeerMessageCodec.Encode(PeerMessage.Bitfield(new byte[] { 0xFF, 0xFF, 0xF0 }))
            .Concat(PeerMessageCodec.Encode(PeerMessage.Extended(0, "d1:v3:abce"u8.ToArray())))
            .Concat(PeerMessageCodec.Encode(PeerMessage.Request(1, 0, 16384)))
            .Concat(Frame(0x55, 1, 2, 3))                                 // an unknown id, skipped
            .Concat(PeerMessageCodec.Encode(PeerMessage.Have(2))).ToArray();
        var destinations = new Destinations();
        using var reader = ReaderOver(wire, destinations);

        for (int i = 0; i < 5; i++) (await reader.ReadAsync()).Dispose();

        Assert.Empty(destinations.Asked);
    }

    /// <summary>Serves its bytes at most <c>chunk</c> per read, like a socket.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), bytes.Length - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Memory that does not say which array it is (as unmanaged memory would not), so the reader cannot
    /// hand it to Stream.ReadAsync.</summary>
    private sealed class NativeMemory(int length) : MemoryManager<byte>
    {
        private readonly byte[] _bytes = new byte[length];
        public int Disposals { get; private set; }
        public override Span<byte> GetSpan() => _bytes;
        public override MemoryHandle Pin(int elementIndex = 0) => default;
        public override void Unpin() { }
        protected override void Dispose(bool disposing) => Disposals++;
    }
}
