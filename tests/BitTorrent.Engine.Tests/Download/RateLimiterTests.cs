using BitTorrent.Download;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>The token bucket with a clock stepped by hand: every figure is exact, nothing depends on real time.</summary>
public class RateLimiterTests
{
    private sealed class ManualClock
    {
        public const double PerSecond = 10_000_000;
        public long Ticks;
        public void Advance(double seconds) => Ticks += (long)Math.Ceiling(seconds * PerSecond);
    }

    private static (RateLimiter Limiter, ManualClock Clock) Create(long rate)
    {
        var clock = new ManualClock();
        return (new RateLimiter(rate, () => clock.Ticks, ManualClock.PerSecond), clock);
    }

    [Fact]
    public void A_full_bucket_lets_the_burst_through_without_waiting()
    {
        var (limiter, _) = Create(400_000);
        Assert.Equal(100_000, limiter.Burst);                      // a quarter of a second
        Assert.Equal(TimeSpan.Zero, limiter.Reserve(60_000));
        Assert.Equal(TimeSpan.Zero, limiter.Reserve(40_000));
        Assert.Equal(0, limiter.Available, 6);
    }

    [Fact]
    public void A_shortfall_is_waited_out_at_the_rate()
    {
        var (limiter, _) = Create(100_000);                        // burst: the 32 KiB minimum
        Assert.Equal(RateLimiter.MinimumBurst, limiter.Burst);
        Assert.Equal(TimeSpan.Zero, limiter.Reserve(RateLimiter.MinimumBurst));
        Assert.Equal(TimeSpan.FromSeconds(0.5), limiter.Reserve(50_000));
        // The next caller queues behind the first: its wait includes the first one's reservation.
        Assert.Equal(TimeSpan.FromSeconds(0.6), limiter.Reserve(10_000));
    }

    [Fact]
    public void Tokens_accrue_with_time_up_to_the_burst_only()
    {
        var (limiter, clock) = Create(100_000);
        limiter.Reserve(RateLimiter.MinimumBurst);
        clock.Advance(0.1);
        Assert.Equal(10_000, limiter.Available, 6);
        clock.Advance(3600);                                       // an idle hour buys no more than the burst
        Assert.Equal(RateLimiter.MinimumBurst, limiter.Available, 6);
    }

    [Fact]
    public void Over_a_long_run_the_rate_holds_whatever_the_block_sizes()
    {
        // Callers that wait exactly as told move at most rate × time + burst bytes.
        var (limiter, clock) = Create(250_000);
        long moved = 0;
        double elapsed = 0;
        var sizes = new[] { 16_397, 1_000, 16_397, 7_777, 16_397 };
        for (int i = 0; i < 2_000; i++)
        {
            int n = sizes[i % sizes.Length];
            var wait = limiter.Reserve(n);
            clock.Advance(wait.TotalSeconds);
            elapsed += wait.TotalSeconds;
            moved += n;
        }
        // Exactly the burst plus the rate over the time waited (to the clock's rounding).
        Assert.InRange(moved, 250_000 * elapsed + limiter.Burst - 100, 250_000 * elapsed + limiter.Burst + 100);
    }

    [Fact]
    public void Debt_from_a_reservation_is_paid_before_new_tokens_count()
    {
        var (limiter, clock) = Create(100_000);
        limiter.Reserve(RateLimiter.MinimumBurst + 100_000);       // one second of debt
        clock.Advance(0.5);
        Assert.Equal(-50_000, limiter.Available, 6);
        Assert.Equal(TimeSpan.FromSeconds(0.6), limiter.Reserve(10_000));
    }

    [Fact]
    public async Task WaitAsync_completes_at_once_with_tokens_and_honours_cancellation_when_short()
    {
        var limiter = new RateLimiter(1_000);                      // real clock; 32 KiB burst
        Assert.True(limiter.WaitAsync(RateLimiter.MinimumBurst, CancellationToken.None).IsCompleted);
        using var cts = new CancellationTokenSource();
        var wait = limiter.WaitAsync(1_000_000, cts.Token);       // about 1000 s of debt
        Assert.False(wait.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void The_rate_must_be_positive(long rate) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RateLimiter(rate));
}
