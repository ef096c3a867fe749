using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BitTorrent.Bencoding;

namespace BitTorrent.Metainfo
{
    /// <summary>Writes a <see cref="TorrentInfo"/> back as a .torrent file: <c>announce</c> (the first tracker),
    /// <c>announce-list</c> (the tiers, BEP 12), <c>comment</c>, <c>created by</c>, <c>creation date</c>,
    /// <c>url-list</c> (BEP 19) and the <c>info</c> dictionary copied byte for byte from
    /// <see cref="TorrentInfo.RawInfo"/>, so the file has the torrent's info-hash whatever the dictionary's key order.
    /// Used to keep metadata fetched for a magnet link, and for the cmdlet that turns a magnet into a .torrent.</summary>
    public static class TorrentWriter
    {
        public static byte[] ToBytes(TorrentInfo torrent)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            if (torrent.RawInfo.Length == 0) throw new ArgumentException("The torrent has no info dictionary bytes to write.", nameof(torrent));
            return Compose(torrent.RawInfo.Span, torrent.TrackerTiers, torrent.WebSeeds, torrent.CreatedBy, torrent.CreationDate, torrent.Comment);
        }

        /// <summary>The top-level dictionary around <paramref name="info"/>, keys in bencode's byte order; the info
        /// bytes are copied as they are (never re-encoded).</summary>
        internal static byte[] Compose(ReadOnlySpan<byte> info, IReadOnlyList<IReadOnlyList<string>> tiers, IReadOnlyList<string> webSeeds,
            string? createdBy, DateTimeOffset? creationDate, string? comment)
        {
            var usableTiers = tiers.Select(t => t.Where(u => !string.IsNullOrWhiteSpace(u)).ToList()).Where(t => t.Count > 0).ToList();
            // Keys in byte order: "announce" < "announce-list" < "comment" < "created by" < "creation date" < "info" < "url-list".
            var entries = new List<(string Key, BValue? Value)>();
            if (usableTiers.Count > 0)
            {
                entries.Add(("announce", new BString(usableTiers[0][0])));
                var list = new BList();
                foreach (var tier in usableTiers)
                {
                    var t = new BList();
                    foreach (var url in tier) t.Add(new BString(url));
                    list.Add(t);
                }
                entries.Add(("announce-list", list));
            }
            if (!string.IsNullOrEmpty(comment)) entries.Add(("comment", new BString(comment!)));
            if (!string.IsNullOrEmpty(createdBy)) entries.Add(("created by", new BString(createdBy!)));
            if (creationDate is DateTimeOffset created) entries.Add(("creation date", new BInteger(created.ToUnixTimeSeconds())));
            entries.Add(("info", null));
            var seeds = webSeeds.Where(u => !string.IsNullOrWhiteSpace(u)).ToList();
            if (seeds.Count > 0)
            {
                var list = new BList();
                foreach (var url in seeds) list.Add(new BString(url));
                entries.Add(("url-list", list));
            }

            using var output = new MemoryStream(info.Length + 1024);
            output.WriteByte((byte)'d');
            foreach (var (key, value) in entries)
            {
                BencodeEncoder.Encode(new BString(key), output);
                if (value is null)
                {
                    var raw = info.ToArray();
                    output.Write(raw, 0, raw.Length);
                }
                else BencodeEncoder.Encode(value, output);
            }
            output.WriteByte((byte)'e');
            return output.ToArray();
        }
    }
}
