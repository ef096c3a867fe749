using System.Buffers.Binary;
using System.Net;
using BitTorrent.Bencoding;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>Our seeder's BEP 10 handshake and its BEP 9 service, seen by a scripted peer on a real loopback socket
/// (the bytes read by hand, not by our codec).</summary>
public class MetadataServingTests
{
    // 1000 pieces: 20,000 bytes of hashes, so the info dictionary is two ut_metadata blocks (the second short).
    private const int PieceLength = 4096;
    private const int PieceCount = 1000;
    private const byte PeerUtMetadataId = 7;

    private static byte[] Extended(byte id, byte[] payload)
    {
        var frame = new byte[6 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 2 + payload.Length);
        frame[4] = 20;
        frame[5] = id;
        payload.CopyTo(frame, 6);
        return frame;
    }

    private static byte[] PeerHandshake(bool uploadOnly = false)
    {
        var dict = new BDictionary();
        var m = new BDictionary();
        m.Set("ut_metadata", new BInteger(PeerUtMetadataId));
        dict.Set("m", m);
        if (uploadOnly) dict.Set("upload_only", new BInteger(1));
        return Extended(0, BencodeEncoder.Encode(dict));
    }

    private static async Task<ExtendedHandshake> ReadOurHandshakeAsync(RawPeer peer)
    {
        var frame = await peer.ReadUntilAsync(20);
        Assert.NotNull(frame);
        Assert.Equal(0, frame!.Value.Body[0]);
        return ExtendedHandshake.Decode(frame.Value.Body.AsSpan(1));
    }

    [Fact]
    public async Task Our_extended_handshake_says_what_we_serve_and_that_we_are_a_seed()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        Assert.Equal(0x10, peer.TheirHandshake[25] & 0x10);
        var ours = await ReadOurHandshakeAsync(peer);

        Assert.Equal(ExtensionIds.UtMetadata, ours.Extensions[ExtensionNames.UtMetadata]);
        Assert.Equal(ExtensionIds.UtPex, ours.Extensions[ExtensionNames.UtPex]);
        Assert.Equal(swarm.Torrent.RawInfo.Length, ours.MetadataSize);
        Assert.True(ours.UploadOnly);
        Assert.Equal(IPAddress.Loopback, ours.YourIp);
        Assert.Equal(4, ours.Dictionary["yourip"] is BString ip ? ip.Length : 0);   // 4 bytes for an IPv4 peer
        Assert.Equal(new DownloadOptions().MaxUploadQueue, ours.RequestQueueLength);
        Assert.Equal(ClientIdentity.ClientName, ours.ClientName);
    }

    [Fact]
    public async Task Serves_every_metadata_block_byte_for_byte_and_rejects_one_past_the_end()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        var metadata = swarm.Torrent.RawInfo.ToArray();
        int blocks = UtMetadataMessage.BlockCount(metadata.Length);
        Assert.Equal(2, blocks);
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        await ReadOurHandshakeAsync(peer);
        await peer.SendAsync(PeerHandshake());
        await peer.SendAsync(Extended(ExtensionIds.UtMetadata, UtMetadataMessage.EncodeRequest(1)),
            Extended(ExtensionIds.UtMetadata, UtMetadataMessage.EncodeRequest(0)),
            Extended(ExtensionIds.UtMetadata, UtMetadataMessage.EncodeRequest(blocks)),
            Extended(ExtensionIds.UtMetadata, UtMetadataMessage.EncodeRequest(1_000_000)));

        var assembled = new byte[metadata.Length];
        var rejected = new List<int>();
        for (int answers = 0; answers < 4; answers++)
        {
            var frame = await peer.ReadUntilAsync(20);
            Assert.NotNull(frame);
            Assert.Equal(PeerUtMetadataId, frame!.Value.Body[0]);    // sent under the id the peer asked for
            Assert.True(UtMetadataMessage.TryDecode(frame.Value.Body.AsMemory(1), out var message));
            if (message.Type == UtMetadataMessageType.Reject) { rejected.Add(message.Piece); continue; }
            Assert.Equal(UtMetadataMessageType.Data, message.Type);
            Assert.Equal(metadata.Length, message.TotalSize);
            message.Data.Span.CopyTo(assembled.AsSpan(message.Piece * UtMetadataMessage.BlockSize));
            Assert.Equal(UtMetadataMessage.BlockLength(metadata.Length, message.Piece), message.Data.Length);
        }
        Assert.Equal(metadata, assembled);
        Assert.Equal(new[] { blocks, 1_000_000 }, rejected.OrderBy(p => p));
        Assert.True(swarm.IsRunning);
    }

    [Fact]
    public async Task A_metadata_request_flood_ends_the_connection()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        await ReadOurHandshakeAsync(peer);
        await peer.SendAsync(PeerHandshake());
        var request = Extended(ExtensionIds.UtMetadata, UtMetadataMessage.EncodeRequest(0));
        await peer.SendAsync(Enumerable.Repeat(request, 300).ToArray());
        Assert.True(await peer.ClosedBySeederAsync());
        var closed = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the flood to be dropped");
        Assert.Equal((PeerCloseReason.ProtocolViolation, PeerProtocolError.MetadataRequestFlood), (closed.Reason, closed.ProtocolError));
    }

    [Fact]
    public async Task Metadata_pushed_at_a_torrent_that_has_it_is_ignored_then_its_sender_dropped()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        var metadata = swarm.Torrent.RawInfo.ToArray();
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        await ReadOurHandshakeAsync(peer);
        await peer.SendAsync(PeerHandshake());
        var block = Extended(ExtensionIds.UtMetadata, UtMetadataMessage.EncodeData(0, metadata.Length, metadata.AsSpan(0, UtMetadataMessage.BlockSize)));
        await peer.SendAsync(Enumerable.Repeat(block, MetadataServing.MaxUnsolicited + 1).ToArray());
        Assert.True(await peer.ClosedBySeederAsync());
        var closed = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the pusher to be dropped");
        Assert.Equal(PeerCloseReason.UnrequestedBlocks, closed.Reason);
        Assert.True(swarm.IsRunning);
    }

    [Fact]
    public async Task A_peer_that_says_upload_only_is_not_kept_by_a_seed()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        await ReadOurHandshakeAsync(peer);
        // It has nothing by its bitfield (have none), but says it will only upload: two seeds, nothing to trade.
        await peer.SendAsync(RawPeer.Message(15), PeerHandshake(uploadOnly: true));
        Assert.True(await peer.ClosedBySeederAsync());
        var closed = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the upload-only peer to be let go");
        Assert.Equal(PeerCloseReason.BothSeeds, closed.Reason);
    }

    [Fact]
    public async Task A_leecher_that_is_not_upload_only_stays_connected()
    {
        await using var swarm = await SeedingSwarm.StartAsync(PieceLength, PieceCount);
        using var peer = await RawPeer.ConnectAsync(swarm.Port, swarm.Torrent.InfoHashBytes, fastExtension: true, extensionProtocol: true);
        await ReadOurHandshakeAsync(peer);
        await peer.SendAsync(RawPeer.Message(15), PeerHandshake(uploadOnly: false), RawPeer.Interested);
        // Unchoked (a slot was free) and then served: it is kept.
        Assert.NotNull(await peer.ReadUntilAsync(1));
        await peer.SendAsync(RawPeer.Request(0, 0, PieceLength));
        var piece = await peer.ReadUntilAsync(7);
        Assert.NotNull(piece);
        Assert.True(swarm.Block(0, 0, PieceLength).SequenceEqual(piece!.Value.Body.AsSpan(8)));
    }
}

