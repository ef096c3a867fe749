using System.Net;
using System.Text;
using BitTorrent.Dht;
using Xunit;

namespace BitTorrent.Tests.Dht;

/// <summary>The BEP 5 example messages byte for byte, and round trips of every message kind.</summary>
public sealed class KrpcCodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);
    private static NodeId Id(string twenty) => new(B(twenty));
    private static readonly byte[] Aa = B("aa");

    private static void AssertEncodes(KrpcMessage message, string expected) =>
        Assert.Equal(expected, Encoding.Latin1.GetString(KrpcCodec.Encode(message)));

    [Fact]
    public void Ping_query_and_response_match_BEP_5()
    {
        const string query = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
        var q = KrpcCodec.Decode(B(query));
        Assert.Equal((KrpcMessageType.Query, KrpcMethod.Ping, "ping"), (q.Type, q.Method, q.MethodName));
        Assert.Equal(Id("abcdefghij0123456789"), q.Id);
        Assert.Equal(Aa, q.TransactionId);
        AssertEncodes(KrpcMessage.Query(Aa, KrpcMethod.Ping, Id("abcdefghij0123456789")), query);

        const string response = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
        var r = KrpcCodec.Decode(B(response));
        Assert.Equal(KrpcMessageType.Response, r.Type);
        Assert.Equal(Id("mnopqrstuvwxyz123456"), r.Id);
        Assert.Null(r.Nodes);
        Assert.Null(r.Values);
        AssertEncodes(KrpcMessage.Response(Aa, Id("mnopqrstuvwxyz123456")), response);
    }

    [Fact]
    public void Find_node_query_matches_BEP_5_and_its_placeholder_response_is_refused()
    {
        const string query = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
        var q = KrpcCodec.Decode(B(query));
        Assert.Equal(KrpcMethod.FindNode, q.Method);
        Assert.Equal(Id("mnopqrstuvwxyz123456"), q.Target);
        var built = KrpcMessage.Query(Aa, KrpcMethod.FindNode, Id("abcdefghij0123456789"));
        built.Target = Id("mnopqrstuvwxyz123456");
        AssertEncodes(built, query);

        // The BEP's response shows "def456..." where compact node info goes: 9 bytes are not a whole 26-byte entry.
        var ex = Assert.Throws<KrpcException>(() => KrpcCodec.Decode(B("d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re")));
        Assert.Equal(KrpcError.BadCompactNodes, ex.Error);
    }

    [Fact]
    public void Get_peers_query_and_values_response_match_BEP_5()
    {
        const string query = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
        var q = KrpcCodec.Decode(B(query));
        Assert.Equal(KrpcMethod.GetPeers, q.Method);
        Assert.Equal(Id("mnopqrstuvwxyz123456"), q.InfoHash);
        var built = KrpcMessage.Query(Aa, KrpcMethod.GetPeers, Id("abcdefghij0123456789"));
        built.InfoHash = Id("mnopqrstuvwxyz123456");
        AssertEncodes(built, query);

        const string response = "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
        var r = KrpcCodec.Decode(B(response));
        Assert.Equal(B("aoeusnth"), r.Token);
        Assert.Equal(new[] { new IPEndPoint(IPAddress.Parse("97.120.106.101"), ('.' << 8) | 'u'), new IPEndPoint(IPAddress.Parse("105.100.104.116"), ('n' << 8) | 'm') }, r.Values);
        Assert.Equal(response, Encoding.Latin1.GetString(KrpcCodec.Encode(r)));
    }

    [Fact]
    public void Announce_peer_queries_and_response_match_BEP_5()
    {
        const string query = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
        var q = KrpcCodec.Decode(B(query));
        Assert.Equal((KrpcMethod.AnnouncePeer, 6881, false), (q.Method, q.Port, q.ImpliedPort));
        Assert.Equal(B("aoeusnth"), q.Token);
        Assert.Equal(query, Encoding.Latin1.GetString(KrpcCodec.Encode(q)));

        const string implied = "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
        var i = KrpcCodec.Decode(B(implied));
        Assert.True(i.ImpliedPort);
        var built = KrpcMessage.Query(Aa, KrpcMethod.AnnouncePeer, Id("abcdefghij0123456789"));
        built.InfoHash = Id("mnopqrstuvwxyz123456");
        built.Port = 6881;
        built.ImpliedPort = true;
        built.Token = B("aoeusnth");
        AssertEncodes(built, implied);

        const string response = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
        Assert.Equal(response, Encoding.Latin1.GetString(KrpcCodec.Encode(KrpcCodec.Decode(B(response)))));
    }

    [Fact]
    public void Error_matches_BEP_5()
    {
        const string error = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
        var e = KrpcCodec.Decode(B(error));
        Assert.Equal((KrpcMessageType.Error, KrpcErrorCode.Generic, "A Generic Error Ocurred"), (e.Type, e.ErrorCode, e.ErrorMessage));
        AssertEncodes(KrpcMessage.Failure(Aa, 201, "A Generic Error Ocurred"), error);
    }

    [Fact]
    public void A_full_response_round_trips_nodes_nodes6_values_token_ip_version()
    {
        var node4 = new CompactNode(NodeId.Random(), new IPEndPoint(IPAddress.Parse("198.18.0.7"), 6881));
        var node6 = new CompactNode(NodeId.Random(), new IPEndPoint(IPAddress.Parse("fd00::7"), 51413));
        var response = KrpcMessage.Response(new byte[] { 1, 2, 3, 4 }, NodeId.Random());
        response.Nodes = new() { node4 };
        response.Nodes6 = new() { node6 };
        response.Values = new() { new IPEndPoint(IPAddress.Parse("198.18.0.9"), 1), new IPEndPoint(IPAddress.Parse("fd00::9"), 65535) };
        response.Token = new byte[] { 9, 8, 7, 6 };
        response.ExternalAddress = new IPEndPoint(IPAddress.Parse("203.0.113.5"), 6882);
        response.Version = B("BP01");

        var back = KrpcCodec.Decode(KrpcCodec.Encode(response));
        Assert.Equal(response.Id, back.Id);
        Assert.Equal(response.Nodes, back.Nodes);
        Assert.Equal(response.Nodes6, back.Nodes6);
        Assert.Equal(response.Values, back.Values);
        Assert.Equal(response.Token, back.Token);
        Assert.Equal(response.ExternalAddress, back.ExternalAddress);
        Assert.Equal(response.Version, back.Version);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, back.TransactionId);
        Assert.Equal(0, back.DroppedPortZeroEntries);
    }

    [Theory]
    [InlineData(KrpcMethod.Ping)]
    [InlineData(KrpcMethod.FindNode)]
    [InlineData(KrpcMethod.GetPeers)]
    [InlineData(KrpcMethod.AnnouncePeer)]
    public void Every_query_round_trips_with_want_and_read_only(KrpcMethod method)
    {
        var query = KrpcMessage.Query(new byte[] { 0xff, 0 }, method, NodeId.Random());
        query.Target = NodeId.Random();
        query.InfoHash = NodeId.Random();
        query.Port = 51413;
        query.Token = new byte[] { 1, 2, 3 };
        query.Want = KrpcWant.Ipv4 | KrpcWant.Ipv6;
        query.ReadOnly = true;
        var back = KrpcCodec.Decode(KrpcCodec.Encode(query));
        Assert.Equal((method, KrpcWant.Ipv4 | KrpcWant.Ipv6, true), (back.Method, back.Want, back.ReadOnly));
        Assert.Equal(query.Id, back.Id);
        if (method == KrpcMethod.FindNode) Assert.Equal(query.Target, back.Target);
        if (method is KrpcMethod.GetPeers or KrpcMethod.AnnouncePeer) Assert.Equal(query.InfoHash, back.InfoHash);
        if (method == KrpcMethod.AnnouncePeer)
        {
            Assert.Equal(51413, back.Port);
            Assert.Equal(query.Token, back.Token);
        }
    }

    [Fact]
    public void An_unknown_method_keeps_its_name_so_the_node_can_answer_204()
    {
        var q = KrpcCodec.Decode(B("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q17:sample_infohashes1:t2:xy1:y1:qe"));
        Assert.Equal((KrpcMethod.Unknown, "sample_infohashes"), (q.Method, q.MethodName));
        var reply = KrpcCodec.Encode(KrpcMessage.Failure(q.TransactionId, KrpcErrorCode.MethodUnknown, "Method Unknown"));
        Assert.Equal("d1:eli204e14:Method Unknowne1:t2:xy1:y1:ee", Encoding.Latin1.GetString(reply));
    }

    [Fact]
    public void Want_ignores_unknown_families_and_ro_other_than_1_is_not_read_only()
    {
        var q = KrpcCodec.Decode(B("d1:ad2:id20:abcdefghij01234567894:wantl2:n62:n83:n44ee1:q4:ping2:roi0e1:t2:aa1:y1:qe"));
        Assert.Equal(KrpcWant.Ipv6, q.Want);
        Assert.False(q.ReadOnly);
    }

    [Fact]
    public void Port_zero_nodes_and_values_are_dropped_and_counted()
    {
        var nodes = new byte[26 * 2];
        nodes[20] = 198; nodes[21] = 18; nodes[24] = 0x1a; nodes[25] = 0xe1; // 198.18.0.0:6881
        nodes[46] = 198; nodes[47] = 18;                                      // port 0
        var text = "d1:rd2:id20:abcdefghij01234567895:nodes52:" + Encoding.Latin1.GetString(nodes) + "6:valuesl6:\x01\x02\x03\x04\0\0ee1:t2:aa1:y1:re";
        var r = KrpcCodec.Decode(B(text));
        var node = Assert.Single(r.Nodes!);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.18.0.0"), 6881), node.EndPoint);
        Assert.Empty(r.Values!);
        Assert.Equal(2, r.DroppedPortZeroEntries);
    }

    [Fact]
    public void Encode_refuses_messages_we_must_not_send()
    {
        Assert.Throws<ArgumentException>(() => KrpcCodec.Encode(KrpcMessage.Response(Array.Empty<byte>(), NodeId.Random())));
        Assert.Throws<ArgumentException>(() => KrpcCodec.Encode(KrpcMessage.Response(new byte[17], NodeId.Random())));
        var announce = KrpcMessage.Query(Aa, KrpcMethod.AnnouncePeer, NodeId.Random());
        Assert.Throws<ArgumentException>(() => KrpcCodec.Encode(announce)); // no token
        var mixed = KrpcMessage.Response(Aa, NodeId.Random());
        mixed.Nodes = new() { new CompactNode(NodeId.Random(), new IPEndPoint(IPAddress.IPv6Loopback, 1)) };
        Assert.Throws<ArgumentException>(() => KrpcCodec.Encode(mixed));
    }
}
