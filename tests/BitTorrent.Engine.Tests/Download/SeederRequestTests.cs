using System.Net;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>Our seeder against scripted peers on real loopback sockets: what it serves, what it rejects, and whom it
/// disconnects. Message ids: 0 choke, 1 unchoke, 5 bitfield, 6 request, 7 piece, 14 have all, 16 reject, 17 allowed fast.</summary>
public class SeederRequestTests
{
    private const int PieceLength = 32 * 1024;
    private const int PieceCount = 41;      // the last piece is 1000 bytes

    [Fact]
    public async Task Greets_a_fast_peer_with_have_all_and_its_allowed_fast_set()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await swarm.ConnectAsync();
        Assert.Equal(0x04, peer.TheirHandshake[27] & 0x04);                     // the seeder speaks BEP 6 too
        var first = await peer.ReadFrameAsync();
        Assert.Equal(14, first!.Value.Id);
        var allowed = new List<int>();
        for (int i = 0; i < AllowedFastSet.DefaultSize; i++)
        {
            var frame = await peer.ReadFrameAsync();
            Assert.Equal(17, frame!.Value.Id);
            allowed.Add(RawPeer.Int(frame.Value.Body, 0));
        }
        Assert.Equal(AllowedFastSet.Compute(IPAddress.Loopback, swarm.Torrent.InfoHashBytes, PieceCount), allowed);
    }

    [Fact]
    public async Task Rejects_requests_while_choked_but_serves_allowed_fast_pieces()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await swarm.ConnectAsync();
        var allowed = AllowedFastSet.Compute(IPAddress.Loopback, swarm.Torrent.InfoHashBytes, PieceCount);
        int notAllowed = Enumerable.Range(0, PieceCount).First(p => !allowed.Contains(p));

        await peer.SendAsync(RawPeer.Request(notAllowed, 16384, 16384));
        var reject = await peer.ReadUntilAsync(16);
        Assert.NotNull(reject);
        Assert.Equal(new[] { notAllowed, 16384, 16384 }, new[] { RawPeer.Int(reject!.Value.Body, 0), RawPeer.Int(reject.Value.Body, 4), RawPeer.Int(reject.Value.Body, 8) });

        await peer.SendAsync(RawPeer.Request(allowed[0], 0, 16384));
        var piece = await peer.ReadUntilAsync(7);
        Assert.NotNull(piece);
        Assert.Equal(allowed[0], RawPeer.Int(piece!.Value.Body, 0));
        Assert.Equal(0, RawPeer.Int(piece.Value.Body, 4));
        Assert.True(swarm.Block(allowed[0], 0, 16384).SequenceEqual(piece.Value.Body.AsSpan(8)));
    }

    [Fact]
    public async Task Serves_an_interested_peer_exact_blocks_including_a_short_last_piece()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await swarm.ConnectAsync();
        await peer.SendAsync(RawPeer.Interested);
        Assert.NotNull(await peer.ReadUntilAsync(1));                              // unchoked: a slot was free
        var wanted = new (int Piece, int Begin, int Length)[] { (3, 16384, 16384), (0, 100, 5000), (PieceCount - 1, 0, 1000), (PieceCount - 1, 999, 1) };
        await peer.SendAsync(wanted.Select(w => RawPeer.Request(w.Piece, w.Begin, w.Length)).ToArray());
        foreach (var w in wanted)
        {
            var piece = await peer.ReadUntilAsync(7);
            Assert.NotNull(piece);
            Assert.Equal(w.Piece, RawPeer.Int(piece!.Value.Body, 0));
            Assert.Equal(w.Begin, RawPeer.Int(piece.Value.Body, 4));
            Assert.True(swarm.Block(w.Piece, w.Begin, w.Length).SequenceEqual(piece.Value.Body.AsSpan(8)), $"block {w}");
        }
        await swarm.WaitForAsync(s => s.BytesUploaded == 16384 + 5000 + 1000 + 1, "the upload to be counted");
    }

    public static TheoryData<string, int, int, int, PeerProtocolError> HostileRequests => new()
    {
        { "past the end of the piece", 0, PieceLength - 100, 16384, PeerProtocolError.MalformedMessage },
        { "past the end of the short last piece", PieceCount - 1, 0, 1001, PeerProtocolError.MalformedMessage },
        { "a 1 MiB block", 0, 0, 1024 * 1024, PeerProtocolError.MalformedMessage },
        { "a 32 KiB block", 0, 0, 32 * 1024, PeerProtocolError.MalformedMessage },
        { "an empty block", 0, 0, 0, PeerProtocolError.MalformedMessage },
        { "a piece index outside the torrent", PieceCount, 0, 16384, PeerProtocolError.PieceIndexOutOfRange },
        { "a negative piece index", -1, 0, 16384, PeerProtocolError.PieceIndexOutOfRange },
    };

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public async Task Closes_the_connection_on_an_impossible_request_and_keeps_serving_others(string what, int index, int begin, int length, PeerProtocolError expected)
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using (var hostile = await swarm.ConnectAsync())
        {
            await hostile.SendAsync(RawPeer.Interested);
            Assert.NotNull(await hostile.ReadUntilAsync(1));
            await hostile.SendAsync(RawPeer.Request(index, begin, length));
            var piece = await hostile.ReadUntilAsync(7);
            Assert.True(piece is null, $"The seeder answered a request for {what} with data.");
        }
        await swarm.WaitForAsync(s => s.ConnectedPeers == 0, "the hostile peer to be gone");
        Assert.Equal(0, swarm.Download.GetStatus().BytesUploaded);
        var disconnected = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Reason == PeerCloseReason.ProtocolViolation, "a disconnect for a protocol violation");
        Assert.Equal(expected, disconnected.ProtocolError);

        using var honest = await swarm.ConnectAsync();
        await honest.SendAsync(RawPeer.Interested, RawPeer.Request(2, 0, 16384));
        var block = await honest.ReadUntilAsync(7);
        Assert.NotNull(block);
        Assert.True(swarm.Block(2, 0, 16384).SequenceEqual(block!.Value.Body.AsSpan(8)));
    }

    [Fact]
    public async Task Names_the_broken_rule_when_a_peer_announces_a_piece_past_the_last()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var hostile = await swarm.ConnectAsync();
        string endpoint = hostile.Socket.LocalEndPoint!.ToString()!;
        await hostile.SendAsync(RawPeer.Message(4, PieceCount));     // 'have' piece 41 of a 41-piece torrent
        Assert.True(await hostile.ClosedBySeederAsync(), "The seeder kept a peer that announced a piece it cannot have.");

        var disconnected = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == endpoint, "the hostile peer's disconnect");
        Assert.Equal(PeerCloseReason.ProtocolViolation, disconnected.Reason);
        Assert.Equal(PeerProtocolError.PieceIndexOutOfRange, disconnected.ProtocolError);
        Assert.Equal("PeerDisconnected/ProtocolViolation:PieceIndexOutOfRange", disconnected.Tag);
    }

    [Fact]
    public async Task Names_no_broken_rule_when_a_peer_just_hangs_up()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        string endpoint;
        using (var peer = await swarm.ConnectAsync())
        {
            endpoint = peer.Socket.LocalEndPoint!.ToString()!;
            Assert.NotNull(await peer.ReadFrameAsync());
        }
        var disconnected = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == endpoint, "the peer's disconnect");
        Assert.Equal(PeerCloseReason.ConnectionClosed, disconnected.Reason);
        Assert.Null(disconnected.ProtocolError);
        Assert.Equal("PeerDisconnected/ConnectionClosed", disconnected.Tag);
    }

    [Fact]
    public async Task Ignores_a_plain_peer_requesting_while_choked_then_closes_when_it_keeps_on()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await swarm.ConnectAsync(fastExtension: false);
        var first = await peer.ReadFrameAsync();
        Assert.Equal(5, first!.Value.Id);                                           // a bitfield: no have-all without BEP 6
        // Never interested, so never unchoked: every request is declined, silently (no reject without BEP 6).
        await peer.SendAsync(Enumerable.Range(0, 1100).Select(i => RawPeer.Request(i % (PieceCount - 1), 0, 16384)).ToArray());
        var seen = new List<(int Id, byte[] Body)>();
        Assert.Null(await peer.ReadUntilAsync(7, seen));                           // closed, and no block was sent
        Assert.DoesNotContain(seen, f => f.Id == 16 || f.Id == 17);
        await swarm.WaitForAsync(s => s.ConnectedPeers == 0, "the peer to be disconnected");
        await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Reason == PeerCloseReason.TooManyDeclinedRequests, "a disconnect for too many declined requests");
    }

    [Fact]
    public async Task Closes_on_have_all_from_a_peer_that_did_not_negotiate_the_fast_extension()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await swarm.ConnectAsync(fastExtension: false);
        await peer.SendAsync(RawPeer.Message(14));
        Assert.True(await peer.ClosedBySeederAsync());
        var closed = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the disconnect");
        Assert.Equal(PeerCloseReason.InvalidMessage, closed.Reason);
    }

    [Fact]
    public async Task Disconnects_a_peer_that_stops_reading_and_keeps_its_queue_bounded()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount,
            options: new DownloadOptions { SendStallTimeout = TimeSpan.FromSeconds(2) });
        using var stalled = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: false, receiveBuffer: 4096);
        // 900 requests (14 MiB of blocks) and not a byte read: the seeder's socket buffer fills and the rest wait in
        // its queue as requests, not blocks, until the stall watchdog drops the peer.
        await stalled.SendAsync(RawPeer.Interested);
        // Unchoked first: requests that cross the unchoke (a loaded machine) are declined, and 900 of them are a
        // reason of their own to disconnect.
        Assert.NotNull(await stalled.ReadUntilAsync(1));
        await stalled.SendAsync(Enumerable.Range(0, 900).Select(i => RawPeer.Request(i % (PieceCount - 1), 16384 * (i / (PieceCount - 1) % 2), 16384)).ToArray());
        await swarm.WaitForAsync(s => s.ConnectedPeers == 0, "the stalled peer to be disconnected");
        await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Reason == PeerCloseReason.SendStalled, "a disconnect for a stalled send");
        Assert.True(swarm.Download.GetStatus().BytesUploaded < 900L * 16384, "The seeder cannot have sent everything to a peer that read nothing.");

        using var honest = await swarm.ConnectAsync();
        await honest.SendAsync(RawPeer.Interested, RawPeer.Request(5, 16384, 16384));
        var block = await honest.ReadUntilAsync(7);
        Assert.NotNull(block);
        Assert.True(swarm.Block(5, 16384, 16384).SequenceEqual(block!.Value.Body.AsSpan(8)));
    }

    [Fact]
    public async Task A_request_flood_from_a_fast_peer_is_rejected_past_the_queue_and_then_disconnected()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var flood = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, receiveBuffer: 4096);
        await flood.SendAsync(RawPeer.Interested);
        Assert.NotNull(await flood.ReadUntilAsync(1));   // unchoked first, so no request is declined for crossing it
        await flood.SendAsync(Enumerable.Range(0, 5000).Select(i => RawPeer.Request(i % (PieceCount - 1), 0, 16384)).ToArray());
        await swarm.WaitForAsync(s => s.ConnectedPeers == 0, "the flooding peer to be disconnected");
        await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Reason == PeerCloseReason.TooManyDeclinedRequests, "a disconnect for too many declined requests");
    }

    [Fact]
    public async Task Keeps_answering_while_a_block_waits_for_the_upload_cap()
    {
        // 1000 bytes/s with the 32 KiB minimum burst: two blocks go at once, the third waits about 16 s for tokens.
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount, options: new DownloadOptions { UploadLimiter = new RateLimiter(1000) });
        using var peer = await swarm.ConnectAsync();
        await peer.SendAsync(RawPeer.Interested);
        Assert.NotNull(await peer.ReadUntilAsync(1));
        await peer.SendAsync(RawPeer.Request(1, 0, 16384), RawPeer.Request(2, 0, 16384), RawPeer.Request(3, 0, 16384), RawPeer.Request(4, 0, 16384));
        Assert.Equal(1, RawPeer.Int((await peer.ReadUntilAsync(7))!.Value.Body, 0));
        Assert.Equal(2, RawPeer.Int((await peer.ReadUntilAsync(7))!.Value.Body, 0));
        // Block 3 is waiting for the cap, block 4 is queued behind it: cancelling 4 is answered with a reject now,
        // not after block 3 has gone.
        await peer.SendAsync(RawPeer.Cancel(4, 0, 16384));
        var next = await peer.ReadUntilAsync(7, null, alsoStopAt: 16);
        Assert.NotNull(next);
        Assert.Equal(16, next!.Value.Id);
        Assert.Equal(4, RawPeer.Int(next.Value.Body, 0));
    }

    [Fact]
    public async Task Advertises_its_request_queue_in_the_extended_handshake()
    {
        // libtorrent keeps no more requests outstanding than the reqq we advertise: 250 halved its download rate
        // from us on loopback (184 against 388 MB/s with 2000).
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount, options: new DownloadOptions { MaxUploadQueue = 1234 });
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        var frame = await peer.ReadFrameAsync();
        Assert.Equal(20, frame!.Value.Id);
        Assert.Equal(0, frame.Value.Body[0]);
        var handshake = BitTorrent.Wire.ExtendedHandshake.Decode(frame.Value.Body.AsSpan(1));
        Assert.Equal(1234, handshake.RequestQueueLength);
        Assert.Equal(2000, new DownloadOptions().MaxUploadQueue);
    }
}
