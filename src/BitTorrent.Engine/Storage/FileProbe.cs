using System;
using System.Collections.Generic;
using System.IO;

namespace BitTorrent.Storage
{
    /// <summary>What is on disk at a torrent file's path.</summary>
    public readonly struct FileProbeResult
    {
        public FileProbeResult(bool exists, long length, string? problem)
        {
            Exists = exists;
            Length = length;
            Problem = problem;
        }

        /// <summary>A regular file is there and may be read.</summary>
        public bool Exists { get; }

        /// <summary>Its length in bytes (0 when it does not exist).</summary>
        public long Length { get; }

        /// <summary>Why it may not be read (absent, a folder, a link that is not followed), or null.</summary>
        public string? Problem { get; }
    }

    /// <summary>Looks at the files a torrent expects under a data folder before they are read. Unless links are
    /// followed, a path that passes through a symbolic link or junction below the data folder (the folder itself may
    /// be one) counts as absent: a link could lead anywhere, and the download engine must never write through one.
    /// Folder answers are cached, so checking 10 000 files in a few folders costs about one lookup per file.</summary>
    public sealed class FileProbe
    {
        private readonly string _root;
        private readonly bool _followLinks;
        private readonly Dictionary<string, string?> _folderProblems = new Dictionary<string, string?>(StringComparer.Ordinal);

        public FileProbe(string root, bool followLinks)
        {
            _root = StoragePaths.NormalizeRoot(root);
            _followLinks = followLinks;
        }

        /// <summary>Probes <paramref name="fullPath"/>. With <paramref name="isUnderRoot"/> the folders between the
        /// root and the file are checked for links too (off for a data file the user named directly).</summary>
        public FileProbeResult Probe(string fullPath, bool isUnderRoot = true)
        {
            if (fullPath is null) throw new ArgumentNullException(nameof(fullPath));
            try
            {
                if (isUnderRoot && !_followLinks)
                {
                    string? folderProblem = CheckFolders(fullPath);
                    if (folderProblem is not null) return new FileProbeResult(false, 0, folderProblem);
                }
                var info = new FileInfo(fullPath);
                if (!info.Exists)
                {
                    return Directory.Exists(fullPath)
                        ? new FileProbeResult(false, 0, "A folder is where the file should be.")
                        : new FileProbeResult(false, 0, "The file does not exist.");
                }
                if (FileSystemLinks.IsLink(info))
                {
                    if (isUnderRoot && !_followLinks)
                        return new FileProbeResult(false, 0, "The file is a symbolic link, which is not followed.");
                    // FileInfo.Length of a link is the link's own size on Unix; ask the file it leads to.
                    long? target = FileSystemLinks.TargetLength(fullPath);
                    return target is long length
                        ? new FileProbeResult(true, length, null)
                        : new FileProbeResult(false, 0, "The file is a broken symbolic link.");
                }
                return new FileProbeResult(true, info.Length, null);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException || ex is NotSupportedException)
            {
                return new FileProbeResult(false, 0, ex.Message);
            }
        }

        /// <summary>The first folder between the root and the file that is a link, or null.</summary>
        private string? CheckFolders(string fullPath)
        {
            if (!StoragePaths.IsStrictlyUnder(_root, fullPath)) return "The path is outside the data folder.";
            string? folder = Path.GetDirectoryName(fullPath);
            var chain = new List<string>();
            while (folder is not null && StoragePaths.IsStrictlyUnder(_root, folder))
            {
                chain.Add(folder);
                folder = Path.GetDirectoryName(folder);
            }
            // From the root down, so a cached answer for a parent covers its children.
            for (int i = chain.Count - 1; i >= 0; i--)
            {
                if (!_folderProblems.TryGetValue(chain[i], out var problem))
                {
                    var info = new DirectoryInfo(chain[i]);
                    problem = info.Exists && FileSystemLinks.IsLink(info)
                        ? $"The folder '{chain[i]}' is a symbolic link, which is not followed."
                        : null;
                    _folderProblems[chain[i]] = problem;
                }
                if (problem is not null) return problem;
            }
            return null;
        }
    }
}
