using System.Text;
using BitTorrent.Bencoding;
using Xunit;

namespace BitTorrent.Tests.Bencoding;

public sealed class BencodeEncoderTests
{
    private static string Encode(BValue value) => Encoding.Latin1.GetString(BencodeEncoder.Encode(value));

    [Theory]
    [InlineData(0L, "i0e")]
    [InlineData(-1L, "i-1e")]
    [InlineData(42L, "i42e")]
    [InlineData(long.MaxValue, "i9223372036854775807e")]
    [InlineData(long.MinValue, "i-9223372036854775808e")]
    public void Integers_are_written_in_their_only_valid_form(long value, string expected) =>
        Assert.Equal(expected, Encode(new BInteger(value)));

    [Fact]
    public void Strings_are_length_prefixed_bytes()
    {
        Assert.Equal("0:", Encode(new BString(Array.Empty<byte>())));
        Assert.Equal("4:spam", Encode(new BString("spam")));
        Assert.Equal("2:\u00c3\u00a9", Encode(new BString("é")));     // UTF-8: two bytes
        Assert.Equal("2:\u00ff\u0000", Encode(new BString(new byte[] { 0xFF, 0x00 })));
    }

    [Fact]
    public void Dictionary_keys_are_written_in_raw_byte_order_whatever_order_they_were_added_in()
    {
        var dict = new BDictionary();
        foreach (var key in new[] { "é", "z", "ab", "a", "B", "" })
            dict.Set(key, new BInteger(key.Length));

        // "" < "B" (0x42) < "a" < "ab" < "z" (0x7A) < "é" (0xC3 0xA9)
        Assert.Equal("d0:i0e1:Bi1e1:ai1e2:abi2e1:zi1e2:\u00c3\u00a9i1ee", Encode(dict));
    }

    [Fact]
    public void Lists_keep_their_order_and_nest()
    {
        var list = new BList { new BInteger(3), new BList { new BString("x") }, new BDictionary(), new BList() };
        Assert.Equal("li3el1:xedelee", Encode(list));
    }

    [Fact]
    public void Setting_a_key_twice_keeps_one_entry()
    {
        var dict = new BDictionary();
        dict.Set("a", new BInteger(1));
        dict.Set("a", new BInteger(2));
        Assert.Equal("d1:ai2ee", Encode(dict));
    }

    [Fact]
    public void Canonical_input_round_trips_byte_for_byte_and_non_canonical_input_is_sorted()
    {
        var canonical = Encoding.ASCII.GetBytes("d8:announce3:url4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces0:ee");
        Assert.Equal(canonical, BencodeEncoder.Encode(BencodeDecoder.Decode(canonical)));

        var unsorted = Encoding.ASCII.GetBytes("d4:infod4:name1:x6:lengthi5ee8:announce3:urle");
        Assert.Equal("d8:announce3:url4:infod6:lengthi5e4:name1:xee", Encoding.ASCII.GetString(BencodeEncoder.Encode(BencodeDecoder.Decode(unsorted))));
    }

    [Fact]
    public void Encodes_a_million_nested_lists_without_recursion()
    {
        BValue value = new BList();
        for (int i = 1; i < 1_000_000; i++) value = new BList { value };
        var bytes = BencodeEncoder.Encode(value);

        Assert.Equal(2_000_000, bytes.Length);
        Assert.True(bytes.AsSpan(0, 1_000_000).IndexOfAnyExcept((byte)'l') < 0);
        Assert.True(bytes.AsSpan(1_000_000).IndexOfAnyExcept((byte)'e') < 0);
    }

    [Fact]
    public void Writes_to_a_stream_the_same_bytes()
    {
        var dict = new BDictionary();
        dict.Set("k", new BList { new BString("v"), new BInteger(-3) });
        using var ms = new MemoryStream();
        BencodeEncoder.Encode(dict, ms);
        Assert.Equal(BencodeEncoder.Encode(dict), ms.ToArray());
    }
}
