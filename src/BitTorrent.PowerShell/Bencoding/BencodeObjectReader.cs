using System.Collections.Specialized;
using BitTorrent.Bencoding;

namespace BitTorrent.PowerShell.Bencoding
{
    /// <summary>Turns a decoded bencode tree into the objects ConvertFrom-Bencode emits: dictionaries become
    /// <see cref="OrderedDictionary"/> (keys in file order, compared case-sensitively like the bytes they are),
    /// lists become object[], integers long, byte strings <see cref="BencodeString"/>.</summary>
    internal static class BencodeObjectReader
    {
        /// <summary>Converts a decoded value. Recursion is safe here: the decoder has already refused anything
        /// nested deeper than <see cref="BencodeLimits.MaxDepth"/> levels.</summary>
        public static object ToObject(BValue value, out bool hadUnsortedKeys)
        {
            bool unsorted = false;
            var result = Convert(value, ref unsorted);
            hadUnsortedKeys = unsorted;
            return result;
        }

        private static object Convert(BValue value, ref bool unsorted)
        {
            switch (value)
            {
                case BInteger i:
                    return i.Value;
                case BString s:
                    // The decoder gave this node a fresh array and the tree is dropped after conversion.
                    return BencodeString.FromOwnedBytes(s.Bytes);
                case BList l:
                    var items = new object[l.Count];
                    for (int n = 0; n < items.Length; n++) items[n] = Convert(l[n], ref unsorted);
                    return items;
                default:
                    var d = (BDictionary)value;
                    unsorted |= d.HadUnsortedKeys;
                    var dict = new OrderedDictionary(d.Count);
                    foreach (var entry in d)
                    {
                        // A key that is UTF-8 text is a plain string, so $dict.info and $dict['piece length'] work.
                        // A binary key (a scrape reply is keyed by raw info-hashes) stays a BencodeString: no text
                        // form of it could be told apart from a real text key, and the bytes survive a round trip.
                        var key = BencodeString.FromOwnedBytes(entry.Key.Bytes);
                        dict.Add(key.IsText ? key.Text! : (object)key, Convert(entry.Value, ref unsorted));
                    }
                    return dict;
            }
        }
    }
}
