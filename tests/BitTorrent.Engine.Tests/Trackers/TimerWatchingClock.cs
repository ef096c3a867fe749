using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace BitTorrent.Tests.Trackers;

/// <summary>A <see cref="FakeTimeProvider"/> that records the due time of every timer created on it, so a test can
/// wait (bounded) until the code under test has armed the wait it expects — a retransmission timer of exactly
/// 15 s, say — before advancing the clock past it. Advancing before the timer exists would start that wait late.</summary>
internal sealed class TimerWatchingClock : FakeTimeProvider
{
    private static readonly TimeSpan ArmLimit = TimeSpan.FromSeconds(10);
    private readonly ConcurrentQueue<TimeSpan> _armed = new();

    /// <summary>Due times of the timers created so far, in creation order.</summary>
    public IReadOnlyList<TimeSpan> Armed => _armed.ToArray();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _armed.Enqueue(dueTime);
        return timer;
    }

    /// <summary>Waits until <paramref name="count"/> timers due after <paramref name="dueTime"/> have been created.</summary>
    public void WaitUntilArmed(TimeSpan dueTime, int count = 1)
    {
        if (!SpinWait.SpinUntil(() => _armed.Count(t => t == dueTime) >= count, ArmLimit))
            throw new TimeoutException($"No timer #{count} of {dueTime} was armed; armed so far: {string.Join(", ", _armed)}.");
    }
}
