using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text;
using BitTorrent.Bencoding;

namespace BitTorrent.PowerShell.Bencoding
{
    /// <summary>Turns PowerShell objects into a bencode tree for ConvertTo-Bencode. Accepted: dictionaries
    /// (IDictionary, PSCustomObject), lists (any other IEnumerable), integers (any integral type, or a floating or
    /// decimal number with no fraction, within 64 bits), strings (written as UTF-8), byte[] and
    /// <see cref="BencodeString"/> (written as the exact bytes). Anything else, null and bool included, is refused
    /// with a <see cref="BencodeValueException"/> that says where the value is.</summary>
    internal sealed class BencodeObjectWriter
    {
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);
        private readonly int _maxDepth;
        private readonly int _maxValues;
        private int _values;

        public BencodeObjectWriter(int maxDepth, int maxValues)
        {
            _maxDepth = maxDepth;
            _maxValues = maxValues;
        }

        /// <summary>Converts one object. Recursion is bounded by the depth limit, which also stops self-referencing
        /// objects (a hashtable that contains itself) with an error instead of a stack overflow.</summary>
        public BValue Convert(object? value) => Convert(value, string.Empty, 0);

        private BValue Convert(object? value, string location, int depth)
        {
            if (++_values > _maxValues)
                throw new BencodeValueException(location, $"the input has more than {_maxValues} values");

            if (value is PSObject pso)
            {
                if (pso.BaseObject is PSCustomObject) return FromProperties(pso, location, depth);
                value = pso.BaseObject;
            }

            switch (value)
            {
                case null:
                    throw new BencodeValueException(location, "null cannot be bencoded (bencode has no null); leave the key or item out");
                case BencodeString bs:
                    return new BString(bs.RawBytes);
                case byte[] bytes:
                    return new BString(bytes);
                case string s:
                    return new BString(Utf8(s, location));
                case char c:
                    return new BString(Utf8(c.ToString(), location));
                case bool _:
                    throw new BencodeValueException(location, "a Boolean cannot be bencoded (bencode has no true/false); use an integer such as 1 or 0");
                case IDictionary dictionary:
                    return FromDictionary(dictionary, location, depth);
                case IEnumerable enumerable:
                    return FromList(enumerable, location, depth);
            }

            if (TryGetInteger(value, out long integer)) return new BInteger(integer);
            if (IsNumber(value))
                throw new BencodeValueException(location, $"the number {System.Convert.ToString(value, CultureInfo.InvariantCulture)} is not an integer that fits in 64 bits");
            throw new BencodeValueException(location,
                $"a value of type {value.GetType().FullName} cannot be bencoded; use a hashtable, array, integer, string or byte[]");
        }

        private BDictionary FromDictionary(IDictionary dictionary, string location, int depth)
        {
            var result = EnterContainer<BDictionary>(location, depth);
            foreach (DictionaryEntry entry in dictionary)
            {
                var key = KeyBytes(entry.Key, location);
                string keyText = DisplayKey(key);
                Add(result, key, Convert(entry.Value, Join(location, keyText), depth + 1), location, keyText);
            }
            return result;
        }

        private BDictionary FromProperties(PSObject obj, string location, int depth)
        {
            var result = EnterContainer<BDictionary>(location, depth);
            foreach (var property in obj.Properties)
            {
                var key = new BString(Utf8(property.Name, location));
                object? propertyValue;
                try { propertyValue = property.Value; }
                catch (Exception ex) when (ex is GetValueException || ex is ExtendedTypeSystemException)
                {
                    throw new BencodeValueException(Join(location, property.Name), "the property could not be read: " + ex.Message);
                }
                Add(result, key, Convert(propertyValue, Join(location, property.Name), depth + 1), location, property.Name);
            }
            return result;
        }

        private BList FromList(IEnumerable items, string location, int depth)
        {
            var result = EnterContainer<BList>(location, depth);
            int index = 0;
            foreach (var item in items)
            {
                result.Add(Convert(item, location + "[" + index.ToString(CultureInfo.InvariantCulture) + "]", depth + 1));
                index++;
            }
            return result;
        }

        private T EnterContainer<T>(string location, int depth) where T : BValue, new()
        {
            if (depth >= _maxDepth)
                throw new BencodeValueException(location,
                    $"lists and dictionaries are nested deeper than {_maxDepth} levels (is an object contained in itself?)");
            return new T();
        }

        private static void Add(BDictionary dictionary, BString key, BValue value, string location, string keyText)
        {
            // Two different keys can become the same bytes (a string and a byte[] with its UTF-8 bytes, or two
            // keys of a case-sensitive dictionary that another reader would merge): never drop one silently.
            if (dictionary[key] is not null)
                throw new BencodeValueException(location, $"the key '{keyText}' occurs twice once converted to bytes");
            dictionary.Set(key, value);
        }

        private static BString KeyBytes(object? key, string location)
        {
            if (key is PSObject pso) key = pso.BaseObject;
            return key switch
            {
                string s => new BString(Utf8(s, location)),
                char c => new BString(Utf8(c.ToString(), location)),
                BencodeString bs => new BString(bs.RawBytes),
                byte[] b => new BString(b),
                null => throw new BencodeValueException(location, "a dictionary key is null"),
                _ => throw new BencodeValueException(location,
                    $"a dictionary key of type {key.GetType().FullName} cannot be bencoded; keys are strings or byte strings"),
            };
        }

        private static string DisplayKey(BString key) => key.Text ?? BitTorrent.Hex.ToLower(key.Span);

        private static string Join(string location, string key) => location.Length == 0 ? key : location + "." + key;

        private static byte[] Utf8(string s, string location)
        {
            try { return StrictUtf8.GetBytes(s); }
            catch (EncoderFallbackException ex)
            {
                throw new BencodeValueException(location,
                    $"the string is not valid Unicode (an unpaired surrogate at index {ex.Index}), so it has no UTF-8 form");
            }
        }

        private static bool TryGetInteger(object value, out long result)
        {
            switch (value)
            {
                case long l: result = l; return true;
                case int i: result = i; return true;
                case short s: result = s; return true;
                case sbyte sb: result = sb; return true;
                case byte b: result = b; return true;
                case ushort us: result = us; return true;
                case uint ui: result = ui; return true;
                case ulong ul when ul <= long.MaxValue: result = (long)ul; return true;
                case BigInteger bi when bi >= long.MinValue && bi <= long.MaxValue: result = (long)bi; return true;
                case decimal m when decimal.Truncate(m) == m && m >= long.MinValue && m <= long.MaxValue: result = (long)m; return true;
                // 2^63 is exactly representable as a double, so '<' keeps long.MaxValue's neighbours out.
                case double d when Math.Floor(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0: result = (long)d; return true;
                case float f when Math.Floor(f) == f && f >= -9223372036854775808.0f && f < 9223372036854775808.0f: result = (long)f; return true;
                default: result = 0; return false;
            }
        }

        private static bool IsNumber(object value) =>
            value is ulong || value is BigInteger || value is decimal || value is double || value is float;
    }
}
