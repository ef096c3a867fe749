using System.Diagnostics;
using BitTorrent.Metainfo;
using Xunit;
using static BitTorrent.Tests.Metainfo.TorrentBuilder;

namespace BitTorrent.Tests.Metainfo;

/// <summary>Regressions found with the hostile-torrent corpus (tests/Corpus): a torrent's paths must not collide with
/// the names the engine itself uses on disk, and renaming duplicates must stay linear.</summary>
public sealed class TorrentParserWorkingNameTests
{
    [Fact]
    public void A_file_named_like_another_files_partial_name_is_renamed()
    {
        // "data" is written as "data.part" until complete: a file "data.part" would be overwritten by it, and renaming
        // "data.part" to "data" would destroy the finished one. Both orders.
        var t = TorrentParser.Parse(new TorrentBuilder("t").AddFile(Content(5, 1), "data").AddFile(Content(5, 2), "data.part").Build());
        Assert.Equal(new[] { "t/data", "t/data.1.part" }, t.Files.Select(f => f.SanitizedPath));

        t = TorrentParser.Parse(new TorrentBuilder("t").AddFile(Content(5, 1), "DATA.PART").AddFile(Content(5, 2), "data").Build());
        Assert.Equal(new[] { "t/DATA.PART", "t/data.1" }, t.Files.Select(f => f.SanitizedPath));
    }

    [Fact]
    public void A_file_whose_partial_name_is_a_folder_is_renamed()
    {
        var t = TorrentParser.Parse(new TorrentBuilder("t").AddFile(Content(5, 1), "data").AddFile(Content(5, 2), "data.part", "inner").Build());
        Assert.Equal(new[] { "t/data.1", "t/data.part/inner" }, t.Files.Select(f => f.SanitizedPath));
    }

    [Fact]
    public void Partial_names_are_compared_without_case_in_either_order()
    {
        // Windows and macOS would put "DATA.Part" and "data.part" in one place.
        var t = TorrentParser.Parse(new TorrentBuilder("t").AddFile(Content(5, 1), "DATA.Part", "inner").AddFile(Content(5, 2), "data").Build());
        Assert.Equal(new[] { "t/DATA.Part/inner", "t/data.1" }, t.Files.Select(f => f.SanitizedPath));
        t = TorrentParser.Parse(new TorrentBuilder("t").AddFile(Content(5, 1), "Data").AddFile(Content(5, 2), "dATA.PART").Build());
        Assert.Equal(new[] { "t/Data", "t/dATA.1.PART" }, t.Files.Select(f => f.SanitizedPath));
    }

    [Theory]
    [InlineData(".bittorrent")]
    [InlineData(".BitTorrent")]
    [InlineData(".bittorrent.")] // trailing dot stripped by the sanitizer first
    public void The_resume_record_folder_name_is_not_given_to_a_torrent(string name)
    {
        var single = TorrentParser.Parse(new TorrentBuilder(name) { SingleFileContent = Content(5, 1) }.Build());
        Assert.Equal("_" + name.TrimEnd('.'), single.Files[0].SanitizedPath);
        var multi = TorrentParser.Parse(new TorrentBuilder(name).AddFile(Content(5, 1), "x.resume").Build());
        Assert.Equal("_" + name.TrimEnd('.') + "/x.resume", multi.Files[0].SanitizedPath);
        Assert.Contains(multi.Warnings, w => w.Contains("resume records"));
    }

    [Fact]
    public void Twenty_thousand_files_of_one_name_are_renamed_in_linear_time()
    {
        var b = new TorrentBuilder("t");
        for (int i = 0; i < 20000; i++) b.AddFile(new byte[] { (byte)i }, "dup.txt");
        var data = b.Build();
        var watch = Stopwatch.StartNew();
        var t = TorrentParser.Parse(data);
        watch.Stop();
        Assert.Equal("t/dup.txt", t.Files[0].SanitizedPath);
        Assert.Equal("t/dup.19999.txt", t.Files[19999].SanitizedPath);
        Assert.Equal(20000, new HashSet<string>(t.Files.Select(f => f.SanitizedPath), StringComparer.OrdinalIgnoreCase).Count);
        // Quadratic renaming took 32 s here; linear takes well under a second. 10 s leaves room for a loaded machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Parsing took {watch.Elapsed}.");
    }

    [Fact]
    public void Renamed_names_never_collide_with_later_files()
    {
        var t = TorrentParser.Parse(new TorrentBuilder("t")
            .AddFile(Content(1, 1), "x.txt").AddFile(Content(1, 2), "x.txt").AddFile(Content(1, 3), "x.1.txt").AddFile(Content(1, 4), "x.txt")
            .Build());
        Assert.Equal(new[] { "t/x.txt", "t/x.1.txt", "t/x.1.1.txt", "t/x.2.txt" }, t.Files.Select(f => f.SanitizedPath));
    }
}
