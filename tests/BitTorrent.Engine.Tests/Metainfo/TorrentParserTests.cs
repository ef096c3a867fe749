using System.Security.Cryptography;
using System.Text;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using Xunit;
using static BitTorrent.Tests.Metainfo.TorrentBuilder;

namespace BitTorrent.Tests.Metainfo;

public sealed class TorrentParserTests
{
    private static TorrentFormatException Fails(byte[] data, TorrentError error)
    {
        var ex = Assert.Throws<TorrentFormatException>(() => TorrentParser.Parse(data));
        Assert.Equal(error, ex.Error);
        return ex;
    }

    /// <summary>The info-hash computed here independently: SHA-1 over the info dictionary's bytes, found by searching
    /// for its encoding in the file (the builder writes it canonically, so it occurs verbatim).</summary>
    private static string ExpectedInfoHash(byte[] torrent, BDictionary info)
    {
        var infoBytes = BencodeEncoder.Encode(info);
        int at = torrent.AsSpan().IndexOf(infoBytes);
        Assert.True(at > 0);
        return Convert.ToHexStringLower(SHA1.HashData(infoBytes));
    }

    [Fact]
    public void Single_file_torrent()
    {
        var b = new TorrentBuilder("alice.txt", 16384) { SingleFileContent = Content(40_000, 1) };
        var data = b.Build();
        var t = TorrentParser.Parse(data, "/x/alice.torrent");

        Assert.Equal("alice.txt", t.Name);
        Assert.Equal(ExpectedInfoHash(data, b.Info()), t.InfoHash);
        Assert.Equal(t.InfoHash, Convert.ToHexStringLower(t.InfoHashBytes));
        Assert.Equal(40_000, t.TotalSize);
        Assert.Equal(16384, t.PieceLength);
        Assert.Equal(3, t.PieceCount);
        Assert.Equal(40_000 - 2 * 16384, t.LastPieceLength);
        Assert.Equal(16384, t.GetPieceLength(0));
        Assert.Equal(t.LastPieceLength, t.GetPieceLength(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.GetPieceLength(3));
        for (int i = 0; i < 3; i++)
            Assert.Equal(SHA1.HashData(b.Payload.AsSpan(i * 16384, t.GetPieceLength(i))), t.GetPieceHash(i).ToArray());
        Assert.False(t.IsMultiFile);
        Assert.False(t.IsPrivate);
        Assert.Equal("/x/alice.torrent", t.Source);
        Assert.Empty(t.Warnings);

        var f = Assert.Single(t.Files);
        Assert.Equal((0, "alice.txt", "alice.txt", 40_000L, 0L, 0, 2), (f.Index, f.Path, f.SanitizedPath, f.Length, f.Offset, f.FirstPiece, f.LastPiece));
        Assert.Equal(new[] { "alice.txt" }, f.PathSegments);
        Assert.False(f.IsPadding);
    }

    [Fact]
    public void Multi_file_torrent_with_nested_folders_and_an_empty_file()
    {
        var b = new TorrentBuilder("My Folder", 32768)
            .AddFile(Content(50_000, 1), "a.bin")
            .AddFile(Array.Empty<byte>(), "empty.txt")
            .AddFile(Content(20_000, 2), "sub", "deeper", "b.bin")
            .AddFile(Content(100, 3), "sub", "ünïcødé ✓.txt");
        var data = b.Build();
        var t = TorrentParser.Parse(data);

        Assert.True(t.IsMultiFile);
        Assert.Equal(ExpectedInfoHash(data, b.Info()), t.InfoHash);
        Assert.Equal(70_100, t.TotalSize);
        Assert.Equal(3, t.PieceCount);
        Assert.Equal(new[] { "a.bin", "empty.txt", "sub/deeper/b.bin", "sub/ünïcødé ✓.txt" }, t.Files.Select(f => f.Path));
        Assert.Equal(new[] { "My Folder/a.bin", "My Folder/empty.txt", "My Folder/sub/deeper/b.bin", "My Folder/sub/ünïcødé ✓.txt" },
            t.Files.Select(f => f.SanitizedPath));
        Assert.Equal(new[] { 0L, 50_000L, 50_000L, 70_000L }, t.Files.Select(f => f.Offset));
        Assert.Equal(new[] { 0, 2, 0, 0 }.Select((_, i) => i), t.Files.Select(f => f.Index));
        Assert.Equal(new[] { "sub", "deeper", "b.bin" }, t.Files[2].PathSegments);
        // a.bin: bytes 0..49999 → pieces 0-1; empty: none; b.bin: 50000..69999 → pieces 1-2; last: 70000..70099 → piece 2.
        Assert.Equal(new[] { (0, 1), (-1, -1), (1, 2), (2, 2) }, t.Files.Select(f => (f.FirstPiece, f.LastPiece)));
        Assert.Equal(SHA1.HashData(b.Payload.AsSpan(65536)), t.GetPieceHash(2).ToArray());
    }

    [Fact]
    public void Announce_list_tiers_win_over_announce_and_duplicates_are_dropped()
    {
        var data = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) }.Build(root =>
        {
            root.Set("announce", new BString("http://ignored/announce"));
            root.Set("announce-list", new BList
            {
                Strings("http://a/announce", " udp://b:80/announce "),
                Strings(),                                        // an empty tier is dropped
                Strings("http://c/announce", "http://a/announce"), // already in tier 1
                new BInteger(5),                                  // not a list: ignored
            });
        });
        var t = TorrentParser.Parse(data);

