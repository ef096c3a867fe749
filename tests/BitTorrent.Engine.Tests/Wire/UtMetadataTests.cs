using System.Security.Cryptography;
using System.Text;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Wire;

public sealed class UtMetadataMessageTests
{
    [Fact]
    public void Request_reject_and_data_round_trip_with_the_block_after_the_dictionary()
    {
        Assert.Equal("d8:msg_typei0e5:piecei3ee", Encoding.ASCII.GetString(UtMetadataMessage.EncodeRequest(3)));
        // BEP 9's reject example says msg_type 1; reject is 2.
        Assert.Equal("d8:msg_typei2e5:piecei0ee", Encoding.ASCII.GetString(UtMetadataMessage.EncodeReject(0)));
        var block = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var data = UtMetadataMessage.EncodeData(1, 16484, block);
        Assert.StartsWith("d8:msg_typei1e5:piecei1e10:total_sizei16484ee", Encoding.Latin1.GetString(data));

        Assert.True(UtMetadataMessage.TryDecode(data, out var m));
        Assert.Equal((UtMetadataMessageType.Data, 1, 16484L), (m.Type, m.Piece, m.TotalSize));
        Assert.Equal(block, m.Data.ToArray());
        Assert.True(UtMetadataMessage.TryDecode(UtMetadataMessage.EncodeRequest(7), out var r));
        Assert.Equal((UtMetadataMessageType.Request, 7), (r.Type, r.Piece));
        Assert.True(UtMetadataMessage.TryDecode(UtMetadataMessage.EncodeReject(7), out var j));
        Assert.Equal(UtMetadataMessageType.Reject, j.Type);
    }

    [Fact]
    public void An_unknown_msg_type_is_ignored_not_an_error()
    {
        Assert.False(UtMetadataMessage.TryDecode("d8:msg_typei3e5:piecei0ee"u8.ToArray(), out _));
        Assert.False(UtMetadataMessage.TryDecode("d8:msg_typei-1e5:piecei0ee"u8.ToArray(), out _));
    }

    [Theory]
    [InlineData("", PeerProtocolError.InvalidMetadataMessage)]
    [InlineData("garbage", PeerProtocolError.InvalidMetadataMessage)]
    [InlineData("li0ee", PeerProtocolError.InvalidMetadataMessage)]
    [InlineData("d5:piecei0ee", PeerProtocolError.InvalidMetadataMessage)]                      // no msg_type
    [InlineData("d8:msg_typei0ee", PeerProtocolError.InvalidMetadataMessage)]                   // no piece
    [InlineData("d8:msg_type1:05:piecei0ee", PeerProtocolError.InvalidMetadataMessage)]         // msg_type not an integer
    [InlineData("d8:msg_typei0e5:piecei-1ee", PeerProtocolError.InvalidMetadataMessage)]
    [InlineData("d8:msg_typei0e5:piecei2147483648ee", PeerProtocolError.InvalidMetadataMessage)]
    [InlineData("d8:msg_typei1e5:piecei611e10:total_sizei100eexyz", PeerProtocolError.InvalidMetadataMessage)]   // data past 10 MB of blocks
    [InlineData("d8:msg_typei1e5:piecei0eexyz", PeerProtocolError.InvalidMetadataSize)]         // data without total_size
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei0eexyz", PeerProtocolError.InvalidMetadataSize)]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei-5eexyz", PeerProtocolError.InvalidMetadataSize)]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei10000001eexyz", PeerProtocolError.InvalidMetadataSize)]
    public void Malformed_messages_are_protocol_errors(string text, PeerProtocolError error)
    {
        var ex = Assert.Throws<PeerProtocolException>(() => UtMetadataMessage.TryDecode(Encoding.ASCII.GetBytes(text), out _));
        Assert.Equal(error, ex.Error);
    }

    [Fact]
    public void Messages_over_17_KiB_and_blocks_over_16_KiB_are_refused()
    {
        var big = new byte[UtMetadataMessage.MaxMessageLength + 1];
        Assert.Equal(PeerProtocolError.MessageTooLarge,
            Assert.Throws<PeerProtocolException>(() => UtMetadataMessage.TryDecode(big, out _)).Error);
        var header = "d8:msg_typei1e5:piecei0e10:total_sizei40000ee"u8.ToArray();
        var overBlock = header.Concat(new byte[UtMetadataMessage.BlockSize + 1]).ToArray();
        Assert.Equal(PeerProtocolError.InvalidMetadataMessage,
            Assert.Throws<PeerProtocolException>(() => UtMetadataMessage.TryDecode(overBlock, out _)).Error);
    }
}

