using System.Diagnostics;
using System.Text;
using BitTorrent.Metainfo;
using Xunit;

namespace BitTorrent.Tests.Fuzz;

/// <summary>Regression tests for problems found while fuzzing that need inputs too large for the kept corpus
/// (AFL's inputs are small; these were found by reading the code paths the fuzzer reached). Small crash inputs
/// live in tests/Fuzz/crashes and run in <see cref="FuzzCorpusTests"/>.</summary>
public sealed class FoundByFuzzingTests
{
    /// <summary>A torrent repeating one file path 100 000 times (2.4 MB, well under the 10 MB limit). Renaming the
    /// duplicates used to count up from "a.1" for every copy: O(k²), minutes of CPU here and hours at 10 MB.</summary>
    [Fact]
    public void Many_copies_of_one_path_are_renamed_in_linear_time()
    {
        const int count = 100_000;
        var torrent = new StringBuilder("d4:infod5:filesl");
        for (int i = 0; i < count; i++) torrent.Append("d6:lengthi1e4:pathl1:aee");
        int pieces = (count + 16383) / 16384;
        torrent.Append("e4:name1:t12:piece lengthi16384e6:pieces").Append(20 * pieces).Append(':').Append('\0', 20 * pieces).Append("ee");
        var bytes = Encoding.Latin1.GetBytes(torrent.ToString());

        var watch = Stopwatch.StartNew();
        var info = TorrentParser.Parse(bytes);
        watch.Stop();

        Assert.Equal(count, info.Files.Count);
        Assert.Equal("t/a", info.Files[0].SanitizedPath);
        Assert.Equal("t/a.1", info.Files[1].SanitizedPath);
        Assert.Equal($"t/a.{count - 1}", info.Files[count - 1].SanitizedPath);
        Assert.Equal(count, info.Files.Select(f => f.SanitizedPath).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        // Linear work takes well under a second; the quadratic version took ~7 minutes of CPU for this input.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"Parsing took {watch.Elapsed}.");
    }

    /// <summary>Suffixes already used by the torrent itself are skipped, with the memo as without it.</summary>
    [Fact]
    public void Renaming_skips_names_the_torrent_already_uses()
    {
        var torrent = new StringBuilder("d4:infod5:filesl");
        foreach (var name in new[] { "a", "a.1", "A", "a", "a.2", "a" })
            torrent.Append("d6:lengthi1e4:pathl").Append(name.Length).Append(':').Append(name).Append("ee");
        torrent.Append("e4:name1:t12:piece lengthi16384e6:pieces20:").Append('\0', 20).Append("ee");

        var info = TorrentParser.Parse(Encoding.Latin1.GetBytes(torrent.ToString()));

        Assert.Equal(new[] { "t/a", "t/a.1", "t/A.2", "t/a.3", "t/a.1.2", "t/a.4" }, info.Files.Select(f => f.SanitizedPath));
    }
}
