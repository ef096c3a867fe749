using System.Buffers.Binary;
using BitTorrent.Trackers;
using Xunit;

namespace BitTorrent.Tests.Trackers;

public sealed class UdpTrackerMessagesTests
{
    [Fact]
    public void Connect_IsTheMagicActionAndTransactionId()
    {
        var d = UdpTrackerMessages.BuildConnect(0x01020304);
        Assert.Equal(new byte[] { 0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 1, 2, 3, 4 }, d);
    }

    [Fact]
    public void Scrape_RejectsMoreThan74Hashes()
    {
        var hashes = Enumerable.Range(0, 75).Select(_ => new byte[20]).ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpTrackerMessages.BuildScrape(1, 1, hashes));
    }

    [Fact]
    public void ScrapeReply_WithFewerTriplesThanAsked_GivesCountsForTheFirstOnly()
    {
        var reply = new byte[8 + 12 + 5];
        BinaryPrimitives.WriteInt32BigEndian(reply, 2);
        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8), 9);
        var a = Enumerable.Repeat((byte)1, 20).ToArray();
        var b = Enumerable.Repeat((byte)2, 20).ToArray();
        var counts = UdpTrackerMessages.ParseScrape(reply, new[] { a, b }, "udp://t:1");
        Assert.Single(counts);
        Assert.Equal(9, counts[Hex.ToLower(a)].Seeders);
    }

    [Fact]
    public void AnnounceReply_OverIPv6_Reads18ByteEntries()
    {
        var reply = new byte[20 + 18];
        BinaryPrimitives.WriteInt32BigEndian(reply, 1);
        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8), 300);
        System.Net.IPAddress.Parse("2001:db8::5").GetAddressBytes().CopyTo(reply, 20);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(36), 6881);
        var r = UdpTrackerMessages.ParseAnnounce(reply, ipv6: true, 10, "udp://t:1");
        Assert.Equal("[2001:db8::5]:6881", Assert.Single(r.Peers).ToString());
    }

    [Fact]
    public void ErrorReply_WithControlCharacters_IsCleaned()
    {
        var reply = new byte[] { 0, 0, 0, 3, 0, 0, 0, 1, (byte)'b', 0x1b, (byte)'[', (byte)'a', (byte)'d' };
        var ex = Assert.Throws<TrackerException>(() => UdpTrackerMessages.ParseConnect(reply, "udp://t:1"));
        Assert.Equal(TrackerError.TrackerFailure, ex.Error);
        Assert.Equal("b [ad", ex.FailureReason);
    }

    [Fact]
    public void AnnounceReply_HeaderOnly_IsARefusal_AsOpentrackerSendsForUnknownTorrents()
    {
        var reply = new byte[] { 0, 0, 0, 1, 0, 0, 0, 8 };
        var ex = Assert.Throws<TrackerException>(() => UdpTrackerMessages.ParseAnnounce(reply, false, 10, "udp://t:1"));
        Assert.Equal(TrackerError.TrackerFailure, ex.Error);
        Assert.Contains("does not track", ex.FailureReason);
    }
}
