using System.Net;
using BitTorrent.Download;
using BitTorrent.Events;
using Microsoft.Extensions.Time.Testing;

namespace BitTorrent.Tests.Download.Harness;

/// <summary>A download under test on a fake clock: it dials the given peers (real loopback sockets), stores into
/// a <see cref="MemoryDisk"/>, and is driven by the test advancing time. Every wait is on a condition, bounded in
/// real time so a broken engine fails the test instead of hanging it.</summary>
internal sealed class Leecher : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<EngineEvent> _events = new();
    private Task<DownloadResult>? _run;

    /// <param name="listenPort">The listen port the download believes it announces (nothing listens there).</param>
    public Leecher(TestTorrent torrent, MemoryDisk disk, DownloadOptions? options = null, FakeTimeProvider? clock = null, int listenPort = 0)
    {
        Torrent = torrent;
        Disk = disk;
        Clock = clock ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new TorrentServices { Clock = Clock, StorageFactory = (_, _, _) => disk.Open(), ListenPort = listenPort };
        Download = new TorrentDownload(torrent.Info, Path.Combine(Path.GetTempPath(), "bt-unused-" + Guid.NewGuid().ToString("N")[..8]),
            (options ?? new DownloadOptions()) with { UseTrackers = false }, services);
    }

    public TestTorrent Torrent { get; }
    public MemoryDisk Disk { get; }
    public FakeTimeProvider Clock { get; }
    public TorrentDownload Download { get; }
    public Task<DownloadResult> Run => _run ?? throw new InvalidOperationException("Not started.");

    public Leecher Start(params IPEndPoint[] peers)
    {
        _run = Task.Run(() => Download.RunAsync(_stop.Token));
        if (peers.Length > 0) Download.AddPeers(peers, explicitPeer: true);
        return this;
    }

    /// <summary>Every event so far (read from the queue and kept).</summary>
    public IReadOnlyList<EngineEvent> Events()
    {
        lock (_events)
        {
            while (Download.Events.TryRead(out var e)) _events.Add(e);
            return _events.ToList();
        }
    }

    public async Task<EngineEvent> WaitForEventAsync(Func<EngineEvent, bool> condition, string what)
    {
        await Until(() => Events().Any(condition), what);
        return Events().First(condition);
    }

    public Task WaitForAsync(Func<DownloadStatus, bool> condition, string what) => Until(() => condition(Download.GetStatus()), what);

    /// <summary>Waits (bounded) for a condition; fails fast if the download ended meanwhile.</summary>
    public async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (_run is { IsCompleted: true } && !condition())
                throw new InvalidOperationException($"The download ended ({_run.Result.Status} {_run.Result.Error} {_run.Result.GetException()}) while waiting for {what}; events: {Summary()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}; events: {Summary()}");
            await Task.Delay(10);
        }
    }

    /// <summary>Advances the fake clock a second at a time, each second seen by the download's tick.</summary>
    public async Task AdvanceAsync(TimeSpan total)
    {
        for (var done = TimeSpan.Zero; done < total; done += TimeSpan.FromSeconds(1))
        {
            long before = Download.TickCount;
            Clock.Advance(TimeSpan.FromSeconds(1));
            await Until(() => { Download.Nudge(); return Download.TickCount > before || Run.IsCompleted; }, "the download's tick");
        }
    }

    public async Task<DownloadResult> WaitForResultAsync()
    {
        await Until(() => Run.IsCompleted, "the download to end");
        return await Run;
    }

    public string Summary() => string.Join(", ", Events().Select(e => e.Reason == PeerCloseReason.None ? $"{e.Kind}" : $"{e.Kind}/{e.Reason}"));

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_run is not null) { try { await _run.WaitAsync(Bound); } catch { } }
        _stop.Dispose();
    }
}
