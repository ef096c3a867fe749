using System.Net;
using System.Net.Sockets;

namespace BitTorrent.Tests.Wire;

/// <summary>A scripted peer on a real loopback socket: accepts one connection and runs the script on it.</summary>
internal sealed class FakePeer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _run;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(30));

    public FakePeer(Func<NetworkStream, CancellationToken, Task> script, IPAddress? address = null)
    {
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        EndPoint = address?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{Port}" : $"127.0.0.1:{Port}";
        _run = Task.Run(async () =>
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            using var stream = client.GetStream();
            await script(stream, _stop.Token);
        });
    }

    public int Port { get; }
    public string EndPoint { get; }

    /// <summary>Waits for the script and rethrows what it threw (its assertions count).</summary>
    public Task Completion => _run;

    public static async Task<byte[]> ReadExactlyAsync(Stream stream, int count, CancellationToken token)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, token);
        return buffer;
    }

    /// <summary>Reads one frame: (id, body after the id); id -1 for a keep-alive.</summary>
    public static async Task<(int Id, byte[] Body)> ReadFrameAsync(Stream stream, CancellationToken token)
    {
        var prefix = await ReadExactlyAsync(stream, 4, token);
        int length = (prefix[0] << 24) | (prefix[1] << 16) | (prefix[2] << 8) | prefix[3];
        if (length == 0) return (-1, Array.Empty<byte>());
        var frame = await ReadExactlyAsync(stream, length, token);
        return (frame[0], frame.AsSpan(1).ToArray());
    }

    /// <summary>Waits until the other side closes the connection (or the token ends).</summary>
    public static async Task DrainAsync(Stream stream, CancellationToken token)
    {
        var sink = new byte[4096];
        try { while (await stream.ReadAsync(sink, token) > 0) { } }
        catch (IOException) { }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _run; } catch { }
        _stop.Dispose();
    }
}
