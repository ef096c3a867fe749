using System.Net;
using System.Text;
using BitTorrent.Bencoding;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Wire;

public sealed class PexMessageTests
{
    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    private static byte[] Compact(params string[] endPoints) => endPoints.SelectMany(e =>
    {
        var ep = Ep(e);
        return ep.Address.GetAddressBytes().Concat(new[] { (byte)(ep.Port >> 8), (byte)ep.Port });
    }).ToArray();

    private static byte[] Payload(params (string Key, byte[] Value)[] entries)
    {
        var dict = new BDictionary();
        foreach (var (key, value) in entries) dict.Set(key, new BString(value));
        return BencodeEncoder.Encode(dict);
    }

    [Fact]
    public void Round_trips_both_families_with_flags_and_dropped_is_ipv4()
    {
        var message = new PexMessage(
            new[] { new PexPeer(Ep("10.0.0.1:6881"), PexFlags.Seed | PexFlags.Reachable), new PexPeer(Ep("[2001:db8::1]:51413"), PexFlags.Utp),
                    new PexPeer(Ep("[::ffff:10.0.0.2]:7000")) },
            new[] { Ep("10.0.0.3:1"), Ep("[2001:db8::2]:2") });
        var bytes = message.Encode();
        var dict = (BDictionary)BencodeDecoder.Decode(bytes);
        Assert.Equal(new[] { "added", "added.f", "added6", "added6.f", "dropped", "dropped6" }, dict.Keys.Select(k => k.Text));
        Assert.Equal(12, ((BString)dict["added"]!).Length);   // two IPv4 peers (the mapped one is IPv4)
        Assert.Equal(6, ((BString)dict["dropped"]!).Length);  // BEP 11 calls it IPv6: it is 6-byte IPv4
        Assert.Equal(18, ((BString)dict["dropped6"]!).Length);

        var back = PexMessage.Decode(bytes);
        Assert.Equal(new[] { "10.0.0.1:6881", "10.0.0.2:7000", "[2001:db8::1]:51413" }, back.Added.Select(p => p.EndPoint.ToString()));
        Assert.Equal(new[] { PexFlags.Seed | PexFlags.Reachable, PexFlags.None, PexFlags.Utp }, back.Added.Select(p => p.Flags));
        Assert.Equal(new[] { "10.0.0.3:1", "[2001:db8::2]:2" }, back.Dropped.Select(e => e.ToString()));
        Assert.Equal(0, back.IgnoredCount);
    }

    [Fact]
    public void Missing_or_short_flags_are_none_and_unknown_flag_bits_are_masked()
    {
        var noFlags = PexMessage.Decode(Payload(("added", Compact("10.0.0.1:1", "10.0.0.2:2"))));
        Assert.All(noFlags.Added, p => Assert.Equal(PexFlags.None, p.Flags));
        var shortFlags = PexMessage.Decode(Payload(("added", Compact("10.0.0.1:1", "10.0.0.2:2")), ("added.f", new byte[] { 0xFF })));
        Assert.Equal(new[] { (PexFlags)0x1F, PexFlags.None }, shortFlags.Added.Select(p => p.Flags));
    }

    [Fact]
    public void Ten_thousand_peers_keep_fifty_of_each_list()
    {
        var many = Enumerable.Range(0, 10_000).Select(i => $"10.{i / 256 % 256}.{i % 256}.1:{1000 + i % 5000}").ToArray();
        var manyV6 = Enumerable.Range(0, 10_000).Select(i => $"[2001:db8::{i:x}]:{1 + i}").ToArray();
        var gone = Enumerable.Range(0, 5000).Select(i => $"172.16.{i / 256}.{i % 256}:80").ToArray();
        var payload = Payload(("added", Compact(many)), ("added6", Compact(manyV6)), ("dropped", Compact(gone)));
        Assert.True(payload.Length < PexMessage.MaxMessageLength);
        var message = PexMessage.Decode(payload);
        Assert.Equal(PexMessage.MaxPeersPerMessage, message.Added.Count);
        Assert.Equal(PexMessage.MaxPeersPerMessage, message.Dropped.Count);
        Assert.Equal(20_000 + 5_000 - 100, message.IgnoredCount);
    }

