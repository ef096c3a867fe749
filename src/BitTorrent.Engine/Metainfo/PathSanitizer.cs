using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace BitTorrent.Metainfo
{
    /// <summary>Turns untrusted path elements from a torrent into names that are safe to create on Windows, Linux and
    /// macOS, inside the download folder. The rules (after libtorrent's, blog.libtorrent.org/2014/12/filenames):
    /// <list type="bullet">
    /// <item>Elements that are empty, "." or ".." are dropped (they can only climb or mean nothing).</item>
    /// <item>Control characters (0-31, 127) and &lt; &gt; : " / \ | ? * become '_'; so a drive letter ("C:") or an
    /// embedded separator can never take effect.</item>
    /// <item>Trailing dots and spaces are removed (Windows strips them silently, which would merge names).</item>
    /// <item>Windows device names (CON, PRN, AUX, NUL, CONIN$, CONOUT$, COM0-9, LPT0-9 and COM/LPT with a superscript
    /// 1-3, in any case, with any extension) get a leading '_'.</item>
    /// <item>An element is cut to 250 UTF-8 bytes, keeping its extension: file systems allow 255, and a file is
    /// written as "name.part" until it is complete (with 255 the download failed on creating that name).</item>
    /// <item>Invalid UTF-8 has already become U+FFFD in the display string; it is kept as such (a valid character).</item>
    /// <item>An element that ends up empty becomes "_".</item>
    /// </list>
    /// Uniqueness across a torrent's files is handled by the parser, which renames later duplicates.</summary>
    public static class PathSanitizer
    {
        /// <summary>255 (NAME_MAX on Linux and macOS, the NTFS limit in UTF-16 units, which 255 UTF-8 bytes never
        /// exceed) less the 5 bytes of the ".part" suffix a file has while it downloads.</summary>
        public const int MaxElementBytes = 250;
        private static readonly HashSet<string> ReservedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
            "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
            "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
            // Windows also treats the superscript digits as port numbers.
            "COM\u00B9", "COM\u00B2", "COM\u00B3", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
        };

        /// <summary>Sanitizes one element; returns null when the element must be dropped (empty, "." or "..").</summary>
        public static string? SanitizeElement(string element)
        {
            if (element is null) throw new ArgumentNullException(nameof(element));
            if (element.Length == 0 || element == "." || element == "..") return null;
            if (IsAlreadySafe(element)) return element;

            var sb = new StringBuilder(element.Length);
            foreach (char c in element)
            {
                if (IsForbidden(c))
                    sb.Append('_');
                else
                    sb.Append(c);
            }

            // Trailing dots and spaces vanish on Windows: "a." and "a" would be the same file.
            int end = sb.Length;
            while (end > 0 && (sb[end - 1] == '.' || sb[end - 1] == ' ')) end--;
            sb.Length = end;
            if (sb.Length == 0) return "_";

            string result = sb.ToString();
            int dot = result.IndexOf('.');
            string stem = dot < 0 ? result : result.Substring(0, dot);
            if (ReservedNames.Contains(stem.TrimEnd(' '))) result = "_" + result;

            return TruncateUtf8(result);
        }

        /// <summary>True for the common element that no rule changes, decided without allocating (a torrent of 10 000
        /// files has 20 000 of them to check): no forbidden character, no trailing dot or space, short enough that its
        /// UTF-8 cannot exceed the limit (at most 3 bytes per UTF-16 unit), and not possibly a device name (those
        /// start with one of A, C, L, N, P).</summary>
        private static bool IsAlreadySafe(string element)
        {
            if (element.Length * 3 > MaxElementBytes) return false;
            foreach (char c in element)
                if (IsForbidden(c)) return false;
            char last = element[element.Length - 1];
            if (last == '.' || last == ' ') return false;
            switch (char.ToUpperInvariant(element[0]))
            {
                case 'A': case 'C': case 'L': case 'N': case 'P': return false;
                default: return true;
            }
        }

        /// <summary>Control characters, and the characters Windows forbids in names (or that separate them).</summary>
        private static bool IsForbidden(char c) =>
            c < 32 || c == 127 || c == '<' || c == '>' || c == ':' || c == '"' || c == '/' || c == '\\' || c == '|' || c == '?' || c == '*';

        /// <summary>Sanitizes a list of elements; never returns an empty list.</summary>
        public static List<string> SanitizeElements(IEnumerable<string> elements)
        {
            var list = new List<string>();
            foreach (var e in elements)
            {
                var s = SanitizeElement(e);
                if (s is not null) list.Add(s);
            }
            if (list.Count == 0) list.Add("_");
            return list;
        }

        private static string TruncateUtf8(string s)
        {
            if (Encoding.UTF8.GetByteCount(s) <= MaxElementBytes) return s;
            int dot = s.LastIndexOf('.');
            string ext = dot > 0 && s.Length - dot <= 16 ? s.Substring(dot) : string.Empty;
            string stem = ext.Length > 0 ? s.Substring(0, dot) : s;
            int budget = MaxElementBytes - Encoding.UTF8.GetByteCount(ext);
            var sb = new StringBuilder();
            int used = 0;
            var e = StringInfo.GetTextElementEnumerator(stem);
            while (e.MoveNext())
            {
                string te = e.GetTextElement();
                int n = Encoding.UTF8.GetByteCount(te);
                if (used + n > budget) break;
                sb.Append(te);
                used += n;
            }
            return sb.ToString().TrimEnd('.', ' ') + ext;
        }
    }
}
