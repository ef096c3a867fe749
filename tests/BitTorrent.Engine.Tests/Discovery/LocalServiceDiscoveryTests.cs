using System.Net;
using System.Net.Sockets;
using System.Text;
using BitTorrent.Bencoding;
using BitTorrent.Discovery;
using BitTorrent.Metainfo;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Discovery;

/// <summary>BEP 14 local discovery with real UDP sockets on loopback (unicast stands in for the multicast group, which
/// loopback does not carry) and a fake clock: when torrents are announced, what a datagram holds, what is taken from
/// others and what is not.</summary>
public sealed class LocalServiceDiscoveryTests : IDisposable
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    /// <summary>Stands for the LAN: what the discovery under test sends arrives here.</summary>
    private readonly UdpClient _lan = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly List<IDisposable> _owned = new();

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _lan.Dispose();
    }

    private IPEndPoint LanEndPoint => (IPEndPoint)_lan.Client.LocalEndPoint!;

    private LocalServiceDiscovery Open(int listenPort = 6881, TimeProvider? time = null, IReadOnlyList<IPEndPoint>? destinations = null)
    {
        var lsd = new LocalServiceDiscovery(new LocalDiscoveryOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Destinations = destinations ?? new[] { LanEndPoint },
            Time = time ?? _time,
        });
        _owned.Add(lsd);
        lsd.Start(listenPort);
        return lsd;
    }

    internal static TorrentInfo MakeTorrent(string name, bool isPrivate = false)
    {
        var info = new BDictionary();
        info.Set(new BString("length"), new BInteger(1000));
        info.Set(new BString("name"), new BString(name));
        info.Set(new BString("piece length"), new BInteger(16384));
        info.Set(new BString("pieces"), new BString(new byte[20]));
        if (isPrivate) info.Set(new BString("private"), new BInteger(1));
        var root = new BDictionary();
        root.Set(new BString("info"), info);
        return TorrentParser.Parse(BencodeEncoder.Encode(root));
    }

    /// <summary>The next datagram on the LAN socket, parsed (no own cookie: we read what was sent).</summary>
    private async Task<LsdAnnouncement> ReceiveAnnouncementAsync()
    {
        using var timeout = new CancellationTokenSource(ReceiveTimeout);
        var result = await _lan.ReceiveAsync(timeout.Token);
        Assert.True(result.Buffer.Length <= LsdMessage.MaxDatagramLength, $"{result.Buffer.Length} bytes");
        Assert.True(LsdMessage.TryParse(result.Buffer, null, out var announcement, out var reason), reason.ToString());
        return announcement;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + ReceiveTimeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(10);
        }
    }

    private static byte[] Announcement(int port, string cookie, params string[] infoHashes)
    {
        var text = new StringBuilder("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n");
        text.Append("Port: ").Append(port).Append("\r\n");
        foreach (var h in infoHashes) text.Append("Infohash: ").Append(h).Append("\r\n");
        text.Append("cookie: ").Append(cookie).Append("\r\n\r\n\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Fact]
    public async Task Announces_torrents_added_together_in_one_datagram_then_not_again_before_the_interval()
    {
        var lsd = Open(listenPort: 6881);
        var a = MakeTorrent("a.bin");
        var b = MakeTorrent("b.bin");
        lsd.Add(a, _ => { });
        lsd.Add(b, _ => { });
        Assert.Equal(0, lsd.Statistics.DatagramsSent);

        _time.Advance(TimeSpan.FromSeconds(1));
        var first = await ReceiveAnnouncementAsync();
        Assert.Equal(6881, first.Port);
        Assert.Equal(lsd.Cookie, first.Cookie);
        Assert.Equal(new[] { a.InfoHash, b.InfoHash }.OrderBy(h => h), first.InfoHashes.OrderBy(h => h));
        Assert.Equal(1, lsd.Statistics.DatagramsSent);

        // Nothing more for the rest of the five minutes (the timer sends synchronously on the fake clock).
        for (int s = 0; s < 298; s++) _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, lsd.Statistics.DatagramsSent);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, lsd.Statistics.DatagramsSent);
        var second = await ReceiveAnnouncementAsync();
        Assert.Equal(2, second.InfoHashes.Count);
    }

    [Fact]
    public async Task A_private_torrent_is_never_announced_nor_looked_for()
    {
        var lsd = Open();
        var open = MakeTorrent("public.bin");
        var closed = MakeTorrent("private.bin", isPrivate: true);
        Assert.True(closed.IsPrivate);
        int privateReports = 0;
        lsd.Add(closed, _ => Interlocked.Increment(ref privateReports));
        lsd.Add(open, _ => { });
        Assert.False(lsd.Contains(closed.InfoHash));

        _time.Advance(TimeSpan.FromSeconds(1));
        var sent = await ReceiveAnnouncementAsync();
        Assert.Equal(new[] { open.InfoHash }, sent.InfoHashes);
        for (int s = 0; s < 300; s++) _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, lsd.Statistics.InfoHashesAnnounced); // the public one, at 1 s and at 301 s

        // Someone else announcing the private torrent is not taken.
        lsd.Handle(Announcement(7000, "other", closed.InfoHash), new IPEndPoint(IPAddress.Parse("198.18.0.7"), 6771));
        Assert.Equal(0, privateReports);
        Assert.Equal(1, lsd.Statistics.UnknownTorrents);
    }

    [Fact]
    public void Removing_and_adding_again_does_not_announce_twice_within_a_minute()
    {
        var lsd = Open();
        var t = MakeTorrent("again.bin");
        lsd.Add(t, _ => { });
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, lsd.Statistics.InfoHashesAnnounced);
        lsd.Remove(t.InfoHash);
        lsd.Add(t, _ => { });
        for (int s = 0; s < 58; s++) _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, lsd.Statistics.InfoHashesAnnounced);
        _time.Advance(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, lsd.Statistics.InfoHashesAnnounced);
    }

    [Fact]
    public async Task Many_torrents_share_datagrams_of_at_most_1400_bytes_and_a_bounded_number_per_second()
    {
        var lsd = Open();
        var torrents = Enumerable.Range(0, 260).Select(i => MakeTorrent($"t{i:d3}.bin")).ToList();
        foreach (var t in torrents) lsd.Add(t, _ => { });
        _time.Advance(TimeSpan.FromSeconds(1));
        long firstTick = lsd.Statistics.InfoHashesAnnounced;
        Assert.Equal(200, firstTick); // the rest wait a second
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(260, lsd.Statistics.InfoHashesAnnounced);

        var seen = new HashSet<string>();
        for (int i = 0; i < lsd.Statistics.DatagramsSent; i++)
            foreach (var h in (await ReceiveAnnouncementAsync()).InfoHashes) seen.Add(h);
        Assert.Equal(torrents.Select(t => t.InfoHash).ToHashSet(), seen);
        Assert.True(lsd.Statistics.DatagramsSent < 20, $"{lsd.Statistics.DatagramsSent} datagrams for 260 info-hashes");
    }

    [Fact]
    public async Task A_peer_announced_over_UDP_reaches_every_torrent_of_ours_it_names_and_nothing_else()
    {
        var lsd = Open();
        var a = MakeTorrent("a.bin");
        var b = MakeTorrent("b.bin");
        var reportedA = new List<IPEndPoint>();
        var reportedB = new List<IPEndPoint>();
        lsd.Add(a, peers => { lock (reportedA) reportedA.AddRange(peers); });
        lsd.Add(b, peers => { lock (reportedB) reportedB.AddRange(peers); });
        using var other = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var notOurs = new string('7', 40);
        await other.SendAsync(Announcement(7001, "someoneelse", a.InfoHash, notOurs, b.InfoHash), lsd.LocalEndPoints[0]);

        await WaitForAsync(() => lsd.Statistics.PeersReported == 2, "two peers reported");
        var expected = new IPEndPoint(IPAddress.Loopback, 7001);
        lock (reportedA) Assert.Equal(new[] { expected }, reportedA);
        lock (reportedB) Assert.Equal(new[] { expected }, reportedB);
        Assert.Equal(1, lsd.Statistics.UnknownTorrents);
    }

    [Fact]
    public async Task Our_own_announcement_looped_back_is_ignored()
    {
        var lsd = Open();
        var t = MakeTorrent("own.bin");
        int reports = 0;
        lsd.Add(t, _ => Interlocked.Increment(ref reports));
        using var other = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await other.SendAsync(Announcement(6881, lsd.Cookie, t.InfoHash), lsd.LocalEndPoints[0]);
        await WaitForAsync(() => lsd.Statistics.Rejected(LsdRejectReason.OwnAnnouncement) == 1, "our own datagram to be refused");
        Assert.Equal(0, reports);
        Assert.Equal(0, lsd.Statistics.PeersReported);
    }

    [Fact]
    public async Task Garbage_datagrams_are_refused_and_the_socket_goes_on()
    {
        var lsd = Open();
        var t = MakeTorrent("after.bin");
        int reports = 0;
        lsd.Add(t, _ => Interlocked.Increment(ref reports));
        using var other = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var target = lsd.LocalEndPoints[0];
        await other.SendAsync(new byte[] { 0, 1, 2, 255 }, target);
        await other.SendAsync(new byte[4000], target);
        await other.SendAsync(Encoding.ASCII.GetBytes("BT-SEARCH * HTTP/1.1\r\nPort: 99999\r\nInfohash: " + t.InfoHash + "\r\n\r\n"), target);
        await other.SendAsync(Encoding.ASCII.GetBytes("BT-SEARCH * HTTP/1.1\r\nPort: 7002\r\nInfohash: xyz\r\n\r\n"), target);
        await other.SendAsync(Array.Empty<byte>(), target);
        await other.SendAsync(Announcement(7002, "fine", t.InfoHash), target);

        await WaitForAsync(() => lsd.Statistics.DatagramsReceived == 6, "six datagrams read");
        await WaitForAsync(() => lsd.Statistics.PeersReported == 1, "the one good announcement");
        Assert.Equal(2, lsd.Statistics.Rejected(LsdRejectReason.NotBtSearch)); // the binary and the empty one
        Assert.Equal(1, lsd.Statistics.Rejected(LsdRejectReason.TooLarge));
        Assert.Equal(1, lsd.Statistics.Rejected(LsdRejectReason.InvalidPort));
        Assert.Equal(1, lsd.Statistics.Rejected(LsdRejectReason.NoValidInfoHash));
        Assert.Equal(1, reports);
    }

    [Fact]
    public void A_flood_from_one_sender_is_cut_to_its_rate_and_others_are_still_heard()
    {
        var lsd = Open();
        var t = MakeTorrent("flood.bin");
        int reports = 0;
        lsd.Add(t, _ => Interlocked.Increment(ref reports));
        var flooder = new IPEndPoint(IPAddress.Parse("198.18.0.66"), 6771);
        var datagram = Announcement(7003, "flood", t.InfoHash);
        for (int i = 0; i < 1000; i++) lsd.Handle(datagram, flooder);
        Assert.Equal(LsdReceiveLimiter.PerSourcePerMinute, reports);
        Assert.Equal(1000 - LsdReceiveLimiter.PerSourcePerMinute, lsd.Statistics.RateLimited);

        lsd.Handle(Announcement(7004, "quiet", t.InfoHash), new IPEndPoint(IPAddress.Parse("198.18.0.67"), 6771));
        Assert.Equal(LsdReceiveLimiter.PerSourcePerMinute + 1, reports);

        // A minute later the flooder is heard again, at its rate.
        _time.Advance(TimeSpan.FromMinutes(1));
        for (int i = 0; i < 1000; i++) lsd.Handle(datagram, flooder);
        Assert.Equal(2 * LsdReceiveLimiter.PerSourcePerMinute + 1, reports);
    }

    [Fact]
    public void Spoofed_senders_are_bounded_together_and_the_table_of_senders_stays_bounded()
    {
        var lsd = Open();
        var t = MakeTorrent("spoof.bin");
        int reports = 0;
        lsd.Add(t, _ => Interlocked.Increment(ref reports));
        var datagram = Announcement(7005, "spoof", t.InfoHash);
        for (int i = 0; i < 5000; i++)
            lsd.Handle(datagram, new IPEndPoint(new IPAddress(new byte[] { 198, 19, (byte)(i >> 8), (byte)i }), 6771));
        Assert.Equal(LsdReceiveLimiter.AllSourcesPerMinute, reports);
        // Multicast, broadcast and unspecified sources are not peers.
        lsd.Handle(datagram, new IPEndPoint(IPAddress.Parse("239.192.152.143"), 6771));
        lsd.Handle(datagram, new IPEndPoint(IPAddress.Any, 6771));
        lsd.Handle(datagram, new IPEndPoint(IPAddress.Parse("ff02::1"), 6771));
        Assert.Equal(3, lsd.Statistics.BadSources);

        var limiter = new LsdReceiveLimiter(_time.GetUtcNow());
        for (int i = 0; i < 5000; i++) limiter.TryTake(new IPAddress(new byte[] { 198, 19, (byte)(i >> 8), (byte)i }), _time.GetUtcNow());
        Assert.True(limiter.SourceCount <= LsdReceiveLimiter.MostSources, $"{limiter.SourceCount} senders remembered");
    }

    [Fact]
    public async Task A_callback_that_throws_does_not_stop_the_receiving()
    {
        var lsd = Open();
        var bad = MakeTorrent("bad.bin");
        var good = MakeTorrent("good.bin");
        int goodReports = 0;
        lsd.Add(bad, _ => throw new InvalidOperationException("the torrent's own trouble"));
        lsd.Add(good, _ => Interlocked.Increment(ref goodReports));
        using var other = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await other.SendAsync(Announcement(7006, "x", bad.InfoHash, good.InfoHash), lsd.LocalEndPoints[0]);
        await other.SendAsync(Announcement(7007, "x", good.InfoHash), lsd.LocalEndPoints[0]);
        await WaitForAsync(() => Volatile.Read(ref goodReports) == 2, "both announcements of the good torrent");
    }

    [Fact]
    public async Task Two_instances_find_each_other_and_nothing_is_sent_without_a_listen_port()
    {
        var toA = new List<IPEndPoint>();
        var toB = new List<IPEndPoint>();
        var a = Open(listenPort: 6001, destinations: toA);
        var b = Open(listenPort: 0, destinations: toB);
        toB.Add(a.LocalEndPoints[0]);
        toA.Add(b.LocalEndPoints[0]);
        var t = MakeTorrent("both.bin");
        var foundByB = new List<IPEndPoint>();
        a.Add(t, _ => { });
        b.Add(t, peers => { lock (foundByB) foundByB.AddRange(peers); });
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => b.Statistics.PeersReported == 1, "b to hear a");
        lock (foundByB) Assert.Equal(new[] { new IPEndPoint(IPAddress.Loopback, 6001) }, foundByB);
        // b does not listen: it has no port to announce, so it sends nothing.
        Assert.Equal(0, b.Statistics.DatagramsSent);
    }

    [Fact]
    public void Dispose_closes_the_socket_and_later_calls_do_nothing()
    {
        var lsd = Open();
        var endPoint = lsd.LocalEndPoints[0];
        lsd.Dispose();
        Assert.False(lsd.IsActive);
        // The port is free again: the socket is closed, not leaked.
        using (var again = new UdpClient(endPoint)) { }
        lsd.Add(MakeTorrent("late.bin"), _ => { });
        lsd.Remove(new string('a', 40));
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, lsd.Statistics.DatagramsSent);
        lsd.Dispose();
    }
}