    [Fact]
    public void Unusable_duplicate_own_and_conflicting_addresses_are_left_out()
    {
        var self = new HashSet<IPEndPoint> { Ep("127.0.0.1:6881") };
        var message = PexMessage.Decode(Payload(
            ("added", Compact("10.0.0.1:0", "0.0.0.0:80", "255.255.255.255:80", "224.0.0.1:80", "239.1.2.3:80", "127.0.0.1:6881",
                              "10.0.0.5:80", "10.0.0.5:80", "10.0.0.6:80", "127.0.0.1:6882")),
            ("added6", Compact("[::]:80", "[ff02::1]:80", "[::1]:80")),
            ("dropped", Compact("10.0.0.6:80", "10.0.0.7:0", "10.0.0.8:80"))), self);
        Assert.Equal(new[] { "10.0.0.5:80", "127.0.0.1:6882", "[::1]:80" }, message.Added.Select(p => p.EndPoint.ToString()));
        Assert.Equal(new[] { "10.0.0.8:80" }, message.Dropped.Select(e => e.ToString()));   // 10.0.0.6 was both: neither
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("li1ee")]
    [InlineData("d5:added")]
    public void Garbage_is_a_protocol_error(string text)
    {
        var ex = Assert.Throws<PeerProtocolException>(() => PexMessage.Decode(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(PeerProtocolError.InvalidPexMessage, ex.Error);
    }

    [Fact]
    public void Wrong_types_and_partial_entries_are_read_as_far_as_they_go()
    {
        var message = PexMessage.Decode("d5:addedi5e7:dropped7:\u0001\u0002\u0003\u0004\u0000\u0050Xe"u8);
        Assert.Empty(message.Added);
        Assert.Equal(new[] { "1.2.3.4:80" }, message.Dropped.Select(e => e.ToString()));
        Assert.Equal(1, message.IgnoredCount);
    }

    [Fact]
    public void Over_500_KiB_is_refused_before_decoding()
    {
        Assert.Equal(PeerProtocolError.MessageTooLarge,
            Assert.Throws<PeerProtocolException>(() => PexMessage.Decode(new byte[PexMessage.MaxMessageLength + 1])).Error);
    }
}

public sealed class PexStateTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    private static PexPeer P(int i, PexFlags flags = PexFlags.None) => new(new IPEndPoint(IPAddress.Parse($"10.0.{i / 250}.{1 + i % 250}"), 6881), flags);

    [Fact]
    public void Sends_the_delta_at_most_once_a_minute()
    {
        var state = new PexState(_clock);
        var recipient = P(0).EndPoint;
        Assert.True(state.TryCreateMessage(new[] { P(0), P(1), P(2, PexFlags.Seed) }, recipient, out var first));
        Assert.Equal(new[] { P(1), P(2, PexFlags.Seed) }, first.Added);   // never the recipient itself
        Assert.Empty(first.Dropped);

        Assert.False(state.TryCreateMessage(new[] { P(1), P(3) }, recipient, out _));   // too soon
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(state.IsDue);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(state.TryCreateMessage(new[] { P(1), P(3) }, recipient, out var second));
        Assert.Equal(new[] { P(3) }, second.Added);
        Assert.Equal(new[] { P(2).EndPoint }, second.Dropped);
        Assert.Equal(new[] { P(1).EndPoint, P(3).EndPoint }, state.Advertised);

        _clock.Advance(PexState.Interval);
        Assert.False(state.TryCreateMessage(new[] { P(3), P(1) }, recipient, out _));   // nothing changed: no message
        Assert.True(state.IsDue);
    }

    [Fact]
    public void At_most_fifty_added_and_fifty_dropped_per_message_the_rest_follow()
    {
        var state = new PexState(_clock);
        var first = Enumerable.Range(1, 120).Select(i => P(i)).ToList();
        var sent = new List<PexMessage>();
        for (int minute = 0; minute < 3; minute++)
        {
            Assert.True(state.TryCreateMessage(first, null, out var m));
            sent.Add(m);
            _clock.Advance(PexState.Interval);
        }
        Assert.Equal(new[] { 50, 50, 20 }, sent.Select(m => m.Added.Count));
        Assert.Equal(120, sent.SelectMany(m => m.Added).Select(p => p.EndPoint).Distinct().Count());

        // All 120 leave, 70 new arrive: 50 dropped and 50 added, never the same address in both lists.
        var next = Enumerable.Range(200, 70).Select(i => P(i)).ToList();
        Assert.True(state.TryCreateMessage(next, null, out var change));
        Assert.Equal(50, change.Added.Count);
        Assert.Equal(50, change.Dropped.Count);
        Assert.Empty(change.Added.Select(p => p.EndPoint).Intersect(change.Dropped));
        _clock.Advance(PexState.Interval);
        Assert.True(state.TryCreateMessage(next, null, out var rest));
        Assert.Equal((20, 50), (rest.Added.Count, rest.Dropped.Count));
        _clock.Advance(PexState.Interval);
        Assert.True(state.TryCreateMessage(next, null, out var last));
        Assert.Equal((0, 20), (last.Added.Count, last.Dropped.Count));
        Assert.Equal(70, state.Advertised.Count);
    }

    [Fact]
    public void Unusable_and_duplicate_connected_peers_are_not_advertised()
    {
        var state = new PexState(_clock);
        var peers = new[]
        {
            new PexPeer(IPEndPoint.Parse("10.0.0.1:0")), new PexPeer(IPEndPoint.Parse("0.0.0.0:80")),
            new PexPeer(IPEndPoint.Parse("10.0.0.2:80")), new PexPeer(IPEndPoint.Parse("[::ffff:10.0.0.2]:80")),
        };
        Assert.True(state.TryCreateMessage(peers, null, out var m));
        Assert.Equal(new[] { "10.0.0.2:80" }, m.Added.Select(p => p.EndPoint.ToString()));
    }

    [Fact]
    public void The_seventh_message_within_a_minute_is_a_flood()
    {
        var guard = new PexFloodGuard(_clock);
        for (int i = 0; i < 6; i++) guard.OnMessage();
        Assert.Equal(PeerProtocolError.PexFlood, Assert.Throws<PeerProtocolException>(guard.OnMessage).Error);

        var steady = new PexFloodGuard(_clock);
        for (int i = 0; i < 30; i++)
        {
            steady.OnMessage();
            _clock.Advance(TimeSpan.FromSeconds(11));   // a little faster than BEP 11 asks: tolerated
        }
    }
}
