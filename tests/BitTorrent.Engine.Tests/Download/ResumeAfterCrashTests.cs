using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Tests.Download.Harness;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>A download that crashes at any point resumes without losing a verified piece and without trusting a
/// bad one. The first run keeps the disk's state after every piece write and every resume-record save; each of
/// those states (and each with its last write torn in half) is then resumed against a fresh seeder.</summary>
public class ResumeAfterCrashTests
{
    private const int Block = BlockRequest.BlockSize;
    private const int Pieces = 8;

    private static TestTorrent Torrent() => TestTorrent.Create("resume.bin", Block, new[] { ("resume.bin", Pieces * Block) }, multi: false, seed: 21);

    private static async Task<(DownloadResult Result, IReadOnlyList<EngineEvent> Events)> RunAsync(TestTorrent torrent, MemoryDisk disk)
    {
        await using var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        await using var leecher = new Leecher(torrent, disk, new DownloadOptions { ResumeSaveInterval = TimeSpan.Zero }).Start(seeder.EndPoint);
        var result = await leecher.WaitForResultAsync();
        return (result, leecher.Events());
    }

    private static async Task ResumesAsync(TestTorrent torrent, MemoryDisk crashed, string what)
    {
        int intact = crashed.ValidPieces();
        var (result, events) = await RunAsync(torrent, crashed);
        Assert.True(result.Status == DownloadOutcome.Completed, $"{what}: {result.Status} {result.Message}");
        Assert.True(torrent.Payload.AsSpan().SequenceEqual(crashed.Data), $"{what}: the data differs");
        // Every intact piece is kept, nothing else is: the rest comes from the seeder.
        Assert.Equal((long)intact * Block, result.BytesResumed);
        Assert.Equal((long)(Pieces - intact) * Block, result.BytesDownloaded);
        Assert.DoesNotContain(events, e => e.Kind == EngineEventKind.HashFailed);
    }

    [Fact]
    public async Task Every_state_a_crash_can_leave_resumes_to_the_same_complete_data()
    {
        var torrent = Torrent();
        var first = new MemoryDisk(torrent.Info) { TakeSnapshots = true };
        await using (var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Hold))
        await using (var leecher = new Leecher(torrent, first, new DownloadOptions { ResumeSaveInterval = TimeSpan.Zero }).Start(seeder.EndPoint))
        {
            // One block (one piece) at a time, each written and then recorded before the next comes: the states are
            // written-but-not-recorded and recorded, for every piece.
            await leecher.Until(() => seeder.Requests.Count == Pieces, "every piece to be requested");
            for (int k = 1; k <= Pieces; k++)
            {
                Assert.True(await seeder.ReleaseOneAsync());
                await leecher.Until(() => first.Writes == k && first.Saves == k, $"piece {k} to be written and recorded");
            }
            Assert.Equal(DownloadOutcome.Completed, (await leecher.WaitForResultAsync()).Status);
        }
        Assert.Equal(Pieces, first.Writes);
        var states = first.Snapshots.ToList();
        Assert.Equal(2 * Pieces, states.Count);

        var empty = new MemoryDisk(torrent.Info);
        var previous = empty;
        for (int i = 0; i < states.Count; i++)
        {
            await ResumesAsync(torrent, states[i].Copy(), $"state {i}");
            int written = Enumerable.Range(0, Pieces).FirstOrDefault(p => states[i].Written[p] && !previous.Written[p], -1);
            if (written >= 0)
            {
                // The crash came in the middle of that write: half the piece is on disk, and no record claims it.
                var torn = previous.Copy();
                torn.Write(written, torrent.Piece(written), torn: true);
                await ResumesAsync(torrent, torn, $"state {i} torn");
            }
            previous = states[i];
        }
    }

    [Fact]
    public async Task A_record_is_trusted_without_hashing_only_while_the_data_is_unchanged()
    {
        var torrent = Torrent();
        var disk = new MemoryDisk(torrent.Info);
        Assert.Equal(DownloadOutcome.Completed, (await RunAsync(torrent, disk)).Result.Status);

        // Unchanged: every piece from the record, nothing hashed.
        var again = disk.Copy();
        await using (var leecher = new Leecher(torrent, again).Start())
        {
            var result = await leecher.WaitForResultAsync();
            Assert.Equal(DownloadOutcome.Completed, result.Status);
            Assert.Equal((long)Pieces * Block, result.BytesResumed);
            var loaded = Assert.Single(leecher.Events(), e => e.Kind == EngineEventKind.ResumeLoaded);
            Assert.Equal(Pieces, loaded.Count);
            Assert.DoesNotContain(leecher.Events(), e => e.Kind == EngineEventKind.ResumeChecked);
        }

        // Changed behind our back after the save: the record is not trusted, every piece is hashed, the damaged one
        // is fetched again.
        var tampered = disk.Copy();
        tampered.Tamper(3);
        var (resumed, events) = await RunAsync(torrent, tampered);
        Assert.Equal(DownloadOutcome.Completed, resumed.Status);
        Assert.Equal((long)(Pieces - 1) * Block, resumed.BytesResumed);
        Assert.Equal(Block, resumed.BytesDownloaded);
        Assert.Equal(torrent.Payload, tampered.Data);
        var check = Assert.Single(events, e => e.Kind == EngineEventKind.ResumeChecked);
        Assert.Equal(Pieces - 1, check.Count);
    }
}
