using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BitTorrent.Tests.Connections;

/// <summary>A scripted proxy on 127.0.0.1: every accepted connection runs the test's script, which reads and writes
/// the exact bytes an honest, broken or hostile proxy would. Helpers read the client's fixed-length SOCKS5 messages
/// and HTTP heads, and relay to a real target once the script says the tunnel is open.</summary>
internal sealed class FakeProxy : IDisposable
{
    private readonly Socket _listener;
    private readonly Func<NetworkStream, Task> _script;
    private readonly ConcurrentBag<Socket> _held = new();

    public FakeProxy(Func<NetworkStream, Task> script)
    {
        _script = script;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }
    public int Accepted => _accepted;
    private int _accepted;

    /// <summary>Failures inside the script (a test asserts there were none).</summary>
    public ConcurrentQueue<Exception> ScriptErrors { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(); }
            catch { return; }
            Interlocked.Increment(ref _accepted);
            _held.Add(client);
            _ = Task.Run(async () =>
            {
                using var stream = new NetworkStream(client, ownsSocket: false);
                try { await _script(stream); }
                catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is SocketException) { }
                catch (Exception ex) { ScriptErrors.Enqueue(ex); }
            });
        }
    }

    public static async Task<byte[]> ReadExactAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(filled));
            if (read == 0) throw new EndOfStreamException();
            filled += read;
        }
        return buffer;
    }

    /// <summary>Reads a SOCKS5 CONNECT request (after the greeting) and returns its target as text and port.</summary>
    public static async Task<(byte Type, string Host, int Port)> ReadSocksRequestAsync(Stream stream)
    {
        var head = await ReadExactAsync(stream, 4);
        if (head[0] != 5 || head[1] != 1 || head[2] != 0) throw new InvalidDataException("not a SOCKS5 CONNECT");
        string host;
        switch (head[3])
        {
            case 1: host = new IPAddress(await ReadExactAsync(stream, 4)).ToString(); break;
            case 4: host = new IPAddress(await ReadExactAsync(stream, 16)).ToString(); break;
            case 3:
                int length = (await ReadExactAsync(stream, 1))[0];
                host = Encoding.ASCII.GetString(await ReadExactAsync(stream, length));
                break;
            default: throw new InvalidDataException("bad address type");
        }
        var port = await ReadExactAsync(stream, 2);
        return (head[3], host, port[0] << 8 | port[1]);
    }

    public static readonly byte[] SocksSuccess = { 5, 0, 0, 1, 127, 0, 0, 1, 0x1A, 0xE1 };

    public static byte[] SocksReply(byte code) => new byte[] { 5, code, 0, 1, 0, 0, 0, 0, 0, 0 };

    public static async Task<string> ReadHttpHeadAsync(Stream stream)
    {
        var sb = new StringBuilder();
        while (!sb.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var b = await ReadExactAsync(stream, 1);
            sb.Append((char)b[0]);
            if (sb.Length > 16 * 1024) throw new InvalidDataException("head too long");
        }
        return sb.ToString();
    }

    /// <summary>Connects to the target and copies bytes both ways until either side closes.</summary>
    public static async Task RelayAsync(NetworkStream client, string host, int port)
    {
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(IPAddress.Parse(host), port);
        using var remote = upstream.GetStream();
        var up = client.CopyToAsync(remote);
        var down = remote.CopyToAsync(client);
        await Task.WhenAny(up, down);
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (var s in _held) s.Dispose();
    }
}
