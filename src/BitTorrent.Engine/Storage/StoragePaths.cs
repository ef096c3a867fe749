using System;
using System.IO;
using System.Runtime.InteropServices;

namespace BitTorrent.Storage
{
    /// <summary>Maps a torrent's relative file paths onto a data folder and guarantees the result stays inside it:
    /// the path is made absolute and normalised ('..' and '.' folded), then must lie strictly under the folder.
    /// The parser already sanitises paths; this is the second, independent guard every file access goes through.</summary>
    public static class StoragePaths
    {
        /// <summary>Windows and macOS file systems ignore case by default, so containment is checked the same way.</summary>
        private static readonly StringComparison PathComparison =
            RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;

        /// <summary>The absolute form of a folder, without a trailing separator (except for a file-system root).</summary>
        public static string NormalizeRoot(string root)
        {
            if (string.IsNullOrEmpty(root)) throw new ArgumentException("The data folder is empty.", nameof(root));
            string full = Path.GetFullPath(root);
            string trimmed = full.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            // "/" or "C:\" must keep their separator: "C:" alone means "the current folder on drive C".
            return trimmed.Length == 0 || trimmed.EndsWith(":", StringComparison.Ordinal) ? full : trimmed;
        }

        /// <summary>The absolute path of <paramref name="relativePath"/> ('/'-separated) under <paramref name="root"/>.
        /// Throws <see cref="UnauthorizedAccessException"/> when the result would not be strictly inside the root.</summary>
        public static string Combine(string root, string relativePath)
        {
            if (relativePath is null) throw new ArgumentNullException(nameof(relativePath));
            string normalizedRoot = NormalizeRoot(root);
            if (relativePath.Length == 0 || relativePath.IndexOf('\0') >= 0 || Path.IsPathRooted(relativePath) ||
                (relativePath.Length >= 2 && relativePath[1] == ':'))
                throw new UnauthorizedAccessException($"'{relativePath}' is not a relative path inside the data folder.");
            string native = relativePath.Replace('/', Path.DirectorySeparatorChar);
            string full = Path.GetFullPath(Path.Combine(normalizedRoot, native));
            if (!IsStrictlyUnder(normalizedRoot, full))
                throw new UnauthorizedAccessException($"'{relativePath}' leads outside the data folder '{normalizedRoot}'.");
            return full;
        }

        /// <summary>True when <paramref name="fullPath"/> lies strictly inside <paramref name="normalizedRoot"/>.</summary>
        public static bool IsStrictlyUnder(string normalizedRoot, string fullPath)
        {
            string root = normalizedRoot.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal)
                ? normalizedRoot
                : normalizedRoot + Path.DirectorySeparatorChar;
            return fullPath.Length > root.Length && fullPath.StartsWith(root, PathComparison);
        }
    }
}
