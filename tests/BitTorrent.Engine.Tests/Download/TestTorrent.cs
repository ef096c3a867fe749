using System.Security.Cryptography;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;

namespace BitTorrent.Tests.Download
{
    /// <summary>A torrent built in memory from given file contents (the bytes a real creator would hash), so storage and
    /// resume tests can compare what lands on disk with what was meant to.</summary>
    internal sealed class TestTorrent
    {
        public TorrentInfo Info { get; }
        /// <summary>The whole payload, files concatenated in torrent order.</summary>
        public byte[] Payload { get; }

        private TestTorrent(TorrentInfo info, byte[] payload)
        {
            Info = info;
            Payload = payload;
        }

        /// <param name="files">Path inside the torrent ('/'-separated) and length; a single entry without '/' and
        /// <paramref name="multi"/> false makes a single-file torrent.</param>
        public static TestTorrent Create(string name, int pieceLength, (string Path, int Length)[] files, bool multi = true, int seed = 1, bool isPrivate = false)
        {
            var random = new Random(seed);
            long total = files.Sum(f => (long)f.Length);
            var payload = new byte[total];
            random.NextBytes(payload);

            var pieces = new MemoryStream();
            for (long offset = 0; offset < total; offset += pieceLength)
            {
                int length = (int)Math.Min(pieceLength, total - offset);
                pieces.Write(SHA1.HashData(payload.AsSpan((int)offset, length)));
            }

            var info = new BDictionary();
            info.Set("name", new BString(name));
            info.Set("piece length", new BInteger(pieceLength));
            info.Set("pieces", new BString(pieces.ToArray()));
            if (multi)
            {
                var list = new BList();
                foreach (var (path, length) in files)
                {
                    var entry = new BDictionary();
                    entry.Set("length", new BInteger(length));
                    entry.Set("path", new BList(path.Split('/').Select(s => (BValue)new BString(s))));
                    list.Add(entry);
                }
                info.Set("files", list);
            }
            else
            {
                info.Set("length", new BInteger(total));
            }
            if (isPrivate) info.Set("private", new BInteger(1));
            var root = new BDictionary();
            root.Set("info", info);
            return new TestTorrent(TorrentParser.Parse(BencodeEncoder.Encode(root)), payload);
        }

        public byte[] Piece(int index)
        {
            long start = (long)index * Info.PieceLength;
            return Payload.AsSpan((int)start, Info.GetPieceLength(index)).ToArray();
        }

        public byte[] FileBytes(int file)
        {
            var f = Info.Files[file];
            return Payload.AsSpan((int)f.Offset, (int)f.Length).ToArray();
        }
    }
}
