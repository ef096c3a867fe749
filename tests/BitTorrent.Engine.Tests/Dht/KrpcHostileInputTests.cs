using System.Net;
using System.Text;
using BitTorrent.Dht;
using Xunit;

namespace BitTorrent.Tests.Dht;

/// <summary>Bad datagrams: every one is a KrpcException of the right kind, never another exception or a hang.</summary>
public sealed class KrpcHostileInputTests
{
    private const string Id = "abcdefghij0123456789";
    private const string Ping = "d1:ad2:id20:" + Id + "e1:q4:ping1:t2:aa1:y1:qe";

    private static KrpcError Refusal(string text) => Refusal(Encoding.Latin1.GetBytes(text));
    private static KrpcError Refusal(byte[] bytes) => Assert.Throws<KrpcException>(() => KrpcCodec.Decode(bytes)).Error;

    [Fact]
    public void Every_truncation_of_a_valid_message_is_malformed()
    {
        for (int length = 0; length < Ping.Length; length++)
            Assert.Equal(KrpcError.MalformedBencode, Refusal(Ping.Substring(0, length)));
    }

    [Fact]
    public void Oversized_datagrams_are_refused_before_decoding()
    {
        // Not even bencode: the size alone refuses it.
        Assert.Equal(KrpcError.TooLarge, Refusal(new byte[KrpcMessage.MaxDatagramLength + 1]));
        var values = new StringBuilder("d1:rd2:id20:" + Id + "6:valuesl");
        for (int i = 0; i < 10_000; i++) values.Append("6:\x01\x02\x03\x04\x1a\xe1");
        values.Append("ee1:t2:aa1:y1:re");
        Assert.Equal(KrpcError.TooLarge, Refusal(values.ToString()));
    }

    [Fact]
    public void Deep_nesting_and_too_many_values_exceed_the_limits()
    {
        Assert.Equal(KrpcError.LimitExceeded, Refusal(new string('l', 1000) + new string('e', 1000)));
        Assert.Equal(KrpcError.LimitExceeded, Refusal("d1:ad2:id20:" + Id + "1:xl" + string.Concat(Enumerable.Repeat("i0e", 600)) + "ee1:q4:ping1:t2:aa1:y1:qe"));
    }

