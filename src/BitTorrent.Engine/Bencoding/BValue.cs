using System;
using System.Collections;
using System.Collections.Generic;
using System.Text;

namespace BitTorrent.Bencoding
{
    /// <summary>A decoded bencode value. Every node remembers the byte range it came from, so callers can hash
    /// the exact bytes (the info-hash is the SHA-1 of the raw <c>info</c> dictionary, not of a re-encoding).</summary>
    public abstract class BValue
    {
        /// <summary>Offset of the first byte of this value in the decoded input (-1 for values built in code).</summary>
        public long SourceOffset { get; internal set; } = -1;

        /// <summary>Length in bytes of this value's encoding in the decoded input (0 for values built in code).</summary>
        public long SourceLength { get; internal set; }
    }

    /// <summary>A bencoded integer (<c>i42e</c>), always a signed 64-bit number.</summary>
    public sealed class BInteger : BValue
    {
        public BInteger(long value) => Value = value;
        public long Value { get; }
        public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A bencoded byte string. Bytes are kept as given; <see cref="Text"/> is a UTF-8 view when valid.</summary>
    public sealed class BString : BValue, IEquatable<BString>, IComparable<BString>
    {
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);
        private readonly byte[] _bytes;

        public BString(byte[] bytes) => _bytes = bytes ?? throw new ArgumentNullException(nameof(bytes));
        public BString(string text) : this(Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text)))) { }

        /// <summary>The raw bytes. Do not modify: the array is shared.</summary>
        public byte[] Bytes => _bytes;
        public ReadOnlySpan<byte> Span => _bytes;
        public int Length => _bytes.Length;

        /// <summary>True when the bytes are well-formed UTF-8.</summary>
        public bool IsUtf8 => TryGetText(out _);

        /// <summary>The text if the bytes are valid UTF-8, else null.</summary>
        public string? Text => TryGetText(out var t) ? t : null;

        public bool TryGetText(out string text)
        {
            try { text = StrictUtf8.GetString(_bytes); return true; }
            catch (DecoderFallbackException) { text = string.Empty; return false; }
        }

        /// <summary>Text for display: UTF-8 when valid, otherwise Latin-1 so no byte is lost or replaced silently.</summary>
        public string ToDisplayString() => TryGetText(out var t) ? t : Latin1(_bytes);

        private static string Latin1(byte[] b)
        {
            var chars = new char[b.Length];
            for (int i = 0; i < b.Length; i++) chars[i] = (char)b[i];
            return new string(chars);
        }

        /// <summary>The hash is FNV-1a with a random start value and each byte replaced by a random 32-bit word,
        /// both drawn once per process. With plain FNV-1a, keys sharing one hash are cheap to build (chained 6-byte
        /// internal collisions: 2^17 keys in seconds) and every dictionary insert then scans all the others: a 10 MB
        /// .torrent of such keys took 38 s of CPU to reject. Collisions depend on the start value and on the words,
        /// which a sender cannot know.</summary>
        private static readonly int HashSeed;
        private static readonly int[] ByteWords = new int[256];

        static BString()
        {
            var bytes = new byte[4 * 257];
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            for (int i = 0; i < 256; i++) ByteWords[i] = BitConverter.ToInt32(bytes, 4 * i);
            HashSeed = BitConverter.ToInt32(bytes, 4 * 256);
        }

        public bool Equals(BString? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

        /// <summary>True when the bytes are exactly <paramref name="ascii"/>, a string of characters below 128.</summary>
        internal bool EqualsAscii(string ascii)
        {
            if (_bytes.Length != ascii.Length) return false;
            for (int i = 0; i < _bytes.Length; i++)
                if (_bytes[i] != ascii[i]) return false;
            return true;
        }

        internal static bool IsAscii(string s)
        {
            foreach (char c in s)
                if (c >= 128) return false;
            return true;
        }
        public override bool Equals(object? obj) => obj is BString s && Equals(s);
        public override int GetHashCode()
        {
            unchecked
            {
                int h = HashSeed;
                foreach (var b in _bytes) h = (h ^ ByteWords[b]) * 16777619;
                return h;
            }
        }

        /// <summary>Raw byte order, the order bencode requires for dictionary keys.</summary>
        public int CompareTo(BString? other) => other is null ? 1 : _bytes.AsSpan().SequenceCompareTo(other._bytes);

        public override string ToString() => ToDisplayString();
        public static implicit operator BString(string s) => new BString(s);
    }

    /// <summary>A bencoded list.</summary>
    public sealed class BList : BValue, IReadOnlyList<BValue>
    {
        private readonly List<BValue> _items;
        public BList() => _items = new List<BValue>();
        public BList(IEnumerable<BValue> items) => _items = new List<BValue>(items);
        public BValue this[int index] => _items[index];
        public int Count => _items.Count;
        public void Add(BValue value) => _items.Add(value ?? throw new ArgumentNullException(nameof(value)));
        public IEnumerator<BValue> GetEnumerator() => _items.GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
    }

    /// <summary>A bencoded dictionary. Keys keep the order they had in the input (so a non-canonical file is
    /// represented faithfully); the encoder always writes them sorted.
    /// <para>Most dictionaries in a torrent are small (a file entry has two or three keys, and a 10 000-file torrent has
    /// 10 000 of them), so keys are found by a linear scan and the hash index is built only once a dictionary outgrows
    /// <see cref="LinearLimit"/> keys: a hash table per file entry made up most of what parsing such a torrent
    /// allocated. Looking a key up by its (ASCII) name allocates nothing.</para></summary>
    public sealed class BDictionary : BValue, IEnumerable<KeyValuePair<BString, BValue>>
    {
        /// <summary>Keys scanned linearly; a larger dictionary gets a hash index (hostile dictionaries of a million
        /// keys stay linear-time to build).</summary>
        internal const int LinearLimit = 8;

        private readonly List<KeyValuePair<BString, BValue>> _entries = new List<KeyValuePair<BString, BValue>>();
        private Dictionary<BString, BValue>? _index;

        /// <summary>True if the input listed keys out of raw-byte order (allowed by lenient readers, not canonical).</summary>
        public bool HadUnsortedKeys { get; internal set; }

        public int Count => _entries.Count;
        public IEnumerable<BString> Keys { get { foreach (var e in _entries) yield return e.Key; } }

        /// <summary>Adds or replaces a key.</summary>
        public void Set(BString key, BValue value)
        {
            if (key is null) throw new ArgumentNullException(nameof(key));
            if (value is null) throw new ArgumentNullException(nameof(value));
            if (Find(key) is null)
            {
                Append(key, value);
                return;
            }
            int i = _entries.FindIndex(e => e.Key.Equals(key));
            _entries[i] = new KeyValuePair<BString, BValue>(key, value);
            if (_index is not null) _index[key] = value;
        }

        /// <summary>Adds a key read from input; returns false if it is already present.</summary>
        internal bool TryAddDecoded(BString key, BValue value)
        {
            if (Find(key) is not null) return false;
            Append(key, value);
            return true;
        }

        public bool ContainsKey(string key) => Find(key) is not null;
        public BValue? this[string key] => Find(key);
        public BValue? this[BString key] => Find(key);

        public bool TryGetValue(string key, out BValue value)
        {
            value = Find(key)!;
            return value is not null;
        }

        public T? Get<T>(string key) where T : BValue => Find(key) as T;

        public IEnumerator<KeyValuePair<BString, BValue>> GetEnumerator() => _entries.GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

        private void Append(BString key, BValue value)
        {
            _entries.Add(new KeyValuePair<BString, BValue>(key, value));
            if (_index is not null)
            {
                _index.Add(key, value);
            }
            else if (_entries.Count > LinearLimit)
            {
                _index = new Dictionary<BString, BValue>(_entries.Count * 2);
                foreach (var e in _entries) _index.Add(e.Key, e.Value);
            }
        }

        private BValue? Find(BString key)
        {
            if (_index is not null) return _index.TryGetValue(key, out var v) ? v : null;
            foreach (var e in _entries)
                if (e.Key.Equals(key)) return e.Value;
            return null;
        }

        private BValue? Find(string key)
        {
            if (key is null) throw new ArgumentNullException(nameof(key));
            if (_index is not null || !BString.IsAscii(key)) return Find(new BString(key));
            foreach (var e in _entries)
                if (e.Key.EqualsAscii(key)) return e.Value;
            return null;
        }
    }
}
