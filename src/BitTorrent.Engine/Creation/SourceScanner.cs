using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Storage;

namespace BitTorrent.Creation
{
    /// <summary>What goes into a new torrent.</summary>
    public sealed class SourceScanOptions
    {
        /// <summary>Include hidden entries: names starting with '.', and entries with the Hidden or System attribute
        /// (Windows). On by default, like mktorrent and libtorrent, so the same folder gives the same info-hash.</summary>
        public bool IncludeHidden { get; set; } = true;

        /// <summary>Follow symbolic links (and junctions) inside the source folder. Off by default: links are left out
        /// and listed in <see cref="SourceScan.Skipped"/>. A link given as the source itself is always followed.</summary>
        public bool FollowSymbolicLinks { get; set; }

        /// <summary>Full paths of files to leave out (e.g. the .torrent being written into the source folder itself),
        /// compared ordinally; each one left out is listed in <see cref="SourceScan.Skipped"/>.</summary>
        public ISet<string> ExcludedFiles { get; } = new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>Lists the files of a new torrent: a file gives a single-file torrent; a folder gives a multi-file torrent
    /// of every file below it, in code-point order of their '/'-joined relative paths (what mktorrent's strcmp gives,
    /// so the same folder gives the same info-hash). Empty folders leave no trace; empty files are listed (as
    /// mktorrent does). Special files (FIFOs, sockets, devices) report size 0 and are listed as empty files, never
    /// opened. With link following on, a link leading back to one of its own ancestor folders is skipped.</summary>
    public static class SourceScanner
    {
        public static SourceScan Scan(string path, SourceScanOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrEmpty(path)) throw new ArgumentException("The source path is empty.", nameof(path));
            options ??= new SourceScanOptions();
            string full = StoragePaths.NormalizeRoot(path);
            string name = Path.GetFileName(full);
            if (string.IsNullOrEmpty(name)) name = "_";
            var warnings = new List<string>();
            var skipped = new List<string>();

            if (Directory.Exists(full))
            {
                var root = new DirectoryInfo(full);
                string real = FileSystemLinks.IsLink(root) ? FileSystemLinks.ResolveFinalTarget(root) ?? full : full;
                var files = new List<SourceFile>();
                var walk = new Walk(options, files, skipped, new FileCount(), cancellationToken);
                walk.Folder(root, new List<string>(), new List<string> { real }, splitSubfolders: true);
                files.Sort((a, b) => CodePointComparer.Instance.Compare(a.RelativePath, b.RelativePath));
                skipped.Sort(CodePointComparer.Instance);
                CheckNames(name, files, warnings);
                return new SourceScan(name, true, files, skipped, warnings);
            }
            if (File.Exists(full))
            {
                var info = new FileInfo(full);
                long length = FileSystemLinks.IsLink(info)
                    ? FileSystemLinks.TargetLength(full) ?? throw new TorrentCreationException(TorrentCreationError.SourceNotFound, $"'{full}' is a broken symbolic link.")
                    : info.Length;
                var files = new List<SourceFile> { new SourceFile(full, new[] { name }, length) };
                CheckNames(name, new List<SourceFile>(), warnings);
                return new SourceScan(name, false, files, skipped, warnings);
            }
            throw new TorrentCreationException(TorrentCreationError.SourceNotFound, $"The source '{full}' does not exist.");
        }

        /// <summary>Names that other clients (and our own storage) will not save as given: see <see cref="PathSanitizer"/>.
        /// Also names that differ only in case, which collide on Windows and macOS.</summary>
        private static void CheckNames(string name, List<SourceFile> files, List<string> warnings)
        {
            if (PathSanitizer.SanitizeElement(name) != name)
                warnings.Add($"The name '{name}' is not portable; clients will save it as '{PathSanitizer.SanitizeElement(name) ?? "_"}'.");
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var f in files)
            {
                foreach (var segment in f.PathSegments)
                {
                    var safe = PathSanitizer.SanitizeElement(segment);
                    if (safe != segment)
                    {
                        warnings.Add($"'{f.RelativePath}' is not a portable path; clients will save '{segment}' as '{safe ?? "_"}'.");
                        break;
                    }
                }
                if (!seen.Add(f.RelativePath))
                    warnings.Add($"'{f.RelativePath}' differs from another path only in case; clients on Windows and macOS will rename one of them.");
            }
        }

        /// <summary>Files found so far, shared by the walks of one scan (the <see cref="TorrentParser.MaxFiles"/> limit).</summary>
        private sealed class FileCount
        {
            public int Value;
        }

        private sealed class Walk
        {
            private readonly SourceScanOptions _options;
            private readonly List<SourceFile> _files;
            private readonly List<string> _skipped;
            private readonly FileCount _count;
            private readonly CancellationToken _cancellationToken;

            public Walk(SourceScanOptions options, List<SourceFile> files, List<string> skipped, FileCount count, CancellationToken cancellationToken)
            {
                _options = options;
                _files = files;
                _skipped = skipped;
                _count = count;
                _cancellationToken = cancellationToken;
            }

