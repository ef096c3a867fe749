using System;
using System.IO;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.Storage
{
    /// <summary>Which pieces of a download were verified and written, saved beside the data
    /// (<c>&lt;destination&gt;/.bittorrent/&lt;info-hash&gt;.resume</c>, bencoded) so a restart re-uses them without
    /// re-hashing everything. Saved only after the data it describes has been flushed, and atomically (temp file +
    /// rename), so it never claims a piece that is not on disk. On load, each claimed piece is still checked to be
    /// backed by files long enough to hold it; pieces not claimed but present on disk are hash-checked.</summary>
    public static class ResumeRecord
    {
        public const string FolderName = ".bittorrent";
        private const int Version = 1;

        public static string PathFor(string destination, TorrentInfo torrent) =>
            Path.Combine(Path.GetFullPath(destination), FolderName, torrent.InfoHash + ".resume");

        public static void Save(string destination, TorrentInfo torrent, Bitfield verified)
        {
            var path = PathFor(destination, torrent);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var dict = new BDictionary();
            dict.Set("version", new BInteger(Version));
            dict.Set("info-hash", new BString(torrent.InfoHashBytes));
            dict.Set("piece-count", new BInteger(torrent.PieceCount));
            dict.Set("pieces", new BString(verified.ToArray()));
            dict.Set("saved", new BInteger(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            var bytes = BencodeEncoder.Encode(dict);
            var temp = path + ".tmp";
            using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes, 0, bytes.Length);
                fs.Flush(true);
            }
            if (File.Exists(path)) File.Delete(path);
            File.Move(temp, path);
        }

        /// <summary>The verified pieces a record claims, or null when there is no usable record (missing, corrupt,
        /// another torrent's, or another piece count).</summary>
        public static Bitfield? TryLoad(string destination, TorrentInfo torrent)
        {
            var path = PathFor(destination, torrent);
            try
            {
                if (!File.Exists(path)) return null;
                var info = new FileInfo(path);
                if (info.Length > 1 + torrent.PieceCount / 8 + 4096) return null;
                var root = BencodeDecoder.Decode(File.ReadAllBytes(path)) as BDictionary;
                if (root is null) return null;
                if (!(root["version"] is BInteger v) || v.Value != Version) return null;
                if (!(root["info-hash"] is BString ih) || !ih.Span.SequenceEqual(torrent.InfoHashBytes)) return null;
                if (!(root["piece-count"] is BInteger pc) || pc.Value != torrent.PieceCount) return null;
                if (!(root["pieces"] is BString bits)) return null;
                return Bitfield.FromWire(bits.Span, torrent.PieceCount);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is BencodeException || ex is PeerProtocolException)
            {
                return null;
            }
        }

        public static void Delete(string destination, TorrentInfo torrent)
        {
            var path = PathFor(destination, torrent);
            if (File.Exists(path)) File.Delete(path);
        }
    }
}
