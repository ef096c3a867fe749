using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace BitTorrent.Metainfo
{
    public sealed partial class MagnetUri
    {
        /// <summary>The link as text, always in one order: <c>xt</c> (btih, then btmh), <c>dn</c>, <c>xl</c>,
        /// <c>tr</c>…, <c>ws</c>…, <c>x.pe</c>…, <c>so</c>. Names and URLs are percent-encoded (RFC 3986 unreserved
        /// characters stay); <c>x.pe</c> is written as libtorrent writes and reads it, unescaped.</summary>
        public override string ToString()
        {
            var sb = new StringBuilder("magnet:?");
            bool first = true;
            if (InfoHash is not null) Append(sb, ref first, "xt", "urn:btih:" + InfoHash, escape: false);
            if (InfoHashV2 is not null) Append(sb, ref first, "xt", "urn:btmh:1220" + InfoHashV2, escape: false);
            if (Name is not null) Append(sb, ref first, "dn", Name, escape: true);
            if (ExactLength is long xl) Append(sb, ref first, "xl", xl.ToString(CultureInfo.InvariantCulture), escape: false);
            foreach (var tracker in Trackers) Append(sb, ref first, "tr", tracker, escape: true);
            foreach (var seed in WebSeeds) Append(sb, ref first, "ws", seed, escape: true);
            foreach (var peer in Peers) Append(sb, ref first, "x.pe", peer.ToString(), escape: false);
            if (SelectedFiles is { Count: > 0 }) Append(sb, ref first, "so", FormatSelection(SelectedFiles), escape: false);
            return sb.ToString();
        }

        private static void Append(StringBuilder sb, ref bool first, string name, string value, bool escape)
        {
            if (!first) sb.Append('&');
            first = false;
            sb.Append(name).Append('=').Append(escape ? Uri.EscapeDataString(value) : value);
        }

        /// <summary>Ascending indices as BEP 53 writes them: runs of three or more as "first-last".</summary>
        private static string FormatSelection(IReadOnlyList<int> indices)
        {
            var sb = new StringBuilder();
            int i = 0;
            while (i < indices.Count)
            {
                int j = i;
                while (j + 1 < indices.Count && indices[j + 1] == indices[j] + 1) j++;
                if (sb.Length > 0) sb.Append(',');
                sb.Append(indices[i].ToString(CultureInfo.InvariantCulture));
                if (j - i >= 2) sb.Append('-').Append(indices[j].ToString(CultureInfo.InvariantCulture));
                else if (j == i + 1) sb.Append(',').Append(indices[j].ToString(CultureInfo.InvariantCulture));
                i = j + 1;
            }
            return sb.ToString();
        }
    }

    /// <summary>RFC 4648 base32 (A–Z, 2–7, either case, no padding): the other spelling of a btih info-hash.</summary>
    internal static class Base32
    {
        public static bool TryDecode(string text, out byte[] bytes)
        {
            bytes = Array.Empty<byte>();
            if (text.Length * 5 % 8 != 0) return false;
            var result = new byte[text.Length * 5 / 8];
            int buffer = 0, bits = 0, index = 0;
            foreach (char c in text)
            {
                int value = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' : c >= '2' && c <= '7' ? c - '2' + 26 : -1;
                if (value < 0) return false;
                buffer = (buffer << 5) | value;
                bits += 5;
                if (bits >= 8)
                {
                    bits -= 8;
                    result[index++] = (byte)(buffer >> bits);
                    buffer &= (1 << bits) - 1;
                }
            }
            bytes = result;
            return true;
        }

        public static string Encode(ReadOnlySpan<byte> bytes)
        {
            const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            var sb = new StringBuilder((bytes.Length * 8 + 4) / 5);
            int buffer = 0, bits = 0;
            foreach (byte b in bytes)
            {
                buffer = (buffer << 8) | b;
                bits += 8;
                while (bits >= 5)
                {
                    bits -= 5;
                    sb.Append(alphabet[(buffer >> bits) & 31]);
                }
                buffer &= (1 << bits) - 1;
            }
            if (bits > 0) sb.Append(alphabet[(buffer << (5 - bits)) & 31]);
            return sb.ToString();
        }
    }

    /// <summary>Percent-decoding of a query value into UTF-8 text, refusing a '%' without two hex digits and byte
    /// sequences that are not UTF-8 (Uri.UnescapeDataString would pass both through unchanged).</summary>
    internal static class PercentEncoding
    {
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        public static bool TryDecode(string raw, bool plusIsSpace, out string text)
        {
            text = raw;
            if (raw.IndexOf('%') < 0 && (!plusIsSpace || raw.IndexOf('+') < 0)) return true;
            var bytes = new List<byte>(raw.Length);
            var one = new char[1];
            var encoded = new byte[4];
            for (int i = 0; i < raw.Length; i++)
            {
                char c = raw[i];
                if (c == '%')
                {
                    if (i + 2 >= raw.Length) return false;
                    int hi = Nibble(raw[i + 1]), lo = Nibble(raw[i + 2]);
                    if (hi < 0 || lo < 0) return false;
                    bytes.Add((byte)((hi << 4) | lo));
                    i += 2;
                }
                else if (c == '+' && plusIsSpace) bytes.Add((byte)' ');
                else if (c < 0x80) bytes.Add((byte)c);
                else
                {
                    // Raw non-ASCII text (a link pasted from a browser's address bar): kept as its UTF-8 bytes.
                    int count = char.IsHighSurrogate(c) && i + 1 < raw.Length
                        ? StrictUtf8Bytes(raw, i, 2, encoded) : StrictUtf8Bytes(raw, i, 1, encoded);
                    if (count < 0) return false;
                    for (int k = 0; k < count; k++) bytes.Add(encoded[k]);
                    if (char.IsHighSurrogate(c)) i++;
                }
            }
            try
            {
                text = StrictUtf8.GetString(bytes.ToArray());
                return true;
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
        }

        private static int StrictUtf8Bytes(string raw, int index, int length, byte[] output)
        {
            try
            {
                return StrictUtf8.GetBytes(raw, index, length, output, 0);
            }
            catch (EncoderFallbackException)
            {
                return -1;
            }
        }

        private static int Nibble(char c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
