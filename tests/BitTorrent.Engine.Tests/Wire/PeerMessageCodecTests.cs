using System.Diagnostics;
using BitTorrent.Wire;
using Xunit;
using static BitTorrent.Tests.Wire.WireTestData;

namespace BitTorrent.Tests.Wire;

public class PeerMessageCodecTests
{
    private const int Pieces = 20;   // 3 bitfield bytes, 4 spare bits

    public static TheoryData<string, byte[]> EveryMessage()
    {
        var block = Enumerable.Range(0, 16384).Select(i => (byte)(i * 7)).ToArray();
        var data = new TheoryData<string, byte[]>();
        void Add(string name, PeerMessage m, byte[] expectedWire)
        {
            Assert.Equal(expectedWire, PeerMessageCodec.Encode(m));   // the codec writes exactly BEP 3's bytes
            data.Add(name, expectedWire);
        }
        Add("keep-alive", PeerMessage.KeepAlive, new byte[] { 0, 0, 0, 0 });
        Add("choke", PeerMessage.Choke, Frame(0));
        Add("unchoke", PeerMessage.Unchoke, Frame(1));
        Add("interested", PeerMessage.Interested, Frame(2));
        Add("not interested", PeerMessage.NotInterested, Frame(3));
        Add("have", PeerMessage.Have(19), Frame(4, 0, 0, 0, 19));
        Add("bitfield", PeerMessage.Bitfield(new byte[] { 0xFF, 0x0F, 0xA0 }), Frame(5, 0xFF, 0x0F, 0xA0));
        Add("request", PeerMessage.Request(3, 16384, 16384), Frame(6, 0, 0, 0, 3, 0, 0, 0x40, 0, 0, 0, 0x40, 0));
        Add("piece", PeerMessage.Piece(2, 32768, block), Frame(new byte[] { 7, 0, 0, 0, 2, 0, 0, 0x80, 0 }.Concat(block).ToArray()));
        Add("cancel", PeerMessage.Cancel(3, 16384, 16384), Frame(8, 0, 0, 0, 3, 0, 0, 0x40, 0, 0, 0, 0x40, 0));
        Add("port", PeerMessage.DhtPort(6881), Frame(9, 0x1A, 0xE1));
        Add("suggest", PeerMessage.Suggest(5), Frame(0x0D, 0, 0, 0, 5));
        Add("have all", PeerMessage.HaveAll, Frame(0x0E));
        Add("have none", PeerMessage.HaveNone, Frame(0x0F));
        Add("reject request", PeerMessage.RejectRequest(1, 0, 16384), Frame(0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0));
        Add("allowed fast", PeerMessage.AllowedFast(17), Frame(0x11, 0, 0, 0, 17));
        Add("extended handshake", PeerMessage.Extended(0, "d1:md11:ut_metadatai3eee"u8.ToArray()),
            Frame(new byte[] { 20, 0 }.Concat("d1:md11:ut_metadatai3eee"u8.ToArray()).ToArray()));
        Add("extended with trailing data", PeerMessage.Extended(3, "d8:msg_typei1e5:piecei0eeRAW"u8.ToArray()),
            Frame(new byte[] { 20, 3 }.Concat("d8:msg_typei1e5:piecei0eeRAW"u8.ToArray()).ToArray()));
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryMessage))]
    public async Task Every_message_round_trips_through_the_reader(string name, byte[] wire)
    {
        using var reader = Reader(wire, Pieces);
        using var message = await reader.ReadAsync();
        Assert.Equal(wire, PeerMessageCodec.Encode(message));   // decoded fields re-encode to the same bytes
        Assert.Equal(wire.Length, reader.BytesReceived);
        Assert.False(message.IsUnknown, name);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync());
    }

    [Fact]
    public async Task Decoded_fields_are_the_ones_encoded()
    {
        var block = new byte[] { 1, 2, 3 };
        var wire = new[]
        {
            PeerMessage.Request(7, 49152, 16384), PeerMessage.Piece(8, 16384, block), PeerMessage.DhtPort(51413),
            PeerMessage.Extended(2, new byte[] { 0x64, 0x65 }), PeerMessage.RejectRequest(9, 0, 100),
        }.SelectMany(m => PeerMessageCodec.Encode(m)).ToArray();
        using var reader = Reader(wire, Pieces);

        var request = await reader.ReadAsync();
        Assert.Equal((PeerMessageId.Request, 7, 49152, 16384), (request.Id, request.Index, request.Begin, request.Length));
        using (var piece = await reader.ReadAsync())
        {
            Assert.Equal((PeerMessageId.Piece, 8, 16384, 3), (piece.Id, piece.Index, piece.Begin, piece.Length));
            Assert.Equal(block, piece.Payload.ToArray());
            Assert.NotNull(piece.PayloadOwner);   // pooled, returned by Dispose
        }
        Assert.Equal(51413, (await reader.ReadAsync()).Port);
        using (var ext = await reader.ReadAsync())
        {
            Assert.Equal((PeerMessageId.Extended, (byte)2), (ext.Id, ext.ExtendedId));
            Assert.Equal(new byte[] { 0x64, 0x65 }, ext.Payload.ToArray());
        }
        var reject = await reader.ReadAsync();
        Assert.Equal((PeerMessageId.RejectRequest, 9, 0, 100), (reject.Id, reject.Index, reject.Begin, reject.Length));
    }

    [Fact]
    public async Task Unknown_ids_are_skipped_without_losing_the_next_message()
    {
        var wire = Frame(21, 1, 2, 3, 4, 5).Concat(Frame(4, 0, 0, 0, 2)).ToArray();
        using var reader = Reader(wire, Pieces);
        var unknown = await reader.ReadAsync();
        Assert.True(unknown.IsUnknown);
        Assert.Equal(21, (int)unknown.Id);
        Assert.True(unknown.Payload.IsEmpty);
        Assert.Equal(2, (await reader.ReadAsync()).Index);
    }

    [Theory]
    [InlineData(0x7FFFFFFFu, null)]
    [InlineData(0xFFFFFFFFu, null)]
    [InlineData(0x7FFFFFFFu, Pieces)]
    public async Task A_huge_length_prefix_is_rejected_after_four_bytes_without_allocating_it(uint prefix, int? pieceCount)
    {
        var stream = new CountingStream(BigEndian(prefix).Concat(new byte[] { 7 }).Concat(new byte[64]).ToArray(), chunk: 4);
        using var reader = new PeerMessageReader(stream, PeerMessageLimits.Default.WithPieceCount(pieceCount));
        await WarmUpAsync();

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(PeerProtocolError.MessageTooLarge, ex.Error);
        Assert.Equal(4, stream.BytesRead);                 // only the prefix was read
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes for a {prefix}-byte claim");
    }

    [Fact]
    public async Task A_piece_claiming_a_1_MiB_block_is_rejected_before_its_payload_is_read()
    {
        // Within the frame cap when the piece count is huge (bitfields may then be big), so the id check must catch it.
        var wire = BigEndian(9 + 1024 * 1024).Concat(new byte[] { 7, 0, 0, 0, 0, 0, 0, 0, 0 }).Concat(new byte[1024]).ToArray();
        var stream = new CountingStream(wire, chunk: 5);
        using var reader = new PeerMessageReader(stream, PeerMessageLimits.Default.WithPieceCount(PeerMessageLimits.MaxPieceCount));
        await WarmUpAsync();

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(PeerProtocolError.MessageTooLarge, ex.Error);
        Assert.Equal(5, stream.BytesRead);                 // prefix and id, nothing of the block
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes for a 1 MiB claim");
    }

    [Theory]
    [InlineData(5, 5)]        // bitfield one byte longer than 20 pieces need → too large for this torrent
    [InlineData(4, 10)]       // have must be 5 bytes
    [InlineData(6, 1)]        // request without its fields
    [InlineData(14, 2)]       // have all with a payload
    [InlineData(9, 5)]        // port must be 3 bytes
    [InlineData(20, 1)]       // extended without its extended id
    [InlineData(7, 9)]        // piece without a block
    public async Task Lengths_that_do_not_fit_the_id_are_rejected(byte id, int frameLength)
    {
        var wire = BigEndian((uint)frameLength).Concat(new[] { id }).Concat(new byte[frameLength - 1]).ToArray();
        using var reader = Reader(wire, Pieces);
        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());
        Assert.Contains(ex.Error, new[] { PeerProtocolError.MalformedMessage, PeerProtocolError.MessageTooLarge });
    }

    [Fact]
    public async Task A_bitfield_of_the_wrong_length_or_with_spare_bits_set_is_rejected()
    {
        using (var reader = Reader(Frame(5, 0xFF, 0xFF), Pieces))   // 2 bytes for 20 pieces
        {
            var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());
            Assert.Equal(PeerProtocolError.BitfieldWrongLength, ex.Error);
        }
        using (var reader = Reader(Frame(5, 0xFF, 0xFF, 0xF8), Pieces))   // bit 20 set: spare
        {
            var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());
            Assert.Equal(PeerProtocolError.BitfieldSpareBitsSet, ex.Error);
        }
        using (var reader = Reader(Frame(5, 0xFF, 0xFF, 0xF0), Pieces))   // exactly 20 pieces: fine
        {
            using var ok = await reader.ReadAsync();
            Assert.Equal(20, Bitfield.FromWire(ok.Payload.Span, Pieces).Count);
        }
    }

    [Fact]
    public async Task Out_of_range_fields_are_rejected()
    {
        async Task<PeerProtocolError> ErrorOf(byte[] wire)
        {
            using var reader = Reader(wire, Pieces);
            return (await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync())).Error;
        }
        Assert.Equal(PeerProtocolError.PieceIndexOutOfRange, await ErrorOf(Frame(4, 0, 0, 0, 20)));          // have 20 of 20
        Assert.Equal(PeerProtocolError.PieceIndexOutOfRange, await ErrorOf(Frame(7, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1)));
        Assert.Equal(PeerProtocolError.MalformedMessage, await ErrorOf(Frame(6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)));   // request 0 bytes
        Assert.Equal(PeerProtocolError.MalformedMessage, await ErrorOf(Frame(6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 1))); // request 16 KiB + 1
        Assert.Equal(PeerProtocolError.MalformedMessage, await ErrorOf(Frame(8, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0x40, 0))); // begin ≥ 2^31
    }

    [Theory]
    [InlineData(2)]    // inside the length prefix
    [InlineData(4)]    // prefix complete, id missing
    [InlineData(7)]    // inside a have
    [InlineData(100)]  // inside a piece's block
    public async Task Truncated_frames_are_reported_as_such(int keep)
    {
        var full = PeerMessageCodec.Encode(keep < 10 ? PeerMessage.Have(3) : PeerMessage.Piece(1, 0, new byte[1000]));
        using var reader = Reader(full.AsSpan(0, keep).ToArray(), Pieces);
        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadAsync());
        Assert.Equal(PeerProtocolError.TruncatedFrame, ex.Error);
    }

    [Fact]
    public async Task Reading_blocks_in_steady_state_allocates_almost_nothing_per_message()
    {
        // 16 KiB blocks behind 64 KiB socket reads: the payload comes from the pool, the fixed messages are structs.
        const int count = 2000;
        var block = new byte[16384];
        var wire = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            wire.Write(PeerMessageCodec.Encode(PeerMessage.Have(i % Pieces)));
            wire.Write(PeerMessageCodec.Encode(PeerMessage.Piece(i % Pieces, 0, block)));
        }
        wire.Position = 0;
        using var reader = new PeerMessageReader(wire, PeerMessageLimits.Default.WithPieceCount(Pieces));
        for (int i = 0; i < 10; i++) (await reader.ReadAsync()).Dispose();   // warm the pool and the JIT

        long before = GC.GetAllocatedBytesForCurrentThread();
        long payloadBytes = 0;
        for (int i = 10; i < 2 * count; i++)
        {
            using var message = await reader.ReadAsync();
            payloadBytes += message.Payload.Length;
        }
        long perMessage = (GC.GetAllocatedBytesForCurrentThread() - before) / (2 * count - 10);

        Assert.Equal((count - 5) * 16384L, payloadBytes);
        // Release: ~34 bytes (the PooledBuffer object and the stream's Task<int>). A Debug build compiles async state
        // machines as classes, so allow for that; either way far from the 16 KiB a per-message array would cost.
        bool optimized = typeof(PeerMessageReader).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .Cast<DebuggableAttribute>().All(a => !a.IsJITOptimizerDisabled);
        Assert.True(perMessage < (optimized ? 128 : 1024), $"{perMessage} bytes allocated per message (optimized: {optimized})");
    }

    [Fact]
    public async Task Writer_batches_messages_into_one_write_and_handles_oversized_payloads()
    {
        var sink = new CountingStream(Array.Empty<byte>(), chunk: 1);
        using var writer = new PeerMessageWriter(sink, bufferSize: 1024);
        await writer.WriteHandshakeAsync(Handshake.Create(InfoHash, PeerId));
        await writer.WriteAsync(PeerMessage.Interested);
        for (int i = 0; i < 10; i++) await writer.WriteAsync(PeerMessage.Request(i, 0, 16384));
        Assert.Equal(0, sink.Writes);                                      // nothing written yet
        await writer.FlushAsync();
        Assert.Equal(1, sink.Writes);                                      // one write for all of it
        var bigBitfield = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();   // larger than the 1 KiB buffer
        await writer.WriteAsync(PeerMessage.Bitfield(bigBitfield));
        await writer.WriteAsync(PeerMessage.Have(1));
        await writer.FlushAsync();

        var expected = Handshake.Create(InfoHash, PeerId).ToArray()
            .Concat(PeerMessageCodec.Encode(PeerMessage.Interested))
            .Concat(Enumerable.Range(0, 10).SelectMany(i => PeerMessageCodec.Encode(PeerMessage.Request(i, 0, 16384))))
            .Concat(PeerMessageCodec.Encode(PeerMessage.Bitfield(bigBitfield)))
            .Concat(PeerMessageCodec.Encode(PeerMessage.Have(1))).ToArray();
        Assert.Equal(expected, sink.Written.ToArray());
        Assert.Equal(expected.Length, writer.BytesSent);
    }

    [Fact]
    public void A_pooled_payload_is_returned_once_even_if_the_message_is_disposed_twice()
    {
        var buffer = new PooledBuffer(100);
        var copy1 = buffer;
        buffer.Dispose();
        copy1.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.Memory);
    }

    private static async Task WarmUpAsync()
    {
        // JIT the paths once so the measured call counts only what it allocates itself.
        using var reader = Reader(BigEndian(0x7FFFFFFF).Concat(new byte[] { 7 }).ToArray());
        try { await reader.ReadAsync(); } catch (PeerProtocolException) { }
        using var reader2 = Reader(BigEndian(9 + 1024 * 1024).Concat(new byte[] { 7 }).ToArray(), PeerMessageLimits.MaxPieceCount);
        try { await reader2.ReadAsync(); } catch (PeerProtocolException) { }
    }

    /// <summary>Serves its bytes at most <c>chunk</c> per read (like a socket) and counts what was read and written.</summary>
    private sealed class CountingStream(byte[] bytes, int chunk) : Stream
    {
        private int _position;
        public int BytesRead => _position;
        public int Writes { get; private set; }
        public MemoryStream Written { get; } = new();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
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
        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes++;
            Written.Write(buffer, offset, count);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
