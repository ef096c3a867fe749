using System.IO.Compression;
using System.Text;
using BitTorrent.Bencoding;
using BitTorrent.Trackers;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Trackers;

public sealed class HttpTrackerClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a test waits (really) for the machine to get round to something; never what is tested.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static byte[] CompactReply(params (string, int)[] peers) => Bencode(Dict(
        ("interval", Int(1800)), ("min interval", Int(900)), ("complete", Int(4)), ("incomplete", Int(6)),
        ("peers", Bytes(CompactV4(peers)))));

    [Fact]
    public async Task Announce_SendsEveryParameter_WithBinaryValuesPercentEncodedByteForByte()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(CompactReply(("10.0.0.1", 6881))));
        using var client = new TrackerClient();
        var request = Request();

        await client.AnnounceAsync(server.AnnounceUrl + "?passkey=s3cr3t", request, Timeout);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("/announce", sent.Path);
        Assert.Equal(InfoHash, sent.Bytes("info_hash"));
        Assert.Equal(request.PeerId, sent.Bytes("peer_id"));
        Assert.StartsWith("-PB0100-", sent.Text("peer_id"));
        Assert.Equal("s3cr3t", sent.Text("passkey"));           // the tracker's own query is kept, first
        Assert.StartsWith("/announce?passkey=s3cr3t&info_hash=", sent.Target);
        Assert.Equal("51413", sent.Text("port"));
        Assert.Equal("1", sent.Text("uploaded"));
        Assert.Equal("2", sent.Text("downloaded"));
        Assert.Equal("123456789012", sent.Text("left"));
        Assert.Equal("started", sent.Text("event"));
        Assert.Equal("1", sent.Text("compact"));
        Assert.Equal("50", sent.Text("numwant"));
        Assert.Equal("deadbeef", sent.Text("key"));
        // Only unreserved characters may appear unencoded in the raw target.
        string rawHash = sent.Target.Split("info_hash=")[1].Split('&')[0];
        Assert.Equal("%00%FF%25%26%3D%2B%20%3F%23%2FAz0-._~%80%C3%0A", rawHash);
        Assert.Equal("gzip", sent.Headers["Accept-Encoding"]);
    }

    [Fact]
    public async Task Announce_RegularEvent_OmitsEventParameter()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(CompactReply()));
        using var client = new TrackerClient();
        await client.AnnounceAsync(server.AnnounceUrl, Request(TrackerEvent.None), Timeout);
        Assert.Null(Assert.Single(server.Requests).Text("event"));
    }

    [Fact]
    public async Task Announce_CompactPeers_AndEveryReplyField()
    {
        var body = Bencode(Dict(
            ("interval", Int(1700)), ("min interval", Int(60)), ("tracker id", Str("T-42")),
            ("complete", Int(11)), ("incomplete", Int(22)), ("downloaded", Int(33)),
            ("warning message", Str("slow down\u0007")), ("external ip", Bytes(new byte[] { 203, 0, 113, 9 })),
            ("peers", Bytes(CompactV4(("1.2.3.4", 6881), ("5.6.7.8", 65535), ("1.2.3.4", 6881))))));
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(body));
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "1.2.3.4:6881", "5.6.7.8:65535" }, EndPoints(r));
        Assert.Equal(1, r.PeersDiscarded); // the duplicate
        Assert.Equal(TimeSpan.FromSeconds(1700), r.Interval);
        Assert.Equal(TimeSpan.FromSeconds(60), r.MinInterval);
        Assert.Equal("T-42", r.TrackerId);
        Assert.Equal(((int?)11, (int?)22, (int?)33), (r.Seeders, r.Leechers, r.Completed));
        Assert.Equal("slow down", r.WarningMessage); // control characters removed
        Assert.Equal("203.0.113.9", r.ExternalAddress!.ToString());
    }

    [Fact]
    public async Task Announce_DictionaryModelPeers_KeepsAddressesAndPeerIds_SkipsHostNamesAndBadPorts()
    {
        var peerId = Encoding.ASCII.GetBytes("-qB4520-abcdefghijkl");
        var peers = new BList
        {
            Dict(("ip", Str("192.168.1.10")), ("port", Int(6881)), ("peer id", Bytes(peerId))),
            Dict(("ip", Str("2001:db8::7")), ("port", Int(51413))),
            Dict(("ip", Str("peer.example.org")), ("port", Int(6881))),   // DNS name: not resolved
            Dict(("ip", Str("10.1.1.1")), ("port", Int(0))),              // unusable port
            Dict(("ip", Str("10.1.1.2")), ("port", Int(70000))),          // out of range
            Dict(("ip", Bytes(new byte[] { 10, 9, 8, 7 })), ("port", Int(1234))), // raw bytes, seen in the wild
            Str("not a dictionary"),
        };
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(60)), ("peers", peers)))));
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request() with { Compact = false }, Timeout);

        Assert.Null(Assert.Single(server.Requests).Text("compact"));
        Assert.Equal(new[] { "192.168.1.10:6881", "[2001:db8::7]:51413", "10.9.8.7:1234" }, EndPoints(r));
        Assert.Equal(peerId, r.Peers[0].PeerId);
        Assert.Null(r.Peers[1].PeerId);
        Assert.Equal(4, r.PeersDiscarded);
    }

    [Fact]
    public async Task Announce_Peers6_IsReadAlongsideIPv4()
    {
        var body = Bencode(Dict(("interval", Int(60)), ("peers", Bytes(CompactV4(("8.8.4.4", 1)))),
            ("peers6", Bytes(CompactV6(("2001:db8::1", 6881), ("::ffff:9.9.9.9", 2), ("::1", 3)).Concat(new byte[] { 1, 2, 3 }).ToArray()))));
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(body));
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "8.8.4.4:1", "[2001:db8::1]:6881", "9.9.9.9:2", "[::1]:3" }, EndPoints(r));
        Assert.Equal(1, r.PeersDiscarded); // the 3-byte tail
    }

    [Fact]
    public async Task Announce_FailureReason_IsTrackerFailure()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("failure reason", Str("Requested download is not authorized for use with this tracker."))))));
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.TrackerFailure, ex.Error);
        Assert.Equal("Requested download is not authorized for use with this tracker.", ex.FailureReason);
        Assert.Equal(server.AnnounceUrl, ex.TrackerUrl);
    }

    [Theory]
    [InlineData(404, "Not Found")]
    [InlineData(403, "Forbidden")]
    [InlineData(500, "Internal Server Error")]
    [InlineData(503, "Service Unavailable")]
    public async Task Announce_HttpErrorStatus_IsHttpStatus(int status, string reason)
    {
        using var server = new FakeHttpTracker(_ => new FakeHttpReply { Status = status, Reason = reason, Body = Encoding.ASCII.GetBytes("<html>nope</html>") });
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.HttpStatus, ex.Error);
        Assert.Equal(status, ex.HttpStatusCode);
        Assert.Contains(status.ToString(), ex.Message);
    }

    [Fact]
    public async Task Announce_ErrorStatusWithBencodedFailure_ReportsTheTrackersReason()
    {
        using var server = new FakeHttpTracker(_ => new FakeHttpReply { Status = 400, Reason = "Bad Request", Body = Bencode(Dict(("failure reason", Str("invalid passkey")))) });
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.TrackerFailure, ex.Error);
        Assert.Equal("invalid passkey", ex.FailureReason);
        Assert.Equal(400, ex.HttpStatusCode);
    }

    [Theory]
    [InlineData("<title>Invalid Request</title>")]
    [InlineData("")]
    [InlineData("d8:intervali60e5:peers")]          // truncated bencode
    [InlineData("li1ei2ee")]                        // bencoded, but a list
    [InlineData("d8:intervali60e5:peers99999:abce")] // string longer than the body
    public async Task Announce_BodyThatIsNotABencodedDictionary_IsInvalidResponse(string body)
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(body));
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.InvalidResponse, ex.Error);
    }

    [Fact]
    public async Task Announce_TrailingNewlineAfterTheDictionary_IsAccepted()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(CompactReply(("1.1.1.1", 1)).Concat(Encoding.ASCII.GetBytes("\r\n")).ToArray()));
        using var client = new TrackerClient();
        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);
        Assert.Equal(new[] { "1.1.1.1:1" }, EndPoints(r));
    }

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("deflate", true)]
    [InlineData(null, true)]   // gzip without Content-Encoding, as some trackers send it
    public async Task Announce_CompressedBody_IsDecompressed(string? encoding, bool _)
    {
        var plain = CompactReply(("4.3.2.1", 4321));
        using var ms = new MemoryStream();
        using (Stream z = encoding == "deflate" ? new DeflateStream(ms, CompressionLevel.Optimal, true) : new GZipStream(ms, CompressionLevel.Optimal, true))
            z.Write(plain);
        var reply = new FakeHttpReply { Body = ms.ToArray() };
        if (encoding is not null) reply.Headers["Content-Encoding"] = encoding;
        using var server = new FakeHttpTracker(__ => reply);
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "4.3.2.1:4321" }, EndPoints(r));
    }

    [Fact]
    public async Task Announce_GzipBomb_IsStoppedAtTheLimit()
    {
        // 64 MiB of zeros compresses to ~64 KiB; the client must stop at its 1 MiB limit, not inflate it all.
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal, true))
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) z.Write(zeros);
        }
        var reply = new FakeHttpReply { Body = ms.ToArray(), Headers = { ["Content-Encoding"] = "gzip" } };
        using var server = new FakeHttpTracker(_ => reply);
        using var client = new TrackerClient(new TrackerClientOptions { MaxResponseBytes = 1 << 20 });

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.ResponseTooLarge, ex.Error);
    }

    [Fact]
    public async Task Announce_DeclaredContentLengthOverTheLimit_IsRejectedBeforeReading()
    {
        var reply = new FakeHttpReply { Headers = { ["Content-Length"] = "999999999" }, StreamBytes = 1 << 20 };
        using var server = new FakeHttpTracker(_ => reply);
        using var client = new TrackerClient(new TrackerClientOptions { MaxResponseBytes = 64 * 1024 });

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.ResponseTooLarge, ex.Error);
    }

    [Fact]
    public async Task Announce_EndlessBodyWithoutContentLength_IsCutAtTheLimit()
    {
        var reply = new FakeHttpReply { StreamBytes = 64L << 20 };
        using var server = new FakeHttpTracker(_ => reply);
        using var client = new TrackerClient(new TrackerClientOptions { MaxResponseBytes = 256 * 1024 });

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.ResponseTooLarge, ex.Error);
    }

    [Fact]
    public async Task Announce_HugePeerList_IsCappedAndCounted()
    {
        var many = Enumerable.Range(0, 50_000).Select(i => ($"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", 1000 + (i % 50000))).ToArray();
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(60)), ("peers", Bytes(CompactV4(many)))))));
        using var client = new TrackerClient(new TrackerClientOptions { MaxPeersPerResponse = 300 });

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(300, r.Peers.Count);
        Assert.Equal(50_000 - 300, r.PeersDiscarded);
        Assert.Equal("10.0.0.0:1000", r.Peers[0].ToString());
    }

    [Fact]
    public async Task Announce_FollowsARedirect_ToWhereTheTrackerMoved()
    {
        using var target = new FakeHttpTracker(_ => FakeHttpReply.Ok(CompactReply(("7.7.7.7", 7777))));
        using var server = new FakeHttpTracker(r => new FakeHttpReply
        {
            Status = 302, Reason = "Found", Body = Array.Empty<byte>(),
            Headers = { ["Location"] = target.BaseUrl + "/tracker/announce" + r.Target.Substring(r.Target.IndexOf('?')) },
        });
        using var client = new TrackerClient();

        var r = await client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout);

        Assert.Equal(new[] { "7.7.7.7:7777" }, EndPoints(r));
        Assert.Equal(InfoHash, Assert.Single(target.Requests).Bytes("info_hash"));
    }

    [Fact]
    public async Task Announce_RedirectLoop_IsTooManyRedirects()
    {
        FakeHttpTracker? other = null;
        using var first = new FakeHttpTracker(_ => new FakeHttpReply { Status = 301, Reason = "Moved", Body = Array.Empty<byte>(), Headers = { ["Location"] = other!.AnnounceUrl } });
        using var second = new FakeHttpTracker(_ => new FakeHttpReply { Status = 307, Reason = "Temporary", Body = Array.Empty<byte>(), Headers = { ["Location"] = first.AnnounceUrl } });
        other = second;
        using var client = new TrackerClient();

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(first.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.TooManyRedirects, ex.Error);
        Assert.True(first.Requests.Count + second.Requests.Count <= 2 + 1);
    }

    [Fact]
    public async Task Announce_EndlessRedirectChain_StopsAtMaxRedirects()
    {
        int n = 0;
        FakeHttpTracker? self = null;
        using var server = new FakeHttpTracker(_ => new FakeHttpReply { Status = 302, Reason = "Found", Body = Array.Empty<byte>(), Headers = { ["Location"] = $"{self!.BaseUrl}/announce{Interlocked.Increment(ref n)}" } });
        self = server;
        using var client = new TrackerClient(new TrackerClientOptions { MaxRedirects = 3 });

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(server.AnnounceUrl, Request(), Timeout));

        Assert.Equal(TrackerError.TooManyRedirects, ex.Error);
        Assert.Equal(4, server.Requests.Count); // the first request and 3 redirects
    }

    [Fact]
    public async Task Announce_TrackerThatNeverAnswers_TimesOutAtTheTimeoutGiven()
    {
        using var server = new FakeHttpTracker(_ => new FakeHttpReply { NeverAnswer = true });
        var clock = new TimerWatchingClock();
        using var client = new TrackerClient(new TrackerClientOptions { TimeProvider = clock });
        var timeout = TimeSpan.FromSeconds(20);

        var announce = client.AnnounceAsync(server.AnnounceUrl, Request(), timeout);
        clock.WaitUntilArmed(timeout);
        Assert.True(SpinWait.SpinUntil(() => !server.Requests.IsEmpty, Bound), "the tracker never got the request");
        clock.Advance(timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(announce.IsCompleted, "gave up before the timeout");
        clock.Advance(TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<TrackerException>(() => announce.WaitAsync(Bound));
        Assert.Equal(TrackerError.Timeout, ex.Error);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Announce_ClosedPort_IsConnectionFailed()
    {
        using var client = new TrackerClient();
        var ex = await Assert.ThrowsAsync<TrackerException>(() =>
            client.AnnounceAsync($"http://127.0.0.1:{ClosedTcpPort()}/announce", Request(), Timeout));
        Assert.Equal(TrackerError.ConnectionFailed, ex.Error);
    }

    [Fact]
    public async Task Announce_CancelledByCaller_ThrowsOperationCanceled_WithoutWaitingForTheTimeout()
    {
        using var server = new FakeHttpTracker(_ => new FakeHttpReply { NeverAnswer = true });
        var clock = new TimerWatchingClock(); // never advanced: only the caller's cancellation can end the request
        using var client = new TrackerClient(new TrackerClientOptions { TimeProvider = clock });
        using var cts = new CancellationTokenSource();

        var announce = client.AnnounceAsync(server.AnnounceUrl, Request(), TimeSpan.FromSeconds(30), cts.Token);
        Assert.True(SpinWait.SpinUntil(() => !server.Requests.IsEmpty, Bound), "the tracker never got the request");
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => announce.WaitAsync(Bound));
    }

    [Fact]
    public async Task Scrape_UsesTheBep48Url_AndReadsCountsPerInfoHash()
    {
        var other = Enumerable.Repeat((byte)0xAB, 20).ToArray();
        var files = new BDictionary();
        files.Set(new BString(InfoHash), Dict(("complete", Int(5)), ("incomplete", Int(2)), ("downloaded", Int(40)), ("name", Str("x.iso"))));
        files.Set(new BString(other), Dict(("complete", Int(1)), ("incomplete", Int(0)), ("downloaded", Int(0))));
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("files", files)))));
        using var client = new TrackerClient();

        var counts = await client.ScrapeAsync(server.BaseUrl + "/x/announce.php?passkey=p", new[] { InfoHash, other }, Timeout);

        var sent = Assert.Single(server.Requests);
        Assert.Equal("/x/scrape.php", sent.Path);
        Assert.Equal("p", sent.Text("passkey"));
        Assert.Equal(new[] { InfoHash, other }, sent.Query.Where(q => q.Key == "info_hash").Select(q => q.Value).ToArray());
        var mine = counts[Hex.ToLower(InfoHash)];
        Assert.Equal((5, 2, 40, "x.iso"), (mine.Seeders, mine.Leechers, mine.Completed, mine.Name));
        Assert.Equal(1, counts[Hex.ToLower(other)].Seeders);
    }

    [Fact]
    public async Task Scrape_TrackerWithoutAnnounceInItsPath_IsScrapeNotSupported()
    {
        using var client = new TrackerClient();
        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.ScrapeAsync("http://127.0.0.1:1/tracker.php", new[] { InfoHash }, Timeout));
        Assert.Equal(TrackerError.ScrapeNotSupported, ex.Error);
    }

    [Fact]
    public async Task Scrape_ReplyWithoutFiles_IsInvalidResponse()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(5))))));
        using var client = new TrackerClient();
        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.ScrapeAsync(server.AnnounceUrl, new[] { InfoHash }, Timeout));
        Assert.Equal(TrackerError.InvalidResponse, ex.Error);
    }
}
