using System.Buffers.Binary;
using System.Net;
using BitTorrent.Trackers;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Trackers;

public sealed class UdpTrackerClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a test waits (really) for something that only needs the machine to get round to it: a
    /// datagram crossing loopback, a task finishing after the fake clock released it. Never part of what is tested.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>BEP 15's waits for a reply: 15 · 2^n seconds.</summary>
    private static TimeSpan SpecWait(int n) => TimeSpan.FromSeconds(15 << n);

    /// <summary>A client whose timeouts, retransmission waits and connection id lifetime run on the given fake
    /// clock; retransmission base as the spec says (15 s) unless given.</summary>
    private static TrackerClient ClientOn(TimerWatchingClock clock, int maxPeers = 1000) =>
        new(new TrackerClientOptions { TimeProvider = clock, MaxPeersPerResponse = maxPeers });

    private static void WaitForDatagrams(FakeUdpTracker server, int count) =>
        Assert.True(SpinWait.SpinUntil(() => server.ReceivedCount >= count, Bound), $"the tracker got {server.ReceivedCount} datagrams, not {count}");

    [Fact]
    public async Task Announce_ConnectsThenAnnounces_WithEveryFieldInPlace()
    {
        using var server = new FakeUdpTracker();
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881));
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 51413));
        server.Interval = 1234;
        using var client = new TrackerClient();
        var request = Request();

        var r = await client.AnnounceAsync(server.AnnounceUrl, request, Timeout);

        Assert.Equal(new[] { "10.0.0.1:6881", "10.0.0.2:51413" }, EndPoints(r));
        Assert.Equal(TimeSpan.FromSeconds(1234), r.Interval);
        Assert.Equal(((int?)3, (int?)5), (r.Seeders, r.Leechers));
        var datagrams = server.Received.ToArray();
        Assert.Equal(2, datagrams.Length);
        var connect = datagrams[0].Data;
        Assert.Equal(16, connect.Length);
        Assert.Equal(0x41727101980, BinaryPrimitives.ReadInt64BigEndian(connect));
        Assert.Equal(0, datagrams[0].Action);
        var a = datagrams[1].Data;
        Assert.Equal(98, a.Length);
        Assert.Equal(1, datagrams[1].Action);
        Assert.Equal(InfoHash, a[16..36]);
        Assert.Equal(request.PeerId, a[36..56]);
        Assert.Equal(2, BinaryPrimitives.ReadInt64BigEndian(a.AsSpan(56)));            // downloaded
        Assert.Equal(123456789012, BinaryPrimitives.ReadInt64BigEndian(a.AsSpan(64))); // left
        Assert.Equal(1, BinaryPrimitives.ReadInt64BigEndian(a.AsSpan(72)));            // uploaded
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(a.AsSpan(80)));            // event: started
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(a.AsSpan(84)));          // ip: default
        Assert.Equal(0xDEADBEEFu, BinaryPrimitives.ReadUInt32BigEndian(a.AsSpan(88)));  // key
        Assert.Equal(50, BinaryPrimitives.ReadInt32BigEndian(a.AsSpan(92)));           // num_want
        Assert.Equal(51413, BinaryPrimitives.ReadUInt16BigEndian(a.AsSpan(96)));       // port
        Assert.NotEqual(datagrams[0].TransactionId, datagrams[1].TransactionId);
    }

    [Fact]
    public async Task ConnectionId_IsReusedWithinItsLifetime()
    {
        using var server = new FakeUdpTracker();
        using var client = new TrackerClient();

        await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);
        await client.AnnounceAsync(server.AnnounceUrl, Request(TrackerEvent.None), Timeout);
        await client.ScrapeAsync(server.AnnounceUrl, new[] { InfoHash }, Timeout);

        Assert.Equal(1, server.ConnectCount);
        Assert.Equal(2, server.AnnounceCount);
        Assert.Equal(1, server.ScrapeCount);
    }

    [Fact]
    public async Task ConnectionId_IsRenewedAfterItsOneMinuteLifetime()
    {
        using var server = new FakeUdpTracker();
        var clock = new TimerWatchingClock();
        using var client = ClientOn(clock);

        await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);
        clock.Advance(TimeSpan.FromSeconds(59));
        await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);
        Assert.Equal(1, server.ConnectCount); // 59 s old: still valid
        clock.Advance(TimeSpan.FromSeconds(1));
        await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(2, server.ConnectCount); // 60 s old: BEP 15 says renew
        Assert.Equal(3, server.AnnounceCount);
    }

    [Fact]
    public async Task ConnectionId_RejectedByTheTracker_IsReplacedOnce()
    {
        using var server = new FakeUdpTracker();
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.9"), 9));
        using var client = new TrackerClient();
        await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);
        server.ForgetConnectionIds(); // the tracker restarted

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "10.0.0.9:9" }, EndPoints(r));
        Assert.Equal(2, server.ConnectCount);
    }

    [Fact]
    public async Task Reply_WithTheWrongTransactionId_IsIgnored()
    {
        using var server = new FakeUdpTracker((s, d) =>
        {
            var honest = s.HonestReply(d).ToList();
            // First a forged reply with another transaction id (listing a bogus peer when it is an announce reply),
            // then, a little later, the real one.
            var forged = honest.Select(r => r.WithTransactionId(d.TransactionId ^ 0x5A5A5A5A))
                .Select(r => d.Action == 1 ? r with { Data = r.Data.Concat(new byte[] { 6, 6, 6, 6, 0, 66 }).ToArray() } : r);
            return forged.Concat(honest.Select(r => r with { DelayMs = 50 }));
        });
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.3"), 3));
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "10.0.0.3:3" }, EndPoints(r));
        Assert.True(client.Udp.IgnoredDatagrams >= 2, $"ignored {client.Udp.IgnoredDatagrams}");
    }

    [Fact]
    public async Task Reply_FromAnotherPort_IsIgnored()
    {
        using var server = new FakeUdpTracker((s, d) =>
        {
            var honest = s.HonestReply(d).ToList();
            if (d.Action != 1) return honest;
            // A spoofed announce reply with the right transaction id but from the wrong port, listing a bogus peer.
            var spoof = new byte[26];
            BinaryPrimitives.WriteInt32BigEndian(spoof, 1);
            BinaryPrimitives.WriteUInt32BigEndian(spoof.AsSpan(4), d.TransactionId);
            BinaryPrimitives.WriteInt32BigEndian(spoof.AsSpan(8), 60);
            new byte[] { 6, 6, 6, 6, 0, 66 }.CopyTo(spoof, 20);
            return new[] { new FakeUdpReply(spoof, FromOtherPort: true) }.Concat(honest.Select(r => r with { DelayMs = 50 }));
        });
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.4"), 4));
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "10.0.0.4:4" }, EndPoints(r));
        Assert.True(client.Udp.IgnoredDatagrams >= 1);
    }

    [Fact]
    public async Task Reply_WithTheWrongAction_IsInvalidResponse()
    {
        using var server = new FakeUdpTracker((s, d) =>
        {
            var honest = s.HonestReply(d).ToList();
            if (d.Action != 1) return honest;
            var wrong = (byte[])honest[0].Data.Clone();
            BinaryPrimitives.WriteInt32BigEndian(wrong, 2); // a scrape reply to an announce
            return new[] { new FakeUdpReply(wrong) };
        });
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.InvalidResponse, ex.Error);
        Assert.Contains("action 2", ex.Message);
    }

    [Theory]
    [InlineData(0, 12)]  // connect reply cut to 12 of 16 bytes
    [InlineData(1, 19)]  // announce reply cut inside its 20-byte header
    public async Task Reply_Truncated_IsInvalidResponse(int action, int length)
    {
        using var server = new FakeUdpTracker((s, d) =>
        {
            var honest = s.HonestReply(d).ToList();
            return d.Action == action ? new[] { new FakeUdpReply(honest[0].Data[..length]) } : honest;
        });
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.InvalidResponse, ex.Error);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public async Task Reply_ShorterThanAHeader_IsIgnoredNotFatal()
    {
        using var server = new FakeUdpTracker((s, d) =>
            new[] { new FakeUdpReply(new byte[] { 0, 0, 0 }) }.Concat(s.HonestReply(d).Select(r => r with { DelayMs = 30 })));
        using var client = new TrackerClient();

        await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.True(client.Udp.IgnoredDatagrams >= 2);
    }

    [Fact]
    public async Task ErrorAction_IsTrackerFailure_WithTheTrackersMessage()
    {
        using var server = new FakeUdpTracker((s, d) => d.Action == 1
            ? new[] { new FakeUdpReply(FakeUdpTracker.Error(d.TransactionId, "Requested download is not authorized for use with this tracker.")) }
            : s.HonestReply(d));
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.TrackerFailure, ex.Error);
        Assert.Equal("Requested download is not authorized for use with this tracker.", ex.FailureReason);
    }

    [Fact]
    public async Task TrackerThatNeverAnswers_IsAskedAgainAfter15_30_60s_ThenTimesOutAtTheTimeout()
    {
        using var server = new FakeUdpTracker((_, _) => Array.Empty<FakeUdpReply>());
        var clock = new TimerWatchingClock();
        using var client = ClientOn(clock);
        var timeout = TimeSpan.FromSeconds(100);

        var announce = client.AnnounceAsync(server.AnnounceUrl, Request(), timeout);

        // Sends at 0, 15 and 45 s; the wait armed at 45 s (60 s) outlasts the timeout at 100 s.
        for (int n = 0; n < 3; n++)
        {
            clock.WaitUntilArmed(SpecWait(n));
            WaitForDatagrams(server, n + 1);
            Assert.Equal(n + 1, server.ReceivedCount);
            if (n < 2) clock.Advance(SpecWait(n));
        }
        clock.Advance(timeout - SpecWait(0) - SpecWait(1) - TimeSpan.FromSeconds(1));
        Assert.False(announce.IsCompleted, "gave up before the timeout");
        clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<TrackerException>(() => announce.WaitAsync(Bound));
        Assert.Equal(TrackerError.Timeout, ex.Error);
        Assert.Equal(3, server.ReceivedCount);
        Assert.Equal(new[] { SpecWait(0), SpecWait(1), SpecWait(2) }, clock.Armed.Where(t => t != timeout));
        Assert.All(server.Received, d => Assert.Equal(0, d.Action));
        // A retransmission repeats the request, transaction id included.
        Assert.Single(server.Received.Select(d => d.TransactionId).Distinct());
    }

    [Fact]
    public void RetransmissionWaits_Double_From15s_AndStopGrowingAt3840s()
    {
        var schedule = new UdpRetrySchedule(TimeSpan.FromSeconds(15));
        var waits = new List<TimeSpan>();
        for (int i = 0; i < 11; i++) { waits.Add(schedule.CurrentWait); schedule.OnTimedOut(); }

        Assert.Equal(new[] { 15, 30, 60, 120, 240, 480, 960, 1920, 3840, 3840, 3840 }, waits.Select(w => (int)w.TotalSeconds));
        Assert.Equal(11, schedule.Timeouts);
    }

    [Fact]
    public async Task SpecSchedule_WithATimeoutBelow15s_SendsOnce()
    {
        using var server = new FakeUdpTracker((_, _) => Array.Empty<FakeUdpReply>());
        var clock = new TimerWatchingClock();
        using var client = ClientOn(clock);
        var timeout = TimeSpan.FromSeconds(14);

        var announce = client.AnnounceAsync(server.AnnounceUrl, Request(), timeout);
        clock.WaitUntilArmed(SpecWait(0));
        WaitForDatagrams(server, 1);
        clock.Advance(timeout);

        var ex = await Assert.ThrowsAsync<TrackerException>(() => announce.WaitAsync(Bound));
        Assert.Equal(TrackerError.Timeout, ex.Error);
        Assert.Equal(1, server.ReceivedCount);
    }

    [Fact]
    public async Task LostRequest_IsRetransmittedAfter15s_AndTheLaterReplyAccepted()
    {
        int seen = 0;
        using var server = new FakeUdpTracker((s, d) => Interlocked.Increment(ref seen) == 1 ? Array.Empty<FakeUdpReply>() : s.HonestReply(d));
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 5));
        var clock = new TimerWatchingClock();
        using var client = ClientOn(clock);

        var timeout = TimeSpan.FromSeconds(100);

        var announce = client.AnnounceAsync(server.AnnounceUrl, Request(), timeout);
        clock.WaitUntilArmed(SpecWait(0));
        WaitForDatagrams(server, 1);
        Assert.Equal(1, server.ReceivedCount); // nothing more until the wait is over
        clock.Advance(SpecWait(0));
        var r = await announce.WaitAsync(Bound);

        Assert.Equal(new[] { "10.0.0.5:5" }, EndPoints(r));
        Assert.Equal(3, server.ReceivedCount); // connect (lost), connect, announce
        // One schedule spans the operation: after one timeout, both the connect sent again and the announce that
        // follows it wait 30 s, not 15.
        Assert.Equal(new[] { SpecWait(0), SpecWait(1), SpecWait(1) }, clock.Armed.Where(t => t != timeout));
    }

    [Fact]
    public async Task HugePeerList_IsCapped()
    {
        using var server = new FakeUdpTracker();
        for (int i = 0; i < 5000; i++) server.Peers.Add(new IPEndPoint(new IPAddress(new byte[] { 10, 1, (byte)(i >> 8), (byte)i }), 2000 + i));
        using var client = new TrackerClient(new TrackerClientOptions { MaxPeersPerResponse = 1000 });

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(1000, r.Peers.Count);
        Assert.Equal(4000, r.PeersDiscarded);
    }

    [Fact]
    public async Task Scrape_ReadsOneTriplePerInfoHash_InOrder()
    {
        using var server = new FakeUdpTracker();
        using var client = new TrackerClient();
        var second = Enumerable.Repeat((byte)7, 20).ToArray();

        var counts = await client.ScrapeAsync(server.AnnounceUrl, new[] { InfoHash, second }, Timeout);

        var first = counts[Hex.ToLower(InfoHash)];
        Assert.Equal((3, 5, 7), (first.Seeders, first.Leechers, first.Completed));
        var next = counts[Hex.ToLower(second)];
        Assert.Equal((4, 6, 8), (next.Seeders, next.Leechers, next.Completed));
    }

    [Fact]
    public async Task ManyConcurrentAnnounces_ShareOneSocket_AndAllGetTheirOwnReplies()
    {
        using var server = new FakeUdpTracker();
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.6"), 6));
        using var client = new TrackerClient();

        var all = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout)));

        Assert.All(all, r => Assert.Equal(new[] { "10.0.0.6:6" }, EndPoints(r)));
        Assert.Single(server.Received.Select(d => d.From.Port).Distinct());
    }

    [Fact]
    public async Task CancelledByCaller_ThrowsOperationCanceled_WithoutWaitingForAnyTimer()
    {
        using var server = new FakeUdpTracker((_, _) => Array.Empty<FakeUdpReply>());
        var clock = new TimerWatchingClock(); // never advanced: only the caller's cancellation can end the request
        using var client = ClientOn(clock);
        using var cts = new CancellationTokenSource();

        var announce = client.AnnounceAsync(server.AnnounceUrl, Request(), TimeSpan.FromSeconds(30), cts.Token);
        clock.WaitUntilArmed(SpecWait(0));
        WaitForDatagrams(server, 1);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => announce.WaitAsync(Bound));
        Assert.Equal(1, server.ReceivedCount);
    }

    [Fact]
    public async Task Announce_OverIPv6_ReadsEighteenByteEntries()
    {
        using var server = new FakeUdpTracker(ipv6: true);
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("2001:db8::10"), 6881));
        server.Peers.Add(new IPEndPoint(IPAddress.Parse("10.0.0.7"), 7)); // sent as ::ffff:10.0.0.7
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "[2001:db8::10]:6881", "10.0.0.7:7" }, EndPoints(r));
        Assert.True(server.Received.All(d => d.From.Address.Equals(IPAddress.IPv6Loopback)));
    }
}
