using System.Net;
using System.Security.Cryptography;
using BitTorrent.Bencoding;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Tests.Download.Harness;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>Peer exchange (BEP 11) end to end over loopback sockets, on a fake clock: what a download tells ut_pex
/// peers and how often, what it learns and dials, private torrents, and hostile PEX.</summary>
public class PeerExchangeTests
{
    private static readonly DownloadOptions Patient = new() { NoPeersTimeout = TimeSpan.FromHours(1) };

    private static TestTorrent Small(bool isPrivate = false) =>
        TestTorrent.Create("pex.bin", 4 * BlockRequest.BlockSize, new[] { ("pex.bin", 6 * 4 * BlockRequest.BlockSize - 1000) }, multi: false, seed: 31, isPrivate: isPrivate);

    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    /// <summary>Advances the fake clock a second at a time until the condition holds (at most <paramref name="seconds"/>).</summary>
    private static async Task AdvanceUntilAsync(Leecher leecher, Func<bool> condition, int seconds, string what)
    {
        for (int i = 0; i < seconds && !condition(); i++)
        {
            await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
            // What the download reads from its peers arrives in real time: give it a moment before the next second.
            for (int wait = 0; wait < 50 && !condition(); wait++) await Task.Delay(20);
        }
        Assert.True(condition(), what);
    }

    /// <summary>Waits (bounded) until the download has read everything the peer sent before: a 'have' makes it
    /// interested, and it reads a connection's messages in order.</summary>
    private static async Task BarrierAsync(Leecher leecher, ScriptedPexPeer peer, int piece)
    {
        int before = peer.InterestedReceived;
        await peer.SendHaveAsync(piece);
        await leecher.Until(() => peer.InterestedReceived > before, "the download to read what the peer sent");
    }

