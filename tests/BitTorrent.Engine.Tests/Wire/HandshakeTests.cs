using System.Text;
using BitTorrent.Wire;
using Xunit;
using static BitTorrent.Tests.Wire.WireTestData;

namespace BitTorrent.Tests.Wire;

public class HandshakeTests
{
    [Fact]
    public void Encodes_the_BEP3_layout_with_our_capability_bits()
    {
        var bytes = Handshake.Create(InfoHash, PeerId, extensionProtocol: true, fastExtension: true, dht: true).ToArray();

        Assert.Equal(68, bytes.Length);
        Assert.Equal(19, bytes[0]);
        Assert.Equal("BitTorrent protocol", Encoding.ASCII.GetString(bytes, 1, 19));
        // reserved: byte 5 bit 0x10 (BEP 10), byte 7 bits 0x04 (BEP 6) and 0x01 (DHT); nothing else.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0x05 }, bytes.AsSpan(20, 8).ToArray());
        Assert.Equal(InfoHash, bytes.AsSpan(28, 20).ToArray());
        Assert.Equal(PeerId, bytes.AsSpan(48, 20).ToArray());
    }

    [Fact]
    public void Parses_a_hand_built_handshake_and_reads_each_reserved_bit()
    {
        var reserved = new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0x05 };
        var parsed = Handshake.Parse(RawHandshake(InfoHash, PeerId, reserved), InfoHash);
        Assert.True(parsed.SupportsExtensionProtocol);
        Assert.True(parsed.SupportsFastExtension);
        Assert.True(parsed.SupportsDht);
        Assert.Equal(PeerId, parsed.PeerId.ToArray());

        var plain = Handshake.Parse(RawHandshake(InfoHash, PeerId, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xEF, 0xFF, 0xFA }));
        Assert.False(plain.SupportsExtensionProtocol);
        Assert.False(plain.SupportsFastExtension);
        Assert.False(plain.SupportsDht);
    }

    [Fact]
    public void Rejects_a_wrong_info_hash()
    {
        var ex = Assert.Throws<PeerProtocolException>(() => Handshake.Parse(RawHandshake(OtherInfoHash, PeerId), InfoHash));
        Assert.Equal(PeerProtocolError.InfoHashMismatch, ex.Error);
        Assert.Contains(Hex.ToLower(OtherInfoHash), ex.Message);
    }

    [Theory]
    [InlineData("BitTorrent protocoL")]
    [InlineData("Bittorrent protocol")]
    [InlineData("BitTorrent protocol2")]
    [InlineData("HTTP/1.1 400 Bad Request")]
    public void Rejects_a_wrong_protocol_string(string pstr)
    {
        var ex = Assert.Throws<PeerProtocolException>(() => Handshake.Parse(RawHandshake(InfoHash, PeerId, pstr: pstr)));
        Assert.Equal(PeerProtocolError.WrongProtocolString, ex.Error);
    }

    [Fact]
    public void Rejects_a_truncated_handshake()
    {
        var ex = Assert.Throws<PeerProtocolException>(() => Handshake.Parse(RawHandshake(InfoHash, PeerId).AsSpan(0, 67)));
        Assert.Equal(PeerProtocolError.TruncatedFrame, ex.Error);
    }

    [Fact]
    public async Task Reader_takes_the_handshake_and_the_messages_behind_it_from_one_buffer()
    {
        var bytes = RawHandshake(InfoHash, PeerId).Concat(Frame(0x0E)).Concat(Frame(4, 0, 0, 0, 7)).ToArray();
        using var reader = Reader(bytes, pieceCount: 10);

        var handshake = await reader.ReadHandshakeAsync(InfoHash);
        Assert.Equal(PeerId, handshake.PeerId.ToArray());
        Assert.Equal(PeerMessageId.HaveAll, (await reader.ReadAsync()).Id);
        var have = await reader.ReadAsync();
        Assert.Equal((PeerMessageId.Have, 7), (have.Id, have.Index));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync());
    }

    [Fact]
    public async Task Reader_stops_at_the_first_byte_when_it_is_not_19()
    {
        // An HTTP server answers with "HTTP/1.1 …" and may then wait: we must not wait for 20 bytes.
        var stream = new TrickleStream(Encoding.ASCII.GetBytes("H"));
        using var reader = new PeerMessageReader(stream);
        var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadHandshakeAsync(InfoHash));
        Assert.Equal(PeerProtocolError.WrongProtocolString, ex.Error);
        Assert.Equal(1, reader.BytesReceived);
    }

    [Fact]
    public async Task Reader_reports_a_wrong_info_hash_and_a_silent_close_differently()
    {
        using (var reader = Reader(RawHandshake(OtherInfoHash, PeerId)))
        {
            var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadHandshakeAsync(InfoHash));
            Assert.Equal(PeerProtocolError.InfoHashMismatch, ex.Error);
        }
        using (var reader = Reader(Array.Empty<byte>()))
        {
            await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadHandshakeAsync(InfoHash));
        }
        using (var reader = Reader(RawHandshake(InfoHash, PeerId).AsSpan(0, 40).ToArray()))
        {
            var ex = await Assert.ThrowsAsync<PeerProtocolException>(async () => await reader.ReadHandshakeAsync(InfoHash));
            Assert.Equal(PeerProtocolError.TruncatedFrame, ex.Error);
        }
    }

    /// <summary>Returns its bytes one per read; a further read fails the test (a real peer would just go quiet).</summary>
    private sealed class TrickleStream(byte[] bytes) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_position >= bytes.Length) throw new InvalidOperationException("The reader waited for more bytes than the peer sent.");
            buffer[offset] = bytes[_position++];
            return Task.FromResult(1);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
