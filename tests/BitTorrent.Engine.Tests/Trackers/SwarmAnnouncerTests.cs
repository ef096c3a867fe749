using System.Buffers.Binary;
using BitTorrent.Download;
using BitTorrent.Tests.Storage;
using BitTorrent.Trackers;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Trackers;

/// <summary>What a download tells its trackers: private trackers compute the ratio from <c>uploaded</c>, so the
/// bytes a torrent sent must reach the tracker in every announce, over HTTP and UDP alike.</summary>
public sealed class SwarmAnnouncerTests
{
    private static readonly BitTorrent.Metainfo.TorrentInfo Torrent = HandMadeTorrent.SingleFile("ratio.bin", 16384, HandMadeTorrent.Random(40000, 3));

    [Fact]
    public async Task Http_announce_carries_uploaded_downloaded_and_left()
    {
        using var server = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(1800)), ("peers", Bytes(Array.Empty<byte>()))))));
        using var announcer = new SwarmAnnouncer(Torrent, new[] { new[] { server.AnnounceUrl } }, ClientIdentity.NewPeerId(), 51413);

        await announcer.AnnounceAsync(TrackerEvent.None, downloaded: 30000, uploaded: 987654321, left: 10000, CancellationToken.None);
        await announcer.AnnounceAsync(TrackerEvent.Stopped, downloaded: 40000, uploaded: 1234567890123, left: 0, CancellationToken.None);

        var requests = server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(("started", "987654321", "30000", "10000"),
            (requests[0].Text("event"), requests[0].Text("uploaded"), requests[0].Text("downloaded"), requests[0].Text("left")));
        Assert.Equal(("stopped", "1234567890123", "40000", "0"),
            (requests[1].Text("event"), requests[1].Text("uploaded"), requests[1].Text("downloaded"), requests[1].Text("left")));
    }

    [Fact]
    public async Task Udp_announce_carries_uploaded_downloaded_and_left()
    {
        using var server = new FakeUdpTracker();
        using var announcer = new SwarmAnnouncer(Torrent, new[] { new[] { server.AnnounceUrl } }, ClientIdentity.NewPeerId(), 51413);

        await announcer.AnnounceAsync(TrackerEvent.None, downloaded: 30000, uploaded: 987654321, left: 10000, CancellationToken.None);

        var announce = Assert.Single(server.Received, d => d.Action == 1).Data;
        Assert.Equal(30000, BinaryPrimitives.ReadInt64BigEndian(announce.AsSpan(56)));     // downloaded
        Assert.Equal(10000, BinaryPrimitives.ReadInt64BigEndian(announce.AsSpan(64)));     // left
        Assert.Equal(987654321, BinaryPrimitives.ReadInt64BigEndian(announce.AsSpan(72))); // uploaded
    }
}
