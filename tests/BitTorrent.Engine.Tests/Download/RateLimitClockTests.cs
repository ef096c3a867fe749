using BitTorrent.Download;
using BitTorrent.Tests.Download.Harness;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>The rate caps on a fake clock: the limiter's waits end when fake time says so, and a capped download
/// can never have received more than the burst plus the rate times the time that passed.</summary>
public class RateLimitClockTests
{
    private const int Block = BlockRequest.BlockSize;

    [Fact]
    public async Task A_wait_ends_exactly_when_the_fake_clock_has_refilled_the_bucket()
    {
        var clock = new FakeTimeProvider();
        var limiter = new RateLimiter(10_000, clock);
        Assert.Equal(TimeSpan.Zero, limiter.Reserve((int)limiter.Burst));          // the burst passes at once
        var wait = limiter.WaitAsync(10_000, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(wait.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, limiter.Available, 6);
    }

    [Fact]
    public async Task A_capped_download_never_runs_ahead_of_the_cap_and_finishes_once_enough_time_has_passed()
    {
        const int Rate = Block;                                                     // one block a second
        var torrent = TestTorrent.Create("capped.bin", 2 * Block, new[] { ("capped.bin", 16 * Block) }, multi: false, seed: 3);
        await using var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        var disk = new MemoryDisk(torrent.Info);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var limiter = new RateLimiter(Rate, clock);
        await using var leecher = new Leecher(torrent, disk, new DownloadOptions { DownloadLimiter = limiter }, clock).Start(seeder.EndPoint);

        // The burst (two blocks) and the block read before the wait, then nothing until time passes.
        await leecher.Until(() => limiter.Available < 0, "the cap to hold the reader back");
        for (int second = 0; second <= 20 && !leecher.Run.IsCompleted; second++)
        {
            long received = leecher.Download.GetStatus().BytesDownloaded;
            long allowed = limiter.Burst + (long)Rate * second + Block + 13;
            Assert.True(received <= allowed, $"{received} bytes after {second} s, at most {allowed} allowed");
            await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
        }
        var result = await leecher.WaitForResultAsync();
        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(torrent.Payload, disk.Data);
        // 16 blocks at one a second, two of them free: not before 13 s of fake time.
        Assert.True(result.Duration >= TimeSpan.FromSeconds(13), $"finished after {result.Duration}");
    }
}
