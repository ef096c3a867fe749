using BitTorrent.Bencoding;
using BitTorrent.Fuzz;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Fuzz;

/// <summary>Replays what AFL++ found (tools/fuzz.sh) through the same fuzz targets: every input of the kept corpus
/// (tests/Fuzz/corpus/&lt;target&gt;), and every crash and hang ever found (tests/Fuzz/crashes|hangs/&lt;target&gt;),
/// must be accepted or rejected with one of the engine's own exceptions, quickly. A crash input stays here as the
/// regression test of its fix.</summary>
public sealed class FuzzCorpusTests
{
    /// <summary>A parser that takes longer than this on one small input is hung (AFL's own limit is 5 s).</summary>
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(10);

    private static readonly string FuzzDirectory = FindFuzzDirectory();

    private static string FindFuzzDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Fuzz");
            if (File.Exists(Path.Combine(dir.FullName, "BitTorrent.sln")) && Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"No tests/Fuzz above {AppContext.BaseDirectory}.");
    }

    public static TheoryData<string> Targets()
    {
        var data = new TheoryData<string>();
        foreach (var name in FuzzTargets.Names) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_input_is_accepted_or_rejected_cleanly(string target)
    {
        var files = Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", target));
        Assert.NotEmpty(files);
        int accepted = Replay(target, files);
        // The corpus is there to reach deep code: inputs the parser accepts outright must be among it.
        Assert.True(accepted > 0, $"None of the {files.Length} {target} inputs was accepted.");
    }

    /// <summary>Every crash and hang AFL ever found for the target (tests/Fuzz/crashes|hangs/&lt;target&gt;) now
    /// passes: accepted or rejected cleanly, in time. No run has found one yet (tests/Fuzz/RUNS.md); a target with
    /// nothing to replay reports Skipped, so an empty folder never shows as a green row.</summary>
    [SkippableTheory]
    [MemberData(nameof(Targets))]
    public void Every_crash_and_hang_found_is_fixed(string target)
    {
        var files = FoundInputs(target);
        Skip.If(files.Length == 0, "no crash or hang found so far");
        Replay(target, files);
    }

    /// <summary>The inputs tools/fuzz.sh copied for the target (the folders' README is not one).</summary>
    private static string[] FoundInputs(string target) =>
        new[] { "crashes", "hangs" }
            .Select(kind => Path.Combine(FuzzDirectory, kind, target))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetFiles)
            .Where(f => !Path.GetFileName(f).StartsWith(".", StringComparison.Ordinal))
            .ToArray();

    /// <summary>Runs every file; fails listing each one that crashed or hung. Returns how many were accepted.</summary>
    private static int Replay(string target, string[] files)
    {
        int accepted = 0;
        var failures = new List<string>();
        foreach (var file in files.OrderBy(f => f, StringComparer.Ordinal))
        {
            try
            {
                if (RunBounded(target, File.ReadAllBytes(file)) is null) accepted++;
            }
            catch (Exception ex)
            {
                failures.Add($"{Path.GetRelativePath(FuzzDirectory, file)}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Length} {target} inputs crashed:\n{string.Join("\n", failures)}");
        return accepted;
    }

    [Fact]
    public void The_kept_corpus_stays_small()
    {
        long bytes = new DirectoryInfo(FuzzDirectory).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => f.DirectoryName!.Contains($"{Path.DirectorySeparatorChar}corpus{Path.DirectorySeparatorChar}")
                        || f.DirectoryName!.Contains($"{Path.DirectorySeparatorChar}crashes{Path.DirectorySeparatorChar}")
                        || f.DirectoryName!.Contains($"{Path.DirectorySeparatorChar}hangs{Path.DirectorySeparatorChar}"))
            .Sum(f => f.Length);
        Assert.InRange(bytes, 1, 2 * 1024 * 1024);
    }

    [Fact]
    public void Only_the_engines_own_rejections_count_as_expected()
    {
        Assert.True(FuzzTargets.IsExpected(new BencodeException(BencodeError.UnexpectedByte, 0, "x")));
        Assert.True(FuzzTargets.IsExpected(new TorrentFormatException(TorrentError.InvalidBencoding, "x")));
        Assert.True(FuzzTargets.IsExpected(new PeerProtocolException(PeerProtocolError.MalformedMessage, "x")));
        Assert.True(FuzzTargets.IsExpected(new TrackerException(TrackerError.InvalidResponse, "http://127.0.0.1/", "x")));
        Assert.True(FuzzTargets.IsExpected(new MagnetUriException(MagnetUriError.InvalidInfoHash, "xt", "x")));
        Assert.False(FuzzTargets.IsExpected(new IndexOutOfRangeException()));
        Assert.False(FuzzTargets.IsExpected(new NullReferenceException()));
        Assert.False(FuzzTargets.IsExpected(new OverflowException()));
        Assert.False(FuzzTargets.IsExpected(new ArgumentOutOfRangeException()));
        Assert.False(FuzzTargets.IsExpected(new InvalidCastException()));
        Assert.False(FuzzTargets.IsExpected(new FormatException()));
        Assert.False(FuzzTargets.IsExpected(new IOException()));
        Assert.False(FuzzTargets.IsExpected(new FuzzInvariantException("x")));
    }

    [Fact]
    public void Rejections_are_returned_and_acceptance_is_null()
    {
        // "d1:bi1e1:ai2ee" decodes leniently (unsorted keys are flagged, not refused) and is refused strictly:
        // an expected rejection, returned. "i1e" plus trailing data is refused outright. A canonical dictionary
        // is accepted (and re-encodes to itself). A misspelt target is a harness error, not a rejection.
        Assert.IsType<BencodeException>(FuzzTargets.Run("bencode", "d1:bi1e1:ai2ee"u8));
        Assert.IsType<BencodeException>(FuzzTargets.Run("bencode", "i1ex"u8));
        Assert.Null(FuzzTargets.Run("bencode", "d1:ai2e1:bi1ee"u8));
        Assert.Throws<ArgumentException>(() => FuzzTargets.Run("no-such-target", "i1e"u8));
    }

    private static Exception? RunBounded(string target, byte[] input)
    {
        var run = Task.Run(() => FuzzTargets.Run(target, input));
        if (Task.WaitAny(new Task[] { run }, PerInputLimit) < 0)
            throw new TimeoutException($"The {target} target ran over {PerInputLimit.TotalSeconds} s on a {input.Length}-byte input.");
        return run.GetAwaiter().GetResult();
    }
}
