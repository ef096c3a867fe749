using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using BitTorrent.Creation;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Tab completion for -PieceSize: Auto, then every power of two New-Torrent accepts, smallest first.</summary>
    public sealed class PieceSizeCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var candidates = new List<(string Text, string Tip)> { ("Auto", "Auto: 1281-2560 pieces, 16 KiB to 16 MiB each") };
            for (long size = 16 * 1024; size <= 256L * 1024 * 1024; size *= 2)
            {
                if (!PieceSizeChooser.IsValid(size)) continue;
                string text = size < 1024 * 1024 ? $"{size / 1024}KB" : $"{size / (1024 * 1024)}MB";
                candidates.Add((text, $"{text} ({size} bytes)"));
            }
            string word = Completion.Unquote(wordToComplete);
            return candidates
                .Where(c => c.Text.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .Select(c => new CompletionResult(c.Text, c.Text, CompletionResultType.ParameterValue, c.Tip));
        }
    }

    /// <summary>Tab completion for -Include/-Exclude: the paths inside the torrent already named on the command line
    /// (-Path, -LiteralPath or -Torrent), and 'folder/*' for each of its folders. Wildcard characters in a name are
    /// escaped, so the completed pattern matches that file only.</summary>
    public sealed class TorrentFileCompleter : IArgumentCompleter
    {
        private const int MaxResults = 500;

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = Completion.Unquote(wordToComplete);
            // A word with wildcards is matched as a pattern ('*.iso'); a plain word as the start of a path.
            WildcardPattern? pattern = WildcardPattern.ContainsWildcardCharacters(word)
                ? new WildcardPattern(word + "*", WildcardOptions.IgnoreCase) : null;
            var offered = new HashSet<string>(StringComparer.Ordinal);
            var results = new List<CompletionResult>();
            foreach (var torrent in Completion.BoundTorrents(fakeBoundParameters))
            {
                var folders = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var file in torrent.Files)
                {
                    if (file.IsPadding || !Completion.IsTypeable(file.Path)) continue;
                    for (int slash = file.Path.IndexOf('/'); slash > 0; slash = file.Path.IndexOf('/', slash + 1))
                        folders.Add(file.Path.Substring(0, slash));
                }
                var candidates = folders.Select(f => (Value: WildcardPattern.Escape(f) + "/*", Raw: f + "/", Tip: $"every file under {f}/ in '{torrent.Name}'"))
                    .Concat(torrent.Files.Where(f => !f.IsPadding && Completion.IsTypeable(f.Path))
                        .Select(f => (Value: WildcardPattern.Escape(f.Path), Raw: f.Path, Tip: $"{f.Path} ({Units.FormatBytes(f.Length)})")));
                foreach (var c in candidates)
                {
                    bool match = pattern is not null ? pattern.IsMatch(c.Raw)
                        : c.Raw.StartsWith(word, StringComparison.OrdinalIgnoreCase) || c.Value.StartsWith(word, StringComparison.OrdinalIgnoreCase);
                    if (!match || !offered.Add(c.Value)) continue;
                    results.Add(new CompletionResult(Completion.Quote(c.Value), c.Value, CompletionResultType.ParameterValue, c.Tip));
                    if (results.Count >= MaxResults) return results;
                }
            }
            return results;
        }
    }

    /// <summary>Tab completion for -Tracker: the trackers of the torrent already named on the command line, in tier
    /// order (to ask one of them only).</summary>
    public sealed class TorrentTrackerCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = Completion.Unquote(wordToComplete);
            var offered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var torrent in Completion.BoundTorrents(fakeBoundParameters))
            {
                for (int tier = 0; tier < torrent.TrackerTiers.Count; tier++)
                {
                    foreach (var url in torrent.TrackerTiers[tier])
                    {
                        if (!Completion.IsTypeable(url) || !url.StartsWith(word, StringComparison.OrdinalIgnoreCase) || !offered.Add(url)) continue;
                        yield return new CompletionResult(Completion.Quote(url), url, CompletionResultType.ParameterValue,
                            $"{url} (tier {tier + 1} of '{torrent.Name}')");
                    }
                }
            }
        }
    }

    /// <summary>Tab completion for -Peer: the peers the last Get-TorrentPeer runs in this session found, newest
    /// first.</summary>
    public sealed class PeerAddressCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = Completion.Unquote(wordToComplete);
            foreach (var (endPoint, tip) in RecentPeers.Snapshot())
            {
                if (!endPoint.StartsWith(word, StringComparison.OrdinalIgnoreCase)) continue;
                yield return new CompletionResult(Completion.Quote(endPoint), endPoint, CompletionResultType.ParameterValue, tip);
            }
        }
    }

    /// <summary>The peers Get-TorrentPeer found, per runspace (a session's completions show its own finds), at most
    /// <see cref="Capacity"/>, newest first. Written on the pipeline thread, read by the completer on the same
    /// runspace's thread; locked anyway, as a runspace can be used from several threads in turn.</summary>
    internal static class RecentPeers
    {
        internal const int Capacity = 256;
        private static readonly ConditionalWeakTable<Runspace, LinkedList<(string EndPoint, string Tip)>> BySession =
            new ConditionalWeakTable<Runspace, LinkedList<(string, string)>>();

        public static void Remember(TorrentPeer peer)
        {
            if (Runspace.DefaultRunspace is not Runspace runspace) return;
            var list = BySession.GetValue(runspace, _ => new LinkedList<(string, string)>());
            lock (list)
            {
                for (var node = list.First; node is not null; node = node.Next)
                {
                    if (node.Value.EndPoint != peer.EndPoint) continue;
                    list.Remove(node);
                    break;
                }
                list.AddFirst((peer.EndPoint, $"{peer.EndPoint}: a peer of '{peer.TorrentName}' from {peer.Source}"));
                while (list.Count > Capacity) list.RemoveLast();
            }
        }

        public static IReadOnlyList<(string EndPoint, string Tip)> Snapshot()
        {
            if (Runspace.DefaultRunspace is not Runspace runspace || !BySession.TryGetValue(runspace, out var list))
                return Array.Empty<(string, string)>();
            lock (list) return list.ToArray();
        }
    }

    /// <summary>What the completers share: reading the torrent bound on the command line, and quoting.</summary>
    internal static class Completion
    {
        private const int MaxTorrents = 8;

        // Parsed torrents by full path, kept while the file's size and time are unchanged: pressing Tab again does
        // not parse a large torrent again. Bounded; cleared when full.
        private static readonly Dictionary<string, (DateTime Written, long Length, TorrentInfo Torrent)> Cache =
            new Dictionary<string, (DateTime, long, TorrentInfo)>(StringComparer.Ordinal);
        private const int CacheCapacity = 32;

        /// <summary>The torrents -Torrent (or its alias -InputObject), -Path, -LiteralPath or -TorrentPath name on
        /// the command line being completed. Anything that cannot be read gives no completions, never an error.</summary>
        public static IEnumerable<TorrentInfo> BoundTorrents(IDictionary fakeBoundParameters)
        {
            var torrents = new List<TorrentInfo>();
            foreach (var key in new[] { "Torrent", "InputObject" })
            {
                if (!fakeBoundParameters.Contains(key)) continue;
                foreach (var item in Items(fakeBoundParameters[key]))
                    if (item is TorrentInfo t && torrents.Count < MaxTorrents) torrents.Add(t);
            }
            foreach (var (key, literal) in new[] { ("Path", false), ("LiteralPath", true), ("PSPath", true), ("TorrentPath", true) })
            {
                if (!fakeBoundParameters.Contains(key)) continue;
                foreach (var item in Items(fakeBoundParameters[key]))
                {
                    if (torrents.Count >= MaxTorrents) break;
                    if (item is string text && text.Length > 0)
                    {
                        // A magnet link's files are known once a download from it kept its metadata in the folder.
                        if (MagnetUri.LooksLikeMagnet(text) && KeptMetadata(text, fakeBoundParameters) is TorrentInfo kept)
                        {
                            torrents.Add(kept);
                            continue;
                        }
                        foreach (var file in Resolve(text, literal))
                            if (torrents.Count < MaxTorrents && Read(file) is TorrentInfo t) torrents.Add(t);
                    }
                    else if (item is FileInfo info && Read(info.FullName) is TorrentInfo fromInfo)
                    {
                        torrents.Add(fromInfo);
                    }
                }
            }
            return torrents;
        }

        /// <summary>The metadata kept for a magnet link (or info-hash) in the folder -DestinationPath or -DataPath names
        /// (default: the current location), or null.</summary>
        private static TorrentInfo? KeptMetadata(string text, IDictionary fakeBoundParameters)
        {
            if (!MagnetUri.TryParse(text, out var magnet, out _) || !magnet.HasV1) return null;
            string folder = ".";
            foreach (var key in new[] { "DestinationPath", "DataPath" })
                if (fakeBoundParameters.Contains(key) && Items(fakeBoundParameters[key]).FirstOrDefault() is string given && given.Length > 0)
                    folder = given;
            foreach (var resolved in Resolve(folder, literal: true))
            {
                try { return BitTorrent.Storage.MetadataCache.TryLoad(resolved, magnet.InfoHash!, magnet.Name); }
                catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException) { return null; }
            }
            return null;
        }

        private static IEnumerable<object?> Items(object? value)
        {
            value = value is PSObject ps ? ps.BaseObject : value;
            if (value is string || value is not IEnumerable many)
            {
                yield return value;
                yield break;
            }
            foreach (var item in many) yield return item is PSObject p ? p.BaseObject : item;
        }

        /// <summary>A -Path (wildcards) or -LiteralPath to file-system paths, resolved in the current location of the
        /// session being completed.</summary>
        private static IEnumerable<string> Resolve(string path, bool literal)
        {
            // A nested pipeline on the completing thread (the runspace is busy with TabExpansion2, so its
            // SessionStateProxy may not be used): Resolve-Path, file system only, errors ignored.
            try
            {
                using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
                ps.AddCommand("Microsoft.PowerShell.Management\\Resolve-Path")
                    .AddParameter(literal ? "LiteralPath" : "Path", path)
                    .AddParameter("ErrorAction", ActionPreference.Ignore);
                return ps.Invoke<PathInfo>()
                    .Where(p => p?.Provider?.ImplementingType == typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                    .Select(p => p.ProviderPath)
                    .Take(MaxTorrents)
                    .ToArray();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // An unfinished or wrong path while typing: no completions.
                return Array.Empty<string>();
            }
        }

        private static TorrentInfo? Read(string path)
        {
            try
            {
                var file = new FileInfo(path);
                if (!file.Exists) return null;
                lock (Cache)
                {
                    if (Cache.TryGetValue(file.FullName, out var hit) && hit.Written == file.LastWriteTimeUtc && hit.Length == file.Length)
                        return hit.Torrent;
                }
                var torrent = TorrentParser.ParseFile(file.FullName);
                lock (Cache)
                {
                    if (Cache.Count >= CacheCapacity) Cache.Clear();
                    Cache[file.FullName] = (file.LastWriteTimeUtc, file.Length, torrent);
                }
                return torrent;
            }
            catch (Exception ex) when (ex is TorrentFormatException || ex is IOException || ex is UnauthorizedAccessException
                || ex is ArgumentException || ex is NotSupportedException)
            {
                return null;
            }
        }

        /// <summary>The word being completed without the quotes the user may have opened.</summary>
        public static string Unquote(string? word)
        {
            word ??= string.Empty;
            if (word.Length > 0 && (word[0] == '\'' || word[0] == '"')) word = word.Substring(1);
            if (word.Length > 0 && (word[word.Length - 1] == '\'' || word[word.Length - 1] == '"')) word = word.Substring(0, word.Length - 1);
            return word;
        }

        /// <summary>Single-quoted when the text would not survive the parser bare (spaces, $, quotes, commas, a
        /// leading dash …).</summary>
        public static string Quote(string text)
        {
            bool bare = !text.StartsWith("-", StringComparison.Ordinal) && !text.StartsWith("\u2013", StringComparison.Ordinal)
                && !text.Any(c => char.IsWhiteSpace(c) || "$'\"`{}()@;,&|<>#\u2018\u2019".IndexOf(c) >= 0);
            if (bare) return text;
            // Inside single quotes PowerShell takes '' (and the typographic single quotes doubled) as one quote.
            return "'" + text.Replace("'", "''").Replace("\u2018", "\u2018\u2018").Replace("\u2019", "\u2019\u2019") + "'";
        }

        /// <summary>No control characters: a hostile torrent's names must not put terminal escapes into the prompt.</summary>
        public static bool IsTypeable(string text) => text.Length > 0 && !text.Any(char.IsControl);
    }
}
