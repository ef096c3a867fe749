using System.Diagnostics;
using System.Text;
using BitTorrent.Bencoding;
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

    /// <summary>131 072 distinct dictionary keys that all had one hash under plain FNV-1a (built the way an
    /// attacker would: 17 chained 6-byte internal collisions), as a 10 MB .torrent. Every insert into the decoded
    /// dictionary scanned the keys before it: 38 s of CPU to reject the file. With the per-process random hash it
    /// takes a fraction of a second.</summary>
    [Fact]
    public void Keys_built_to_collide_under_fnv1a_do_not_slow_the_decoder()
    {
        var keys = Fnv1aMulticollision(blocks: 17);
        Assert.Equal(1 << 17, keys.Count);
        Assert.Single(keys.Take(64).Select(Fnv1a).Distinct()); // they do collide under the plain hash
        Assert.True(keys.Take(1024).Select(k => new BString(k).GetHashCode()).Distinct().Count() > 1000,
            "The keys still share hash codes under BString's hash.");

        var input = new List<byte>(TorrentParser.MaxTorrentFileBytes) { (byte)'d' };
        foreach (var key in keys)
        {
            var entry = Encoding.ASCII.GetBytes($"{key.Length}:").Concat(key).Concat("i0e"u8.ToArray()).ToArray();
            if (input.Count + entry.Length + 1 > TorrentParser.MaxTorrentFileBytes) break;
            input.AddRange(entry);
        }
        input.Add((byte)'e');

        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<TorrentFormatException>(() => TorrentParser.Parse(input.ToArray()));
        watch.Stop();

        Assert.Equal(TorrentError.MissingInfo, ex.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Rejecting the file took {watch.Elapsed}.");
    }

    private static uint Fnv1a(byte[] bytes)
    {
        uint h = 2166136261;
        foreach (var b in bytes) h = unchecked((h ^ b) * 16777619);
        return h;
    }

    /// <summary>Joux multicollision: for each of <paramref name="blocks"/> positions find two 6-letter blocks
    /// taking the current FNV-1a state to the same next state (a birthday search, ~80 000 tries); every choice of
    /// one block per position then gives the same final hash.</summary>
    private static List<byte[]> Fnv1aMulticollision(int blocks)
    {
        var random = new Random(20261125);
        uint state = 2166136261;
        var pairs = new List<(byte[], byte[])>();
        for (int i = 0; i < blocks; i++)
        {
            var seen = new Dictionary<uint, byte[]>();
            while (true)
            {
                var block = new byte[6];
                for (int j = 0; j < block.Length; j++) block[j] = (byte)random.Next('a', 'z' + 1);
                uint next = state;
                foreach (var b in block) next = unchecked((next ^ b) * 16777619);
                if (seen.TryGetValue(next, out var other) && !other.AsSpan().SequenceEqual(block))
                {
                    pairs.Add((other, block));
                    state = next;
                    break;
                }
                seen[next] = block;
            }
        }
        var keys = new List<byte[]> { Array.Empty<byte>() };
        foreach (var (a, b) in pairs)
            keys = keys.Select(k => k.Concat(a).ToArray()).Concat(keys.Select(k => k.Concat(b).ToArray())).ToList();
        return keys;
    }
}
