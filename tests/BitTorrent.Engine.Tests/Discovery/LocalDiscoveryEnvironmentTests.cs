using System.Net;
using BitTorrent.Discovery;
using BitTorrent.Session;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Discovery;

/// <summary>The tests that set BITTORRENT_LSD, a process-wide variable: one at a time and with nothing else running,
/// so none of them restores it under another (which could let a test multicast on the machine's interfaces).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LsdEnvironmentCollection
{
    public const string Name = "BITTORRENT_LSD";
}

[Collection(LsdEnvironmentCollection.Name)]
public sealed class LocalDiscoveryEnvironmentTests
{
    [Fact]
    public void The_environment_switch_leaves_multicast_discovery_without_a_socket()
    {
        var time = new FakeTimeProvider();
        string? before = Environment.GetEnvironmentVariable(LocalDiscoveryOptions.EnvironmentVariable);
        Environment.SetEnvironmentVariable(LocalDiscoveryOptions.EnvironmentVariable, "0");
        try
        {
            using var lsd = new LocalServiceDiscovery(new LocalDiscoveryOptions { Time = time });
            lsd.Start(6881);
            Assert.False(lsd.IsActive);
            Assert.Empty(lsd.LocalEndPoints);
            lsd.Add(LocalServiceDiscoveryTests.MakeTorrent("quiet.bin"), _ => { });
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(0, lsd.Statistics.DatagramsSent);
        }
        finally
        {
            Environment.SetEnvironmentVariable(LocalDiscoveryOptions.EnvironmentVariable, before);
        }
    }

    [Fact]
    public void The_environment_switch_turns_local_discovery_off_for_a_session_on_every_interface()
    {
        string? before = Environment.GetEnvironmentVariable(LocalDiscoveryOptions.EnvironmentVariable);
        Environment.SetEnvironmentVariable(LocalDiscoveryOptions.EnvironmentVariable, "0");
        try
        {
            using var session = new TorrentSession(new TorrentSessionOptions { ListenAddress = IPAddress.Any, LocalDiscovery = true });
            Assert.DoesNotContain(session.DiscoverySourcesInUse, s => s is LocalServiceDiscovery);
        }
        finally
        {
            Environment.SetEnvironmentVariable(LocalDiscoveryOptions.EnvironmentVariable, before);
        }
    }
}
