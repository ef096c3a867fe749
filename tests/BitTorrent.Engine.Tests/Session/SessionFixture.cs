using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using BitTorrent.Session;

namespace BitTorrent.Tests.Session;

/// <summary>Torrents made here for payloads written here (one file each, random bytes, SHA-1 pieces), in a temporary
/// folder removed at the end; and bounded waits on conditions.</summary>
internal sealed class SessionFixture : IDisposable
{
    public SessionFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "bt-session-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Folder(string name)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A single-file torrent of <paramref name="size"/> random bytes; the payload is written to
    /// <paramref name="dataFolder"/> when one is given.</summary>
    public static (TorrentInfo Torrent, byte[] Payload) MakeTorrent(string name, int size, int pieceLength, int seed, string? dataFolder)
    {
        var payload = new byte[size];
        new Random(seed).NextBytes(payload);
        if (dataFolder is not null) File.WriteAllBytes(Path.Combine(dataFolder, name), payload);
        int pieceCount = (size + pieceLength - 1) / pieceLength;
        var pieces = new byte[20 * pieceCount];
        for (int p = 0; p < pieceCount; p++)
        {
            int length = Math.Min(pieceLength, size - p * pieceLength);
            SHA1.HashData(payload.AsSpan(p * pieceLength, length)).CopyTo(pieces, 20 * p);
        }
        var info = new BDictionary();
        info.Set(new BString("length"), new BInteger(size));
        info.Set(new BString("name"), new BString(name));
        info.Set(new BString("piece length"), new BInteger(pieceLength));
        info.Set(new BString("pieces"), new BString(pieces));
        var root = new BDictionary();
        root.Set(new BString("info"), info);
        return (TorrentParser.Parse(BencodeEncoder.Encode(root)), payload);
    }

    /// <summary>Polls until the condition holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task WaitForAsync(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    public static Task WaitForStateAsync(SessionTorrent torrent, TorrentState state, int seconds = 60) =>
        WaitForAsync(() => torrent.State == state, $"{torrent.Torrent.Name} to be {state} (it is {torrent.State})", seconds);

    /// <summary>Opens a TCP connection and sends a BEP 3 handshake for <paramref name="infoHash"/>; returns the 68
    /// bytes of the answer, or null when the other side closed the connection instead.</summary>
    public static async Task<byte[]?> HandshakeAsync(int port, byte[] infoHash)
    {
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var hs = new byte[68];
        hs[0] = 19;
        "BitTorrent protocol"u8.CopyTo(hs.AsSpan(1));
        hs[27] |= 0x04;
        infoHash.CopyTo(hs, 28);
        "-XX0001-sessiontest0"u8.CopyTo(hs.AsSpan(48));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stream.WriteAsync(hs, timeout.Token);
        var answer = new byte[68];
        int read = 0;
        while (read < answer.Length)
        {
            int n;
            try { n = await stream.ReadAsync(answer.AsMemory(read), timeout.Token); }
            catch (IOException) { return null; }
            if (n == 0) return null;
            read += n;
        }
        return answer;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