public sealed class MetadataDownloadTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    private static byte[] Metadata(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Block(byte[] metadata, int piece) =>
        metadata.AsSpan(piece * UtMetadataMessage.BlockSize, UtMetadataMessage.BlockLength(metadata.Length, piece)).ToArray();

    private MetadataDownload<string> For(byte[] metadata) => new(SHA1.HashData(metadata), _clock);

    private static List<int> Drain(MetadataDownload<string> download, string peer)
    {
        var asked = new List<int>();
        while (download.TryGetRequest(peer, out int piece)) asked.Add(piece);
        return asked;
    }

    [Fact]
    public void Fetches_every_block_two_at_a_time_and_hands_out_the_exact_bytes()
    {
        var metadata = Metadata(40_000);   // 3 blocks, the last 7232 bytes
        var download = For(metadata);
        download.AddPeer("a", metadata.Length);
        download.AddPeer("b", metadata.Length);
        Assert.Equal(new[] { 0, 1 }, Drain(download, "a"));
        Assert.Equal(new[] { 2 }, Drain(download, "b"));   // 0 and 1 are out with a, and not yet stale
        Assert.Equal(3, download.BlockCount);

        Assert.Equal(MetadataBlockOutcome.Accepted, download.OnData("a", 0, metadata.Length, Block(metadata, 0), out _));
        Assert.Equal(MetadataBlockOutcome.Accepted, download.OnData("b", 2, metadata.Length, Block(metadata, 2), out _));
        Assert.False(download.IsComplete);
        Assert.Equal(MetadataBlockOutcome.Completed, download.OnData("a", 1, metadata.Length, Block(metadata, 1), out var banned));
        Assert.Empty(banned);
        Assert.Equal(metadata, download.Metadata);
        Assert.False(download.TryGetRequest("b", out _));
    }

    [Fact]
    public void A_block_is_asked_again_of_another_peer_only_after_3_seconds_or_when_its_peer_leaves()
    {
        var metadata = Metadata(10_000);   // one block
        var download = For(metadata);
        download.AddPeer("a", metadata.Length);
        download.AddPeer("b", metadata.Length);
        download.AddPeer("c", metadata.Length);
        Assert.Equal(new[] { 0 }, Drain(download, "a"));
        _clock.Advance(TimeSpan.FromSeconds(2.9));
        Assert.Empty(Drain(download, "b"));
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(new[] { 0 }, Drain(download, "b"));
        Assert.Empty(Drain(download, "c"));
        download.RemovePeer("a");
        download.RemovePeer("b");
        Assert.Equal(new[] { 0 }, Drain(download, "c"));   // both askers gone: at once
        // The first answer wins; a later copy of the same block is a duplicate.
        download.AddPeer("d", metadata.Length);
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(new[] { 0 }, Drain(download, "d"));
        Assert.Equal(MetadataBlockOutcome.Completed, download.OnData("d", 0, metadata.Length, metadata, out _));
        Assert.Equal(MetadataBlockOutcome.Unsolicited, download.OnData("c", 0, metadata.Length, metadata, out _));
    }

    [Fact]
    public void A_reject_frees_the_block_and_rests_the_peer_for_a_minute()
    {
        var metadata = Metadata(20_000);
        var download = For(metadata);
        download.AddPeer("a", metadata.Length);
        download.AddPeer("b", metadata.Length);
        Assert.Equal(new[] { 0, 1 }, Drain(download, "a"));
        Assert.True(download.OnReject("a", 0));
        Assert.False(download.OnReject("a", 0));   // not outstanding any more: ignored
        Assert.False(download.OnReject("b", 1));   // never asked of b
        Assert.Equal(new[] { 0 }, Drain(download, "b"));
        Assert.True(download.OnReject("a", 1));
        Assert.Equal(new[] { 1 }, Drain(download, "b").Take(1));
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(Drain(download, "a"));
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(new[] { 0, 1 }, Drain(download, "a"));   // rested, and b's requests are stale by now
    }

    [Fact]
    public void Unsolicited_data_is_ignored_and_nothing_is_stored()
    {
        var metadata = Metadata(40_000);
        var download = For(metadata);
        download.AddPeer("a", metadata.Length);
        Assert.Equal(MetadataBlockOutcome.Unsolicited, download.OnData("a", 0, metadata.Length, Block(metadata, 0), out _));
        Assert.Equal(MetadataBlockOutcome.Unsolicited, download.OnData("stranger", 0, metadata.Length, Block(metadata, 0), out _));
        Drain(download, "a");
        Assert.Equal(MetadataBlockOutcome.Unsolicited, download.OnData("a", 2, metadata.Length, Block(metadata, 2), out _));
        Assert.Equal(0, download.ReceivedBlocks);
    }

    [Fact]
    public void Wrong_sizes_are_protocol_errors()
    {
        var metadata = Metadata(40_000);
        var download = For(metadata);
        download.AddPeer("a", metadata.Length);
        Drain(download, "a");
        Assert.Equal(PeerProtocolError.InvalidMetadataSize,
            Assert.Throws<PeerProtocolException>(() => download.OnData("a", 0, metadata.Length + 1, Block(metadata, 0), out _)).Error);
        Assert.Equal(PeerProtocolError.InvalidMetadataMessage,
            Assert.Throws<PeerProtocolException>(() => download.OnData("a", 1, metadata.Length, new byte[100], out _)).Error);
        // The last block must be exactly the remainder.
        var last = For(metadata);
        last.AddPeer("b", metadata.Length);
        last.AddPeer("c", metadata.Length);
        Drain(last, "b");
        Assert.Equal(new[] { 2 }, Drain(last, "c"));
        Assert.Equal(PeerProtocolError.InvalidMetadataMessage,
            Assert.Throws<PeerProtocolException>(() => last.OnData("c", 2, metadata.Length, new byte[UtMetadataMessage.BlockSize], out _)).Error);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(10_000_001L)]
    [InlineData(long.MaxValue)]
    public void A_negative_or_oversized_metadata_size_drops_the_peer(long size)
    {
        var download = new MetadataDownload<string>(new byte[20], _clock);
        Assert.Equal(PeerProtocolError.InvalidMetadataSize,
            Assert.Throws<PeerProtocolException>(() => download.AddPeer("a", size)).Error);
        Assert.False(download.TryGetRequest("a", out _));
    }

    [Fact]
    public void A_peer_without_a_size_is_not_asked_and_exactly_10_MB_is_allowed()
    {
        var download = new MetadataDownload<string>(new byte[20], _clock);
        download.AddPeer("none", null);
        download.AddPeer("zero", 0);
        Assert.False(download.TryGetRequest("none", out _));
        Assert.False(download.TryGetRequest("zero", out _));
        download.AddPeer("max", UtMetadataMessage.MaxMetadataSize);
        Assert.True(download.TryGetRequest("max", out _));
        Assert.Equal(611, download.BlockCount);
    }

    [Fact]
    public void A_hash_mismatch_bans_every_contributor_and_starts_over()
    {
        var metadata = Metadata(40_000);
        var download = For(metadata);
        foreach (var peer in new[] { "honest", "liar", "idle" }) download.AddPeer(peer, metadata.Length);
        Assert.Equal(new[] { 0, 1 }, Drain(download, "honest"));
        Assert.Equal(new[] { 2 }, Drain(download, "liar"));
        download.OnData("honest", 0, metadata.Length, Block(metadata, 0), out _);
        download.OnData("honest", 1, metadata.Length, Block(metadata, 1), out _);
        var forged = Block(metadata, 2);
        forged[0] ^= 1;
        Assert.Equal(MetadataBlockOutcome.HashMismatch, download.OnData("liar", 2, metadata.Length, forged, out var banned));
        Assert.Equal(new[] { "honest", "liar" }, banned.OrderBy(p => p));
        Assert.True(download.IsBanned("liar"));
        Assert.Equal(1, download.Failures);
        Assert.Equal(0, download.ReceivedBlocks);
        Assert.False(download.TryGetRequest("liar", out _));
        Assert.Null(download.Metadata);

        // Starting over with the peer that is left.
        Assert.Equal(new[] { 0, 1 }, Drain(download, "idle"));
        download.OnData("idle", 0, metadata.Length, Block(metadata, 0), out _);
        download.OnData("idle", 1, metadata.Length, Block(metadata, 1), out _);
        Assert.Equal(new[] { 2 }, Drain(download, "idle"));
        Assert.Equal(MetadataBlockOutcome.Completed, download.OnData("idle", 2, metadata.Length, Block(metadata, 2), out _));
        Assert.Equal(metadata, download.Metadata);
    }

    [Fact]
    public void A_peer_that_lies_about_the_size_fails_the_hash_and_the_honest_size_is_used_next()
    {
        var metadata = Metadata(20_000);
        var download = For(metadata);
        download.AddPeer("liar", 5);
        download.AddPeer("honest", metadata.Length);
        Assert.Equal(new[] { 0 }, Drain(download, "liar"));
        Assert.Empty(Drain(download, "honest"));   // a different size: not asked while the liar's size is tried
        Assert.Equal(MetadataBlockOutcome.HashMismatch, download.OnData("liar", 0, 5, new byte[5], out var banned));
        Assert.Equal(new[] { "liar" }, banned);
        Assert.Equal(new[] { 0, 1 }, Drain(download, "honest"));
        Assert.Equal(metadata.Length, download.Size);
    }

    [Fact]
    public void A_false_size_from_a_peer_that_rejects_or_leaves_gives_way_to_the_honest_size()
    {
        var metadata = Metadata(20_000);
        var download = For(metadata);
        download.AddPeer("rejecter", 99_999);
        download.AddPeer("honest", metadata.Length);
        Assert.Equal(new[] { 0, 1 }, Drain(download, "rejecter"));
        Assert.Empty(Drain(download, "honest"));                  // its size is not the one being tried
        Assert.True(download.OnReject("rejecter", 0));
        Assert.Empty(Drain(download, "honest"));                  // block 1 is still out with the rejecter
        Assert.True(download.OnReject("rejecter", 1));
        Assert.Equal(new[] { 0, 1 }, Drain(download, "honest"));  // nobody fetches 99 999 bytes any more
        Assert.Equal(metadata.Length, download.Size);

        var again = For(metadata);
        again.AddPeer("stalled", 99_999);
        again.AddPeer("honest", metadata.Length);
        Assert.Equal(new[] { 0, 1 }, Drain(again, "stalled"));
        again.RemovePeer("stalled");
        Assert.Null(again.Size);                                   // the only peer with that size left
        Assert.Equal(new[] { 0, 1 }, Drain(again, "honest"));
        again.OnData("honest", 0, metadata.Length, Block(metadata, 0), out _);
        Assert.Equal(MetadataBlockOutcome.Completed, again.OnData("honest", 1, metadata.Length, Block(metadata, 1), out _));
    }

    [Fact]
    public void A_v2_info_hash_is_checked_with_sha256()
    {
        var metadata = Metadata(1000);
        var download = new MetadataDownload<string>(SHA256.HashData(metadata), _clock);
        download.AddPeer("a", metadata.Length);
        Drain(download, "a");
        Assert.Equal(MetadataBlockOutcome.Completed, download.OnData("a", 0, metadata.Length, metadata, out _));
    }

    [Fact]
    public void Served_metadata_is_fetched_whole_through_the_codec()
    {
        var metadata = Metadata(50_000);
        var server = new MetadataServer<string>(metadata, _clock);
        var download = For(metadata);
        download.AddPeer("server", server.MetadataSize);
        var outcome = MetadataBlockOutcome.Accepted;
        for (int round = 0; round < 10 && outcome != MetadataBlockOutcome.Completed; round++)
        {
            foreach (int piece in Drain(download, "server"))
            {
                Assert.True(UtMetadataMessage.TryDecode(UtMetadataMessage.EncodeRequest(piece), out var request));
                var reply = server.HandleRequest("client", request.Piece);
                Assert.True(UtMetadataMessage.TryDecode(reply.Payload, out var data));
                outcome = download.OnData("server", data, out _);
            }
        }
        Assert.Equal(MetadataBlockOutcome.Completed, outcome);
        Assert.Equal(metadata, download.Metadata);
    }
}

