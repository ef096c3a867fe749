using System.Text;
using BitTorrent.Bencoding;
using Xunit;

namespace BitTorrent.Tests.Bencoding;

public sealed class BencodeDecoderTests
{
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>Latin-1: every char U+0000-U+00FF is exactly one byte, so tests can write binary input as text.</summary>
    private static byte[] Latin1(string s) => s.Select(c => checked((byte)c)).ToArray();

    private static BencodeException Fails(string input, BencodeLimits? limits = null) =>
        Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(Latin1(input), limits));

    private static void AssertFails(string input, BencodeError error, long offset, BencodeLimits? limits = null)
    {
        var ex = Fails(input, limits);
        Assert.Equal(error, ex.Error);
        Assert.Equal(offset, ex.Offset);
        Assert.Contains($"at byte offset {offset}", ex.Message);
    }

    [Fact]
    public void Decodes_every_kind_of_value_with_its_source_span()
    {
        var input = Ascii("d4:listli-7e0:e3:numi42e3:str4:spame");
        var root = Assert.IsType<BDictionary>(BencodeDecoder.Decode(input));

        Assert.Equal(new[] { "list", "num", "str" }, root.Keys.Select(k => k.Text));
        var list = Assert.IsType<BList>(root["list"]);
        Assert.Equal(-7, Assert.IsType<BInteger>(list[0]).Value);
        Assert.Equal(0, Assert.IsType<BString>(list[1]).Length);
        Assert.Equal(42, root.Get<BInteger>("num")!.Value);
        Assert.Equal("spam", root.Get<BString>("str")!.Text);

        Assert.Equal(0, root.SourceOffset);
        Assert.Equal(input.Length, root.SourceLength);
        // "li-7e0:e" starts after "d4:list".
        Assert.Equal(7, list.SourceOffset);
        Assert.Equal("li-7e0:e", Encoding.ASCII.GetString(input, (int)list.SourceOffset, (int)list.SourceLength));
        var str = root["str"]!;
        Assert.Equal("4:spam", Encoding.ASCII.GetString(input, (int)str.SourceOffset, (int)str.SourceLength));
    }

    [Theory]
    [InlineData("i0e", 0L)]
    [InlineData("i7e", 7L)]
    [InlineData("i-7e", -7L)]
    [InlineData("i10e", 10L)]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    public void Decodes_integers_over_the_whole_64_bit_range(string input, long expected) =>
        Assert.Equal(expected, Assert.IsType<BInteger>(BencodeDecoder.Decode(Ascii(input))).Value);

    [Theory]
    [InlineData("i01e", BencodeError.InvalidInteger, 0)]        // leading zero
    [InlineData("i00e", BencodeError.InvalidInteger, 0)]
    [InlineData("i-01e", BencodeError.InvalidInteger, 0)]
    [InlineData("i-0e", BencodeError.InvalidInteger, 0)]        // negative zero
    [InlineData("ie", BencodeError.InvalidInteger, 0)]          // no digits
    [InlineData("i-e", BencodeError.InvalidInteger, 0)]
    [InlineData("i+1e", BencodeError.InvalidInteger, 1)]        // '+' is not allowed
    [InlineData("i1.5e", BencodeError.InvalidInteger, 2)]       // the offending byte
    [InlineData("i--1e", BencodeError.InvalidInteger, 2)]
    [InlineData("i 1e", BencodeError.InvalidInteger, 1)]
    [InlineData("i9223372036854775808e", BencodeError.IntegerOverflow, 0)]
    [InlineData("i-9223372036854775809e", BencodeError.IntegerOverflow, 0)]
    [InlineData("i99999999999999999999999999999e", BencodeError.IntegerOverflow, 0)]
    [InlineData("i12", BencodeError.UnexpectedEndOfInput, 3)]
    [InlineData("li1ei01ee", BencodeError.InvalidInteger, 4)]   // offsets count from the start of the input
    public void Rejects_bad_integers_at_their_offset(string input, BencodeError error, long offset) =>
        AssertFails(input, error, offset);

    [Theory]
    [InlineData("0:", "")]
    [InlineData("4:spam", "spam")]
    [InlineData("3:a:b", "a:b")]
    public void Decodes_strings(string input, string expected) =>
        Assert.Equal(expected, Assert.IsType<BString>(BencodeDecoder.Decode(Ascii(input))).Text);

    [Fact]
    public void Keeps_binary_strings_byte_for_byte()
    {
        var value = Assert.IsType<BString>(BencodeDecoder.Decode(Latin1("4:\u00ff\u0000\u00c3\u0028")));
        Assert.Equal(new byte[] { 0xFF, 0x00, 0xC3, 0x28 }, value.Bytes);
        Assert.False(value.IsUtf8);
        Assert.Null(value.Text);
    }

    [Theory]
    [InlineData("01:a", BencodeError.InvalidStringLength, 0)]   // leading zero in the length
    [InlineData("4spam", BencodeError.InvalidStringLength, 1)]  // no ':'
    [InlineData("5:abc", BencodeError.StringLengthExceedsInput, 0)]
    [InlineData("1:", BencodeError.StringLengthExceedsInput, 0)]
    [InlineData("l3:ab", BencodeError.StringLengthExceedsInput, 1)]
    [InlineData("12", BencodeError.UnexpectedEndOfInput, 2)]
    [InlineData("99999999999:x", BencodeError.InvalidStringLength, 0)] // longer than any array
    public void Rejects_bad_strings_at_their_offset(string input, BencodeError error, long offset) =>
        AssertFails(input, error, offset);

    [Fact]
    public void A_huge_length_prefix_is_refused_before_anything_is_allocated()
    {
        // 2 GB claimed, 5 bytes present: the check against the remaining input comes first.
        var input = Ascii("2147483647:abcde");
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(input));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(BencodeError.StringLengthExceedsInput, ex.Error);
        Assert.Equal(0, ex.Offset);
        Assert.Contains("2147483647", ex.Message);
        Assert.True(allocated < 1_000_000, $"{allocated} bytes were allocated for a string that is not there");
    }

    [Theory]
    [InlineData("", BencodeError.UnexpectedEndOfInput, 0)]
    [InlineData("l", BencodeError.UnexpectedEndOfInput, 1)]
    [InlineData("li1e", BencodeError.UnexpectedEndOfInput, 4)]
    [InlineData("d1:a", BencodeError.UnexpectedEndOfInput, 4)]
    [InlineData("e", BencodeError.UnexpectedByte, 0)]
    [InlineData("x", BencodeError.UnexpectedByte, 0)]
    [InlineData("l-1e", BencodeError.UnexpectedByte, 1)]
    [InlineData("d1:ae", BencodeError.UnexpectedByte, 4)]          // key without a value
    [InlineData("di1ei2ee", BencodeError.DictionaryKeyNotString, 1)]
    [InlineData("dli1eei2ee", BencodeError.DictionaryKeyNotString, 1)]
    [InlineData("dd1:ai1eei2ee", BencodeError.DictionaryKeyNotString, 1)]
    [InlineData("i1ei2e", BencodeError.TrailingData, 3)]
    [InlineData("4:spam\n", BencodeError.TrailingData, 6)]
    public void Rejects_malformed_structure_at_its_offset(string input, BencodeError error, long offset) =>
        AssertFails(input, error, offset);

    [Fact]
    public void DecodePrefix_reports_the_bytes_it_used_and_leaves_the_rest()
    {
        // A BEP 9 metadata message: a dictionary followed by raw piece data.
        var input = Ascii("d8:msg_typei1e5:piecei0eeRAWDATA");
        var value = Assert.IsType<BDictionary>(BencodeDecoder.DecodePrefix(input, out int consumed));
        Assert.Equal(input.Length - 7, consumed);
        Assert.Equal(1, value.Get<BInteger>("msg_type")!.Value);
    }

    [Fact]
    public void Duplicate_keys_are_an_error_at_the_second_key()
    {
        AssertFails("d1:ai1e1:ai2ee", BencodeError.DuplicateDictionaryKey, 7);
        // Not adjacent (and so also out of order): still found.
        AssertFails("d1:bi1e1:ai1e1:bi1ee", BencodeError.DuplicateDictionaryKey, 13);
    }

    [Theory]
    [InlineData(3)]     // found by the linear scan of a small dictionary
    [InlineData(8)]     // the last key before the hash index
    [InlineData(15)]    // found through the hash index of a larger one
    public void A_non_adjacent_duplicate_is_found_however_large_the_dictionary(int duplicateOf)
    {
        // Keys k00..k19 in order, then kNN again out of order.
        var text = new StringBuilder("d");
        for (int i = 0; i < 20; i++) text.Append($"3:k{i:D2}i{i}e");
        int at = text.Length;
        text.Append($"3:k{duplicateOf:D2}i0ee");
        AssertFails(text.ToString(), BencodeError.DuplicateDictionaryKey, at);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(BDictionary.LinearLimit)]
    [InlineData(BDictionary.LinearLimit + 1)]
    [InlineData(40)]
    public void Every_key_is_found_by_name_below_and_above_the_linear_limit(int count)
    {
        var text = new StringBuilder("d");
        for (int i = 0; i < count; i++) text.Append($"3:k{i:D2}i{i}e");
        text.Append("e");
        var dict = Assert.IsType<BDictionary>(BencodeDecoder.Decode(Ascii(text.ToString())));
        Assert.Equal(count, dict.Count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(i, Assert.IsType<BInteger>(dict[$"k{i:D2}"]).Value);
            Assert.Equal(i, Assert.IsType<BInteger>(dict[new BString($"k{i:D2}")]).Value);
            Assert.True(dict.ContainsKey($"k{i:D2}"));
        }
        Assert.Null(dict["k"]);
        Assert.Null(dict[$"k{count:D2}"]);
        Assert.False(dict.TryGetValue("nope", out _));
        // Set replaces in place (order kept) and adds at the end, before and after the index exists.
        dict.Set("k00", new BInteger(-1));
        dict.Set("zz", new BInteger(99));
        Assert.Equal(-1, dict.Get<BInteger>("k00")!.Value);
        Assert.Equal(99, dict.Get<BInteger>("zz")!.Value);
        Assert.Equal("k00", dict.Keys.First().Text);
        Assert.Equal("zz", dict.Keys.Last().Text);
        Assert.Equal(count + 1, dict.Count);
    }

    [Fact]
    public void A_key_that_is_not_ascii_is_found_by_its_utf8_bytes()
    {
        var key = Encoding.UTF8.GetBytes("ключ");
        var input = Ascii("d").Concat(Ascii($"{key.Length}:")).Concat(key).Concat(Ascii("i7ee")).ToArray();
        var dict = Assert.IsType<BDictionary>(BencodeDecoder.Decode(input));
        Assert.Equal(7, dict.Get<BInteger>("ключ")!.Value);
        Assert.Null(dict["ключи"]);
    }

    [Fact]
    public void Unsorted_keys_are_flagged_by_default_and_an_error_when_asked()
    {
        var input = Ascii("d1:bi1e1:ai2ee");
        var dict = Assert.IsType<BDictionary>(BencodeDecoder.Decode(input));
        Assert.True(dict.HadUnsortedKeys);
        Assert.Equal(new[] { "b", "a" }, dict.Keys.Select(k => k.Text)); // input order is kept

        var sorted = Assert.IsType<BDictionary>(BencodeDecoder.Decode(Ascii("d1:ai2e1:bi1ee")));
        Assert.False(sorted.HadUnsortedKeys);

        AssertFails("d1:bi1e1:ai2ee", BencodeError.UnsortedDictionaryKeys, 7, new BencodeLimits { RejectUnsortedKeys = true });
    }

    [Theory]
    [InlineData("d1:B0:1:a0:e")]                    // 'B' (0x42) sorts before 'a' (0x61): byte order, not case-insensitive
    [InlineData("d1:a0:2:ab0:e")]                   // a prefix sorts first
    [InlineData("d1:z0:2:\u00c3\u00a90:e")]          // "é" in UTF-8 (0xC3 0xA9) sorts after "z" (0x7A)
    public void Key_order_is_raw_byte_order(string input)
    {
        var limits = new BencodeLimits { RejectUnsortedKeys = true };
        var dict = Assert.IsType<BDictionary>(BencodeDecoder.Decode(Latin1(input), limits));
        Assert.False(dict.HadUnsortedKeys);
    }

    [Fact]
    public void Depth_100_is_accepted_and_101_is_refused_at_the_opening_byte()
    {
        string ok = new string('l', 100) + new string('e', 100);
        Assert.IsType<BList>(BencodeDecoder.Decode(Ascii(ok)));

        string tooDeep = new string('l', 101) + new string('e', 101);
        AssertFails(tooDeep, BencodeError.DepthLimitExceeded, 100);

        // Dictionaries count as levels too.
        string dicts = string.Concat(Enumerable.Repeat("d1:a", 100)) + "le" + new string('e', 100);
        AssertFails(dicts, BencodeError.DepthLimitExceeded, 400);
    }

    [Fact]
    public void A_million_nested_lists_are_refused_without_touching_the_call_stack()
    {
        var input = new byte[2_000_000];
        input.AsSpan(0, 1_000_000).Fill((byte)'l');
        input.AsSpan(1_000_000).Fill((byte)'e');

        var ex = Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(input));
        Assert.Equal(BencodeError.DepthLimitExceeded, ex.Error);
        Assert.Equal(100, ex.Offset);

        // With the depth limit lifted, the iterative decoder still goes all the way down: no recursion to overflow.
        var unlimited = new BencodeLimits { MaxDepth = int.MaxValue };
        BValue value = BencodeDecoder.Decode(input, unlimited);
        int depth = 0;
        while (value is BList list && list.Count > 0) { value = list[0]; depth++; }
        Assert.Equal(999_999, depth);
    }

    [Fact]
    public void The_token_limit_counts_every_value_and_reports_the_first_one_over()
    {
        var limits = new BencodeLimits { MaxTokens = 5 };
        // list + 4 integers = 5 values.
        Assert.Equal(4, Assert.IsType<BList>(BencodeDecoder.Decode(Ascii("li1ei2ei3ei4ee"), limits)).Count);
        AssertFails("li1ei2ei3ei4ei5ee", BencodeError.TokenLimitExceeded, 13, limits);
        // Dictionary keys are values too: d + (key, value) x 2 = 5; a third key is the 6th value.
        Assert.IsType<BDictionary>(BencodeDecoder.Decode(Ascii("d1:ai1e1:bi2ee"), limits));
        AssertFails("d1:ai1e1:bi2e1:ci3ee", BencodeError.TokenLimitExceeded, 13, limits);
    }

    [Fact]
    public void The_default_token_limit_is_three_million()
    {
        Assert.Equal(3_000_000, BencodeLimits.Default.MaxTokens);
        // 3 000 001 values: a list of 3 000 000 empty strings ("0:"), 6 MB of input, under the size limit.
        var input = new byte[2 + 2 * 3_000_000];
        input[0] = (byte)'l';
        for (int i = 1; i < input.Length - 1; i += 2) { input[i] = (byte)'0'; input[i + 1] = (byte)':'; }
        input[^1] = (byte)'e';
        var ex = Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(input));
        Assert.Equal(BencodeError.TokenLimitExceeded, ex.Error);
        Assert.Equal(1 + 2 * 2_999_999, ex.Offset);
    }

    [Fact]
    public void Input_over_the_size_limit_is_refused_whole()
    {
        var limits = new BencodeLimits { MaxInputBytes = 10 };
        Assert.IsType<BString>(BencodeDecoder.Decode(Ascii("8:abcdefgh"), limits));
        var ex = Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(Ascii("9:abcdefghi"), limits));
        Assert.Equal(BencodeError.InputTooLarge, ex.Error);
        Assert.Equal(10_000_000, BencodeLimits.Default.MaxInputBytes);
    }

    [Fact]
    public void The_raw_span_of_info_is_exactly_the_bytes_in_the_input_even_when_not_canonical()
    {
        // info's keys are out of order and an integer is spelled the only way it may be; the span must be these
        // bytes, not a re-encoding (which would sort the keys and change the info-hash).
        const string info = "d4:name1:x12:piece lengthi16384e6:lengthi1e6:pieces0:e";
        var input = Ascii("d8:announce3:url4:info" + info + "1:zi0ee");
        var root = Assert.IsType<BDictionary>(BencodeDecoder.Decode(input));
        var infoValue = Assert.IsType<BDictionary>(root["info"]);

        Assert.True(infoValue.HadUnsortedKeys);
        Assert.Equal(22, infoValue.SourceOffset);
        Assert.Equal(info, Encoding.ASCII.GetString(input, (int)infoValue.SourceOffset, (int)infoValue.SourceLength));
        Assert.NotEqual(info, Encoding.ASCII.GetString(BencodeEncoder.Encode(infoValue)));
    }
}
