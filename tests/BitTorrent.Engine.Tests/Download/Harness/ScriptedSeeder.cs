using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Wire;

namespace BitTorrent.Tests.Download.Harness;

/// <summary>How a scripted seeder answers requests.</summary>
internal enum SeederBehaviour
{
    /// <summary>Sends the right block at once.</summary>
    Honest,
    /// <summary>Sends the block with every byte flipped.</summary>
    Liar,
    /// <summary>Keeps the requests and answers them only when <see cref="ScriptedSeeder.Release"/> is called.</summary>
    Hold,
    /// <summary>Never answers a request (but stays connected and reads).</summary>
    Silent,
}

/// <summary>A seeder on a real loopback socket, speaking the wire protocol by hand: the download under test dials
/// it. It sends 'have all' (or a bitfield) and 'unchoke', then answers requests as its behaviour says, and records
/// every request and cancel it gets.</summary>
internal sealed class ScriptedSeeder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly byte[] _payload;
    private readonly int _pieceLength;
    private readonly byte[] _infoHash;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(2));
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<BlockRequest> _held = new();
    private readonly Task _run;
    private NetworkStream? _stream;

    /// <param name="requestQueue">The reqq it advertises in an extended handshake (null: none sent).</param>
    public ScriptedSeeder(TestTorrent torrent, SeederBehaviour behaviour, int? requestQueue = null, string peerIdTag = "seed")
    {
        _payload = torrent.Payload;
        _pieceLength = torrent.Info.PieceLength;
        _infoHash = torrent.Info.InfoHashBytes;
        Behaviour = behaviour;
        RequestQueue = requestQueue;
        PeerIdTag = peerIdTag;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _run = Task.Run(RunAsync);
    }

    public SeederBehaviour Behaviour { get; set; }
    public int? RequestQueue { get; }
    public string PeerIdTag { get; }
    public IPEndPoint EndPoint { get; }
    /// <summary>The address the download reports for this peer in events.</summary>
    public string Key => new PeerAddress(EndPoint).ToString();
    public ConcurrentQueue<BlockRequest> Requests { get; } = new();
    public ConcurrentQueue<BlockRequest> Cancels { get; } = new();
    /// <summary>Every BEP 10 handshake the download sent it (with a requestQueue, when it speaks BEP 10).</summary>
    public ConcurrentQueue<ExtendedHandshake> ExtendedHandshakes { get; } = new();
    public int BlocksSent;
    public bool Connected { get; private set; }
    public bool Closed { get; private set; }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        try
        {
            using var client = await _listener.AcceptTcpClientAsync(token);
            using var stream = client.GetStream();
            _stream = stream;
            var theirs = new byte[68];
            await stream.ReadExactlyAsync(theirs, token);
            var hs = new byte[68];
            hs[0] = 19;
            "BitTorrent protocol"u8.CopyTo(hs.AsSpan(1));
            hs[27] |= 0x04;
            if (RequestQueue is not null) hs[25] |= 0x10;
            _infoHash.CopyTo(hs, 28);
            System.Text.Encoding.ASCII.GetBytes(("-XX0001-" + PeerIdTag + "000000000000").Substring(0, 20)).CopyTo(hs, 48);
            await WriteAsync(hs, token);
            Connected = true;
            if (RequestQueue is int reqq)
            {
                var ext = new ExtendedHandshake { RequestQueueLength = reqq }.Encode();
                await WriteAsync(Frame(20, new byte[] { 0 }.Concat(ext).ToArray()), token);
            }
            await WriteAsync(Frame(14), token);       // have all
            await WriteAsync(Frame(1), token);        // unchoke
            var prefix = new byte[4];
            while (true)
            {
                await stream.ReadExactlyAsync(prefix, token);
                int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (length == 0) continue;
                var body = new byte[length];
                await stream.ReadExactlyAsync(body, token);
                if (body[0] == 20 && body[1] == 0) { ExtendedHandshakes.Enqueue(ExtendedHandshake.Decode(body.AsSpan(2))); continue; }
                if (body[0] != 6 && body[0] != 8) continue;
                var block = new BlockRequest(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9)));
                if (body[0] == 8) { Cancels.Enqueue(block); continue; }
                var behaviour = Behaviour;
                // A held request is queued before it is counted: a test that sees the count and answers what is held
                // must find every request it counted.
                if (behaviour == SeederBehaviour.Hold) _held.Enqueue(block);
                Requests.Enqueue(block);
                switch (behaviour)
                {
                    case SeederBehaviour.Honest: await SendBlockAsync(block, lie: false, token); break;
                    case SeederBehaviour.Liar: await SendBlockAsync(block, lie: true, token); break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException || ex is EndOfStreamException || ex is OperationCanceledException || ex is SocketException || ex is ObjectDisposedException)
        {
        }
        finally
        {
            Closed = true;
        }
    }

    /// <summary>Answers every held request now, and every later one at once, as <paramref name="then"/> says
    /// (honestly or with lies).</summary>
    public async Task ReleaseAsync(SeederBehaviour then = SeederBehaviour.Honest)
    {
        Behaviour = then;
        while (_held.TryDequeue(out var block)) await SendBlockAsync(block, lie: then == SeederBehaviour.Liar, _stop.Token);
    }

    /// <summary>Answers the requests held so far (with lies if <paramref name="lie"/>), and keeps holding later ones.</summary>
    public async Task AnswerHeldAsync(bool lie)
    {
        // Only those held now: answering one lets the download ask for more, and those must stay held.
        for (int n = _held.Count; n > 0 && _held.TryDequeue(out var block); n--) await SendBlockAsync(block, lie, _stop.Token);
    }

    /// <summary>Answers the oldest held request (honestly); false if none is held.</summary>
    public async Task<bool> ReleaseOneAsync()
    {
        if (!_held.TryDequeue(out var block)) return false;
        await SendBlockAsync(block, lie: false, _stop.Token);
        return true;
    }

    /// <summary>Sends the oldest held request's message header and half its block, then closes the connection: the
    /// download is cut off in the middle of reading a block. False if none is held.</summary>
    public async Task<bool> CutOffMidBlockAsync()
    {
        if (!_held.TryDequeue(out var block)) return false;
        var data = _payload.AsSpan(block.Piece * _pieceLength + block.Offset, block.Length / 2).ToArray();
        var frame = new byte[13 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 9 + block.Length);   // the length of the whole block
        frame[4] = 7;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), block.Piece);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(9), block.Offset);
        data.CopyTo(frame, 13);
        await WriteAsync(frame, _stop.Token);
        await _writeLock.WaitAsync(_stop.Token);
        try { _stream!.Close(); }
        finally { _writeLock.Release(); }
        return true;
    }

    private async Task SendBlockAsync(BlockRequest block, bool lie, CancellationToken token)
    {
        var data = _payload.AsSpan(block.Piece * _pieceLength + block.Offset, block.Length).ToArray();
        if (lie) for (int i = 0; i < data.Length; i++) data[i] ^= 0xFF;
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

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _run; } catch { }
        _stop.Dispose();
    }
}
