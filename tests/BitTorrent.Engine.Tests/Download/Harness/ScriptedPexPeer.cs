using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.Tests.Download.Harness;

/// <summary>A peer on a real loopback socket that speaks the extension protocol by hand: it listens (the download
/// dials it) or dials a listener itself, sends an extended handshake (with ut_pex in <c>m</c> if asked, and a listen
/// port <c>p</c> if given), 'have all' and answers requests when it is a seed ('have none' otherwise), records the
/// extended handshake and every ut_pex message it gets, and sends whatever ut_pex payloads the test gives it.</summary>
internal sealed class ScriptedPexPeer : IAsyncDisposable
{
    /// <summary>The id this peer asks ut_pex to be sent under (not ours, to catch a sender that mixes them up).</summary>
    public const byte OurPexId = 7;

    private readonly TcpListener? _listener;
    private readonly IPEndPoint? _dialTo;
    private readonly TorrentInfo _info;
    private readonly byte[] _payload;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(3));
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource<ExtendedHandshake> _theirHandshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _run;
    private NetworkStream? _stream;

    /// <param name="address">Where to listen (port chosen by the system); ignored with <paramref name="dialTo"/>.</param>
    /// <param name="dialTo">Dial this listener instead of listening.</param>
    /// <param name="listenPort">The <c>p</c> to put in the extended handshake (null: none).</param>
    public ScriptedPexPeer(TestTorrent torrent, IPAddress? address = null, bool seed = false, bool pex = true, IPEndPoint? dialTo = null,
        int? listenPort = null, string tag = "pexpeer")
        : this(torrent.Info, torrent.Payload, address, seed, pex, dialTo, listenPort, tag) { }

    public ScriptedPexPeer(TorrentInfo info, byte[] payload, IPAddress? address = null, bool seed = false, bool pex = true, IPEndPoint? dialTo = null,
        int? listenPort = null, string tag = "pexpeer")
    {
        _info = info;
        _payload = payload;
        Seed = seed;
        Pex = pex;
        ListenPort = listenPort;
        Tag = tag;
        if (dialTo is null)
        {
            _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
            _listener.Start();
            EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        }
        _dialTo = dialTo;
        _run = Task.Run(RunAsync);
    }

    public bool Seed { get; }
    /// <summary>A seed that keeps the download choked (it has everything and gives nothing).</summary>
    public bool Choking { get; init; }
    public bool Pex { get; }
    public int? ListenPort { get; }
    public string Tag { get; }
    /// <summary>Where it listens (null when it dials).</summary>
    public IPEndPoint? EndPoint { get; }
    public string Key => new PeerAddress(EndPoint!).ToString();
    /// <summary>Our local endpoint once connected (when it dials, the address the download sees).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }
    public Task<ExtendedHandshake> TheirHandshake => _theirHandshake.Task;
    /// <summary>Every ut_pex message received, decoded (nothing left out: decoded without our own endpoints).</summary>
    public ConcurrentQueue<PexMessage> PexReceived { get; } = new();
    /// <summary>Extended messages received under any id other than the handshake's and ut_pex's.</summary>
    public int OtherExtended;
    /// <summary>Every message id received (extended ones as 20/id), in order.</summary>
    public ConcurrentQueue<string> Received { get; } = new();
    /// <summary>'interested' messages received (a test's barrier: the download read everything sent before the
    /// 'have' that made it interested).</summary>
    public int InterestedReceived;
    public int BlocksSent;
    public bool Connected { get; private set; }
    public bool Closed { get; private set; }
    /// <summary>Why its connection ended (for a failing test's message).</summary>
    public Exception? LastError { get; private set; }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        TcpClient? client = null;
        try
        {
            if (_listener is not null) client = await _listener.AcceptTcpClientAsync(token);
            else
            {
                client = new TcpClient(_dialTo!.AddressFamily);
                await client.ConnectAsync(_dialTo.Address, _dialTo.Port, token);
            }
            LocalEndPoint = (IPEndPoint)client.Client.LocalEndPoint!;
            var stream = client.GetStream();
            _stream = stream;
            var hs = new byte[68];
            hs[0] = 19;
            "BitTorrent protocol"u8.CopyTo(hs.AsSpan(1));
            hs[25] |= 0x10;    // extension protocol
            hs[27] |= 0x04;    // fast extension
            _info.InfoHashBytes.CopyTo(hs, 28);
            System.Text.Encoding.ASCII.GetBytes(("-XX0001-" + Tag + "000000000000").Substring(0, 20)).CopyTo(hs, 48);
            var theirs = new byte[68];
            if (_listener is not null)
            {
                await stream.ReadExactlyAsync(theirs, token);
                await WriteAsync(hs, token);
            }
            else
            {
                await WriteAsync(hs, token);
                await stream.ReadExactlyAsync(theirs, token);
            }
            Connected = true;
            var ext = new ExtendedHandshake { ClientName = "scripted " + Tag, ListenPort = ListenPort };
            if (Pex) ext.Extensions[ExtensionNames.UtPex] = OurPexId;
            await WriteAsync(Frame(20, new byte[] { 0 }.Concat(ext.Encode()).ToArray()), token);
            await WriteAsync(Frame(Seed ? (byte)14 : (byte)15), token);   // have all / have none
            if (Seed && !Choking) await WriteAsync(Frame(1), token);         // unchoke
            var prefix = new byte[4];
            while (true)
            {
                await stream.ReadExactlyAsync(prefix, token);
                int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (length == 0) continue;
                var body = new byte[length];
                await stream.ReadExactlyAsync(body, token);
                Received.Enqueue(body[0] == 20 && body.Length >= 2 ? $"20/{body[1]}" : body[0].ToString());
                if (body[0] == 20 && body.Length >= 2)
                {
                    if (body[1] == 0) _theirHandshake.TrySetResult(ExtendedHandshake.Decode(body.AsSpan(2)));
                    else if (body[1] == OurPexId) PexReceived.Enqueue(PexMessage.Decode(body.AsSpan(2)));
                    else Interlocked.Increment(ref OtherExtended);
                }
                else if (body[0] == 2) Interlocked.Increment(ref InterestedReceived);
                else if (body[0] == 6 && Seed)
                {
                    var block = new BlockRequest(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9)));
                    await SendBlockAsync(block, token);
                }
            }
        }
        catch (Exception ex) when (ex is IOException || ex is EndOfStreamException || ex is OperationCanceledException || ex is SocketException || ex is ObjectDisposedException)
        {
            LastError = ex;
        }
        finally
        {
            Closed = true;
            client?.Dispose();
            _theirHandshake.TrySetCanceled();
        }
    }

    /// <summary>Sends a ut_pex payload under the id the download gave ut_pex in its extended handshake (or under
    /// <paramref name="id"/>, for a download that gave none).</summary>
    public async Task SendPexAsync(byte[] payload, byte? id = null)
    {
        var theirs = await TheirHandshake.WaitAsync(TimeSpan.FromSeconds(30));
        byte pexId = id ?? (theirs.Extensions.TryGetValue(ExtensionNames.UtPex, out var v) ? v : throw new InvalidOperationException("The download did not offer ut_pex."));
        await WriteAsync(Frame(20, new[] { pexId }.Concat(payload).ToArray()), _stop.Token);
    }

    public Task SendPexAsync(PexMessage message) => SendPexAsync(message.Encode());

    /// <summary>Sends 'have' for a piece: the download becomes interested once it has read everything sent before.</summary>
    public Task SendHaveAsync(int piece)
    {
        var body = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(body, piece);
        return WriteAsync(Frame(4, body), _stop.Token);
    }

    /// <summary>Sends raw bytes (a hand-made frame).</summary>
    public Task SendRawAsync(byte[] bytes) => WriteAsync(bytes, _stop.Token);

    private async Task SendBlockAsync(BlockRequest block, CancellationToken token)
    {
        var data = _payload.AsSpan(block.Piece * _info.PieceLength + block.Offset, block.Length).ToArray();
        await WriteAsync(WireFrames.Piece(block.Piece, block.Offset, data), token);
        Interlocked.Increment(ref BlocksSent);
    }

    private static byte[] Frame(byte id, byte[]? body = null) => WireFrames.Frame(id, body);

    private async Task WriteAsync(byte[] bytes, CancellationToken token)
    {
        await _writeLock.WaitAsync(token);
        try { await _stream!.WriteAsync(bytes, token); }
        finally { _writeLock.Release(); }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        _listener?.Stop();
        try { await _run; } catch { }
        _stop.Dispose();
    }
}