public sealed class MetadataServerTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    [Fact]
    public void Serves_blocks_by_index_and_rejects_out_of_range()
    {
        var metadata = new byte[40_000];
        new Random(1).NextBytes(metadata);
        var server = new MetadataServer<string>(metadata, _clock);
        Assert.Equal(3, server.BlockCount);
        var last = server.HandleRequest("p", 2);
        Assert.Equal(UtMetadataMessageType.Data, last.Type);
        Assert.True(UtMetadataMessage.TryDecode(last.Payload, out var m));
        Assert.Equal(metadata.AsSpan(32768).ToArray(), m.Data.ToArray());
        Assert.Equal(40_000, m.TotalSize);
        Assert.True(UtMetadataMessage.TryDecode("d8:msg_typei0e5:piecei5000ee"u8.ToArray(), out var far));   // decoded, then rejected
        Assert.Equal(UtMetadataMessageType.Reject, server.HandleRequest("p", far.Piece).Type);
        var beyond = server.HandleRequest("p", 3);
        Assert.Equal(UtMetadataMessageType.Reject, beyond.Type);
        Assert.True(UtMetadataMessage.TryDecode(beyond.Payload, out var reject));
        Assert.Equal((UtMetadataMessageType.Reject, 3), (reject.Type, reject.Piece));
    }

    [Fact]
    public void Without_metadata_every_request_is_rejected()
    {
        var server = new MetadataServer<string>(null, _clock);
        Assert.Null(server.MetadataSize);
        Assert.Equal(UtMetadataMessageType.Reject, server.HandleRequest("p", 0).Type);
    }

    [Fact]
    public void A_peer_asking_too_often_is_rejected_then_dropped_and_the_window_resets()
    {
        var server = new MetadataServer<string>(new byte[20_000], _clock);   // 2 blocks: 12 served a minute
        Assert.Equal(12, server.ServedPerWindow);
        for (int i = 0; i < server.ServedPerWindow; i++) Assert.Equal(UtMetadataMessageType.Data, server.HandleRequest("p", i % 2).Type);
        Assert.Equal(UtMetadataMessageType.Reject, server.HandleRequest("p", 0).Type);
        Assert.Equal(UtMetadataMessageType.Data, server.HandleRequest("other", 0).Type);   // per peer
        for (int i = server.ServedPerWindow + 1; i < server.FloodLimit; i++) server.HandleRequest("p", 0);
        Assert.Equal(PeerProtocolError.MetadataRequestFlood,
            Assert.Throws<PeerProtocolException>(() => server.HandleRequest("p", 0)).Error);
        _clock.Advance(MetadataServer<string>.Window);
        Assert.Equal(UtMetadataMessageType.Data, server.HandleRequest("p", 0).Type);
    }
}
