using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BitTorrent.Tests.Trackers;

/// <summary>A BEP 15 tracker on 127.0.0.1 written from the spec for the tests, with a hook that can replace or
/// add to each honest reply: drop it, send it twice, send it from another port, with a wrong transaction id,
/// truncated, as an error… A second socket on another port exists to send replies from the wrong address.</summary>
internal sealed class FakeUdpTracker : IDisposable
{
    private readonly Socket _socket;
    private readonly Socket _otherSocket;
    private readonly Func<FakeUdpTracker, FakeUdpDatagram, IEnumerable<FakeUdpReply>?>? _hook;
    private readonly ConcurrentDictionary<long, bool> _issued = new();
    private readonly CancellationTokenSource _stop = new();
    private int _connects, _announces, _scrapes, _received;

    public FakeUdpTracker(Func<FakeUdpTracker, FakeUdpDatagram, IEnumerable<FakeUdpReply>?>? hook = null, bool ipv6 = false)
    {
        _hook = hook;
        IPv6 = ipv6;
        _socket = Bind(ipv6);
        _otherSocket = Bind(ipv6);
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        _ = Task.Run(ReceiveLoopAsync);
    }

    public int Port { get; }
    public bool IPv6 { get; }
    public string AnnounceUrl => IPv6 ? $"udp://[::1]:{Port}/announce" : $"udp://127.0.0.1:{Port}/announce";
    public List<IPEndPoint> Peers { get; } = new();
    public int Interval { get; set; } = 1800;
    public int Seeders { get; set; } = 3;
    public int Leechers { get; set; } = 5;
    public int Completed { get; set; } = 7;

    public int ConnectCount => Volatile.Read(ref _connects);
    public int AnnounceCount => Volatile.Read(ref _announces);
    public int ScrapeCount => Volatile.Read(ref _scrapes);
    public int ReceivedCount => Volatile.Read(ref _received);
    public ConcurrentQueue<FakeUdpDatagram> Received { get; } = new();

    /// <summary>Simulates connection ids expiring on the tracker's side.</summary>
    public void ForgetConnectionIds() => _issued.Clear();

    private static Socket Bind(bool ipv6)
    {
        var s = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        return s;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try { r = await _socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, new IPEndPoint(IPv6 ? IPAddress.IPv6Any : IPAddress.Any, 0)); }
            catch { return; }
            var datagram = new FakeUdpDatagram(buffer.AsSpan(0, r.ReceivedBytes).ToArray(), (IPEndPoint)r.RemoteEndPoint);
            Interlocked.Increment(ref _received);
            Received.Enqueue(datagram);
            var replies = _hook?.Invoke(this, datagram) ?? HonestReply(datagram);
            foreach (var reply in replies)
            {
                if (reply.DelayMs > 0) await Task.Delay(reply.DelayMs);
                try { await (reply.FromOtherPort ? _otherSocket : _socket).SendToAsync(new ArraySegment<byte>(reply.Data), SocketFlags.None, datagram.From); }
                catch { }
            }
        }
    }

    /// <summary>What a correct tracker sends back (nothing for a request it cannot read).</summary>
    public IEnumerable<FakeUdpReply> HonestReply(FakeUdpDatagram d)
    {
        var req = d.Data;
        if (req.Length < 16) yield break;
        long connectionId = BinaryPrimitives.ReadInt64BigEndian(req);
        int action = BinaryPrimitives.ReadInt32BigEndian(req.AsSpan(8));
        uint tx = BinaryPrimitives.ReadUInt32BigEndian(req.AsSpan(12));
        if (action == 0)
        {
            if (connectionId != 0x41727101980) yield break;
            Interlocked.Increment(ref _connects);
            long id = Random.Shared.NextInt64();
            _issued[id] = true;
            var reply = new byte[16];
            BinaryPrimitives.WriteInt32BigEndian(reply, 0);
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), tx);
            BinaryPrimitives.WriteInt64BigEndian(reply.AsSpan(8), id);
            yield return new FakeUdpReply(reply);
            yield break;
        }
        if (!_issued.ContainsKey(connectionId))
        {
            yield return new FakeUdpReply(Error(tx, "Connection ID missmatch."));
            yield break;
        }
        if (action == 1 && req.Length >= 98)
        {
            Interlocked.Increment(ref _announces);
            // BEP 15: 6-byte entries over IPv4, 18-byte entries over IPv6.
            int size = IPv6 ? 18 : 6;
            var reply = new byte[20 + size * Peers.Count];
            BinaryPrimitives.WriteInt32BigEndian(reply, 1);
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), tx);
            BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8), Interval);
            BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(12), Leechers);
            BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(16), Seeders);
            for (int i = 0; i < Peers.Count; i++)
            {
                var address = IPv6 ? Peers[i].Address.MapToIPv6() : Peers[i].Address;
                address.GetAddressBytes().CopyTo(reply, 20 + size * i);
                BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(20 + size * i + size - 2), (ushort)Peers[i].Port);
            }
            yield return new FakeUdpReply(reply);
        }
        else if (action == 2)
        {
            Interlocked.Increment(ref _scrapes);
            int n = (req.Length - 16) / 20;
            var reply = new byte[8 + 12 * n];
            BinaryPrimitives.WriteInt32BigEndian(reply, 2);
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), tx);
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(8 + 12 * i), Seeders + i);
                BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(12 + 12 * i), Completed + i);
                BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(16 + 12 * i), Leechers + i);
            }
            yield return new FakeUdpReply(reply);
        }
    }

    public static byte[] Error(uint tx, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var reply = new byte[8 + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(reply, 3);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), tx);
        text.CopyTo(reply, 8);
        return reply;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _otherSocket.Dispose();
    }
}

internal sealed record FakeUdpDatagram(byte[] Data, IPEndPoint From)
{
    public int Action => Data.Length >= 12 ? BinaryPrimitives.ReadInt32BigEndian(Data.AsSpan(8)) : -1;
    public uint TransactionId => Data.Length >= 16 ? BinaryPrimitives.ReadUInt32BigEndian(Data.AsSpan(12)) : 0;
}

internal sealed record FakeUdpReply(byte[] Data, bool FromOtherPort = false, int DelayMs = 0)
{
    /// <summary>The same reply with its transaction id changed.</summary>
    public FakeUdpReply WithTransactionId(uint tx)
    {
        var copy = (byte[])Data.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(4), tx);
        return this with { Data = copy };
    }
}
