using System.Net;
using System.Security.Cryptography;
using BitTorrent.Discovery;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Session;
using Xunit;

namespace BitTorrent.Tests.Session;

/// <summary>Local discovery plugged into real sessions: a leecher with no tracker and no peer finds the seeder only
/// through its BEP 14 announcement (unicast on loopback standing in for the group), and the session leaves local
/// discovery off where it must.</summary>
public sealed class LocalDiscoverySessionTests : IDisposable
{
    private const int PieceLength = 32 * 1024;
    private readonly SessionFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static LocalServiceDiscovery Unicast(List<IPEndPoint> destinations) => new(new LocalDiscoveryOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        Destinations = destinations,
        FirstAnnounceDelay = TimeSpan.FromMilliseconds(100),
    });

    [Fact]
    public async Task A_leecher_finds_the_seeder_through_its_announcement_and_downloads_everything()
    {
        var data = _fixture.Folder("data");
        var copy = _fixture.Folder("copy");
        var (t, payload) = SessionFixture.MakeTorrent("lan.bin", 12 * PieceLength + 77, PieceLength, 51, data);
        var toSeeder = new List<IPEndPoint>();
        var toLeecher = new List<IPEndPoint>();
        var seederLsd = Unicast(toLeecher);
        var leecherLsd = Unicast(toSeeder);
        var options = new TorrentSessionOptions { ListenAddress = IPAddress.Loopback, StopTimeout = TimeSpan.FromSeconds(30) };
        await using var seeder = new TorrentSession(options with { Discovery = new[] { seederLsd } });
        await using var leecher = new TorrentSession(options with { Discovery = new[] { leecherLsd } });
        toSeeder.Add(seederLsd.LocalEndPoints[0]);
        toLeecher.Add(leecherLsd.LocalEndPoints[0]);

        var seeding = seeder.Add(t, data, new DownloadOptions { SeedOnly = true, SeedUntilCancelled = true, UseTrackers = false });
        await SessionFixture.WaitForStateAsync(seeding, TorrentState.Seeding);
        var download = leecher.Add(t, copy, new DownloadOptions { UseTrackers = false, NoPeersTimeout = TimeSpan.FromSeconds(60) });
        var outcome = await download.Finished.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(DownloadOutcome.Completed, outcome.Result.Status);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(File.ReadAllBytes(Path.Combine(copy, "lan.bin"))));
        Assert.True(seederLsd.Statistics.DatagramsSent + leecherLsd.Statistics.DatagramsSent >= 1);
        Assert.True(seederLsd.Statistics.PeersReported + leecherLsd.Statistics.PeersReported >= 1);
    }

    /// <summary>Tells of the peer once, at once, while the torrent still waits for its turn, and never again (as
    /// local discovery may not for five minutes).</summary>
    private sealed class OnceAtAdd : IPeerDiscovery
    {
        private readonly IPEndPoint _peer;
        public OnceAtAdd(IPEndPoint peer) => _peer = peer;
        public void Start(int listenPort) { }
        public void Add(TorrentInfo torrent, Action<IReadOnlyList<IPEndPoint>> peersFound) => peersFound(new[] { _peer });
        public void Remove(string infoHash) { }
        public void Dispose() { }
    }

    [Fact]
    public async Task Peers_found_while_a_torrent_waits_for_its_turn_are_kept_for_its_run_and_reported_as_an_event()
    {
        var data = _fixture.Folder("data");
        var copy = _fixture.Folder("copy");
        var (t, payload) = SessionFixture.MakeTorrent("queued.bin", 6 * PieceLength + 5, PieceLength, 52, data);
        var options = new TorrentSessionOptions { ListenAddress = IPAddress.Loopback, StopTimeout = TimeSpan.FromSeconds(30) };
        await using var seeder = new TorrentSession(options);
        await SessionFixture.WaitForStateAsync(seeder.Add(t, data, new DownloadOptions { SeedOnly = true, SeedUntilCancelled = true, UseTrackers = false }), TorrentState.Seeding);
        // No listener: the seeder cannot call the leecher, so only the one report can bring them together.
        await using var leecher = new TorrentSession(new TorrentSessionOptions
        {
            StopTimeout = TimeSpan.FromSeconds(30),
            Discovery = new[] { new OnceAtAdd(new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)) },
        });
        var download = leecher.Add(t, copy, new DownloadOptions { UseTrackers = false, NoPeersTimeout = TimeSpan.FromSeconds(30) });
        var outcome = await download.Finished.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(DownloadOutcome.Completed, outcome.Result.Status);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(File.ReadAllBytes(Path.Combine(copy, "queued.bin"))));
        var events = new List<EngineEvent>();
        while (leecher.Events.TryRead(out var e)) events.Add(e);
        Assert.Contains(events, e => e.Kind == EngineEventKind.PeersDiscovered && e.InfoHash == t.InfoHash && e.Count == 1);
    }

    [Fact]
    public void A_session_listening_on_loopback_only_or_not_at_all_runs_no_local_discovery()
    {
        using (var loopback = new TorrentSession(new TorrentSessionOptions { ListenAddress = IPAddress.Loopback, LocalDiscovery = true }))
            Assert.DoesNotContain(loopback.DiscoverySourcesInUse, s => s is LocalServiceDiscovery);
        using (var silent = new TorrentSession(new TorrentSessionOptions { LocalDiscovery = true }))
            Assert.DoesNotContain(silent.DiscoverySourcesInUse, s => s is LocalServiceDiscovery);
    }
}
