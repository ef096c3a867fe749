using System.Buffers.Binary;

namespace BitTorrent.Tests.Download.Harness;

/// <summary>Peer-wire frames built by hand for the scripted peers (not by the engine's own encoder, so a test does not
/// check the engine against itself).</summary>
internal static class WireFrames
{
    /// <summary>&lt;length&gt;&lt;id&gt;&lt;body&gt;.</summary>
    public static byte[] Frame(byte id, byte[]? body = null)
    {
        body ??= Array.Empty<byte>();
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1 + body.Length);
        frame[4] = id;
        body.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>A piece message (id 7) carrying one block.</summary>
    public static byte[] Piece(int piece, int offset, ReadOnlySpan<byte> data)
    {
        var body = new byte[8 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(body, piece);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(4), offset);
        data.CopyTo(body.AsSpan(8));
        return Frame(7, body);
    }
}
