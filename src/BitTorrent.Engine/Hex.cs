using System;

namespace BitTorrent
{
    /// <summary>Lower-case hex, the form info-hashes are shown and compared in.</summary>
    public static class Hex
    {
        public static string ToLower(ReadOnlySpan<byte> bytes)
        {
            const string digits = "0123456789abcdef";
            var chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = digits[bytes[i] >> 4];
                chars[2 * i + 1] = digits[bytes[i] & 0xF];
            }
            return new string(chars);
        }

        public static bool TryParse(string? text, out byte[] bytes)
        {
            bytes = Array.Empty<byte>();
            if (text is null || text.Length % 2 != 0) return false;
            var result = new byte[text.Length / 2];
            for (int i = 0; i < result.Length; i++)
            {
                int hi = Nibble(text[2 * i]), lo = Nibble(text[2 * i + 1]);
                if (hi < 0 || lo < 0) return false;
                result[i] = (byte)((hi << 4) | lo);
            }
            bytes = result;
            return true;
        }

        private static int Nibble(char c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
