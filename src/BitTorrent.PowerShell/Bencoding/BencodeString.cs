using System;
using System.Text;

namespace BitTorrent.PowerShell.Bencoding
{
    /// <summary>A bencoded byte string as ConvertFrom-Bencode returns it. Bencode strings are bytes, not text: most
    /// are UTF-8 (names, URLs), some are binary (piece hashes, compact peer lists). This keeps the exact bytes, so
    /// ConvertTo-Bencode writes them back unchanged, and shows the text when the bytes are valid UTF-8.</summary>
    public sealed class BencodeString : IEquatable<BencodeString>, IComparable<BencodeString>, IComparable
    {
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);
        private readonly byte[] _bytes;
        private readonly string? _text;

        /// <summary>Wraps a copy of <paramref name="bytes"/>.</summary>
        public BencodeString(byte[] bytes)
        {
            if (bytes is null) throw new ArgumentNullException(nameof(bytes));
            _bytes = (byte[])bytes.Clone();
            _text = TryDecodeUtf8(_bytes);
        }

        /// <summary>The UTF-8 bytes of <paramref name="text"/>.</summary>
        public BencodeString(string text)
        {
            if (text is null) throw new ArgumentNullException(nameof(text));
            _bytes = Encoding.UTF8.GetBytes(text);
            // Decoded again rather than kept: a lone surrogate in the input has become U+FFFD in the bytes.
            _text = TryDecodeUtf8(_bytes);
        }

        private BencodeString(byte[] owned, string? text)
        {
            _bytes = owned;
            _text = text;
        }

        /// <summary>Takes ownership of an array nobody else holds (the decoder's fresh copies): no second copy.</summary>
        internal static BencodeString FromOwnedBytes(byte[] bytes) => new BencodeString(bytes, TryDecodeUtf8(bytes));

        private static string? TryDecodeUtf8(byte[] bytes)
        {
            try { return StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException) { return null; }
        }

        /// <summary>The text, when the bytes are well-formed UTF-8; otherwise null.</summary>
        public string? Text => _text;

        /// <summary>True when the bytes are well-formed UTF-8 (and <see cref="Text"/> is set).</summary>
        public bool IsText => _text is not null;

        /// <summary>A copy of the raw bytes.</summary>
        public byte[] Bytes => (byte[])_bytes.Clone();

        /// <summary>Number of bytes (not characters).</summary>
        public int Length => _bytes.Length;

        /// <summary>The bytes as lower-case hexadecimal (useful for binary values such as info-hashes and peer ids).</summary>
        public string Hex => BitTorrent.Hex.ToLower(_bytes);

        internal byte[] RawBytes => _bytes;

        /// <summary>The text when the bytes are valid UTF-8, else the bytes in lower-case hexadecimal.</summary>
        public override string ToString() => _text ?? Hex;

        public bool Equals(BencodeString? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

        /// <summary>Equal to another BencodeString with the same bytes. (PowerShell's -eq with a string on the right
        /// converts it to a BencodeString first, through the implicit conversion below, so <c>$s -eq 'name'</c> works.)</summary>
        public override bool Equals(object? obj) => obj is BencodeString s && Equals(s);

        public override int GetHashCode()
        {
            unchecked
            {
                int h = (int)2166136261;
                foreach (var b in _bytes) h = (h ^ b) * 16777619;
                return h;
            }
        }

        /// <summary>Raw byte order: the order of keys in a canonical bencoded dictionary.</summary>
        public int CompareTo(BencodeString? other) => other is null ? 1 : _bytes.AsSpan().SequenceCompareTo(other._bytes);

        int IComparable.CompareTo(object? obj) => obj switch
        {
            null => 1,
            BencodeString s => CompareTo(s),
            string t => CompareTo(new BencodeString(t)),
            _ => throw new ArgumentException("A BencodeString compares only with a BencodeString or a string.", nameof(obj)),
        };

        /// <summary>The UTF-8 bytes of a string.</summary>
        public static implicit operator BencodeString(string text) => new BencodeString(text);

        /// <summary>The given bytes.</summary>
        public static implicit operator BencodeString(byte[] bytes) => new BencodeString(bytes);
    }
}