        Assert.Equal(2, t.TrackerTiers.Count);
        Assert.Equal(new[] { "http://a/announce", "udp://b:80/announce" }, t.TrackerTiers[0]);
        Assert.Equal(new[] { "http://c/announce" }, t.TrackerTiers[1]);
        Assert.Equal(new[] { "http://a/announce", "udp://b:80/announce", "http://c/announce" }, t.Trackers);
    }

    [Fact]
    public void Announce_alone_is_one_tier_and_an_empty_announce_list_falls_back_to_it()
    {
        var b = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) };
        var alone = TorrentParser.Parse(b.Build(root => root.Set("announce", new BString("http://t/announce"))));
        Assert.Equal(new[] { "http://t/announce" }, Assert.Single(alone.TrackerTiers));

        var fallback = TorrentParser.Parse(b.Build(root =>
        {
            root.Set("announce", new BString("http://t/announce"));
            root.Set("announce-list", new BList { Strings("", "  ") });
        }));
        Assert.Equal(new[] { "http://t/announce" }, fallback.Trackers);

        var none = TorrentParser.Parse(b.Build());
        Assert.Empty(none.Trackers);
        Assert.Empty(none.TrackerTiers);
    }

    [Fact]
    public void Url_list_as_one_string_or_a_list()
    {
        var b = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) };
        Assert.Equal(new[] { "http://seed/x" }, TorrentParser.Parse(b.Build(r => r.Set("url-list", new BString("http://seed/x")))).WebSeeds);
        Assert.Equal(new[] { "http://a/", "http://b/" },
            TorrentParser.Parse(b.Build(r => r.Set("url-list", Strings("http://a/", "", "http://b/", "http://a/")))).WebSeeds);
        Assert.Empty(TorrentParser.Parse(b.Build(r => r.Set("url-list", new BString("")))).WebSeeds);
    }

    [Theory]
    [InlineData(1L, true)]
    [InlineData(0L, false)]
    [InlineData(2L, false)]
    public void Private_is_set_only_by_private_1(long value, bool expected)
    {
        var data = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) }.Build(editInfo: Set("private", new BInteger(value)));
        Assert.Equal(expected, TorrentParser.Parse(data).IsPrivate);
    }

    [Fact]
    public void Comment_creator_creation_date_and_source_tag()
    {
        var data = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) }.Build(root =>
        {
            root.Set("comment", new BString("hello"));
            root.Set("created by", new BString("mktorrent 1.1"));
            root.Set("creation date", new BInteger(1_452_468_725));
        }, Set("source", new BString("TRACKER")));
        var t = TorrentParser.Parse(data);
        Assert.Equal("hello", t.Comment);
        Assert.Equal("mktorrent 1.1", t.CreatedBy);
        Assert.Equal(new DateTimeOffset(2016, 1, 10, 23, 32, 5, TimeSpan.Zero), t.CreationDate);
        Assert.Equal("TRACKER", t.SourceTag);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(1_452_468_725_091L)] // milliseconds by mistake (webtorrent's alice.torrent): past year 9999
    public void A_creation_date_out_of_range_is_left_out(long value)
    {
        var data = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) }.Build(r => r.Set("creation date", new BInteger(value)));
        Assert.Null(TorrentParser.Parse(data).CreationDate);
    }

    [Fact]
    public void Utf8_name_and_path_keys_win_and_invalid_utf8_is_shown_as_replacement_characters()
    {
        var b = new TorrentBuilder("plain").AddFile(Content(10, 1), "old.txt");
        var data = b.Build(editInfo: info =>
        {
            info.Set("name.utf-8", new BString("naïve"));
            var files = (BList)info["files"]!;
            var entry = (BDictionary)files[0];
            entry.Set("path.utf-8", new BList { new BString(new byte[] { (byte)'n', 0xFF, (byte)'w' }) });
            return info;
        });
        var t = TorrentParser.Parse(data);
        Assert.Equal("naïve", t.Name);
        Assert.Equal("n\uFFFDw", t.Files[0].Path);
        Assert.Equal("naïve/n\uFFFDw", t.Files[0].SanitizedPath);
    }

    [Fact]
    public void Padding_files_are_marked_and_count_in_offsets()
    {
        var b = new TorrentBuilder("p", 16384).AddFile(Content(1000, 1), "a").AddPadding(16384 - 1000).AddFile(Content(500, 2), "b");
        var t = TorrentParser.Parse(b.Build());
        Assert.Equal(new[] { false, true, false }, t.Files.Select(f => f.IsPadding));
        Assert.Equal(16384, t.Files[2].Offset);
        Assert.Equal(2, t.PieceCount);
        Assert.Equal((1, 1), (t.Files[2].FirstPiece, t.Files[2].LastPiece));
    }

    [Fact]
    public void A_v2_only_torrent_is_refused_and_a_hybrid_is_read_as_v1()
    {
        var b = new TorrentBuilder("v2") { SingleFileContent = Content(10, 1) };
        var fileTree = new BDictionary();
        fileTree.Set("v2", new BDictionary());
        var v2Only = b.Build(editInfo: info =>
        {
            var d = Without(info, "pieces", "length");
            d.Set("meta version", new BInteger(2));
            d.Set("file tree", fileTree);
            return d;
        });
        Fails(v2Only, TorrentError.UnsupportedVersion);

        var hybrid = b.Build(editInfo: info =>
        {
            info.Set("meta version", new BInteger(2));
            info.Set("file tree", fileTree);
            return info;
        });
        var t = TorrentParser.Parse(hybrid);
        Assert.Equal(10, t.TotalSize);
        Assert.Equal(1, t.PieceCount);
    }

    [Fact]
    public void Non_canonical_files_keep_the_info_hash_of_their_exact_bytes_and_warn()
    {
        var content = Content(100, 1);
        string pieces = Encoding.Latin1.GetString(SHA1.HashData(content));
        // Keys of info out of order: 'pieces' before 'piece length', 'name' last.
        string info = "d6:lengthi100e6:pieces20:" + pieces + "12:piece lengthi16384e4:name1:xe";
        var data = Encoding.Latin1.GetBytes("d4:info" + info + "e");
        var t = TorrentParser.Parse(data);

        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(Encoding.Latin1.GetBytes(info))), t.InfoHash);
        Assert.Equal(Encoding.Latin1.GetBytes(info), t.RawInfo.ToArray());
        Assert.Contains(t.Warnings, w => w.Contains("canonical"));
    }

    [Fact]
    public void RawInfo_is_the_info_dictionary_as_in_the_file()
    {
        var b = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) };
        var t = TorrentParser.Parse(b.Build(r => r.Set("announce", new BString("http://t/"))));
        Assert.Equal(BencodeEncoder.Encode(b.Info()), t.RawInfo.ToArray());
        Assert.Equal(t.InfoHashBytes, SHA1.HashData(t.RawInfo.Span));
    }

    [Fact]
    public void Magnet_uri_carries_hash_name_and_trackers()
    {
        var data = new TorrentBuilder("a b") { SingleFileContent = Content(10, 1) }.Build(r => r.Set("announce", new BString("http://t/a?x=1")));
        var t = TorrentParser.Parse(data);
        Assert.Equal($"magnet:?xt=urn:btih:{t.InfoHash}&dn=a%20b&tr=http%3A%2F%2Ft%2Fa%3Fx%3D1", t.MagnetUri);
    }

    [Fact]
    public void Colliding_paths_are_renamed_case_insensitively_and_a_file_cannot_shadow_a_folder()
    {
        var b = new TorrentBuilder("t")
            .AddFile(Content(1, 1), "Readme.TXT")
            .AddFile(Content(1, 2), "readme.txt")
            .AddFile(Content(1, 3), "dir")
            .AddFile(Content(1, 4), "dir", "inner")
            .AddFile(Content(1, 5), "x:y")
            .AddFile(Content(1, 6), "x?y");
        var t = TorrentParser.Parse(b.Build());
        Assert.Equal(new[] { "t/Readme.TXT", "t/readme.1.txt", "t/dir.1", "t/dir/inner", "t/x_y", "t/x_y.1" }, t.Files.Select(f => f.SanitizedPath));
        Assert.Equal(3, t.Warnings.Count);
        var unique = new HashSet<string>(t.Files.Select(f => f.SanitizedPath), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(t.Files.Count, unique.Count);
    }

    [Fact]
    public void Hostile_paths_stay_inside_the_torrent_folder()
    {
        var b = new TorrentBuilder("..")
            .AddFile(Content(1, 1), "..", "..", "etc", "passwd")
            .AddFile(Content(1, 2), "/abs")
            .AddFile(Content(1, 3), "C:", "Windows")
            .AddFile(Content(1, 4), "CON.txt");
        var t = TorrentParser.Parse(b.Build());
        Assert.Equal(new[] { "_/etc/passwd", "_/_abs", "_/C_/Windows", "_/_CON.txt" }, t.Files.Select(f => f.SanitizedPath));
        Assert.Equal("../../etc/passwd", t.Files[0].Path); // as given, for display
    }

    // ---- errors ----

    [Fact]
    public void Invalid_bencode_names_the_offset()
    {
        var ex = Fails(Encoding.ASCII.GetBytes("d4:infod4:name1:x12:piece lengthi01eee"), TorrentError.InvalidBencoding);
        Assert.Equal(BencodeError.InvalidInteger, ex.BencodeError);
        Assert.Contains("offset 32", ex.Message);
    }

    [Fact]
    public void Truncated_file()
    {
        var data = new TorrentBuilder("x") { SingleFileContent = Content(10, 1) }.Build();
        var ex = Fails(data[..^5], TorrentError.InvalidBencoding);
        Assert.Equal(BencodeError.StringLengthExceedsInput, ex.BencodeError);
    }

    [Fact]
    public void Structure_errors()
    {
        Fails(Encoding.ASCII.GetBytes("li1ee"), TorrentError.NotADictionary);
        Fails(Encoding.ASCII.GetBytes("d8:announce1:xe"), TorrentError.MissingInfo);
        Fails(Encoding.ASCII.GetBytes("d4:info4:infoe"), TorrentError.MissingInfo);
        Fails(Encoding.ASCII.GetBytes(new string('l', 100_000) + new string('e', 100_000)), TorrentError.InvalidBencoding);
    }

    public static IEnumerable<object[]> BrokenInfo()
    {
        static object[] Case(TorrentError e, Func<BDictionary, BValue> edit) => new object[] { e, edit };
        yield return Case(TorrentError.MissingName, i => Without(i, "name"));
        yield return Case(TorrentError.MissingName, Set("name", new BInteger(1)));
        yield return Case(TorrentError.MissingPieceLength, i => Without(i, "piece length"));
        yield return Case(TorrentError.InvalidPieceLength, Set("piece length", new BInteger(0)));
        yield return Case(TorrentError.InvalidPieceLength, Set("piece length", new BInteger(-16384)));
        yield return Case(TorrentError.InvalidPieceLength, Set("piece length", new BInteger(TorrentParser.MaxPieceLength + 1L)));
        yield return Case(TorrentError.MissingPieces, i => Without(i, "pieces"));
        yield return Case(TorrentError.InvalidPiecesLength, Set("pieces", new BString(new byte[39])));
        yield return Case(TorrentError.InvalidPiecesLength, Set("pieces", new BString(new byte[21])));
        yield return Case(TorrentError.PieceCountMismatch, Set("pieces", new BString(new byte[60])));
        yield return Case(TorrentError.PieceCountMismatch, Set("pieces", new BString(Array.Empty<byte>())));
        yield return Case(TorrentError.InvalidFileLength, i => Without(i, "length"));
        yield return Case(TorrentError.InvalidFileLength, Set("length", new BInteger(-1)));
        yield return Case(TorrentError.InvalidFileLength, Set("length", new BString("10")));
        yield return Case(TorrentError.NoData, i => { i.Set("length", new BInteger(0)); i.Set("pieces", new BString(Array.Empty<byte>())); return i; });
        yield return Case(TorrentError.InvalidFileList, Set("files", new BList()));
        yield return Case(TorrentError.InvalidFileList, Set("files", new BString("x")));
        yield return Case(TorrentError.InvalidFileList, Set("files", new BList { new BInteger(1) }));
    }

    [Theory]
    [MemberData(nameof(BrokenInfo))]
    public void Each_broken_info_field_has_its_own_error(TorrentError error, Func<BDictionary, BValue> edit)
    {
        var data = new TorrentBuilder("x", 16384) { SingleFileContent = Content(20_000, 1) }.Build(editInfo: edit);
        Fails(data, error);
    }

    private static BDictionary FileEntry(BValue? length, BValue? path)
    {
        var d = new BDictionary();
        if (length is not null) d.Set("length", length);
        if (path is not null) d.Set("path", path);
        return d;
    }

    public static IEnumerable<object[]> BrokenFiles()
    {
        yield return new object[] { TorrentError.InvalidFilePath, FileEntry(new BInteger(10), null) };
        yield return new object[] { TorrentError.InvalidFilePath, FileEntry(new BInteger(10), new BList()) };
        yield return new object[] { TorrentError.InvalidFilePath, FileEntry(new BInteger(10), new BList { new BInteger(3) }) };
        yield return new object[] { TorrentError.InvalidFilePath, FileEntry(new BInteger(10), new BString("a/b")) };
        yield return new object[] { TorrentError.InvalidFileLength, FileEntry(new BInteger(-10), Strings("a")) };
        yield return new object[] { TorrentError.InvalidFileLength, FileEntry(null, Strings("a")) };
        yield return new object[] { TorrentError.PathTooDeep, FileEntry(new BInteger(10), Strings(Enumerable.Repeat("d", 101).ToArray())) };
    }

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void Each_broken_file_entry_has_its_own_error(TorrentError error, BDictionary entry)
    {
        var data = new TorrentBuilder("x").AddFile(Content(10, 1), "ok").Build(editInfo: Set("files", new BList { entry }));
        Fails(data, error);
    }

    [Fact]
    public void A_path_100_deep_is_accepted()
    {
        var path = Enumerable.Repeat("d", 99).Append("f").ToArray();
        var t = TorrentParser.Parse(new TorrentBuilder("x").AddFile(Content(10, 1), path).Build());
        Assert.Equal(100, t.Files[0].PathSegments.Count);
    }

    [Fact]
    public void File_lengths_that_add_up_past_2_pow_63_are_refused()
    {
        var files = new BList { FileEntry(new BInteger(long.MaxValue), Strings("a")), FileEntry(new BInteger(1), Strings("b")) };
        var data = new TorrentBuilder("x").AddFile(Content(10, 1), "a").Build(editInfo: Set("files", files));
        Fails(data, TorrentError.TotalSizeOverflow);
    }

    [Fact]
    public void The_piece_count_limit_is_checked_before_the_sizes()
    {
        // 3 pieces of content; the limit lowered to 2 (the public limit, 2 097 152, needs a 40 MB file).
        var data = new TorrentBuilder("x", 16384) { SingleFileContent = Content(40_000, 1) }.Build();
        Assert.Equal(3, TorrentParser.Parse(data, null, maxPieces: 3, maxFiles: 10).PieceCount);
        var ex = Assert.Throws<TorrentFormatException>(() => TorrentParser.Parse(data, null, maxPieces: 2, maxFiles: 10));
        Assert.Equal(TorrentError.TooManyPieces, ex.Error);
        Assert.Equal(0x200000, TorrentParser.MaxPieces);
    }

    [Fact]
    public void The_file_count_limit()
    {
        var data = new TorrentBuilder("x").AddFile(Content(1, 1), "a").AddFile(Content(1, 2), "b").AddFile(Content(1, 3), "c").Build();
        Assert.Equal(3, TorrentParser.Parse(data, null, maxPieces: 10, maxFiles: 3).Files.Count);
        var ex = Assert.Throws<TorrentFormatException>(() => TorrentParser.Parse(data, null, maxPieces: 10, maxFiles: 2));
        Assert.Equal(TorrentError.TooManyFiles, ex.Error);
    }

    [Fact]
    public void ParseFile_refuses_a_file_over_10_MB_and_reads_a_real_file()
    {
        var dir = Directory.CreateTempSubdirectory("bt-parser-");
        try
        {
            var big = Path.Combine(dir.FullName, "big.torrent");
            using (var fs = File.Create(big)) fs.SetLength(TorrentParser.MaxTorrentFileBytes + 1L);
            var ex = Assert.Throws<TorrentFormatException>(() => TorrentParser.ParseFile(big));
            Assert.Equal(TorrentError.FileTooLarge, ex.Error);

            var ok = Path.Combine(dir.FullName, "ok.torrent");
            File.WriteAllBytes(ok, new TorrentBuilder("ok") { SingleFileContent = Content(10, 1) }.Build());
            var t = TorrentParser.ParseFile(ok);
            Assert.Equal("ok", t.Name);
            Assert.Equal(ok, t.Source);
        }
        finally { dir.Delete(true); }
    }
}
