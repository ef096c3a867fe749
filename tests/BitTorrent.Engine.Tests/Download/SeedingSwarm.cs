using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BitTorrent.Bencoding;
using BitTorrent.Download;
using BitTorrent.Metainfo;

namespace BitTorrent.Tests.Download;

/// <summary>A real seeder on loopback: a payload file on disk, a torrent made for it here (bencoded by hand, hashed
/// with SHA-1), a <see cref="TorrentDownload"/> seeding it and a <see cref="PeerListener"/> taking connections.</summary>
internal sealed class SeedingSwarm : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(2));
    private readonly PeerListener _listener;
    private readonly Task<DownloadResult> _run;

    private SeedingSwarm(string folder, byte[] payload, TorrentInfo torrent, DownloadOptions options, TimeProvider? clock)
    {
        Clock = clock;
        Folder = folder;
        Payload = payload;
        Torrent = torrent;
        Download = new TorrentDownload(torrent, folder, options with { SeedOnly = true, SeedUntilCancelled = true, UseTrackers = false },
            new TorrentServices { Clock = clock ?? TimeProvider.System });
        _listener = new PeerListener(IPAddress.Loopback, 0);
        _listener.Register(Download);
        _run = Task.Run(() => Download.RunAsync(_stop.Token));
    }

    public string Folder { get; }
    public byte[] Payload { get; }
    public TorrentInfo Torrent { get; }
    public TorrentDownload Download { get; }
    public int Port => _listener.Port;
    /// <summary>The seeder's clock when the test drives it (a FakeTimeProvider), else null.</summary>
    public TimeProvider? Clock { get; }

    /// <summary>Advances the fake clock a second at a time, each second seen by the seeder's tick.</summary>
    public async Task AdvanceAsync(TimeSpan total)
    {
        var fake = (Microsoft.Extensions.Time.Testing.FakeTimeProvider)Clock!;
        for (var done = TimeSpan.Zero; done < total; done += TimeSpan.FromSeconds(1))
        {
            long before = Download.TickCount;
            fake.Advance(TimeSpan.FromSeconds(1));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Download.TickCount == before)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for the seeder's tick.");
                Download.Nudge();
                await Task.Delay(5);
            }
        }
    }

    public static async Task<SeedingSwarm> StartAsync(int pieceLength, int pieceCount, int tail = 1000, DownloadOptions? options = null, TimeProvider? clock = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "bt-seed-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var payload = new byte[(long)pieceLength * (pieceCount - 1) + tail];
        new Random(7).NextBytes(payload);
        await File.WriteAllBytesAsync(Path.Combine(folder, "payload.bin"), payload);

        var pieces = new byte[20 * pieceCount];
        for (int p = 0; p < pieceCount; p++)
        {
            int length = (int)Math.Min(pieceLength, payload.Length - (long)p * pieceLength);
            SHA1.HashData(payload.AsSpan(p * pieceLength, length)).CopyTo(pieces, 20 * p);
        }
        var info = new BDictionary();
        info.Set(new BString("length"), new BInteger(payload.Length));
        info.Set(new BString("name"), new BString("payload.bin"));
        info.Set(new BString("piece length"), new BInteger(pieceLength));
        info.Set(new BString("pieces"), new BString(pieces));
        var root = new BDictionary();
        root.Set(new BString("info"), info);
        var torrent = TorrentParser.Parse(BencodeEncoder.Encode(root));

        var swarm = new SeedingSwarm(folder, payload, torrent, options ?? new DownloadOptions(), clock);
        await swarm.WaitForAsync(s => s.State == DownloadState.Seeding, "the seeder to check its data and start seeding");
        return swarm;
    }

    public ReadOnlySpan<byte> Block(int piece, int begin, int length) => Payload.AsSpan(piece * Torrent.PieceLength + begin, length);

    /// <summary>Polls the seeder's status until the condition holds (bounded: 30 s, then the test fails).</summary>
    public async Task WaitForAsync(Func<DownloadStatus, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition(Download.GetStatus()))
        {
            if (_run.IsCompleted) throw new InvalidOperationException($"The seeder stopped while waiting for {what}: {_run.Exception?.GetBaseException().Message ?? _run.Result.Status + " " + _run.Result.GetException()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    private readonly List<BitTorrent.Events.EngineEvent> _events = new();

    /// <summary>Every event the seeder published so far (read from its queue and kept).</summary>
    public IReadOnlyList<BitTorrent.Events.EngineEvent> Events()
    {
        while (Download.Events.TryRead(out var e)) _events.Add(e);
        return _events;
    }

    /// <summary>Waits (bounded: 30 s, then the test fails) for an event matching the condition.</summary>
    public async Task<BitTorrent.Events.EngineEvent> WaitForEventAsync(Func<BitTorrent.Events.EngineEvent, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var found = Events().FirstOrDefault(condition);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out waiting for {what}; events: " + string.Join(", ", _events.Select(e => $"{e.Kind}/{e.Reason}")));
            await Task.Delay(20);
        }
    }

    public async Task<RawPeer> ConnectAsync(bool fastExtension = true)
    {
        var peer = await RawPeer.ConnectAsync(Port, Torrent.InfoHashBytes, fastExtension);
        return peer;
    }

    public bool IsRunning => !_run.IsCompleted;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(30)); } catch { }
        _listener.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        _stop.Dispose();
    }
}