    [Theory]
    [InlineData("le", KrpcError.NotADictionary)]
    [InlineData("i42e", KrpcError.NotADictionary)]
    [InlineData(Ping + "x", KrpcError.MalformedBencode)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:y1:qe", KrpcError.BadTransactionId)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:ti1e1:y1:qe", KrpcError.BadTransactionId)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:t0:1:y1:qe", KrpcError.BadTransactionId)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:t17:012345678901234561:y1:qe", KrpcError.BadTransactionId)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:t2:aae", KrpcError.BadMessageType)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:t2:aa1:y1:xe", KrpcError.BadMessageType)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:t2:aa1:yi1ee", KrpcError.BadMessageType)]
    [InlineData("d1:ad2:id20:" + Id + "e1:t2:aa1:y1:qe", KrpcError.MissingField)]
    [InlineData("d1:q4:ping1:t2:aa1:y1:qe", KrpcError.MissingField)]
    [InlineData("d1:ali1ee1:q4:ping1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:idi1ee1:q4:ping1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", KrpcError.BadNodeId)]
    [InlineData("d1:ad2:id21:abcdefghij0123456789xe1:q4:ping1:t2:aa1:y1:qe", KrpcError.BadNodeId)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q9:find_node1:t2:aa1:y1:qe", KrpcError.MissingField)]
    [InlineData("d1:ad2:id20:" + Id + "6:target3:abce1:q9:find_node1:t2:aa1:y1:qe", KrpcError.BadNodeId)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q9:get_peers1:t2:aa1:y1:qe", KrpcError.MissingField)]
    [InlineData("d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "4:porti6881ee1:q13:announce_peer1:t2:aa1:y1:qe", KrpcError.MissingField)]
    [InlineData("d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", KrpcError.MissingField)]
    [InlineData("d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "4:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "4:porti-1e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "4:port4:68815:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "4:porti1e5:tokeni1ee1:q13:announce_peer1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "4:want2:n4e1:q4:ping1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "4:wantli4eee1:q4:ping1:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q0:1:t2:aa1:y1:qe", KrpcError.FieldTooLong)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping2:ro1:11:t2:aa1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:ad2:id20:" + Id + "e1:q4:ping1:t2:aa1:vi1e1:y1:qe", KrpcError.WrongType)]
    [InlineData("d1:rd2:id20:" + Id + "e1:t2:aa1:y1:r2:ip5:abcdee", KrpcError.BadCompactPeer)]
    [InlineData("d2:ip19:abcdefghijklmnopqrs1:rd2:id20:" + Id + "e1:t2:aa1:y1:re", KrpcError.BadCompactPeer)]
    [InlineData("d1:rd2:id20:" + Id + "5:nodes27:012345678901234567890123456e1:t2:aa1:y1:re", KrpcError.BadCompactNodes)]
    [InlineData("d1:rd2:id20:" + Id + "6:nodes626:01234567890123456789012345e1:t2:aa1:y1:re", KrpcError.BadCompactNodes)]
    [InlineData("d1:rd2:id20:" + Id + "5:nodesi1ee1:t2:aa1:y1:re", KrpcError.WrongType)]
    [InlineData("d1:rd2:id20:" + Id + "6:values6:abcdefe1:t2:aa1:y1:re", KrpcError.WrongType)]
    [InlineData("d1:rd2:id20:" + Id + "6:valuesl7:abcdefgee1:t2:aa1:y1:re", KrpcError.BadCompactPeer)]
    [InlineData("d1:rd2:id20:" + Id + "6:valuesli1eee1:t2:aa1:y1:re", KrpcError.WrongType)]
    [InlineData("d1:rd2:id20:" + Id + "5:token65:01234567890123456789012345678901234567890123456789012345678901234e1:t2:aa1:y1:re", KrpcError.FieldTooLong)]
    [InlineData("d1:r2:id1:t2:aa1:y1:re", KrpcError.WrongType)]
    [InlineData("d1:t2:aa1:y1:re", KrpcError.MissingField)]
    [InlineData("d1:t2:aa1:y1:ee", KrpcError.BadError)]
    [InlineData("d1:eli201ee1:t2:aa1:y1:ee", KrpcError.BadError)]
    [InlineData("d1:el3:abci201ee1:t2:aa1:y1:ee", KrpcError.BadError)]
    [InlineData("d1:ei201e1:t2:aa1:y1:ee", KrpcError.BadError)]
    [InlineData("d1:eli99999999999e1:xe1:t2:aa1:y1:ee", KrpcError.BadError)]
    public void Malformed_messages_give_the_right_kind(string datagram, KrpcError expected) =>
        Assert.Equal(expected, Refusal(datagram));

    [Fact]
    public void A_refused_query_keeps_its_transaction_id_so_the_node_can_answer_203()
    {
        var ex = Assert.Throws<KrpcException>(() => KrpcCodec.Decode(Encoding.Latin1.GetBytes("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe")));
        Assert.Equal(KrpcError.BadNodeId, ex.Error);
        Assert.Equal("zz"u8.ToArray(), ex.TransactionId);
        Assert.Equal(KrpcMessageType.Query, ex.MessageType);
        var early = Assert.Throws<KrpcException>(() => KrpcCodec.Decode(Encoding.Latin1.GetBytes("d1:q4:ping1:y1:qe")));
        Assert.Null(early.TransactionId);
        Assert.Null(early.MessageType);
    }

    [Fact]
    public void Random_mutations_of_valid_messages_only_ever_give_KrpcException()
    {
        var seeds = new[]
        {
            Ping,
            "d1:ad2:id20:" + Id + "9:info_hash20:" + Id + "4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
            "d1:rd2:id20:" + Id + "5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
            "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        }.Select(Encoding.Latin1.GetBytes).ToArray();
        var random = new Random(1342);
        for (int round = 0; round < 20_000; round++)
        {
            var bytes = (byte[])seeds[round % seeds.Length].Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(bytes.Length);
                bytes[at] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)"0123456789:ilde"[random.Next(15)],
                    _ => (byte)(bytes[at] ^ (1 << random.Next(8))),
                };
            }
            if (random.Next(4) == 0) bytes = bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            try { KrpcCodec.Decode(bytes); }
            catch (KrpcException) { }
        }
    }
}