    [Fact]
    public async Task A_pex_peer_is_told_the_peers_we_are_connected_to_50_at_a_time_and_at_most_once_a_minute()
    {
        var torrent = Small();
        await using var recipient = new ScriptedPexPeer(torrent, tag: "recv");
        var others = Enumerable.Range(0, 59).Select(i => new ScriptedPexPeer(torrent, pex: false, tag: $"o{i:D2}")).ToList();
        try
        {
            await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient with { MaxConnections = 80 })
                .Start(others.Select(o => o.EndPoint!).Prepend(recipient.EndPoint!).ToArray());
            // Ten dials at a time, one batch per turn of the run loop (a fake clock: nudge it).
            await leecher.Until(() => { leecher.Download.Nudge(); return leecher.Download.GetStatus().ConnectedPeers == 60; }, "all 60 peers to be connected");
            var ours = await recipient.TheirHandshake.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(ExtensionIds.UtPex, ours.Extensions[ExtensionNames.UtPex]);

            // The first message goes on the first tick after the recipient's extended handshake was read.
            await AdvanceUntilAsync(leecher, () => leecher.Download.PexCounters.Sent == 1, 5, "a first ut_pex message");
            Assert.Equal(1, leecher.Download.PexCounters.Sent);
            await leecher.Until(() => recipient.PexReceived.Count == 1, "the first message to arrive");
            recipient.PexReceived.TryPeek(out var first);
            var everyone = others.Select(o => o.EndPoint!).ToHashSet();
            Assert.Equal(50, first!.Added.Count);
            Assert.All(first.Added, p => Assert.Contains(p.EndPoint, everyone));
            Assert.All(first.Added, p => Assert.Equal(PexFlags.Reachable, p.Flags));   // we dialled them; none is a seed
            Assert.Empty(first.Dropped);

            // 59 s later: not yet, although 9 peers are still untold. At 60 s: the rest.
            await leecher.AdvanceAsync(TimeSpan.FromSeconds(59));
            Assert.Equal(1, leecher.Download.PexCounters.Sent);
            Assert.Single(recipient.PexReceived);
            await leecher.AdvanceAsync(TimeSpan.FromSeconds(1));
            Assert.Equal(2, leecher.Download.PexCounters.Sent);
            await leecher.Until(() => recipient.PexReceived.Count == 2, "the second message to arrive");
            var second = recipient.PexReceived.ToArray()[1];
            Assert.Equal(9, second.Added.Count);
            Assert.Equal(everyone, first.Added.Concat(second.Added).Select(p => p.EndPoint).ToHashSet());
            Assert.Equal(0, recipient.OtherExtended);

            // A peer that leaves is reported dropped in the next message, a minute later.
            var leaving = others[0];
            await leaving.DisposeAsync();
            await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == leaving.Key, "the leaving peer to be gone");
            await leecher.AdvanceAsync(TimeSpan.FromSeconds(60));
            await leecher.Until(() => recipient.PexReceived.Count == 3, "the third message to arrive");
            var third = recipient.PexReceived.ToArray()[2];
            Assert.Empty(third.Added);
            Assert.Equal(new[] { leaving.EndPoint! }, third.Dropped);
        }
        finally
        {
            foreach (var o in others) await o.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_ipv6_peer_goes_in_added6_with_its_flags_and_an_ipv4_one_in_added()
    {
        var torrent = Small();
        await using var recipient = new ScriptedPexPeer(torrent, tag: "recv");
        await using var v6 = new ScriptedPexPeer(torrent, IPAddress.IPv6Loopback, seed: true, pex: false, tag: "six") { Choking = true };
        await using var v4 = new ScriptedPexPeer(torrent, IPAddress.Parse("127.0.0.2"), pex: false, tag: "four");
        // The seed keeps us choked: the download must not finish (and end the run) before the second message.
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient)
            .Start(recipient.EndPoint!, v4.EndPoint!);
        await leecher.WaitForAsync(s => s.ConnectedPeers == 2, "two peers to be connected");
        await AdvanceUntilAsync(leecher, () => recipient.PexReceived.Count == 1, 5, "a first ut_pex message");
        var first = Assert.Single(recipient.PexReceived);
        Assert.Equal(new[] { new PexPeer(v4.EndPoint!, PexFlags.Reachable) }, first.Added);

        leecher.Download.AddPeers(new[] { v6.EndPoint! });
        await leecher.Until(() => { leecher.Download.Nudge(); return leecher.Download.GetStatus().ConnectedPeers == 3; }, "the IPv6 peer to be connected");
        await leecher.Until(() => v6.Received.Contains("2"), "the download to be interested in the IPv6 seed (its pieces known)");
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(60));
        await leecher.Until(() => recipient.PexReceived.Count == 2, "the second message");
        var second = recipient.PexReceived.ToArray()[1];
        Assert.Equal(new[] { new PexPeer(v6.EndPoint!, PexFlags.Reachable | PexFlags.Seed) }, second.Added);
        Assert.Empty(second.Dropped);
    }

    [Fact]
    public async Task A_peer_learnt_only_through_pex_is_dialled_and_the_data_comes_from_it()
    {
        var torrent = Small();
        await using var hidden = new ScriptedPexPeer(torrent, IPAddress.Parse("127.0.0.2"), seed: true, pex: false, tag: "hidden");
        await using var teller = new ScriptedPexPeer(torrent, tag: "teller");
        var disk = new MemoryDisk(torrent.Info);
        await using var leecher = new Leecher(torrent, disk, Patient).Start(teller.EndPoint!);

        await teller.SendPexAsync(new PexMessage(new[] { new PexPeer(hidden.EndPoint!, PexFlags.Seed | PexFlags.Reachable) }));
        var learnt = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeersExchanged, "the peer to be learnt");
        Assert.Equal(teller.Key, learnt.Peer);
        Assert.Equal(1, learnt.Count);

        // The run loop dials on its next turn (a fake clock: nudge it).
        await leecher.Until(() => { leecher.Download.Nudge(); return leecher.Run.IsCompleted; }, "the download to complete");
        var result = await leecher.Run;

        Assert.Equal(DownloadOutcome.Completed, result.Status);
        Assert.Equal(SHA256.HashData(torrent.Payload), SHA256.HashData(disk.Data));
        for (int p = 0; p < torrent.Info.PieceCount; p++)
            Assert.Equal(torrent.Info.GetPieceHash(p).ToArray(), SHA1.HashData(disk.Data.AsSpan(p * torrent.Info.PieceLength, torrent.Info.GetPieceLength(p))));
        Assert.Contains(leecher.Events(), e => e.Kind == EngineEventKind.PeerConnected && e.Peer == hidden.Key);
        Assert.Equal(24, hidden.BlocksSent);   // every block came from the peer learnt by PEX
        Assert.Equal(0, teller.BlocksSent);
        Assert.Equal(1, leecher.Download.PexCounters.Learnt);
    }

    [Fact]
    public async Task A_private_torrent_offers_no_ut_pex_ignores_pex_it_gets_and_sends_none()
    {
        var torrent = Small(isPrivate: true);
        Assert.True(torrent.Info.IsPrivate);
        await using var hidden = new ScriptedPexPeer(torrent, IPAddress.Parse("127.0.0.2"), seed: true, pex: false, tag: "hidden");
        await using var teller = new ScriptedPexPeer(torrent, tag: "teller");
        await using var other = new ScriptedPexPeer(torrent, pex: false, tag: "other");
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient).Start(teller.EndPoint!, other.EndPoint!);
        await leecher.WaitForAsync(s => s.ConnectedPeers == 2, "both peers to be connected");

        var ours = await teller.TheirHandshake.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(ours.Extensions.ContainsKey(ExtensionNames.UtPex));

        // The teller sends PEX anyway, under the id ut_pex would have had.
        await teller.SendPexAsync(new PexMessage(new[] { new PexPeer(hidden.EndPoint!, PexFlags.Seed) }).Encode(), ExtensionIds.UtPex);
        await BarrierAsync(leecher, teller, 0);
        await leecher.AdvanceAsync(TimeSpan.FromSeconds(61));

        Assert.Equal((0, 0, 0, 0), leecher.Download.PexCounters);
        Assert.Equal(2, leecher.Download.GetStatus().KnownPeers);
        Assert.False(hidden.Connected);
        Assert.Empty(teller.PexReceived);
        Assert.DoesNotContain(leecher.Events(), e => e.Kind == EngineEventKind.PeersExchanged);
        Assert.False(leecher.Run.IsCompleted);
    }

    [Fact]
    public async Task A_seed_tells_peers_about_incoming_peers_only_at_the_listen_port_they_gave()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var swarm = await SeedingSwarm.StartAsync(4 * BlockRequest.BlockSize, 4, clock: clock);
        var seeder = new IPEndPoint(IPAddress.Loopback, swarm.Port);
        await using var withPort = new ScriptedPexPeer(swarm.Torrent, swarm.Payload, pex: false, dialTo: seeder, listenPort: 40001, tag: "withport");
        await using var noPort = new ScriptedPexPeer(swarm.Torrent, swarm.Payload, pex: false, dialTo: seeder, tag: "noport");
        await using var recipient = new ScriptedPexPeer(swarm.Torrent, swarm.Payload, dialTo: seeder, listenPort: 40003, tag: "recv");
        await swarm.WaitForAsync(s => s.ConnectedPeers == 3, "three peers to call the seeder");
        await recipient.TheirHandshake.WaitAsync(TimeSpan.FromSeconds(30));

        // A second at a time (the seeder reads the recipient's extended handshake in real time), a few seconds at most.
        for (int i = 0; i < 10 && recipient.PexReceived.IsEmpty; i++)
        {
            await swarm.AdvanceAsync(TimeSpan.FromSeconds(1));
            for (int wait = 0; wait < 50 && recipient.PexReceived.IsEmpty; wait++) await Task.Delay(20);
        }
        Assert.Equal(1, swarm.Download.PexCounters.Sent);
        var message = Assert.Single(recipient.PexReceived);
        var told = Assert.Single(message.Added);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 40001), told.EndPoint);
        Assert.Equal(PexFlags.None, told.Flags);   // it called us: not known to accept connections; not a seed
    }

    [Fact]
    public async Task Ten_thousand_peers_in_one_message_teach_at_most_50()
    {
        var torrent = Small();
        await using var teller = new ScriptedPexPeer(torrent, tag: "teller");
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient).Start(teller.EndPoint!);
        // 10,000 loopback addresses (127.1.x.y, port 1: nothing listens there) without added.f: 60,000 bytes.
        var added = new byte[10_000 * 6];
        for (int i = 0; i < 10_000; i++)
        {
            added[i * 6] = 127; added[i * 6 + 1] = 1; added[i * 6 + 2] = (byte)(i >> 8); added[i * 6 + 3] = (byte)i; added[i * 6 + 5] = 1;
        }
        var dict = new BDictionary();
        dict.Set("added", new BString(added));
        await teller.SendPexAsync(BencodeEncoder.Encode(dict));
        await BarrierAsync(leecher, teller, 0);

        var counters = leecher.Download.PexCounters;
        Assert.Equal(1, counters.Received);
        Assert.Equal(50, counters.Learnt);
        Assert.Equal(9_950, counters.Ignored);
        Assert.Equal(51, leecher.Download.GetStatus().KnownPeers);
        Assert.False(teller.Closed);
    }

    [Fact]
    public async Task Garbage_own_and_already_connected_addresses_are_left_out()
    {
        var torrent = Small();
        const int ourPort = 50999;
        await using var teller = new ScriptedPexPeer(torrent, tag: "teller");
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient, listenPort: ourPort).Start(teller.EndPoint!);
        var v4 = new[] { "0.0.0.0:80", "224.0.0.1:6881", "255.255.255.255:1", "127.0.0.1:0", $"127.0.0.1:{ourPort}", teller.EndPoint!.ToString(), "127.0.0.9:1" };
        var v6 = new[] { "[::]:1", "[ff02::1]:1", $"[::1]:{ourPort}", "[::1]:1" };
        var dict = new BDictionary();
        dict.Set("added", new BString(Compact(v4).Concat(new byte[] { 1, 2, 3 }).ToArray()));   // and a partial entry
        dict.Set("added.f", new BString(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }));
        dict.Set("added6", new BString(Compact(v6)));
        await teller.SendPexAsync(BencodeEncoder.Encode(dict));
        await BarrierAsync(leecher, teller, 0);

        var counters = leecher.Download.PexCounters;
        Assert.Equal(2, counters.Learnt);             // 127.0.0.9:1 and [::1]:1
        Assert.Equal(10, counters.Ignored);           // 9 bad entries and the partial one
        Assert.Equal(3, leecher.Download.GetStatus().KnownPeers);
        Assert.False(teller.Closed);
    }

    [Fact]
    public async Task Learnt_peers_are_bounded_per_peer_and_per_torrent()
    {
        var torrent = Small();
        var tellers = Enumerable.Range(0, 4).Select(i => new ScriptedPexPeer(torrent, tag: $"t{i}")).ToList();
        try
        {
            await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient).Start(tellers.Select(t => t.EndPoint!).ToArray());
            await leecher.WaitForAsync(s => s.ConnectedPeers == 4, "the tellers to be connected");
            int next = 0;
            for (int t = 0; t < tellers.Count; t++)
            {
                // Three messages of 50 new peers each (within the burst a minute allows): 100 are taken from one peer.
                for (int m = 0; m < 3; m++)
                {
                    var peers = Enumerable.Range(0, 50).Select(_ => { next++; return new PexPeer(new IPEndPoint(new IPAddress(new byte[] { 127, 2, (byte)(next >> 8), (byte)next }), 1)); }).ToArray();
                    await tellers[t].SendPexAsync(new PexMessage(peers));
                }
                await BarrierAsync(leecher, tellers[t], 0);
                Assert.Equal(Math.Min(100 * (t + 1), PeerCandidates.MaxFromPex), leecher.Download.PexCounters.Learnt);
            }
            Assert.Equal(PeerCandidates.MaxFromPex, leecher.Download.PexCounters.Learnt);
            Assert.Equal(4 + PeerCandidates.MaxFromPex, leecher.Download.GetStatus().KnownPeers);
            Assert.All(tellers, t => Assert.False(t.Closed));
        }
        finally
        {
            foreach (var t in tellers) await t.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_pex_flood_drops_the_peer_and_the_download_goes_on()
    {
        var torrent = Small();
        await using var flooder = new ScriptedPexPeer(torrent, tag: "flood");
        await using var other = new ScriptedPexPeer(torrent, pex: false, tag: "other");
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient).Start(flooder.EndPoint!, other.EndPoint!);
        for (int i = 0; i < 7; i++)
            await flooder.SendPexAsync(new PexMessage(new[] { new PexPeer(new IPEndPoint(IPAddress.Parse("127.0.3." + (i + 1)), 1)) }));

        var dropped = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == flooder.Key, "the flooder to be dropped");
        Assert.Equal(PeerCloseReason.ProtocolViolation, dropped.Reason);
        Assert.Equal(PeerProtocolError.PexFlood, dropped.ProtocolError);
        Assert.Equal(PexFloodGuard.AllowedPerMinute, leecher.Download.PexCounters.Learnt);
        Assert.False(leecher.Run.IsCompleted);
        Assert.True(other.Connected && !other.Closed);
    }

    [Fact]
    public async Task A_pex_message_that_is_not_bencode_or_too_large_drops_the_peer()
    {
        var torrent = Small();
        await using var garbage = new ScriptedPexPeer(torrent, tag: "garbage");
        await using var huge = new ScriptedPexPeer(torrent, tag: "huge");
        await using var leecher = new Leecher(torrent, new MemoryDisk(torrent.Info), Patient).Start(garbage.EndPoint!, huge.EndPoint!);

        await garbage.SendPexAsync("d5:added6:".Select(c => (byte)c).ToArray());
        // 10,000 peers with their flags: 70,000 bytes, over the 64 KiB an extended message may have.
        var dict = new BDictionary();
        dict.Set("added", new BString(new byte[60_000]));
        dict.Set("added.f", new BString(new byte[10_000]));
        await huge.SendPexAsync(BencodeEncoder.Encode(dict));

        var g = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == garbage.Key, "the garbage sender to be dropped");
        Assert.Equal(PeerProtocolError.InvalidPexMessage, g.ProtocolError);
        var h = await leecher.WaitForEventAsync(e => e.Kind == EngineEventKind.PeerDisconnected && e.Peer == huge.Key, "the huge sender to be dropped");
        Assert.Equal(PeerProtocolError.MessageTooLarge, h.ProtocolError);
        Assert.Equal(0, leecher.Download.PexCounters.Learnt);
        Assert.False(leecher.Run.IsCompleted);
    }

    [Theory]
    [InlineData("10.1.2.3", "203.0.113.5", false)]      // RFC 1918 from a public peer
    [InlineData("192.168.1.9", "198.51.100.1", false)]
    [InlineData("172.20.0.1", "8.8.4.4", false)]
    [InlineData("169.254.0.1", "8.8.4.4", false)]
    [InlineData("127.0.0.5", "203.0.113.5", false)]     // loopback only from loopback
    [InlineData("127.0.0.5", "10.0.0.1", false)]
    [InlineData("fd00::1", "2001:db8::1", false)]
    [InlineData("fe80::1", "2001:db8::1", false)]
    [InlineData("10.1.2.3", "10.9.9.9", true)]          // private from a peer on a private network
    [InlineData("10.1.2.3", "127.0.0.1", true)]
    [InlineData("127.0.0.5", "127.0.0.1", true)]
    [InlineData("::ffff:127.0.0.5", "127.0.0.1", true)]
    [InlineData("203.0.113.7", "203.0.113.5", true)]    // public from anyone
    [InlineData("203.0.113.7", "127.0.0.1", true)]
    [InlineData("2001:db8::7", "10.0.0.1", true)]
    public void An_address_passes_only_between_peers_that_can_reach_it(string address, string peer, bool allowed) =>
        Assert.Equal(allowed, AddressScope.MayExchange(IPAddress.Parse(address), IPAddress.Parse(peer)));

    private static byte[] Compact(IEnumerable<string> endPoints) => endPoints.SelectMany(e =>
    {
        var ep = Ep(e);
        return ep.Address.GetAddressBytes().Concat(new[] { (byte)(ep.Port >> 8), (byte)ep.Port });
    }).ToArray();
}
