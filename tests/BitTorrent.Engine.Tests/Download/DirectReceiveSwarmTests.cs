using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Tests.Download.Harness;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>Blocks read off the wire straight into their piece's buffer, end to end over loopback sockets: the
/// download takes that path for every block it asked for, and a connection cut in the middle of a block gives the
/// block back, so another peer fills it and the piece still checks.</summary>
public class DirectReceiveSwarmTests
{
    private const int Block = BlockRequest.BlockSize;

    /// <summary>Two pieces of four blocks, the last one short.</summary>
    private static TestTorrent TwoPieces() => TestTorrent.Create("direct.bin", 4 * Block, new[] { ("direct.bin", 8 * Block - 700) }, multi: false, seed: 23);

    [Fact]
    public async Task Every_block_asked_for_is_read_into_its_piece_without_a_copy_and_the_pieces_check()
    {
        var torrent = TwoPieces();
        await using var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        var disk = new MemoryDisk(torrent.Info);
        await using var leecher = new Leecher(torrent, disk).Start(seeder.EndPoint);

        var result = await leecher.Run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(torrent.Payload, disk.Data);
        Assert.Equal(8, leecher.Download.BlocksReceivedInPlace);
        Assert.DoesNotContain(leecher.Events(), e => e.Kind == EngineEventKind.HashFailed);
    }

    [Fact]
    public async Task A_peer_cut_off_in_the_middle_of_a_block_frees_it_for_another_peer()
    {
        var torrent = TwoPieces();
        await using var cut = new ScriptedSeeder(torrent, SeederBehaviour.Hold, peerIdTag: "cut");
        var disk = new MemoryDisk(torrent.Info);
        await using var leecher = new Leecher(torrent, disk).Start(cut.EndPoint);
        await leecher.Until(() => cut.Requests.Count == 8, "every block to be asked of the first peer");

        // Three whole blocks, then half of the fourth and the connection ends: the half-read block was being written
        // straight into the piece's buffer when the read failed.
        for (int i = 0; i < 3; i++) Assert.True(await cut.ReleaseOneAsync());
        await leecher.WaitForAsync(s => s.BytesDownloaded == 3 * Block, "the three whole blocks");
        Assert.True(await cut.CutOffMidBlockAsync());
        await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == cut.Key, "the cut peer to be dropped");

        // Another peer is asked for the rest, the half-read block included, and its copy is taken.
        await using var honest = new ScriptedSeeder(torrent, SeederBehaviour.Honest, peerIdTag: "good");
        leecher.Download.AddPeers(new[] { honest.EndPoint });
        var result = await leecher.Run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(torrent.Payload, disk.Data);
        Assert.Equal(5, honest.Requests.Count);
        Assert.Equal(8, leecher.Download.BlocksReceivedInPlace);
        Assert.DoesNotContain(leecher.Events(), e => e.Kind == EngineEventKind.HashFailed);
    }
}
