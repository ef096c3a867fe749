using System;
using System.Collections.Generic;
using System.IO;
using BitTorrent.Metainfo;

namespace BitTorrent.Storage
{
    /// <summary>Where a torrent's files are on disk. The data path is the folder that CONTAINS the torrent's file
    /// (single-file torrent) or the torrent's folder (multi-file torrent) — libtorrent's save_path, aria2's -d,
    /// Transmission's download-dir. Each file is <c>DataPath/SanitizedPath</c>, checked to stay inside the data path.
    /// Two shortcuts, both unambiguous:
    /// <list type="bullet">
    /// <item>a single-file torrent may be given the data FILE itself (its name may differ from the torrent's);</item>
    /// <item>a multi-file torrent may be given its own folder: when <c>DataPath/&lt;torrent folder&gt;</c> does not
    /// exist and the data path's own name is the torrent folder's name, the parent is used as the data path.</item>
    /// </list></summary>
    public sealed class TorrentDataLocation
    {
        private TorrentDataLocation(string root, IReadOnlyList<string?> filePaths, bool isSingleFile, string description)
        {
            Root = root;
            FilePaths = filePaths;
            IsSingleFilePath = isSingleFile;
            Description = description;
        }

        /// <summary>The folder the torrent's relative paths are resolved under (the data file's folder when a file was given).</summary>
        public string Root { get; }

        /// <summary>Absolute path of each file of the torrent, in torrent order; null for padding files.</summary>
        public IReadOnlyList<string?> FilePaths { get; }

        /// <summary>True when the data path named the single file directly.</summary>
        public bool IsSingleFilePath { get; }

        /// <summary>How the data path was interpreted, for a verbose message.</summary>
        public string Description { get; }

        /// <summary>Locates <paramref name="torrent"/>'s files for <paramref name="dataPath"/> (absolute or relative to
        /// the process's current folder).</summary>
        public static TorrentDataLocation Resolve(TorrentInfo torrent, string dataPath)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            if (string.IsNullOrEmpty(dataPath)) throw new ArgumentException("The data path is empty.", nameof(dataPath));
            string full = Path.GetFullPath(dataPath);

            if (File.Exists(full) && !Directory.Exists(full))
            {
                if (torrent.IsMultiFile)
                    throw new StorageException(StorageError.DataPathIsFile, full,
                        $"'{full}' is a file, but '{torrent.Name}' is a multi-file torrent: give the folder that contains its folder '{RootFolder(torrent)}'.");
                return new TorrentDataLocation(Path.GetDirectoryName(full) ?? full, new string?[] { full }, true,
                    $"Reading the single file of '{torrent.Name}' from '{full}'.");
            }
            if (!Directory.Exists(full))
                throw new StorageException(StorageError.DataPathNotFound, full, $"The data path '{full}' does not exist.");

            string root = StoragePaths.NormalizeRoot(full);
            string description = $"Reading '{torrent.Name}' under '{root}'.";
            if (torrent.IsMultiFile)
            {
                string folder = RootFolder(torrent);
                string ownName = Path.GetFileName(root);
                string? parent = Path.GetDirectoryName(root);
                if (!Directory.Exists(Path.Combine(root, folder)) && !File.Exists(Path.Combine(root, folder)) &&
                    string.Equals(ownName, folder, StringComparison.Ordinal) && !string.IsNullOrEmpty(parent))
                {
                    root = StoragePaths.NormalizeRoot(parent!);
                    description = $"'{full}' is the torrent's own folder; reading '{torrent.Name}' under '{root}'.";
                }
            }
            return new TorrentDataLocation(root, MapFiles(torrent, root), false, description);
        }

        /// <summary>Locates the files under <paramref name="root"/> exactly (no shortcuts): the download engine's form.</summary>
        public static TorrentDataLocation UnderRoot(TorrentInfo torrent, string root)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            string normalized = StoragePaths.NormalizeRoot(root);
            return new TorrentDataLocation(normalized, MapFiles(torrent, normalized), false, $"Files of '{torrent.Name}' under '{normalized}'.");
        }

        /// <summary>Uses the given file paths as they are: the download engine's form when some files are still
        /// partial files with another name (e.g. "&lt;name&gt;.part"). <paramref name="filePaths"/> holds one absolute path
        /// per file of the torrent (null for padding files and for files that must not be read); each must lie
        /// strictly under <paramref name="root"/>.</summary>
        public static TorrentDataLocation FromPaths(TorrentInfo torrent, string root, IReadOnlyList<string?> filePaths)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            if (filePaths is null) throw new ArgumentNullException(nameof(filePaths));
            if (filePaths.Count != torrent.Files.Count)
                throw new ArgumentException($"One path per file of the torrent is needed ({torrent.Files.Count}, not {filePaths.Count}).", nameof(filePaths));
            string normalized = StoragePaths.NormalizeRoot(root);
            var paths = new string?[filePaths.Count];
            for (int i = 0; i < paths.Length; i++)
            {
                string? path = filePaths[i];
                if (path is null || torrent.Files[i].IsPadding) continue;
                string full = Path.GetFullPath(path);
                if (!StoragePaths.IsStrictlyUnder(normalized, full))
                    throw new StorageException(StorageError.PathOutsideDataFolder, full, $"'{full}' is not inside the data folder '{normalized}'.");
                paths[i] = full;
            }
            return new TorrentDataLocation(normalized, paths, false, $"Files of '{torrent.Name}' under '{normalized}' (paths given).");
        }

        private static string?[] MapFiles(TorrentInfo torrent, string root)
        {
            var paths = new string?[torrent.Files.Count];
            for (int i = 0; i < paths.Length; i++)
            {
                var file = torrent.Files[i];
                if (file.IsPadding) continue;
                try
                {
                    paths[i] = StoragePaths.Combine(root, file.SanitizedPath);
                }
                catch (UnauthorizedAccessException ex)
                {
                    throw new StorageException(StorageError.PathOutsideDataFolder, file.SanitizedPath, ex.Message);
                }
            }
            return paths;
        }

        /// <summary>The first element of the files' sanitized paths: the folder a multi-file torrent lives in.</summary>
        private static string RootFolder(TorrentInfo torrent)
        {
            string first = torrent.Files.Count > 0 ? torrent.Files[0].SanitizedPath : torrent.Name;
            int slash = first.IndexOf('/');
            return slash < 0 ? first : first.Substring(0, slash);
        }
    }
}
