using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Tests.Download.Harness;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>Smart ban end to end: a liar and an honest peer fill the same piece (each advertises a request queue of
/// two, so a four-block piece is split between them); the piece fails, is fetched again from one peer alone, and
/// the liar — only the liar — is banned.</summary>
public class SmartBanSwarmTests
{
    private const int Block = BlockRequest.BlockSize;

    [Fact]
    public async Task A_liar_sharing_pieces_with_an_honest_peer_is_banned_and_the_honest_peer_is_not()
    {
        var torrent = TestTorrent.Create("mixed.bin", 4 * Block, new[] { ("mixed.bin", 6 * 4 * Block) }, multi: false, seed: 5);
        await using var liar = new ScriptedSeeder(torrent, SeederBehaviour.Hold, requestQueue: 2, peerIdTag: "liar");
        await using var honest = new ScriptedSeeder(torrent, SeederBehaviour.Hold, requestQueue: 2, peerIdTag: "good");
        var disk = new MemoryDisk(torrent.Info);
        await using var leecher = new Leecher(torrent, disk).Start(liar.EndPoint, honest.EndPoint);

        // Each has two blocks of the same piece outstanding (the picker finishes pieces already started).
        await leecher.Until(() => liar.Requests.Count == 2 && honest.Requests.Count == 2, "both peers to be asked for two blocks");
        var shared = liar.Requests.First().Piece;
        Assert.True(liar.Requests.Concat(honest.Requests).All(b => b.Piece == shared),
            $"liar: {string.Join(" ", liar.Requests)}; honest: {string.Join(" ", honest.Requests)}; events: {leecher.Summary()}");

        // The honest half first, then the lying half completes the piece: it fails with two senders, and nobody can
        // tell yet who lied.
        await honest.AnswerHeldAsync(lie: false);
        await leecher.WaitForAsync(s => s.BytesDownloaded == 2 * Block, "the honest blocks to arrive");
        await liar.AnswerHeldAsync(lie: true);
        var firstFailure = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.HashFailed, "the shared piece to fail");
        Assert.Equal(shared, firstFailure.Piece);
        Assert.Equal(2, firstFailure.Count);
        Assert.DoesNotContain(leecher.Events(), e => e.Kind == EngineEventKind.PeerBanned);

        // Then both answer everything, each in its way.
        await liar.ReleaseAsync(SeederBehaviour.Liar);
        await honest.ReleaseAsync(SeederBehaviour.Honest);
        var result = await leecher.WaitForResultAsync();

        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(torrent.Payload, disk.Data);
        var events = leecher.Events();
        Assert.Equal(new[] { liar.Key }, events.Where(e => e.Kind == EngineEventKind.PeerBanned).Select(e => e.Peer));
        Assert.Contains(events, e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == liar.Key && e.Reason == PeerCloseReason.Banned);
        Assert.DoesNotContain(events, e => e.Peer == honest.Key && (e.Kind == EngineEventKind.PeerBanned || e.Reason == PeerCloseReason.Banned || e.Reason == PeerCloseReason.SmartBanned));
        Assert.True(result.HashFailures >= 1);
    }
}
