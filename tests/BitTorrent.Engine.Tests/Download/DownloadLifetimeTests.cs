using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Tests.Download.Harness;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>A download's lifetime: its states as events, and the one shape of a failure (a result with Status
/// Failed, an Error and the exception, plus a TorrentFailed event), never an exception out of RunAsync.</summary>
public class DownloadLifetimeTests
{
    private const int Block = BlockRequest.BlockSize;

    private static TestTorrent Small() => TestTorrent.Create("small.bin", Block, new[] { ("small.bin", 4 * Block) }, multi: false, seed: 9);

    private static DownloadState[] States(Leecher leecher) =>
        leecher.Events().Where(e => e.Kind == EngineEventKind.StateChanged).Select(e => e.State!.Value).ToArray();

    [Fact]
    public async Task A_peer_that_refuses_every_connection_is_named_in_the_NoPeersAvailable_error()
    {
        // A port nobody listens on: every dial is refused at once.
        var closed = new TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var endPoint = (System.Net.IPEndPoint)closed.LocalEndpoint;
        closed.Stop();
        var torrent = Small();
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), new DownloadOptions { NoPeersTimeout = TimeSpan.FromSeconds(30) }).Start(endPoint);
        await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerConnectFailed, "the first refused dial");
        // A second later it dials again (back-off 0.5 s), and is refused again.
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
        await leecher.Until(() => leecher.Events().Count(e => e.Kind == EngineEventKind.PeerConnectFailed) >= 2, "the second refused dial");
        // Retried every few seconds, never reached: the download gives up once 30 s pass without data, though a
        // dial is nearly always in flight (the refusals come back on real sockets while fake time runs ahead).
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.False(leecher.Run.IsCompleted);
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(2));
        var result = await leecher.WaitForResultAsync();

        Assert.Equal(DownloadError.NoPeersAvailable, result.Error);
        // The error says which peer failed last (its address), not only that none was reachable.
        Assert.Contains(endPoint.ToString(), result.GetException()!.Message);
    }

    [Fact]
    public async Task With_nobody_to_download_from_it_fails_with_NoPeersAvailable_after_the_timeout_of_fake_time()
    {
        var torrent = Small();
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), new DownloadOptions { NoPeersTimeout = TimeSpan.FromSeconds(60) }).Start();
        await leecher.WaitForAsync(s => s.State == DownloadState.Downloading, "the download to start");
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(60));
        Assert.False(leecher.Run.IsCompleted);
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(2));
        var result = await leecher.WaitForResultAsync();

        Assert.Equal(DownloadOutcome.Failed, result.Status);
        Assert.Equal(DownloadError.NoPeersAvailable, result.Error);
        Assert.Equal(DownloadError.NoPeersAvailable, Assert.IsType<DownloadException>(result.GetException()).Error);
        var failed = Assert.Single(leecher.Events(), e => e.Kind == EngineEventKind.TorrentFailed);
        Assert.Equal(DownloadError.NoPeersAvailable, failed.Error);
        Assert.Equal(EventSeverity.Error, failed.Severity);
        Assert.Equal(new[] { DownloadState.Checking, DownloadState.Downloading, DownloadState.Failed }, States(leecher));
    }

    [Fact]
    public async Task A_failing_disk_ends_the_download_with_DestinationWriteFailed_and_the_io_error()
    {
        var torrent = Small();
        await using var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        var disk = new MemoryDisk(torrent.Info) { FailWrites = true };
        await using var leecher = new Leecher(torrent, disk).Start(seeder.EndPoint);
        var result = await leecher.WaitForResultAsync();

        Assert.Equal(DownloadOutcome.Failed, result.Status);
        Assert.Equal(DownloadError.DestinationWriteFailed, result.Error);
        Assert.IsType<IOException>(Assert.IsType<DownloadException>(result.GetException()).InnerException);
        Assert.Contains(leecher.Events(), e => e.Kind == EngineEventKind.TorrentFailed && e.Error == DownloadError.DestinationWriteFailed);
        Assert.Equal(DownloadState.Failed, leecher.Download.GetStatus().State);
    }

    [Fact]
    public async Task Seeding_data_that_is_not_there_fails_with_SeedDataIncomplete()
    {
        var torrent = Small();
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), new DownloadOptions { SeedOnly = true }).Start();
        var result = await leecher.WaitForResultAsync();
        Assert.Equal(DownloadOutcome.Failed, result.Status);
        Assert.Equal(DownloadError.SeedDataIncomplete, result.Error);
        Assert.Equal(new[] { DownloadState.Checking, DownloadState.Failed }, States(leecher));
    }

    [Fact]
    public async Task A_complete_download_goes_through_its_states_and_ends_Completed()
    {
        var torrent = Small();
        await using var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        var disk = new MemoryDisk(torrent.Info);
        await using var leecher = new Leecher(torrent, disk).Start(seeder.EndPoint);
        var result = await leecher.WaitForResultAsync();
        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Null(result.Error);
        Assert.Null(result.GetException());
        Assert.Equal(torrent.Payload, disk.Data);
        Assert.Equal(new[] { DownloadState.Checking, DownloadState.Downloading, DownloadState.Seeding, DownloadState.Completed }, States(leecher));
        Assert.Contains(leecher.Events(), e => e.Kind == EngineEventKind.PeerConnected && e.Peer == seeder.Key);
    }

    [Fact]
    public async Task Peers_are_dialled_through_the_services_connector()
    {
        var torrent = Small();
        await using var seeder = new ScriptedSeeder(torrent, SeederBehaviour.Honest);
        var disk = new MemoryDisk(torrent.Info);
        var connector = new CountingConnector();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var download = new TorrentDownload(torrent.Info, Path.GetTempPath(), new DownloadOptions { UseTrackers = false, Peers = new[] { seeder.EndPoint } },
            new TorrentServices { Clock = clock, Connector = connector, StorageFactory = (_, _, _) => disk.Open() });
        var result = await download.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(new[] { seeder.EndPoint }, connector.Dialled);
    }

    private sealed class CountingConnector : IPeerConnector
    {
        public List<System.Net.IPEndPoint> Dialled { get; } = new();

        public Task<PeerConnection> ConnectAsync(System.Net.IPEndPoint endPoint, PeerMessageLimits limits, CancellationToken cancellationToken)
        {
            lock (Dialled) Dialled.Add(endPoint);
            return TcpPeerConnector.Instance.ConnectAsync(endPoint, limits, cancellationToken);
        }
    }
}