            /// <param name="folder">The folder to list.</param>
            /// <param name="segments">Its path elements below the source.</param>
            /// <param name="realAncestors">The real (link-resolved) paths of the folder and its ancestors, for loop detection.</param>
            /// <param name="splitSubfolders">Walk the subfolders on all cores (the source folder's own): listing and
            /// stat-ing 10 000 files is system calls and small allocations, and took a fifth of New-Torrent's time on
            /// one core. The files and the skipped entries are sorted afterwards, so the result does not depend on the
            /// threads (nor on the order the file system lists entries in).</param>
            public void Folder(DirectoryInfo folder, List<string> segments, List<string> realAncestors, bool splitSubfolders = false)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (segments.Count >= TorrentParser.MaxPathDepth)
                    throw new TorrentCreationException(TorrentCreationError.TooManyFiles,
                        $"'{folder.FullName}' is nested more than {TorrentParser.MaxPathDepth} folders deep.");
                FileSystemInfo[] entries;
                try
                {
                    var list = new List<FileSystemInfo>();
                    foreach (var e in folder.EnumerateFileSystemInfos()) list.Add(e);
                    entries = list.ToArray();
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is System.Security.SecurityException)
                {
                    throw new TorrentCreationException(TorrentCreationError.SourceUnreadable, $"Cannot list the folder '{folder.FullName}': {ex.Message}", ex);
                }

                var later = new List<(DirectoryInfo Folder, string Real)>();
                foreach (var entry in entries)
                {
                    string relative = Join(segments, entry.Name);
                    if (entry is FileInfo && _options.ExcludedFiles.Contains(entry.FullName))
                    {
                        _skipped.Add($"{relative}: excluded");
                        continue;
                    }
                    if (!_options.IncludeHidden && IsHidden(entry))
                    {
                        _skipped.Add($"{relative}: hidden");
                        continue;
                    }
                    bool isLink = FileSystemLinks.IsLink(entry);
                    if (isLink && !_options.FollowSymbolicLinks)
                    {
                        _skipped.Add($"{relative}: symbolic link, not followed");
                        continue;
                    }
                    if (entry is DirectoryInfo sub)
                    {
                        string parentReal = realAncestors[realAncestors.Count - 1];
                        string? real = isLink ? FileSystemLinks.ResolveFinalTarget(sub) : Path.Combine(parentReal, sub.Name);
                        if (real is not null && LeadsToAncestor(real, realAncestors))
                        {
                            _skipped.Add($"{relative}: symbolic link back to one of its own folders");
                            continue;
                        }
                        if (splitSubfolders)
                        {
                            later.Add((sub, real ?? sub.FullName));
                            continue;
                        }
                        segments.Add(entry.Name);
                        realAncestors.Add(real ?? sub.FullName);
                        Folder(sub, segments, realAncestors);
                        realAncestors.RemoveAt(realAncestors.Count - 1);
                        segments.RemoveAt(segments.Count - 1);
                    }
                    else
                    {
                        long length;
                        if (isLink)
                        {
                            long? target = FileSystemLinks.TargetLength(entry.FullName);
                            if (target is null)
                            {
                                _skipped.Add($"{relative}: broken symbolic link");
                                continue;
                            }
                            length = target.Value;
                        }
                        else
                        {
                            length = ((FileInfo)entry).Length;
                        }
                        if (Interlocked.Increment(ref _count.Value) > TorrentParser.MaxFiles)
                            throw new TorrentCreationException(TorrentCreationError.TooManyFiles, $"The source has more than {TorrentParser.MaxFiles} files.");
                        var fileSegments = new List<string>(segments) { entry.Name };
                        _files.Add(new SourceFile(entry.FullName, fileSegments, length));
                    }
                }
                if (later.Count > 0) WalkInParallel(later, segments, realAncestors);
            }

            /// <summary>Walks each subfolder with a walk of its own (own lists, own copies of the path), on all cores,
            /// then appends their files and skipped entries in listing order. The first failure (too many files, an
            /// unreadable folder, cancellation) is thrown as itself.</summary>
            private void WalkInParallel(List<(DirectoryInfo Folder, string Real)> subfolders, List<string> segments, List<string> realAncestors)
            {
                var files = new List<SourceFile>[subfolders.Count];
                var skipped = new List<string>[subfolders.Count];
                var parallel = new ParallelOptions { CancellationToken = _cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
                try
                {
                    Parallel.For(0, subfolders.Count, parallel, i =>
                    {
                        files[i] = new List<SourceFile>();
                        skipped[i] = new List<string>();
                        var walk = new Walk(_options, files[i], skipped[i], _count, _cancellationToken);
                        var sub = subfolders[i];
                        walk.Folder(sub.Folder, new List<string>(segments) { sub.Folder.Name }, new List<string>(realAncestors) { sub.Real });
                    });
                }
                catch (AggregateException ex)
                {
                    var first = ex.Flatten().InnerExceptions[0];
                    ExceptionDispatchInfo.Capture(first).Throw();
                }
                for (int i = 0; i < subfolders.Count; i++)
                {
                    _files.AddRange(files[i]);
                    _skipped.AddRange(skipped[i]);
                }
            }

            private static bool IsHidden(FileSystemInfo entry)
            {
                if (entry.Name.StartsWith(".", StringComparison.Ordinal)) return true;
                try { return (entry.Attributes & (FileAttributes.Hidden | FileAttributes.System)) != 0; }
                catch (IOException) { return false; }
            }

            private static bool LeadsToAncestor(string real, List<string> realAncestors)
            {
                string withSeparator = real.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? real : real + Path.DirectorySeparatorChar;
                foreach (var ancestor in realAncestors)
                    if (string.Equals(ancestor, real, StringComparison.Ordinal) || ancestor.StartsWith(withSeparator, StringComparison.Ordinal))
                        return true;
                return false;
            }

            private static string Join(List<string> segments, string name) =>
                segments.Count == 0 ? name : string.Join("/", segments) + "/" + name;
        }
    }
}
