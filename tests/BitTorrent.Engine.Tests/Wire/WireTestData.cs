using System.Text;
using BitTorrent.Wire;

namespace BitTorrent.Tests.Wire;

/// <summary>Byte builders shared by the wire tests: frames written by hand, not by the codec under test.</summary>
internal static class WireTestData
{
    public static readonly byte[] InfoHash = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
    public static readonly byte[] OtherInfoHash = Enumerable.Range(101, 20).Select(i => (byte)i).ToArray();
    public static readonly byte[] PeerId = Encoding.ASCII.GetBytes("-qB4520-abcdefghijkl");

    /// <summary>A handshake built byte by byte from BEP 3.</summary>
    public static byte[] RawHandshake(byte[] infoHash, byte[] peerId, byte[]? reserved = null, string pstr = "BitTorrent protocol")
    {
        var bytes = new List<byte> { (byte)pstr.Length };
        bytes.AddRange(Encoding.ASCII.GetBytes(pstr));
        bytes.AddRange(reserved ?? new byte[8]);
        bytes.AddRange(infoHash);
        bytes.AddRange(peerId);
        return bytes.ToArray();
    }

    /// <summary>A frame: big-endian length, then the body as given.</summary>
    public static byte[] Frame(params byte[] body) => BigEndian((uint)body.Length).Concat(body).ToArray();

    public static byte[] BigEndian(uint value) => new[] { (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value };

    public static PeerMessageReader Reader(byte[] bytes, int? pieceCount = null) =>
        new(new MemoryStream(bytes), PeerMessageLimits.Default.WithPieceCount(pieceCount));
}
