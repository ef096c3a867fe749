using System;
using System.Collections.Generic;

namespace BitTorrent.Creation
{
    /// <summary>Orders strings by Unicode code point, which is the byte order of their UTF-8 forms: the order
    /// mktorrent's strcmp gives file paths. Plain ordinal comparison of .NET strings compares UTF-16 code units and
    /// would put characters above U+FFFF (surrogate pairs) before U+E000–U+FFFF.</summary>
    public sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new CodePointComparer();

        private CodePointComparer() { }

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            int n = Math.Min(x.Length, y.Length);
            for (int i = 0; i < n; i++)
            {
                char a = x[i], b = y[i];
                if (a == b) continue;
                return Fix(a) - Fix(b);
            }
            return x.Length - y.Length;
        }

        /// <summary>Moves surrogates (0xD800–0xDFFF) above 0xFFFF's place and 0xE000–0xFFFF down into the gap, so
        /// code-unit order becomes code-point order.</summary>
        private static int Fix(char c)
        {
            if (c >= 0xE000) return c;
            if (c >= 0xD800) return c + 0x2000;
            return c;
        }
    }
}
