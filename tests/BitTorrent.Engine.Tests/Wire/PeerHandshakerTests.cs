using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BitTorrent.Bencoding;
using BitTorrent.Wire;
using Xunit;
using static BitTorrent.Tests.Wire.WireTestData;

namespace BitTorrent.Tests.Wire;

/// <summary>PeerHandshaker against scripted peers on real loopback sockets.</summary>
public class PeerHandshakerTests
{
    private static readonly byte[] AllBits = { 0, 0, 0, 0, 0, 0x10, 0, 0x05 };   // extension protocol, fast, DHT

    private static PeerHandshakeOptions Options(int? pieces = 20, double timeoutSec = 15) =>
        // A long message window, so that 'stops as soon as it has what it needs' can be told from 'waited for the
        // window' with bounds that hold on a loaded two-core CI machine.
        new(InfoHash) { PieceCount = pieces, Timeout = TimeSpan.FromSeconds(timeoutSec), MessageWindow = TimeSpan.FromSeconds(10) };

    private static byte[] ExtendedFrame(string bencodedDict) =>
        Frame(new byte[] { 20, 0 }.Concat(Encoding.Latin1.GetBytes(bencodedDict)).ToArray());

    [Fact]
    public async Task Reports_what_a_full_featured_peer_says_and_sends_our_greeting()
    {
        byte[]? ourHandshake = null;
        (int Id, byte[] Body) ourExtended = default, ourAvailability = default;
        await using var peer = new FakePeer(async (s, t) =>
        {
            ourHandshake = await FakePeer.ReadExactlyAsync(s, 68, t);
            // 20 pieces: bitfield with 15 set (0–14), then have 17, then the extended handshake last.
            var reply = RawHandshake(InfoHash, Encoding.ASCII.GetBytes("-TR3000-abcdefghijkl"), AllBits)
                .Concat(Frame(5, 0xFF, 0xFE, 0x00))
                .Concat(Frame(4, 0, 0, 0, 17))
                .Concat(Frame(9, 0x1A, 0xE1))
                .Concat(ExtendedFrame("d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei999e1:pi51413e4:reqqi512e1:v17:Transmission 3.006:yourip4:\u007f\u0000\u0000\u0001e"))
                .ToArray();
            await s.WriteAsync(reply, t);
            ourExtended = await FakePeer.ReadFrameAsync(s, t);
            ourAvailability = await FakePeer.ReadFrameAsync(s, t);
            await FakePeer.DrainAsync(s, t);
        });

        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None);
        await peer.Completion;