/// <summary>A scripted peer speaking the wire protocol by hand over a real socket: what a hostile or a minimal
/// client would send, without our codec in the way.</summary>
internal sealed class RawPeer : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private RawPeer(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public Socket Socket => _client.Client;
    public byte[] TheirHandshake { get; private set; } = Array.Empty<byte>();

    /// <summary>Connects, trades handshakes. With <paramref name="receiveBuffer"/> the socket's receive window is
    /// kept small (for a peer that stops reading).</summary>
    public static async Task<RawPeer> ConnectAsync(int port, byte[] infoHash, bool fastExtension, int? receiveBuffer = null, bool extensionProtocol = false)
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        if (receiveBuffer is int size) client.ReceiveBufferSize = size;
        await client.ConnectAsync(IPAddress.Loopback, port);
        var peer = new RawPeer(client);
        var hs = new byte[68];
        hs[0] = 19;
        "BitTorrent protocol"u8.CopyTo(hs.AsSpan(1));
        if (fastExtension) hs[27] |= 0x04;
        if (extensionProtocol) hs[25] |= 0x10;
        infoHash.CopyTo(hs, 28);
        "-XX0001-rawpeer00000"u8.CopyTo(hs.AsSpan(48));
        await peer._stream.WriteAsync(hs, peer._timeout.Token);
        peer.TheirHandshake = new byte[68];
        await peer._stream.ReadExactlyAsync(peer.TheirHandshake, peer._timeout.Token);
        return peer;
    }

    public Task SendAsync(params byte[][] frames)
    {
        var all = frames.SelectMany(f => f).ToArray();
        return _stream.WriteAsync(all, _timeout.Token).AsTask();
    }

    public static byte[] Message(byte id, params int[] fields)
    {
        var frame = new byte[5 + 4 * fields.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1 + 4 * fields.Length);
        frame[4] = id;
        for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5 + 4 * i), fields[i]);
        return frame;
    }

    public static byte[] Interested => Message(2);
    public static byte[] Request(int index, int begin, int length) => Message(6, index, begin, length);
    public static byte[] Cancel(int index, int begin, int length) => Message(8, index, begin, length);

    /// <summary>Reads the next frame: (id, body after the id); id -1 for a keep-alive. Null when the seeder closed
    /// the connection.</summary>
    public async Task<(int Id, byte[] Body)?> ReadFrameAsync()
    {
        try
        {
            var prefix = new byte[4];
            await _stream.ReadExactlyAsync(prefix, _timeout.Token);
            int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
            if (length == 0) return (-1, Array.Empty<byte>());
            if (length > 1 << 20) throw new InvalidDataException($"The seeder sent a {length}-byte frame.");
            var frame = new byte[length];
            await _stream.ReadExactlyAsync(frame, _timeout.Token);
            return (frame[0], frame[1..]);
        }
        catch (Exception ex) when (ex is EndOfStreamException || ex is IOException)
        {
            return null;
        }
    }

    /// <summary>Reads frames until one with the id comes (returned) or the connection closes (null).</summary>
    public async Task<(int Id, byte[] Body)?> ReadUntilAsync(int id, List<(int Id, byte[] Body)>? seen = null, int alsoStopAt = int.MinValue)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is null || frame.Value.Id == id || frame.Value.Id == alsoStopAt) return frame;
            seen?.Add(frame.Value);
        }
    }

    /// <summary>True once the seeder has closed the connection (frames still in flight are skipped).</summary>
    public async Task<bool> ClosedBySeederAsync()
    {
        for (int i = 0; i < 100_000; i++)
            if (await ReadFrameAsync() is null) return true;
        return false;
    }

    public static int Int(byte[] body, int offset) => BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(offset));

    public void Dispose()
    {
        _client.Dispose();
        _timeout.Dispose();
    }
}
