using BitTorrent.Download;
using BitTorrent.Events;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>Connections our seeder ends on its own, on a fake clock, each with its reason: a silent peer after the
/// silence limit, and the idlest peer when a newcomer needs its slot.</summary>
public class PeerCloseReasonTests
{
    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_peer_silent_for_the_silence_limit_is_disconnected_as_Silent()
    {
        await using var swarm = await SeedingSwarm.StartAsync(32 * 1024, 10, clock: Clock());
        using var peer = await swarm.ConnectAsync();
        await swarm.WaitForAsync(s => s.ConnectedPeers == 1, "the peer");
        await swarm.AdvanceAsync(PeerConnections.SilenceLimit);
        Assert.Equal(1, swarm.Download.GetStatus().ConnectedPeers);         // exactly the limit is not over it
        await swarm.AdvanceAsync(TimeSpan.FromSeconds(1));
        var closed = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the silent peer to be dropped");
        Assert.Equal(PeerCloseReason.Silent, closed.Reason);
    }

    [Fact]
    public async Task A_newcomer_from_a_full_address_evicts_the_idlest_peer_once_it_has_idled_long_enough()
    {
        await using var swarm = await SeedingSwarm.StartAsync(32 * 1024, 10, options: new DownloadOptions { MaxConnectionsPerAddress = 1 }, clock: Clock());
        using var first = await swarm.ConnectAsync();
        await swarm.WaitForAsync(s => s.ConnectedPeers == 1, "the first peer");

        // Not idle long enough yet: the newcomer is turned away before our handshake, the first peer stays.
        await Assert.ThrowsAnyAsync<IOException>(() => swarm.ConnectAsync());
        Assert.Equal(1, swarm.Download.GetStatus().ConnectedPeers);

        await swarm.AdvanceAsync(PeerConnections.EvictableAfter);
        using var newcomer = await swarm.ConnectAsync();
        var evicted = await swarm.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected, "the idle peer to be evicted");
        Assert.Equal(PeerCloseReason.Evicted, evicted.Reason);
        Assert.True(await first.ClosedBySeederAsync());
        await swarm.WaitForAsync(s => s.ConnectedPeers == 1, "the newcomer alone");
    }
}
