using System.Collections.Concurrent;
using System.Net;
using BitTorrent.Trackers;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Trackers;

public sealed class TrackerPeerQueryTests
{
    /// <summary>An HTTP tracker that keeps a swarm like opentracker does: every announce but 'stopped' adds the
    /// sender (127.0.0.1:port), 'stopped' removes it, and replies list everyone, the sender included.</summary>
    private sealed class SwarmTracker : IDisposable
    {
        public readonly ConcurrentDictionary<string, bool> Swarm = new();
        public readonly FakeHttpTracker Http;

        public SwarmTracker(params string[] members)
        {
            foreach (var m in members) Swarm[m] = true;
            Http = new FakeHttpTracker(r =>
            {
                string me = $"127.0.0.1:{r.Text("port")}";
                if (r.Text("event") == "stopped") Swarm.TryRemove(me, out _);
                else Swarm[me] = true;
                var list = Swarm.Keys.Select(k => (k.Split(':')[0], int.Parse(k.Split(':')[1]))).ToArray();
                return FakeHttpReply.Ok(Bencode(Dict(("interval", Int(60)), ("incomplete", Int(Swarm.Count)), ("peers", Bytes(r.Text("event") == "stopped" ? Array.Empty<byte>() : CompactV4(list))))));
            });
        }

        public void Dispose() => Http.Dispose();
    }

    [Fact]
    public async Task Query_ListsTheSwarmWithoutUs_AndLeavesItAgain()
    {
        using var tracker = new SwarmTracker("127.0.0.1:7001", "127.0.0.1:7002");
        using var client = new TrackerClient();
        var tiers = new TrackerTierList(new[] { new[] { tracker.Http.AnnounceUrl } });
        var request = Request() with { Port = 7003 };
        var query = new TrackerPeerQuery(client, tiers, request, TimeSpan.FromSeconds(5));
        TrackerPeerQueryResult? early = null;

        var result = await query.QueryAsync(tiers.All[0], r => early = r);

        Assert.Same(result, early);
        Assert.True(result.Announce.Succeeded);
        Assert.True(result.SelfListed);
        Assert.Equal(new[] { "127.0.0.1:7001", "127.0.0.1:7002" }, result.Peers.Select(p => p.ToString()).OrderBy(s => s));
        Assert.Null(result.StopError);
        Assert.Equal(2, result.StoppedResponse!.Leechers);
        Assert.Equal(new[] { "127.0.0.1:7001", "127.0.0.1:7002" }, tracker.Swarm.Keys.OrderBy(s => s));
        var sent = tracker.Http.Requests.ToArray();
        Assert.Equal(new[] { "started", "stopped" }, sent.Select(s => s.Text("event")));
        Assert.Equal(sent[0].Bytes("peer_id"), sent[1].Bytes("peer_id"));
        Assert.Equal(sent[0].Text("key"), sent[1].Text("key"));
        Assert.Equal("0", sent[1].Text("numwant"));
        Assert.Equal("123456789012", sent[0].Text("left"));
    }

    [Fact]
    public void IsSelf_MatchesOurPeerId_OrOurPortOnOurAddresses()
    {
        using var client = new TrackerClient();
        var request = Request() with { Port = 6881 };
        var query = new TrackerPeerQuery(client, new TrackerTierList(Array.Empty<string[]>()), request, TimeSpan.FromSeconds(1),
            new[] { IPAddress.Parse("192.0.2.10") });

        Assert.True(query.IsSelf(new TrackerPeer(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 6881))));
        Assert.True(query.IsSelf(new TrackerPeer(new IPEndPoint(IPAddress.Parse("::ffff:192.0.2.10"), 6881))));
        Assert.False(query.IsSelf(new TrackerPeer(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 6882))));
        Assert.False(query.IsSelf(new TrackerPeer(new IPEndPoint(IPAddress.Parse("192.0.2.11"), 6881))));
        Assert.True(query.IsSelf(new TrackerPeer(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 6881)), IPAddress.Parse("198.51.100.1")));
        Assert.True(query.IsSelf(new TrackerPeer(new IPEndPoint(IPAddress.Parse("203.0.113.5"), 9999), request.PeerId)));
    }

    [Fact]
    public async Task FailedAnnounce_SendsNoStop()
    {
        using var server = new FakeHttpTracker(_ => new FakeHttpReply { Status = 500, Reason = "Oops", Body = Array.Empty<byte>() });
        using var client = new TrackerClient();
        var tiers = new TrackerTierList(new[] { new[] { server.AnnounceUrl } });
        var result = await new TrackerPeerQuery(client, tiers, Request(), TimeSpan.FromSeconds(5)).QueryAsync(tiers.All[0]);
        Assert.False(result.Announce.Succeeded);
        Assert.Equal(TrackerError.HttpStatus, result.Announce.Error!.Error);
        Assert.Single(server.Requests);
    }
}
