using System;

namespace BitTorrent.Download
{
    /// <summary>One block of a piece: the unit of requests on the wire (16 KiB except a piece's last block).</summary>
    public readonly struct BlockRequest : IEquatable<BlockRequest>
    {
        public const int BlockSize = 16 * 1024;

        public BlockRequest(int piece, int offset, int length)
        {
            Piece = piece;
            Offset = offset;
            Length = length;
        }

        public int Piece { get; }
        public int Offset { get; }
        public int Length { get; }

        /// <summary>A single number for sets and dictionaries: piece and block index.</summary>
        public long Key => ((long)Piece << 32) | (uint)(Offset / BlockSize);

        public bool Equals(BlockRequest other) => Piece == other.Piece && Offset == other.Offset && Length == other.Length;
        public override bool Equals(object? obj) => obj is BlockRequest b && Equals(b);
        public override int GetHashCode() => Key.GetHashCode();
        public override string ToString() => $"piece {Piece} offset {Offset} length {Length}";
    }
}