/// <summary>A download that completes tells its peers (BEP 21 upload_only) and lets a seed go: two seeds have nothing
/// to trade.</summary>
public class SeedToSeedTests
{
    [Fact]
    public async Task A_download_that_completes_says_upload_only_then_closes_its_connection_to_a_seed_as_BothSeeds()
    {
        var torrent = TestTorrent.Create("both.bin", 32 * 1024, new[] { ("both.bin", 5 * 32 * 1024 - 300) }, multi: false, seed: 31);
        // A seeder that speaks BEP 10 (it advertises a request queue), so it hears our handshakes.
        await using var seeder = new BitTorrent.Tests.Download.Harness.ScriptedSeeder(torrent, BitTorrent.Tests.Download.Harness.SeederBehaviour.Honest, requestQueue: 250);
        var disk = new BitTorrent.Tests.Download.Harness.MemoryDisk(torrent.Info);
        await using var leecher = new BitTorrent.Tests.Download.Harness.Leecher(torrent, disk, new DownloadOptions { SeedUntilCancelled = true }).Start(seeder.EndPoint);
        await leecher.WaitForAsync(s => s.State == DownloadState.Seeding, "the download to complete and seed");
        Assert.Equal(torrent.Payload, disk.Data);
        var greeting = Assert.Single(seeder.ExtendedHandshakes);
        Assert.Null(greeting.UploadOnly);                             // a leecher when it connected

        // The next tick tells it we are done (BEP 21: the whole handshake again, with upload_only)...
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
        await leecher.Until(() => seeder.ExtendedHandshakes.Count == 2, "our second extended handshake");
        var done = seeder.ExtendedHandshakes.Last();
        Assert.True(done.UploadOnly);
        Assert.Equal(greeting.Extensions, done.Extensions);           // the same ids: nothing turned off
        Assert.Equal(greeting.MetadataSize, done.MetadataSize);

        // ...and the one after sees both sides complete and closes the connection (the seed stays known, as a seed).
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
        var closed = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the seed to be let go");
        Assert.Equal(PeerCloseReason.BothSeeds, closed.Reason);
        await leecher.Until(() => seeder.Closed, "the seeder to see its connection closed");
    }
}
