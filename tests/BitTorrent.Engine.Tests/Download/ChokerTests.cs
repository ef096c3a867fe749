using BitTorrent.Download;
using BitTorrent.Events;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>The choker as the pure function it is (peers, time and slots in; who is unchoked out), then one round
/// trip through a seeder on a fake clock.</summary>
public class ChokerTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private sealed class Peer
    {
        public Peer(string name) => Name = name;
        public string Name { get; }
        public override string ToString() => Name;
    }

    private static ChokeCandidate C(Peer p, double down = 0, bool interested = true, bool choking = true, double up = 0, DateTime? unchokedAt = null, DateTime? chokedAt = null) =>
        new(p, interested, choking, down, up, unchokedAt ?? DateTime.MinValue, chokedAt ?? T0);

    private static string[] Names(ChokeDecision d) => d.Unchoked.Cast<Peer>().Select(p => p.Name).OrderBy(n => n).ToArray();

    [Fact]
    public void Downloading_the_best_uploaders_to_us_get_the_regular_slots_and_one_choked_peer_the_optimistic_one()
    {
        Peer a = new("a"), b = new("b"), c = new("c"), d = new("d"), e = new("e");
        var peers = new[] { C(a, down: 100), C(b, down: 500), C(c, down: 300), C(d, down: 50), C(e, down: 1000, interested: false) };
        var decision = Choker.Decide(peers, seeding: false, T0, slots: 3, optimistic: null, DateTime.MinValue, pick: n => n - 1);
        // Two regular slots for the two best interested uploaders (e gives most but wants nothing); the optimistic
        // slot goes to a choked interested peer (the pick chooses the last of a, d).
        Assert.Equal(new[] { "b", "c", "d" }, Names(decision));
        Assert.Same(d, decision.Optimistic);
        Assert.Equal(T0, decision.OptimisticSince);
    }

    [Fact]
    public void The_optimistic_slot_stays_thirty_seconds_then_rotates_and_moves_at_once_when_its_peer_loses_interest()
    {
        Peer a = new("a"), b = new("b"), c = new("c");
        var peers = new[] { C(a, down: 100), C(b), C(c) };
        var first = Choker.Decide(peers, false, T0, 2, null, DateTime.MinValue, n => 0);
        Assert.Same(b, first.Optimistic);

        var kept = Choker.Decide(peers, false, T0.AddSeconds(29), 2, first.Optimistic, first.OptimisticSince, n => n - 1);
        Assert.Same(b, kept.Optimistic);
        Assert.Equal(new[] { "a", "b" }, Names(kept));

        var rotated = Choker.Decide(peers, false, T0.AddSeconds(30), 2, kept.Optimistic, kept.OptimisticSince, n => n - 1);
        Assert.Same(c, rotated.Optimistic);
        Assert.Equal(T0.AddSeconds(30), rotated.OptimisticSince);

        var lostInterest = new[] { C(a, down: 100), C(b), C(c, interested: false) };
        var moved = Choker.Decide(lostInterest, false, T0.AddSeconds(31), 2, rotated.Optimistic, rotated.OptimisticSince, n => 0);
        Assert.Same(b, moved.Optimistic);
        Assert.Equal(new[] { "a", "b" }, Names(moved));
    }

    [Fact]
    public void Seeding_is_round_robin_peers_mid_turn_keep_their_slot_then_the_longest_waiting_go_first()
    {
        Peer mid = new("mid"), over = new("over"), waitedLong = new("waitedLong"), waitedLess = new("waitedLess");
        var now = T0.AddMinutes(5);
        var peers = new[]
        {
            C(over, choking: false, unchokedAt: now.AddSeconds(-31), up: 9999),
            C(waitedLess, chokedAt: now.AddSeconds(-10)),
            C(mid, choking: false, unchokedAt: now.AddSeconds(-5)),
            C(waitedLong, chokedAt: now.AddSeconds(-60)),
        };
        // Three regular slots: mid (its turn is not over), then the two waiting, longest first; 'over' is choked
        // however much it takes (a seed gains nothing from tit-for-tat).
        var decision = Choker.Decide(peers, seeding: true, now, slots: 4, optimistic: null, DateTime.MinValue, pick: n => 0);
        Assert.Equal(new[] { "mid", "over", "waitedLess", "waitedLong" }, Names(decision));   // 'over' only as the optimistic pick
        Assert.Same(over, decision.Optimistic);

        var twoSlots = Choker.Decide(peers, seeding: true, now, slots: 2, optimistic: null, DateTime.MinValue, pick: n => n - 1);
        Assert.Equal(new[] { "mid", "waitedLong" }, Names(twoSlots));
    }

    [Fact]
    public void Nobody_interested_means_nobody_unchoked()
    {
        var peers = new[] { C(new Peer("a"), interested: false, choking: false) };
        var decision = Choker.Decide(peers, false, T0, 8, null, DateTime.MinValue, n => 0);
        Assert.Empty(decision.Unchoked);
        Assert.Null(decision.Optimistic);
    }

    [Fact]
    public async Task A_seeder_with_two_slots_unchokes_the_waiting_peer_at_the_round_after_thirty_seconds()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var swarm = await SeedingSwarm.StartAsync(32 * 1024, 20, options: new DownloadOptions { UploadSlots = 2 }, clock: clock);
        using var a = await swarm.ConnectAsync();
        await a.SendAsync(RawPeer.Interested);
        Assert.NotNull(await a.ReadUntilAsync(1));                 // a free slot: unchoked at once
        using var b = await swarm.ConnectAsync();
        await b.SendAsync(RawPeer.Interested);
        Assert.NotNull(await b.ReadUntilAsync(1));
        using var c = await swarm.ConnectAsync();
        // Interested, then a request while choked: its reject proves the interest was handled (messages are handled
        // in order) before the clock moves.
        var allowed = AllowedFastSet.Compute(System.Net.IPAddress.Loopback, swarm.Torrent.InfoHashBytes, 20);
        int notAllowed = Enumerable.Range(0, 20).First(p => !allowed.Contains(p));
        await c.SendAsync(RawPeer.Interested, RawPeer.Request(notAllowed, 0, 16384));
        Assert.NotNull(await c.ReadUntilAsync(16));

        // Rounds every 10 s from the first tick (1 s); at the round of 31 s the first two have had their 30 s turn
        // and the waiting peer gets the regular slot, if the optimistic slot did not give it one before. One slot
        // (regular) plus the optimistic one: of a and b, one is choked by then, whatever the random picks were.
        var cUnchoked = c.ReadUntilAsync(1);
        var aChoked = a.ReadUntilAsync(0);
        var bChoked = b.ReadUntilAsync(0);
        await swarm.AdvanceAsync(TimeSpan.FromSeconds(31));
        Assert.NotNull(await cUnchoked);
        var choked = await Task.WhenAny(aChoked, bChoked);
        Assert.NotNull(await choked);
    }
}