        Assert.Equal(peer.EndPoint, result.EndPoint);
        Assert.Equal(Hex.ToLower(InfoHash), result.InfoHash);
        Assert.Equal("Transmission 3.00", result.Client);
        Assert.Equal("-TR3000-abcdefghijkl", result.PeerIdText);
        Assert.Equal(Hex.ToLower(Encoding.ASCII.GetBytes("-TR3000-abcdefghijkl")), result.PeerId);
        Assert.True(result.SupportsExtensionProtocol && result.SupportsFastExtension && result.SupportsDht);
        Assert.Equal(new[] { "ut_metadata", "ut_pex" }, result.Extensions);
        Assert.Equal("Transmission 3.00", result.ClientVersion);
        Assert.Equal(51413, result.ListenPort);
        Assert.Equal(512, result.RequestQueue);
        Assert.Equal("127.0.0.1", result.YourIp);
        Assert.Equal(999, result.MetadataSize);
        Assert.Equal(6881, result.DhtPort);
        Assert.False(result.HasAll);
        Assert.Equal(16, result.PiecesHave);
        Assert.Equal(20, result.PieceCount);
        Assert.Equal(80.0, result.PercentComplete);
        Assert.True(result.Bitfield![17] && !result.Bitfield![15]);
        Assert.Equal(new[] { "Bitfield (3 bytes)", "Have 17", "Port 6881", "Extended #0 (114 bytes)" }, result.MessagesReceived);
        Assert.True(result.RoundTrip > TimeSpan.Zero && result.RoundTrip <= result.Elapsed);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(6), "stops as soon as it has the bitfield and the extended handshake");

        // What we sent: BEP 3 handshake with BEP 10 and BEP 6 bits and our peer-id prefix …
        var ours = Handshake.Parse(ourHandshake!, InfoHash);
        Assert.True(ours.SupportsExtensionProtocol && ours.SupportsFastExtension);
        Assert.StartsWith(ClientIdentity.PeerIdPrefix, Encoding.ASCII.GetString(ours.PeerId));
        // … then our extended handshake (v = our name, yourip = the address we reached it at) and 'have none'.
        Assert.Equal((20, (byte)0), (ourExtended.Id, ourExtended.Body![0]));
        var ext = ExtendedHandshake.Decode(ourExtended.Body.AsSpan(1));
        Assert.Equal(ClientIdentity.ClientName, ext.ClientName);
        Assert.Equal(IPAddress.Loopback, ext.YourIp);
        Assert.Equal(250, ext.RequestQueueLength);
        Assert.Equal(0x0F, ourAvailability.Id);
    }

    [Fact]
    public async Task Have_all_means_every_piece()
    {
        await using var peer = Replying(RawHandshake(InfoHash, Encoding.ASCII.GetBytes("-LT2080-abcdefghijkl"), new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0x04 })
            .Concat(ExtendedFrame("d1:md11:ut_metadatai2ee1:v18:libtorrent/2.0.8.0e")).Concat(Frame(0x0E)).ToArray());
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(pieces: 37), CancellationToken.None);

        Assert.Equal("libtorrent (Rasterbar) 2.0.8", result.Client);
        Assert.True(result.HasAll);
        Assert.Equal(37, result.PiecesHave);
        Assert.Equal(100.0, result.PercentComplete);
        Assert.True(result.Bitfield!.IsComplete);
        Assert.False(result.SupportsDht);
    }

    [Fact]
    public async Task Without_the_torrent_a_bitfield_still_gives_a_count_but_no_percentage()
    {
        await using var peer = Replying(RawHandshake(InfoHash, Encoding.ASCII.GetBytes("A2-1-36-0-abcdefghij"), new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0 })
            .Concat(ExtendedFrame("d1:md6:ut_pexi8ee1:v12:aria2/1.36.0e")).Concat(Frame(5, 0xF0, 0x0F)).ToArray());
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(pieces: null), CancellationToken.None);

        Assert.Equal("aria2 1.36.0", result.Client);
        Assert.Equal(8, result.PiecesHave);
        Assert.Null(result.PieceCount);
        Assert.Null(result.PercentComplete);
        Assert.Null(result.Bitfield);
        Assert.False(result.SupportsFastExtension);
    }

    [Fact]
    public async Task A_peer_without_extensions_is_done_after_its_bitfield()
    {
        await using var peer = Replying(RawHandshake(InfoHash, Encoding.ASCII.GetBytes("M4-3-6--abcdefghijkl")).Concat(Frame(5, 0xFF, 0xFF, 0xF0)).ToArray());
        var clock = Stopwatch.StartNew();
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"took {clock.Elapsed}");
        Assert.Equal("Mainline 4.3.6", result.Client);
        Assert.False(result.SupportsExtensionProtocol);
        Assert.Empty(result.Extensions);
        Assert.Null(result.ExtendedHandshake);
        Assert.Equal(100.0, result.PercentComplete);
        Assert.False(result.HasAll);   // a full bitfield, not the have-all message
    }

    [Fact]
    public async Task A_peer_that_hangs_up_after_its_handshake_still_gets_reported()
    {
        await using var peer = new FakePeer(async (s, t) =>
        {
            await FakePeer.ReadExactlyAsync(s, 68, t);
            await s.WriteAsync(RawHandshake(InfoHash, PeerId, AllBits), t);
        });
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None);
        Assert.Equal("qBittorrent 4.5.2", result.Client);
        Assert.Null(result.PiecesHave);
        Assert.Null(result.PercentComplete);
        Assert.Contains("(connection closed)", result.MessagesReceived);
    }

    [Fact]
    public async Task Closes_politely_so_the_peer_sees_end_of_stream_not_a_reset()
    {
        var outcome = "";
        await using var peer = new FakePeer(async (s, t) =>
        {
            await FakePeer.ReadExactlyAsync(s, 68, t);
            await s.WriteAsync(RawHandshake(InfoHash, PeerId).Concat(Frame(5, 0xFF, 0xFF, 0xF0)).Concat(Frame(1)).ToArray(), t);
            try
            {
                var sink = new byte[1024];
                while (await s.ReadAsync(sink, t) > 0) { }
                outcome = "eof";
            }
            catch (IOException) { outcome = "reset"; }
        });
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None);
        await peer.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("eof", outcome);
        Assert.Equal(20, result.PiecesHave);
    }

    [Fact]
    public async Task A_peer_that_never_closes_its_side_costs_at_most_the_linger()
    {
        await using var peer = new FakePeer(async (s, t) =>
        {
            await FakePeer.ReadExactlyAsync(s, 68, t);
            await s.WriteAsync(RawHandshake(InfoHash, PeerId).Concat(Frame(0x0E)).ToArray(), t);
            await FakePeer.DrainAsync(s, t);
            await Task.Delay(TimeSpan.FromSeconds(10), t);   // keeps its side open
        });
        var options = Options();
        options.CloseLinger = TimeSpan.FromSeconds(2);
        var clock = Stopwatch.StartNew();
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), options, CancellationToken.None);
        // The call lingers for the peer to close first (bounded by CloseLinger), but the reported time stops at the answer.
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.9, 12);
        Assert.True(result.Elapsed < clock.Elapsed - TimeSpan.FromSeconds(1.5), $"Elapsed {result.Elapsed} should not include the linger ({clock.Elapsed} in all)");
    }

    [Fact]
    public async Task Wrong_info_hash_is_InfoHashMismatch()
    {
        await using var peer = Replying(RawHandshake(OtherInfoHash, PeerId, AllBits));
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None));
        Assert.Equal(PeerFailure.InfoHashMismatch, ex.Failure);
        Assert.Equal(PeerProtocolError.InfoHashMismatch, ex.ProtocolError);
        Assert.Equal(peer.EndPoint, ex.EndPoint);
    }

    [Fact]
    public async Task A_peer_that_closes_instead_of_answering_is_HandshakeRejected()
    {
        await using var peer = new FakePeer(async (s, t) => await FakePeer.ReadExactlyAsync(s, 68, t));
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None));
        Assert.Equal(PeerFailure.HandshakeRejected, ex.Failure);
    }

    [Fact]
    public async Task Something_that_is_not_BitTorrent_is_a_ProtocolViolation()
    {
        await using var peer = Replying(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n"));
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None));
        Assert.Equal(PeerFailure.ProtocolViolation, ex.Failure);
        Assert.Equal(PeerProtocolError.WrongProtocolString, ex.ProtocolError);
    }

    [Fact]
    public async Task A_bitfield_with_spare_bits_set_is_a_ProtocolViolation()
    {
        await using var peer = Replying(RawHandshake(InfoHash, PeerId).Concat(Frame(5, 0xFF, 0xFF, 0xFF)).ToArray());
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None));
        Assert.Equal(PeerFailure.ProtocolViolation, ex.Failure);
        Assert.Equal(PeerProtocolError.BitfieldSpareBitsSet, ex.ProtocolError);
    }

    [Fact]
    public async Task An_oversized_message_after_the_handshake_is_a_ProtocolViolation()
    {
        await using var peer = Replying(RawHandshake(InfoHash, PeerId).Concat(BigEndian(0x7FFFFFFF)).Concat(new byte[] { 7 }).ToArray());
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None));
        Assert.Equal(PeerFailure.ProtocolViolation, ex.Failure);
        Assert.Equal(PeerProtocolError.MessageTooLarge, ex.ProtocolError);
    }

    [Fact]
    public async Task A_listener_that_never_answers_is_a_Timeout_within_the_limit()
    {
        await using var peer = new FakePeer(async (s, t) => await FakePeer.DrainAsync(s, t));
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(timeoutSec: 1), CancellationToken.None));
        Assert.Equal(PeerFailure.Timeout, ex.Failure);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 8);
    }

    [Fact]
    public async Task A_closed_port_is_ConnectionRefused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse($"127.0.0.1:{port}"), Options(), CancellationToken.None));
        Assert.Equal(PeerFailure.ConnectionRefused, ex.Failure);
    }

    [Fact]
    public async Task Cancellation_is_not_reported_as_a_timeout()
    {
        await using var peer = new FakePeer(async (s, t) => await FakePeer.DrainAsync(s, t));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(timeoutSec: 10), cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Works_over_IPv6_loopback()
    {
        Assert.True(Socket.OSSupportsIPv6, "this machine has no IPv6 loopback");
        await using var peer = Replying(RawHandshake(InfoHash, PeerId, AllBits).Concat(ExtendedFrame("d1:v2:v6e")).Concat(Frame(0x0F)).ToArray(), IPAddress.IPv6Loopback);
        var result = await PeerHandshaker.RunAsync(PeerAddress.Parse(peer.EndPoint), Options(), CancellationToken.None);
        Assert.Equal($"[::1]:{peer.Port}", result.EndPoint);
        Assert.Equal(0, result.PiecesHave);
        Assert.Equal(0.0, result.PercentComplete);
        Assert.Equal("v6", result.ClientVersion);
    }

    [Fact]
    public async Task Connection_reader_and_writer_carry_blocks_both_ways_over_a_real_socket()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accept = listener.AcceptAsync();
        using var client = await PeerConnection.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, PeerMessageLimits.Default.WithPieceCount(64), CancellationToken.None);
        using var server = new PeerConnection(await accept, PeerMessageLimits.Default.WithPieceCount(64));

        var receive = Task.Run(async () =>
        {
            var theirs = await server.Reader.ReadHandshakeAsync(InfoHash);
            var blocks = new List<(int, int, byte)>();
            while (true)
            {
                using var m = await server.Reader.ReadAsync();
                if (m.Id == PeerMessageId.NotInterested) break;
                if (m.Id == PeerMessageId.Piece) blocks.Add((m.Index, m.Begin, m.Payload.Span[100]));
            }
            return (theirs, blocks);
        });
        var block = new byte[16384];
        await client.Writer.WriteHandshakeAsync(Handshake.Create(InfoHash, PeerId));
        for (int i = 0; i < 200; i++)
        {
            block[100] = (byte)i;
            await client.Writer.WriteAsync(PeerMessage.Have(i % 64));
            await client.Writer.WriteAsync(PeerMessage.Piece(i % 64, (i / 64) * 16384, block));
        }
        await client.Writer.WriteAsync(PeerMessage.NotInterested);
        await client.Writer.FlushAsync();

        var (handshake, received) = await receive.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(PeerId, handshake.PeerId.ToArray());
        Assert.Equal(200, received.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (i % 64, (i / 64) * 16384, (byte)i)), received);
        Assert.Equal(client.Writer.BytesSent, server.Reader.BytesReceived);
    }

    private static FakePeer Replying(byte[] reply, IPAddress? address = null) => new(async (s, t) =>
    {
        await FakePeer.ReadExactlyAsync(s, 68, t);
        await s.WriteAsync(reply, t);
        await FakePeer.DrainAsync(s, t);
    }, address);
}
