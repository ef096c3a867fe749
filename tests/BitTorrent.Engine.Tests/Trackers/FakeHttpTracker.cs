using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BitTorrent.Tests.Trackers;

/// <summary>A raw-socket HTTP/1.1 responder on 127.0.0.1 (no HttpListener): reads one request per connection,
/// asks the handler what to send, writes it and closes. Lets tests send exactly the bytes a hostile or broken
/// tracker would.</summary>
internal sealed class FakeHttpTracker : IDisposable
{
    private readonly Socket _listener;
    private readonly Func<FakeHttpRequest, FakeHttpReply> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _held = new();

    public FakeHttpTracker(Func<FakeHttpRequest, FakeHttpReply> handler)
    {
        _handler = handler;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string AnnounceUrl => $"{BaseUrl}/announce";
    public ConcurrentQueue<FakeHttpRequest> Requests { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(); }
            catch { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        bool keepOpen = false;
        try
        {
            var buffer = new byte[16384];
            int filled = 0;
            while (true)
            {
                int n = await client.ReceiveAsync(new ArraySegment<byte>(buffer, filled, buffer.Length - filled), SocketFlags.None);
                if (n == 0) return;
                filled += n;
                string head = Encoding.ASCII.GetString(buffer, 0, filled);
                int end = head.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0) { head = head.Substring(0, end); break; }
                if (filled == buffer.Length) return;
            }
            string text = Encoding.ASCII.GetString(buffer, 0, filled);
            var lines = text.Substring(0, text.IndexOf("\r\n\r\n", StringComparison.Ordinal)).Split("\r\n");
            var parts = lines[0].Split(' ');
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in lines.Skip(1))
            {
                int colon = line.IndexOf(':');
                if (colon > 0) headers[line.Substring(0, colon).Trim()] = line.Substring(colon + 1).Trim();
            }
            var request = new FakeHttpRequest(parts[0], parts[1], headers) { RemoteAddress = ((IPEndPoint)client.RemoteEndPoint!).Address };
            Requests.Enqueue(request);
            var reply = _handler(request);
            if (reply.NeverAnswer)
            {
                keepOpen = true;
                lock (_held) _held.Add(client);
                return;
            }
            var sb = new StringBuilder();
            sb.Append("HTTP/1.1 ").Append(reply.Status).Append(' ').Append(reply.Reason).Append("\r\n");
            foreach (var h in reply.Headers) sb.Append(h.Key).Append(": ").Append(h.Value).Append("\r\n");
            if (reply.Body is not null && !reply.Headers.ContainsKey("Content-Length") && reply.StreamBytes == 0)
                sb.Append("Content-Length: ").Append(reply.Body.Length).Append("\r\n");
            sb.Append("Connection: close\r\n\r\n");
            await client.SendAsync(new ArraySegment<byte>(Encoding.ASCII.GetBytes(sb.ToString())), SocketFlags.None);
            if (reply.Body is not null) await client.SendAsync(new ArraySegment<byte>(reply.Body), SocketFlags.None);
            if (reply.StreamBytes > 0)
            {
                // An endless-looking body without Content-Length: the client must stop reading at its limit.
                var chunk = new byte[64 * 1024];
                Array.Fill(chunk, (byte)'x');
                long sent = 0;
                while (sent < reply.StreamBytes && !_stop.IsCancellationRequested)
                {
                    try { sent += await client.SendAsync(new ArraySegment<byte>(chunk), SocketFlags.None); }
                    catch { break; }
                }
            }
            client.Shutdown(SocketShutdown.Send);
        }
        catch
        {
            // The client may hang up first (timeouts, size limits): that is what some tests are about.
        }
        finally
        {
            if (!keepOpen) client.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_held) foreach (var s in _held) s.Dispose();
    }
}

internal sealed record FakeHttpRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>Where the request came from (the proxy's or the bind address's side).</summary>
    public IPAddress? RemoteAddress { get; init; }
    public string Path => Target.Split('?')[0];

    /// <summary>Query parameters with their values percent-decoded to raw bytes (repeated names kept in order).</summary>
    public List<KeyValuePair<string, byte[]>> Query
    {
        get
        {
            var result = new List<KeyValuePair<string, byte[]>>();
            int q = Target.IndexOf('?');
            if (q < 0) return result;
            foreach (var pair in Target.Substring(q + 1).Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                string name = eq < 0 ? pair : pair.Substring(0, eq);
                string value = eq < 0 ? "" : pair.Substring(eq + 1);
                result.Add(new(name, PercentDecode(value)));
            }
            return result;
        }
    }

    public byte[]? Bytes(string name) => Query.FirstOrDefault(p => p.Key == name).Value;
    public string? Text(string name) => Bytes(name) is byte[] b ? Encoding.ASCII.GetString(b) : null;

    private static byte[] PercentDecode(string s)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && i + 2 < s.Length)
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.Add((byte)s[i]);
        }
        return bytes.ToArray();
    }
}

internal sealed class FakeHttpReply
{
    public int Status { get; init; } = 200;
    public string Reason { get; init; } = "OK";
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);
    public byte[]? Body { get; init; }
    public bool NeverAnswer { get; init; }

    /// <summary>Bytes of filler streamed after the headers with no Content-Length.</summary>
    public long StreamBytes { get; init; }

    public static FakeHttpReply Ok(byte[] body) => new() { Body = body, Headers = { ["Content-Type"] = "text/plain" } };
    public static FakeHttpReply Ok(string body) => Ok(Encoding.Latin1.GetBytes(body));
}
