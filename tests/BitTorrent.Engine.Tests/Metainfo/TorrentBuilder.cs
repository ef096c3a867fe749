using System.Security.Cryptography;
using BitTorrent.Bencoding;

namespace BitTorrent.Tests.Metainfo;

/// <summary>Builds real .torrent bytes from real content: the piece hashes are the SHA-1 of the content, so a parsed
/// torrent can be checked against the data it describes. Tests change the dictionaries before encoding to make
/// them malformed.</summary>
internal sealed class TorrentBuilder
{
    public TorrentBuilder(string name, int pieceLength = 16384)
    {
        Name = name;
        PieceLength = pieceLength;
    }

    public string Name { get; }
    public int PieceLength { get; }

    /// <summary>Files of a multi-file torrent, in order; when empty the torrent is single-file with <see cref="SingleFileContent"/>.</summary>
    public List<(string[] Path, byte[] Content, string? Attr)> Files { get; } = new();

    public byte[] SingleFileContent { get; set; } = Array.Empty<byte>();

    public TorrentBuilder AddFile(byte[] content, params string[] path)
    {
        Files.Add((path, content, null));
        return this;
    }

    public TorrentBuilder AddPadding(int length)
    {
        Files.Add((new[] { ".pad", length.ToString() }, new byte[length], "p"));
        return this;
    }

    /// <summary>The concatenated content: what the piece hashes cover.</summary>
    public byte[] Payload => Files.Count == 0 ? SingleFileContent : Files.SelectMany(f => f.Content).ToArray();

    public byte[] PieceHashes()
    {
        var payload = Payload;
        using var ms = new MemoryStream();
        for (int offset = 0; offset < payload.Length; offset += PieceLength)
            ms.Write(SHA1.HashData(payload.AsSpan(offset, Math.Min(PieceLength, payload.Length - offset))));
        return ms.ToArray();
    }

    public BDictionary Info()
    {
        var info = new BDictionary();
        info.Set("name", new BString(Name));
        info.Set("piece length", new BInteger(PieceLength));
        info.Set("pieces", new BString(PieceHashes()));
        if (Files.Count == 0)
        {
            info.Set("length", new BInteger(SingleFileContent.Length));
        }
        else
        {
            var list = new BList();
            foreach (var (path, content, attr) in Files)
            {
                var entry = new BDictionary();
                entry.Set("length", new BInteger(content.Length));
                entry.Set("path", new BList(path.Select(p => (BValue)new BString(p))));
                if (attr is not null) entry.Set("attr", new BString(attr));
                list.Add(entry);
            }
            info.Set("files", list);
        }
        return info;
    }

    /// <summary>Encodes the torrent; <paramref name="editInfo"/> may change the info dictionary (or return a
    /// different one), <paramref name="editRoot"/> the top-level dictionary.</summary>
    public byte[] Build(Action<BDictionary>? editRoot = null, Func<BDictionary, BValue>? editInfo = null)
    {
        var info = Info();
        var root = new BDictionary();
        root.Set("info", editInfo is null ? info : editInfo(info));
        editRoot?.Invoke(root);
        return BencodeEncoder.Encode(root);
    }

    /// <summary>A copy of <paramref name="dict"/> without <paramref name="keys"/>.</summary>
    public static BDictionary Without(BDictionary dict, params string[] keys)
    {
        var copy = new BDictionary();
        foreach (var entry in dict)
            if (!keys.Contains(entry.Key.Text)) copy.Set(entry.Key, entry.Value);
        return copy;
    }

    public static Func<BDictionary, BValue> Set(string key, BValue value) => info => { info.Set(key, value); return info; };

    public static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static BList Strings(params string[] values) => new(values.Select(v => (BValue)new BString(v)));
}
