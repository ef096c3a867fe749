using System.Buffers.Binary;
using System.Net;
using BitTorrent.Bencoding;
using BitTorrent.Trackers;

namespace BitTorrent.Tests.Trackers;

/// <summary>Request and reply material shared by the tracker tests.</summary>
internal static class TrackerTestData
{
    /// <summary>An info-hash full of bytes that must be percent-encoded (and some that must not).</summary>
    public static readonly byte[] InfoHash =
    {
        0x00, 0xFF, 0x25, 0x26, 0x3D, 0x2B, 0x20, 0x3F, 0x23, 0x2F, 0x41, 0x7A, 0x30, 0x2D, 0x2E, 0x5F, 0x7E, 0x80, 0xC3, 0x0A,
    };

    public static AnnounceRequest Request(TrackerEvent evt = TrackerEvent.Started) =>
        new AnnounceRequest(InfoHash, ClientIdentity.NewPeerId())
        {
            Port = 51413,
            Uploaded = 1,
            Downloaded = 2,
            Left = 123456789012,
            Event = evt,
            NumWant = 50,
            Key = 0xDEADBEEF,
        };

    public static byte[] Bencode(BValue value) => BencodeEncoder.Encode(value);

    public static BDictionary Dict(params (string Key, BValue Value)[] entries)
    {
        var d = new BDictionary();
        foreach (var (k, v) in entries) d.Set(k, v);
        return d;
    }

    public static BInteger Int(long v) => new(v);
    public static BString Str(string s) => new(s);
    public static BString Bytes(byte[] b) => new(b);

    public static byte[] CompactV4(params (string Ip, int Port)[] peers)
    {
        var data = new byte[6 * peers.Length];
        for (int i = 0; i < peers.Length; i++)
        {
            IPAddress.Parse(peers[i].Ip).GetAddressBytes().CopyTo(data, 6 * i);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(6 * i + 4), (ushort)peers[i].Port);
        }
        return data;
    }

    public static byte[] CompactV6(params (string Ip, int Port)[] peers)
    {
        var data = new byte[18 * peers.Length];
        for (int i = 0; i < peers.Length; i++)
        {
            IPAddress.Parse(peers[i].Ip).GetAddressBytes().CopyTo(data, 18 * i);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(18 * i + 16), (ushort)peers[i].Port);
        }
        return data;
    }

    public static string[] EndPoints(AnnounceResponse r) => r.Peers.Select(p => p.ToString()).ToArray();

    /// <summary>A port on 127.0.0.1 with nothing listening (bound, then closed).</summary>
    public static int ClosedTcpPort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
