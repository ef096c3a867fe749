using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Session;
using Xunit;

namespace BitTorrent.Tests.Session;

/// <summary>TorrentSession with real files and real loopback sockets: routing by info-hash on one port, removal,
/// pause and resume, the shared rate caps, the turn limit, one event stream, and a clean end.</summary>
public sealed class TorrentSessionTests : IDisposable
{
    private const int PieceLength = 32 * 1024;
    private readonly SessionFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static readonly DownloadOptions Seed = new() { SeedOnly = true, SeedUntilCancelled = true, UseTrackers = false };

    private static TorrentSessionOptions Listening(int maxActive = 3) => new()
    {
        ListenAddress = IPAddress.Loopback,
        MaxActiveTorrents = maxActive,
        StopTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Routes_two_torrents_on_one_port_to_the_right_torrent_by_info_hash()
    {
        var data = _fixture.Folder("data");
        var (a, _) = SessionFixture.MakeTorrent("a.bin", 100_000, PieceLength, 1, data);
        var (b, _) = SessionFixture.MakeTorrent("b.bin", 150_000, PieceLength, 2, data);
        await using var session = new TorrentSession(Listening());
        var ta = session.Add(a, data, Seed);
        var tb = session.Add(b, data, Seed);
        await SessionFixture.WaitForStateAsync(ta, TorrentState.Seeding);
        await SessionFixture.WaitForStateAsync(tb, TorrentState.Seeding);

        foreach (var torrent in new[] { a, b, a })
        {
            var answer = await SessionFixture.HandshakeAsync(session.ListenPort, torrent.InfoHashBytes);
            Assert.NotNull(answer);
            Assert.Equal(torrent.InfoHashBytes, answer![28..48]);
            Assert.Equal(session.PeerId, answer[48..68]);              // one identity for every torrent
        }
    }

    [Fact]
    public async Task Refuses_an_info_hash_it_does_not_have()
    {
        var data = _fixture.Folder("data");
        var (a, _) = SessionFixture.MakeTorrent("a.bin", 100_000, PieceLength, 1, data);
        await using var session = new TorrentSession(Listening());
        var ta = session.Add(a, data, Seed);
        await SessionFixture.WaitForStateAsync(ta, TorrentState.Seeding);
        var unknown = a.InfoHashBytes.ToArray();
        unknown[0] ^= 0xFF;
        Assert.Null(await SessionFixture.HandshakeAsync(session.ListenPort, unknown));
        Assert.NotNull(await SessionFixture.HandshakeAsync(session.ListenPort, a.InfoHashBytes));
    }

    [Fact]
    public async Task Removing_a_torrent_stops_it_and_refuses_its_peers_while_the_other_goes_on()
    {
        var data = _fixture.Folder("data");
        var (a, _) = SessionFixture.MakeTorrent("a.bin", 100_000, PieceLength, 1, data);
        var (b, _) = SessionFixture.MakeTorrent("b.bin", 100_000, PieceLength, 2, data);
        await using var session = new TorrentSession(Listening());
        var ta = session.Add(a, data, Seed);
        var tb = session.Add(b, data, Seed);
        await SessionFixture.WaitForStateAsync(ta, TorrentState.Seeding);
        await SessionFixture.WaitForStateAsync(tb, TorrentState.Seeding);

        await session.RemoveAsync(ta);

        Assert.True(ta.Finished.IsCompleted);
        Assert.Equal(DownloadOutcome.Completed, (await ta.Finished).Result.Status);   // a complete seed's normal end
        Assert.False(session.Contains(a.InfoHash));
        Assert.Equal(new[] { tb }, session.Torrents);
        Assert.Null(await SessionFixture.HandshakeAsync(session.ListenPort, a.InfoHashBytes));
        Assert.NotNull(await SessionFixture.HandshakeAsync(session.ListenPort, b.InfoHashBytes));
        // Its info-hash may be added again.
        var again = session.Add(a, data, Seed);
        await SessionFixture.WaitForStateAsync(again, TorrentState.Seeding);
        Assert.NotNull(await SessionFixture.HandshakeAsync(session.ListenPort, a.InfoHashBytes));
    }

    [Fact]
    public async Task Pause_stops_the_run_cleanly_and_resume_keeps_every_verified_piece()
    {
        var data = _fixture.Folder("data");
        var copy = _fixture.Folder("copy");
        var (t, payload) = SessionFixture.MakeTorrent("big.bin", 48 * PieceLength + 777, PieceLength, 3, data);
        // A seeder held to 256 KiB/s, so the download is still going when it is paused.
        await using var seeder = new TorrentSession(Listening() with { UploadRateLimit = 256 * 1024 });
        var seeding = seeder.Add(t, data, Seed);
        await SessionFixture.WaitForStateAsync(seeding, TorrentState.Seeding);

        await using var leecher = new TorrentSession(new TorrentSessionOptions { StopTimeout = TimeSpan.FromSeconds(30) });
        var download = leecher.Add(t, copy, new DownloadOptions
        {
            UseTrackers = false,
            Peers = new[] { new IPEndPoint(IPAddress.Loopback, seeder.ListenPort) },
            ResumeSaveInterval = TimeSpan.FromMilliseconds(200),
        });
        await SessionFixture.WaitForAsync(() => download.GetStatus()?.PiecesVerified >= 6, "six verified pieces");

        await leecher.PauseAsync(download);

        Assert.Equal(TorrentState.Paused, download.State);
        Assert.False(download.Finished.IsCompleted);
        var paused = download.GetStatus()!;
        int verified = paused.PiecesVerified;
        Assert.InRange(verified, 6, t.PieceCount - 1);
        Assert.Equal(DownloadOutcome.Stopped, download.LastRun!.Result.Status);
        Assert.True(File.Exists(Path.Combine(copy, ".bittorrent", t.InfoHash + ".resume")));

        leecher.Resume(download);
        var outcome = await download.Finished.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(DownloadOutcome.Completed, outcome.Result.Status);
        // In bytes, not pieces × piece length: the short last piece may be among those verified (pieces come in random
        // order), which made "7 pieces = 7 × 32 KiB" wrong by the last piece's shortfall.
        Assert.True(outcome.Result.BytesResumed >= paused.BytesVerified,
            $"resumed {outcome.Result.BytesResumed} bytes, {paused.BytesVerified} bytes ({verified} pieces) were verified before the pause");
        Assert.Equal(payload, File.ReadAllBytes(Path.Combine(copy, "big.bin")));
    }

    [Fact]
    public async Task One_download_cap_holds_for_every_torrent_of_the_session_together()
    {
        var data = _fixture.Folder("data");
        var copy = _fixture.Folder("copy");
        var (a, pa) = SessionFixture.MakeTorrent("a.bin", 24 * PieceLength, PieceLength, 4, data);
        var (b, pb) = SessionFixture.MakeTorrent("b.bin", 24 * PieceLength, PieceLength, 5, data);
        await using var seeder = new TorrentSession(Listening());
        await Task.WhenAll(
            SessionFixture.WaitForStateAsync(seeder.Add(a, data, Seed), TorrentState.Seeding),
            SessionFixture.WaitForStateAsync(seeder.Add(b, data, Seed), TorrentState.Seeding));

        const long cap = 256 * 1024;
        await using var leecher = new TorrentSession(new TorrentSessionOptions { DownloadRateLimit = cap });
        var peers = new[] { new IPEndPoint(IPAddress.Loopback, seeder.ListenPort) };
        var clock = Stopwatch.StartNew();
        var da = leecher.Add(a, copy, new DownloadOptions { UseTrackers = false, Peers = peers });
        var db = leecher.Add(b, copy, new DownloadOptions { UseTrackers = false, Peers = peers }, new TorrentLimits { DownloadRateLimit = 10 * cap });
        var results = await Task.WhenAll(da.Finished, db.Finished).WaitAsync(TimeSpan.FromSeconds(90));
        clock.Stop();

        Assert.All(results, r => Assert.Equal(DownloadOutcome.Completed, r.Result.Status));
        Assert.Equal(pa, File.ReadAllBytes(Path.Combine(copy, "a.bin")));
        Assert.Equal(pb, File.ReadAllBytes(Path.Combine(copy, "b.bin")));
        // Both torrents draw on the session's bucket (b's own cap sits under it).
        Assert.Same(leecher.DownloadLimiter, da.Options.DownloadLimiter);
        Assert.Same(leecher.DownloadLimiter, db.Options.DownloadLimiter!.Parent);
        // 1.5 MiB through one 256 KiB/s bucket takes about 6 s; through a bucket each (not shared) it would take about
        // 3 s. The floor allows the first burst and the blocks already on their way when a wait begins (a reservation
        // is made for bytes as they come): (size - 4 bursts) / rate = 5 s. Load only makes it slower.
        long total = pa.Length + pb.Length;
        double floor = (total - 4 * leecher.DownloadLimiter!.Burst) / (double)cap;
        Assert.True(clock.Elapsed.TotalSeconds >= floor, $"{total} bytes in {clock.Elapsed.TotalSeconds:0.00} s; the cap allows no less than {floor:0.00} s");
    }

    [Fact]
    public void A_torrents_own_cap_and_the_sessions_both_hold()
    {
        long now = 0;
        var session = new RateLimiter(1000, () => now, 1000);
        var loose = new RateLimiter(4000, session, () => now, 1000);
        loose.Reserve(RateLimiter.MinimumBurst);                              // both buckets start full (32 KiB): drain them
        Assert.Equal(TimeSpan.FromSeconds(1), loose.Reserve(1000));         // the session's 1000 B/s is the tighter cap

        var wide = new RateLimiter(1_000_000, () => now, 1000);
        var tight = new RateLimiter(500, wide, () => now, 1000);
        tight.Reserve(RateLimiter.MinimumBurst);
        Assert.Equal(TimeSpan.FromSeconds(2), tight.Reserve(1000));         // now the torrent's own 500 B/s is
        Assert.True(wide.Available > 0);                                      // and the wide bucket still has room
    }

    [Fact]
    public async Task Events_of_every_torrent_come_through_the_one_stream()
    {
        var data = _fixture.Folder("data");
        var (a, _) = SessionFixture.MakeTorrent("a.bin", 100_000, PieceLength, 1, data);
        var (b, _) = SessionFixture.MakeTorrent("b.bin", 100_000, PieceLength, 2, data);
        var session = new TorrentSession(Listening());
        var ta = session.Add(a, data, Seed);
        var tb = session.Add(b, data, Seed);
        await SessionFixture.WaitForStateAsync(ta, TorrentState.Seeding);
        await SessionFixture.WaitForStateAsync(tb, TorrentState.Seeding);
        await session.DisposeAsync();

        var events = new List<EngineEvent>();
        while (await session.Events.WaitToReadAsync())
            while (session.Events.TryRead(out var e)) events.Add(e);

        Assert.Contains(events, e => e.Kind == EngineEventKind.ListenStarted && e.Count == session.ListenPort);
        foreach (var t in new[] { a, b })
        {
            Assert.Contains(events, e => e.Kind == EngineEventKind.TorrentAdded && e.InfoHash == t.InfoHash);
            // From the torrent itself: its data check.
            Assert.Contains(events, e => e.Kind == EngineEventKind.ResumeChecked && e.InfoHash == t.InfoHash && e.Count == t.PieceCount);
        }
    }

    [Fact]
    public async Task At_most_MaxActiveTorrents_check_or_download_while_seeds_hold_no_turn()
    {
        var data = _fixture.Folder("data");
        var empty = _fixture.Folder("empty");
        await using var session = new TorrentSession(Listening(maxActive: 1));
        // Three seeds one after the other through the one turn: each frees it once it seeds.
        var seeds = Enumerable.Range(0, 3).Select(i => session.Add(SessionFixture.MakeTorrent($"s{i}.bin", 70_000, PieceLength, 10 + i, data).Torrent, data, Seed)).ToList();
        foreach (var s in seeds) await SessionFixture.WaitForStateAsync(s, TorrentState.Seeding);

        // Two downloads with nobody to download from: the first holds the turn, the second waits.
        var noPeers = new DownloadOptions { UseTrackers = false, NoPeersTimeout = TimeSpan.FromMinutes(5) };
        var first = session.Add(SessionFixture.MakeTorrent("d0.bin", 70_000, PieceLength, 20, null).Torrent, empty, noPeers);
        var second = session.Add(SessionFixture.MakeTorrent("d1.bin", 70_000, PieceLength, 21, null).Torrent, empty, noPeers);
        await SessionFixture.WaitForStateAsync(first, TorrentState.Downloading);
        Assert.Equal(TorrentState.Queued, second.State);

        // Pausing the first gives the turn to the second.
        await session.PauseAsync(first);
        await SessionFixture.WaitForStateAsync(second, TorrentState.Downloading);
        Assert.Equal(TorrentState.Paused, first.State);
        Assert.All(seeds, s => Assert.Equal(TorrentState.Seeding, s.State));
    }

    [Fact]
    public async Task Dispose_stops_every_torrent_reports_each_and_closes_the_port()
    {
        var data = _fixture.Folder("data");
        var empty = _fixture.Folder("empty");
        var session = new TorrentSession(Listening(maxActive: 1));
        var seed = session.Add(SessionFixture.MakeTorrent("s.bin", 70_000, PieceLength, 30, data).Torrent, data, Seed);
        await SessionFixture.WaitForStateAsync(seed, TorrentState.Seeding);
        var noPeers = new DownloadOptions { UseTrackers = false, NoPeersTimeout = TimeSpan.FromMinutes(5) };
        var running = session.Add(SessionFixture.MakeTorrent("d0.bin", 70_000, PieceLength, 31, null).Torrent, empty, noPeers);
        var waiting = session.Add(SessionFixture.MakeTorrent("d1.bin", 70_000, PieceLength, 32, null).Torrent, empty, noPeers);
        await SessionFixture.WaitForStateAsync(running, TorrentState.Downloading);
        int port = session.ListenPort;

        await session.DisposeAsync();

        Assert.Equal(DownloadOutcome.Completed, (await seed.Finished).Result.Status);
        Assert.Equal(DownloadOutcome.Stopped, (await running.Finished).Result.Status);
        Assert.Equal(DownloadOutcome.Stopped, (await waiting.Finished).Result.Status);
        Assert.Equal(TorrentState.Stopped, waiting.State);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Throws<SocketException>(() => probe.Connect(IPAddress.Loopback, port));     // the listener is closed
        Assert.Throws<ObjectDisposedException>(() => session.Add(SessionFixture.MakeTorrent("late.bin", 1000, PieceLength, 33, null).Torrent, empty));
        // The event stream is complete: a reader drains it and stops.
        while (await session.Events.WaitToReadAsync()) while (session.Events.TryRead(out _)) { }
    }

    /// <summary>A peer source of the session's (where the DHT node will plug in): it is started with the port,
    /// told of each torrent, and the peers it finds reach the torrent, which downloads from them with no tracker and
    /// no -Peer.</summary>
    private sealed class ListedPeers : IPeerDiscovery
    {
        private readonly IPEndPoint _peer;
        public ListedPeers(IPEndPoint peer) => _peer = peer;
        public int StartedWith { get; private set; } = -1;
        public List<string> Added { get; } = new();
        public List<string> Removed { get; } = new();
        public bool Disposed { get; private set; }
        public void Start(int listenPort) => StartedWith = listenPort;

        public void Add(TorrentInfo torrent, Action<IReadOnlyList<IPEndPoint>> peersFound)
        {
            Added.Add(torrent.InfoHash);
            // Found a little later, from another thread, as a DHT lookup would.
            _ = Task.Run(async () =>
            {
                for (int i = 0; i < 50; i++)
                {
                    peersFound(new[] { _peer });
                    await Task.Delay(100);
                }
            });
        }

        public void Remove(string infoHash) => Removed.Add(infoHash);
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task Peers_found_by_a_discovery_source_reach_the_torrent()
    {
        var data = _fixture.Folder("data");
        var copy = _fixture.Folder("copy");
        var (t, payload) = SessionFixture.MakeTorrent("found.bin", 10 * PieceLength, PieceLength, 40, data);
        await using var seeder = new TorrentSession(Listening());
        await SessionFixture.WaitForStateAsync(seeder.Add(t, data, Seed), TorrentState.Seeding);

        var source = new ListedPeers(new IPEndPoint(IPAddress.Loopback, seeder.ListenPort));
        var leecher = new TorrentSession(Listening() with { Discovery = new[] { source } });
        try
        {
            Assert.Equal(leecher.ListenPort, source.StartedWith);
            var download = leecher.Add(t, copy, new DownloadOptions { UseTrackers = false });
            var outcome = await download.Finished.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(DownloadOutcome.Completed, outcome.Result.Status);
            Assert.Equal(payload, File.ReadAllBytes(Path.Combine(copy, "found.bin")));
            Assert.Equal(new[] { t.InfoHash }, source.Added);
            await leecher.RemoveAsync(download);
            Assert.Equal(new[] { t.InfoHash }, source.Removed);
        }
        finally
        {
            await leecher.DisposeAsync();
        }
        Assert.True(source.Disposed);
    }
}
