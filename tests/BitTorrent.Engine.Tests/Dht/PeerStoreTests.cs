using System.Net;
using BitTorrent.Dht;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Dht;

public sealed class PeerStoreTests
{
    private static NodeId Hash(byte b) { var bytes = new byte[NodeId.Length]; bytes[0] = b; return new NodeId(bytes); }
    private static IPEndPoint Peer(int i) => new(new IPAddress(new byte[] { 20, (byte)(i >> 16), (byte)(i >> 8), (byte)i }), 6881);

    [Fact]
    public void AnnounceExpiresAfterThirtyMinutes()
    {
        var clock = new FakeTimeProvider();
        var store = new PeerStore(clock);
        store.Announce(Hash(1), Peer(1), seed: true);
        clock.Advance(TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(59));
        var kept = Assert.Single(store.GetPeers(Hash(1)));
        Assert.Equal(Peer(1), kept.EndPoint);
        Assert.True(kept.Seed);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(store.GetPeers(Hash(1)));
        Assert.Equal(0, store.InfoHashCount);
    }

    [Fact]
    public void ReannouncingRestartsTheLifetime()
    {
        var clock = new FakeTimeProvider();
        var store = new PeerStore(clock);
        store.Announce(Hash(1), Peer(1));
        clock.Advance(TimeSpan.FromMinutes(20));
        store.Announce(Hash(1), Peer(1));
        clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Single(store.GetPeers(Hash(1)));
    }

    [Fact]
    public void PeersPerInfoHashAreBoundedAndTheOldestGo()
    {
        var clock = new FakeTimeProvider();
        var store = new PeerStore(clock, maxPeersPerInfoHash: 100);
        for (int i = 0; i < 150; i++) { store.Announce(Hash(1), Peer(i)); clock.Advance(TimeSpan.FromSeconds(1)); }
        var all = store.GetPeers(Hash(1), 1000);
        Assert.Equal(100, all.Count);
        var expected = Enumerable.Range(50, 100).Select(Peer).ToHashSet();
        Assert.True(expected.SetEquals(all.Select(p => p.EndPoint)));
    }

    [Fact]
    public void InfoHashesAreBoundedAndTheStalestGoes()
    {
        var clock = new FakeTimeProvider();
        var store = new PeerStore(clock, maxInfoHashes: 3);
        store.Announce(Hash(1), Peer(1)); clock.Advance(TimeSpan.FromSeconds(1));
        store.Announce(Hash(2), Peer(2)); clock.Advance(TimeSpan.FromSeconds(1));
        store.Announce(Hash(3), Peer(3)); clock.Advance(TimeSpan.FromSeconds(1));
        store.Announce(Hash(1), Peer(4)); clock.Advance(TimeSpan.FromSeconds(1));
        store.Announce(Hash(4), Peer(5));
        Assert.Equal(3, store.InfoHashCount);
        Assert.Empty(store.GetPeers(Hash(2)));
        Assert.Equal(2, store.GetPeers(Hash(1)).Count);
        Assert.Single(store.GetPeers(Hash(3)));
        Assert.Single(store.GetPeers(Hash(4)));
    }

    [Fact]
    public void RepliesAreARandomSampleOfAtMostFifty()
    {
        var clock = new FakeTimeProvider();
        var store = new PeerStore(clock, random: new Random(7));
        for (int i = 0; i < 100; i++) store.Announce(Hash(1), Peer(i));
        var first = store.GetPeers(Hash(1));
        Assert.Equal(PeerStore.DefaultReplyPeers, first.Count);
        Assert.Equal(first.Count, first.Select(p => p.EndPoint).Distinct().Count());
        Assert.All(first, p => Assert.InRange(p.EndPoint.Address.GetAddressBytes()[3], 0, 99));
        // Over a few replies every stored peer is handed out, not always the same fifty.
        var seen = new HashSet<IPEndPoint>();
        for (int i = 0; i < 20; i++) foreach (var p in store.GetPeers(Hash(1))) seen.Add(p.EndPoint);
        Assert.Equal(100, seen.Count);
        Assert.Equal(10, store.GetPeers(Hash(1), 10).Count);
        Assert.Empty(store.GetPeers(Hash(9)));
    }

    [Fact]
    public void UnusablePeersAreNotStored()
    {
        var store = new PeerStore(new FakeTimeProvider());
        Assert.False(store.Announce(Hash(1), new IPEndPoint(IPAddress.Parse("20.1.1.1"), 0)));
        Assert.False(store.Announce(Hash(1), new IPEndPoint(IPAddress.Any, 6881)));
        Assert.False(store.Announce(Hash(1), new IPEndPoint(IPAddress.Parse("239.0.0.1"), 6881)));
        Assert.Equal(0, store.InfoHashCount);
        Assert.True(store.Announce(Hash(1), new IPEndPoint(IPAddress.Parse("::ffff:20.1.1.1"), 6881)));
        Assert.True(store.Announce(Hash(1), new IPEndPoint(IPAddress.Parse("20.1.1.1"), 6881)));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("20.1.1.1"), 6881), Assert.Single(store.GetPeers(Hash(1))).EndPoint);
    }

    [Fact]
    public void SweepDropsExpiredInfoHashes()
    {
        var clock = new FakeTimeProvider();
        var store = new PeerStore(clock);
        store.Announce(Hash(1), Peer(1));
        clock.Advance(TimeSpan.FromMinutes(20));
        store.Announce(Hash(2), Peer(2));
        clock.Advance(TimeSpan.FromMinutes(11));
        store.Sweep();
        Assert.Equal(1, store.InfoHashCount);
        Assert.Single(store.GetPeers(Hash(2)));
    }
}
