using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace BitTorrent.Bencoding
{
    /// <summary>Canonical bencode encoder: dictionary keys sorted by raw bytes, no duplicates, shortest integers.
    /// Iterative like the decoder, so a deep value built in code cannot overflow the stack either.</summary>
    public static class BencodeEncoder
    {
        public static byte[] Encode(BValue value)
        {
            using var ms = new MemoryStream();
            Encode(value, ms);
            return ms.ToArray();
        }

        public static void Encode(BValue value, Stream output)
        {
            if (value is null) throw new ArgumentNullException(nameof(value));
            if (output is null) throw new ArgumentNullException(nameof(output));

            // Work items: a value to write, or a literal 'e' closing a container.
            var work = new Stack<object>();
            work.Push(value);
            while (work.Count > 0)
            {
                var item = work.Pop();
                switch (item)
                {
                    case Terminator _:
                        output.WriteByte((byte)'e');
                        break;
                    case BInteger i:
                        WriteAscii(output, "i" + i.Value.ToString(CultureInfo.InvariantCulture) + "e");
                        break;
                    case BString s:
                        WriteString(output, s.Span);
                        break;
                    case BList l:
                        output.WriteByte((byte)'l');
                        work.Push(Terminator.Instance);
                        for (int n = l.Count - 1; n >= 0; n--) work.Push(l[n]);
                        break;
                    case BDictionary d:
                        output.WriteByte((byte)'d');
                        work.Push(Terminator.Instance);
                        var entries = new List<KeyValuePair<BString, BValue>>(d);
                        entries.Sort((a, b) => a.Key.CompareTo(b.Key));
                        for (int n = entries.Count - 1; n >= 0; n--)
                        {
                            work.Push(entries[n].Value);
                            work.Push(entries[n].Key);
                        }
                        break;
                    default:
                        throw new ArgumentException($"Cannot bencode a value of type {item.GetType().FullName}.");
                }
            }
        }

        private static void WriteString(Stream output, ReadOnlySpan<byte> bytes)
        {
            WriteAscii(output, bytes.Length.ToString(CultureInfo.InvariantCulture) + ":");
            var buffer = bytes.ToArray();
            output.Write(buffer, 0, buffer.Length);
        }

        private static void WriteAscii(Stream output, string s)
        {
            var b = Encoding.ASCII.GetBytes(s);
            output.Write(b, 0, b.Length);
        }

        private sealed class Terminator
        {
            public static readonly Terminator Instance = new Terminator();
        }
    }
}
