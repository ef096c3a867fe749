using System;
using System.Collections.Generic;

namespace BitTorrent.Creation
{
    /// <summary>One file that goes into a new torrent.</summary>
    public sealed class SourceFile
    {
        internal SourceFile(string fullPath, IReadOnlyList<string> pathSegments, long length)
        {
            FullPath = fullPath;
            PathSegments = pathSegments;
            RelativePath = string.Join("/", pathSegments);
            Length = length;
        }

        /// <summary>Where the file is read from.</summary>
        public string FullPath { get; }

        /// <summary>The torrent path elements (below the torrent's folder; the file name alone for a single-file torrent).</summary>
        public IReadOnlyList<string> PathSegments { get; }

        /// <summary>The torrent path, '/'-separated.</summary>
        public string RelativePath { get; }

        public long Length { get; }

        public override string ToString() => RelativePath;
    }

    /// <summary>What <see cref="SourceScanner"/> found.</summary>
    public sealed class SourceScan
    {
        internal SourceScan(string name, bool isDirectory, IReadOnlyList<SourceFile> files, IReadOnlyList<string> skipped, IReadOnlyList<string> warnings)
        {
            Name = name;
            IsDirectory = isDirectory;
            Files = files;
            Skipped = skipped;
            Warnings = warnings;
        }

        /// <summary>The source's own name (the default torrent name).</summary>
        public string Name { get; }

        /// <summary>True for a folder (a multi-file torrent, even with one file).</summary>
        public bool IsDirectory { get; }

        /// <summary>The files in torrent order.</summary>
        public IReadOnlyList<SourceFile> Files { get; }

        /// <summary>Entries left out, "path: reason" (links not followed, hidden entries when excluded, link loops), in path order.</summary>
        public IReadOnlyList<string> Skipped { get; }

        /// <summary>Things worth knowing, e.g. names other clients will save under a different name.</summary>
        public IReadOnlyList<string> Warnings { get; }

        public long TotalLength
        {
            get
            {
                long total = 0;
                foreach (var f in Files) total += f.Length;
                return total;
            }
        }
    }
}
