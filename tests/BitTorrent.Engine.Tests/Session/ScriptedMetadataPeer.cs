using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BitTorrent.Bencoding;
using BitTorrent.Wire;

namespace BitTorrent.Tests.Session;

/// <summary>How a scripted peer answers ut_metadata requests.</summary>
internal enum MetadataBehaviour
{
    /// <summary>The right block.</summary>
    Honest,
    /// <summary>A block of the right size with every byte flipped.</summary>
    Corrupt,
    /// <summary>A reject for every request.</summary>
    Reject,
    /// <summary>Keeps the requests until <see cref="ScriptedMetadataPeer.Release"/>, then answers honestly.</summary>
    Hold,
    /// <summary>Pushes data for blocks nobody asked for, as fast as it can, and never answers a request.</summary>
    Push,
}

/// <summary>A peer on a real loopback socket that has a torrent's metadata and speaks BEP 3, BEP 10 and BEP 9 by
/// hand (no engine codec in the way): the fetch under test dials it. It accepts any number of connections (one at a
/// time is enough here), advertises ut_metadata under id 3 with a metadata_size (the true one, or whatever the test
/// says), and answers requests as its behaviour says. It records every request.</summary>
internal sealed class ScriptedMetadataPeer : IAsyncDisposable
{
    public const byte OurUtMetadataId = 3;

    private readonly TcpListener _listener;
    private readonly byte[] _metadata;
    private readonly byte[] _infoHash;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(2));
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _run;

    public ScriptedMetadataPeer(byte[] metadata, byte[] infoHash, MetadataBehaviour behaviour, long? advertisedSize = null, bool extensionBit = true)
    {
        _metadata = metadata;
        _infoHash = infoHash;
        Behaviour = behaviour;
        AdvertisedSize = advertisedSize ?? metadata.Length;
        ExtensionBit = extensionBit;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _run = Task.Run(AcceptLoopAsync);
    }

    public MetadataBehaviour Behaviour { get; }
    public long AdvertisedSize { get; }
    public bool ExtensionBit { get; }
    public IPEndPoint EndPoint { get; }
    public string Key => new PeerAddress(EndPoint).ToString();
    /// <summary>Every block index requested of it, in order.</summary>
    public ConcurrentQueue<int> Requests { get; } = new();
    public int BlocksSent;
    public int Connections;
    /// <summary>The extended handshake the fetcher sent it (the last connection's).</summary>
    public ExtendedHandshake? TheirHandshake { get; private set; }

    /// <summary>A held peer answers what it holds and everything after.</summary>
    public void Release() => _released.TrySetResult();

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(token);
                Interlocked.Increment(ref Connections);
                _ = Task.Run(() => ServeAsync(client, token));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is SocketException || ex is ObjectDisposedException) { }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken token)
    {
        var writeLock = new SemaphoreSlim(1, 1);
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var theirs = new byte[68];
                await stream.ReadExactlyAsync(theirs, token);
                var hs = new byte[68];
                hs[0] = 19;
                "BitTorrent protocol"u8.CopyTo(hs.AsSpan(1));
                if (ExtensionBit) hs[25] |= 0x10;
                _infoHash.CopyTo(hs, 28);
                System.Text.Encoding.ASCII.GetBytes(("-XX0001-meta" + Guid.NewGuid().ToString("N")).Substring(0, 20)).CopyTo(hs, 48);
                await stream.WriteAsync(hs, token);
                if (!ExtensionBit) { await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, token); return; }

                if (Behaviour == MetadataBehaviour.Push)
                {
                    // Data for every block, again and again, before even saying it has metadata: none of it asked for.
                    int blocks = UtMetadataMessage.BlockCount(_metadata.Length);
                    for (int i = 0; i < 100 && !token.IsCancellationRequested; i++)
                        await Write(stream, writeLock, Extended(2, Block(i % blocks, flip: false)), token);
                }

                // The handshake by hand, so that a negative or huge metadata_size goes out as it is.
                var ext = new BDictionary();
                var m = new BDictionary();
                m.Set("ut_metadata", new BInteger(OurUtMetadataId));
                ext.Set("m", m);
                ext.Set("metadata_size", new BInteger(AdvertisedSize));
                ext.Set("v", new BString("scripted metadata peer"));
                await Write(stream, writeLock, Extended(0, BencodeEncoder.Encode(ext)), token);
                await Write(stream, writeLock, Frame(5, new byte[1]), token);   // a bitfield of nothing: it is no seed

                var prefix = new byte[4];
                while (true)
                {
                    await stream.ReadExactlyAsync(prefix, token);
                    int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
                    if (length == 0) continue;
                    if (length > 1 << 20) return;
                    var body = new byte[length];
                    await stream.ReadExactlyAsync(body, token);
                    if (body[0] != 20) continue;
                    if (body[1] == 0) { TheirHandshake = ExtendedHandshake.Decode(body.AsSpan(2)); continue; }
                    if (body[1] != OurUtMetadataId) continue;
                    var dict = (BDictionary)BencodeDecoder.DecodePrefix(body.AsSpan(2), out _, new BencodeLimits { RejectTrailingData = false });
                    if (((BInteger)dict["msg_type"]!).Value != 0) continue;
                    int piece = (int)((BInteger)dict["piece"]!).Value;
                    Requests.Enqueue(piece);
                    int theirId = TheirHandshake?.Extensions.GetValueOrDefault("ut_metadata") ?? 0;
                    if (theirId == 0) continue;
                    _ = AnswerAsync(stream, writeLock, (byte)theirId, piece, token);
                }
            }
            catch (Exception ex) when (ex is IOException || ex is EndOfStreamException || ex is OperationCanceledException || ex is SocketException || ex is ObjectDisposedException)
            {
            }
        }
    }

    private async Task AnswerAsync(NetworkStream stream, SemaphoreSlim writeLock, byte theirId, int piece, CancellationToken token)
    {
        try
        {
            switch (Behaviour)
            {
                case MetadataBehaviour.Reject:
                    await Write(stream, writeLock, Extended(theirId, UtMetadataMessage.EncodeReject(piece)), token);
                    return;
                case MetadataBehaviour.Push:
                    return;
                case MetadataBehaviour.Hold:
                    await _released.Task.WaitAsync(token);
                    break;
            }
            await Write(stream, writeLock, Extended(theirId, Block(piece, flip: Behaviour == MetadataBehaviour.Corrupt)), token);
            Interlocked.Increment(ref BlocksSent);
        }
        catch (Exception ex) when (ex is IOException || ex is OperationCanceledException || ex is SocketException || ex is ObjectDisposedException) { }
    }

    private byte[] Block(int piece, bool flip)
    {
        int offset = piece * UtMetadataMessage.BlockSize;
        var data = _metadata.AsSpan(offset, Math.Min(UtMetadataMessage.BlockSize, _metadata.Length - offset)).ToArray();
        if (flip) for (int i = 0; i < data.Length; i++) data[i] ^= 0xFF;
        return UtMetadataMessage.EncodeData(piece, _metadata.Length, data);
    }

    private static byte[] Extended(byte id, byte[] payload) => Frame(20, new[] { id }.Concat(payload).ToArray());

    private static byte[] Frame(byte id, byte[] body)
    {
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1 + body.Length);
        frame[4] = id;
        body.CopyTo(frame, 5);
        return frame;
    }

    private static async Task Write(NetworkStream stream, SemaphoreSlim writeLock, byte[] bytes, CancellationToken token)
    {
        await writeLock.WaitAsync(token);
        try { await stream.WriteAsync(bytes, token); }
        finally { writeLock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _run; } catch { }
        _stop.Dispose();
    }
}
