using System;
using System.IO;
using System.Reflection;

namespace BitTorrent.Storage
{
    /// <summary>Symbolic links (and Windows junctions). The engine targets netstandard2.0, which has no link API;
    /// on .NET 6+ the runtime's <c>LinkTarget</c> and <c>ResolveLinkTarget</c> are used through reflection, so a
    /// Windows reparse point that is not a link (a OneDrive placeholder, a deduplicated file) is not mistaken for one.
    /// Elsewhere every reparse point counts as a link.</summary>
    public static class FileSystemLinks
    {
        private static readonly PropertyInfo? LinkTargetProperty =
            typeof(FileSystemInfo).GetProperty("LinkTarget", BindingFlags.Public | BindingFlags.Instance);
        private static readonly MethodInfo? ResolveLinkTargetMethod =
            typeof(FileSystemInfo).GetMethod("ResolveLinkTarget", BindingFlags.Public | BindingFlags.Instance, null, new[] { typeof(bool) }, null);

        /// <summary>True when the entry itself is a symbolic link or junction (not what it points to).</summary>
        public static bool IsLink(FileSystemInfo entry)
        {
            if (entry is null) throw new ArgumentNullException(nameof(entry));
            FileAttributes attributes;
            try { attributes = entry.Attributes; }
            catch (IOException) { return false; }
            if ((int)attributes == -1 || (attributes & FileAttributes.ReparsePoint) == 0) return false;
            if (LinkTargetProperty is null) return true;
            try { return LinkTargetProperty.GetValue(entry) is not null; }
            catch (TargetInvocationException) { return true; }
        }

        /// <summary>The absolute path a link finally leads to (following chains of links), or null when that cannot
        /// be told on this runtime or the link is broken.</summary>
        public static string? ResolveFinalTarget(FileSystemInfo link)
        {
            if (ResolveLinkTargetMethod is null) return null;
            try
            {
                var target = ResolveLinkTargetMethod.Invoke(link, new object[] { true }) as FileSystemInfo;
                return target is null ? null : Path.GetFullPath(target.FullName);
            }
            catch (TargetInvocationException)
            {
                return null;
            }
        }

        /// <summary>The length of the regular file a link leads to, or null when it leads nowhere (or to a folder).</summary>
        public static long? TargetLength(string linkPath)
        {
            try
            {
                using var stream = new FileStream(linkPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                return stream.Length;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                return null;
            }
        }
    }
}
