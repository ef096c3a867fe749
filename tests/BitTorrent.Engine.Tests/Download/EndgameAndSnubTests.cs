using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Tests.Download.Harness;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>The request side end to end, on a fake clock with scripted seeders on loopback sockets: the endgame's
/// duplicate requests and their cancels, and snubbing a peer that sits on its requests.</summary>
public class EndgameAndSnubTests
{
    private const int Block = BlockRequest.BlockSize;

    /// <summary>Two pieces of four blocks: every block fits in one peer's first batch of 16 requests.</summary>
    private static TestTorrent EightBlocks() => TestTorrent.Create("eight.bin", 4 * Block, new[] { ("eight.bin", 8 * Block) }, multi: false, seed: 11);

    private static IEnumerable<long> Keys(IEnumerable<BlockRequest> blocks) => blocks.Select(b => b.Key).OrderBy(k => k);

    [Fact]
    public async Task Endgame_asks_a_second_peer_for_blocks_in_flight_and_cancels_them_at_the_first_when_they_arrive()
    {
        var torrent = EightBlocks();
        await using var slow = new ScriptedSeeder(torrent, SeederBehaviour.Hold);
        var disk = new MemoryDisk(torrent.Info);
        await using var leecher = new Leecher(torrent, disk, new DownloadOptions { SeedUntilCancelled = true }).Start(slow.EndPoint);
        await leecher.Until(() => slow.Requests.Count == 8, "every block to be asked of the slow peer");

        // Nothing is left unrequested: the newcomer gets duplicates of what the slow peer sits on.
        await using var fast = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        leecher.Download.AddPeers(new[] { fast.EndPoint });
        await leecher.WaitForAsync(s => s.State == DownloadState.Seeding, "the download to complete");
        await leecher.Until(() => slow.Cancels.Count == 8, "a cancel at the slow peer for every block the fast one sent");

        Assert.Equal(Keys(slow.Requests), Keys(fast.Requests));
        Assert.Equal(Keys(slow.Requests), Keys(slow.Cancels));
        Assert.Equal(0, slow.BlocksSent);
        Assert.Equal(torrent.Payload, disk.Data);
        Assert.Contains(leecher.Events(), e => e.Kind == EngineEventKind.TorrentCompleted);
    }

    [Fact]
    public async Task A_peer_that_sends_nothing_is_snubbed_after_the_snub_timeout_and_its_requests_go_to_another()
    {
        var torrent = EightBlocks();
        await using var silent = new ScriptedSeeder(torrent, SeederBehaviour.Silent);
        var disk = new MemoryDisk(torrent.Info);
        var options = new DownloadOptions { SnubTimeout = TimeSpan.FromSeconds(20) };
        await using var leecher = new Leecher(torrent, disk, options).Start(silent.EndPoint);
        await leecher.Until(() => silent.Requests.Count == 8, "every block to be asked of the silent peer");
        var firstRequests = Keys(silent.Requests).ToList();

        await leecher.AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(leecher.Events(), e => e.Kind == EngineEventKind.PeerSnubbed);   // 20 s is not more than 20 s
        Assert.Empty(silent.Cancels);

        await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
        var snubbed = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerSnubbed, "the silent peer to be snubbed");
        Assert.Equal(silent.Key, snubbed.Peer);
        await leecher.Until(() => silent.Cancels.Count >= 8, "its requests to be cancelled");
        Assert.Equal(firstRequests, Keys(silent.Cancels.Take(8)));

        // Its blocks are free for others: a newcomer is asked for all of them and the download completes (without
        // any more time passing: nothing waits for the silent peer).
        await using var honest = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        leecher.Download.AddPeers(new[] { honest.EndPoint });
        var result = await leecher.WaitForResultAsync();
        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(firstRequests, Keys(honest.Requests).Distinct());
        Assert.Equal(torrent.Payload, disk.Data);
        Assert.Single(leecher.Events(), e => e.Kind == EngineEventKind.PeerSnubbed);   // once, not once a tick
    }
}
