using System.Net;
using BitTorrent.Bencoding;
using BitTorrent.Trackers;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Trackers;

public sealed class TrackerAnnouncerTests
{
    // Per tracker. Long enough that a live loopback tracker always answers on a loaded 2-core CI machine (a 1 s limit
    // made a first HTTP announce time out there); the silent trackers make the tests that need a timeout wait it out.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(6);

    [Fact]
    public void TierList_ShufflesWithinTiersOnly_AndDropsDuplicatesAndBlanks()
    {
        var tiers = new[]
        {
            Enumerable.Range(0, 8).Select(i => $"http://a{i}/announce").ToArray(),
            new[] { "http://b/announce", " ", "http://a0/announce" },
            new[] { "" },
            new[] { "udp://c:1" },
        };
        var orders = new HashSet<string>();
        for (int seed = 0; seed < 10; seed++)
        {
            var list = new TrackerTierList(tiers, new Random(seed));
            Assert.Equal(3, list.TierCount);
            Assert.Equal(tiers[0].OrderBy(u => u), list.Tiers[0].Select(t => t.Url).OrderBy(u => u));
            Assert.Equal(new[] { "http://b/announce" }, list.Tiers[1].Select(t => t.Url));
            Assert.Equal(new[] { "udp://c:1" }, list.Tiers[2].Select(t => t.Url));
            Assert.Equal(new[] { 0, 1, 2 }, list.Tiers.Select(t => t[0].Tier));
            orders.Add(string.Join(",", list.Tiers[0].Select(t => t.Url)));
        }
        Assert.True(orders.Count > 1, "the first tier was never shuffled");
    }

    [Fact]
    public async Task DeadFirstTier_LiveSecondTier_GetsPeers_AndAttemptsAreInTierOrder()
    {
        using var live = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(900)), ("peers", Bytes(CompactV4(("10.2.2.2", 2222))))))));
        using var silentUdp = new FakeUdpTracker((_, _) => Array.Empty<FakeUdpReply>());
        string refused = $"http://127.0.0.1:{ClosedTcpPort()}/announce";
        var tiers = new TrackerTierList(new[] { new[] { refused, silentUdp.AnnounceUrl }, new[] { live.AnnounceUrl } });
        using var client = new TrackerClient();
        var announcer = new TrackerAnnouncer(client, tiers);

        var attempts = await announcer.AnnounceAsync(Request(), Timeout);

        Assert.Equal(3, attempts.Count);
        Assert.All(attempts.Take(2), a => Assert.False(a.Succeeded));
        Assert.Equal(new[] { 0, 0, 1 }, attempts.Select(a => a.Tracker.Tier));
        Assert.Contains(attempts.Take(2), a => a.Error!.Error == TrackerError.ConnectionFailed);
        Assert.Contains(attempts.Take(2), a => a.Error!.Error == TrackerError.Timeout);
        var success = attempts[2];
        Assert.True(success.Succeeded);
        Assert.Equal(new[] { "10.2.2.2:2222" }, EndPoints(success.Response!));
        Assert.Equal(1, tiers.All.Single(t => t.Url == refused).ConsecutiveFailures);
        Assert.Equal(success.At + TimeSpan.FromSeconds(900), success.Tracker.NextAnnounceAfter);
    }

    [Fact]
    public async Task WorkingTracker_MovesToTheFrontOfItsTier_AndIsAskedFirstNextTime()
    {
        using var live = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(60)), ("peers", Bytes(CompactV4(("10.3.3.3", 3))))))));
        var dead = Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{ClosedTcpPort()}/announce").ToArray();
        // Seeded so the live tracker is not first after the shuffle.
        TrackerTierList? tiers = null;
        for (int seed = 0; tiers is null || tiers.Tiers[0][0].Url == live.AnnounceUrl; seed++)
            tiers = new TrackerTierList(new[] { dead.Append(live.AnnounceUrl).ToArray() }, new Random(seed));
        using var client = new TrackerClient();
        var announcer = new TrackerAnnouncer(client, tiers);

        var first = await announcer.AnnounceAsync(Request(), Timeout);
        Assert.True(first.Count > 1);
        Assert.Equal(live.AnnounceUrl, tiers.Tiers[0][0].Url);

        var second = await announcer.AnnounceAsync(Request(TrackerEvent.None), Timeout);
        var only = Assert.Single(second);
        Assert.Equal(live.AnnounceUrl, only.Tracker.Url);
        Assert.Equal(2, live.Requests.Count);
    }

    [Fact]
    public async Task TrackerId_FromAReply_IsSentBackOnTheNextAnnounce()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(60)), ("tracker id", Str("abc&=1")), ("peers", Bytes(Array.Empty<byte>()))))));
        using var client = new TrackerClient();
        var announcer = new TrackerAnnouncer(client, new TrackerTierList(new[] { new[] { server.AnnounceUrl } }));

        await announcer.AnnounceAsync(Request(), Timeout);
        await announcer.AnnounceAsync(Request(TrackerEvent.None), Timeout);

        var requests = server.Requests.ToArray();
        Assert.Null(requests[0].Text("trackerid"));
        Assert.Equal("abc&=1", requests[1].Text("trackerid"));
    }

    [Fact]
    public async Task AnnounceToAll_AsksEveryTrackerConcurrently()
    {
        // Proof by order, not by a clock: tracker a answers only once b (a later tier) has been asked, so asking the
        // trackers one after another would leave a waiting until its own timeout.
        using var b = new FakeUdpTracker();
        b.Peers.Add(new IPEndPoint(IPAddress.Parse("10.5.5.5"), 5));
        using var a = new FakeHttpTracker(_ =>
        {
            if (!SpinWait.SpinUntil(() => b.AnnounceCount > 0, Timeout / 2))
                return FakeHttpReply.Ok(Bencode(Dict(("failure reason", Str("asked before the later tier: not concurrent")))));
            return FakeHttpReply.Ok(Bencode(Dict(("interval", Int(60)), ("peers", Bytes(CompactV4(("10.4.4.4", 4)))))));
        });
        using var silent = new FakeUdpTracker((_, _) => Array.Empty<FakeUdpReply>());
        var tiers = new TrackerTierList(new[] { new[] { silent.AnnounceUrl }, new[] { a.AnnounceUrl }, new[] { b.AnnounceUrl } });
        using var client = new TrackerClient();

        var results = await new TrackerAnnouncer(client, tiers).AnnounceToAllAsync(Request(), Timeout);

        Assert.True(b.AnnounceCount > 0);
        Assert.Equal(new[] { false, true, true }, results.Select(r => r.Succeeded));
        Assert.Equal(new[] { "10.4.4.4:4", "10.5.5.5:5" }, results.Skip(1).SelectMany(r => EndPoints(r.Response!)));
    }
}
