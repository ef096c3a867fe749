using System.Security.Cryptography;
using System.Text;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;

namespace BitTorrent.Tests.Storage;

/// <summary>A fresh folder under the system temp folder, deleted on dispose, with helpers to write test content.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bt-engine-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative.Replace('/', System.IO.Path.DirectorySeparatorChar));

    /// <summary>Writes deterministic pseudo-random bytes (seeded by <paramref name="seed"/>) and returns them.</summary>
    public byte[] Write(string relative, int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        string full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return bytes;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Builds .torrent bytes by hand (independently of TorrentBuilder): files (path, content or padding) hashed
/// with SHA-1 over their concatenation.</summary>
internal static class HandMadeTorrent
{
    public sealed record Entry(string[] Path, byte[] Content, bool Padding = false);

    public static TorrentInfo MultiFile(string name, int pieceLength, params Entry[] files)
    {
        var all = files.SelectMany(f => f.Content).ToArray();
        var list = new BList();
        foreach (var f in files)
        {
            var d = new BDictionary();
            d.Set("length", new BInteger(f.Content.Length));
            d.Set("path", new BList(f.Path.Select(p => (BValue)new BString(p))));
            if (f.Padding) d.Set("attr", new BString("p"));
            list.Add(d);
        }
        var info = new BDictionary();
        info.Set("files", list);
        info.Set("name", new BString(name));
        info.Set("piece length", new BInteger(pieceLength));
        info.Set("pieces", new BString(PieceHashes(all, pieceLength)));
        var root = new BDictionary();
        root.Set("info", info);
        return TorrentParser.Parse(BencodeEncoder.Encode(root));
    }

    public static TorrentInfo SingleFile(string name, int pieceLength, byte[] content)
    {
        var info = new BDictionary();
        info.Set("length", new BInteger(content.Length));
        info.Set("name", new BString(name));
        info.Set("piece length", new BInteger(pieceLength));
        info.Set("pieces", new BString(PieceHashes(content, pieceLength)));
        var root = new BDictionary();
        root.Set("info", info);
        return TorrentParser.Parse(BencodeEncoder.Encode(root));
    }

    public static byte[] PieceHashes(byte[] all, int pieceLength)
    {
        var hashes = new List<byte>();
        for (int offset = 0; offset < all.Length; offset += pieceLength)
            hashes.AddRange(SHA1.HashData(all.AsSpan(offset, Math.Min(pieceLength, all.Length - offset))));
        return hashes.ToArray();
    }

    public static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static string Text(byte[] b) => Encoding.UTF8.GetString(b);
}
