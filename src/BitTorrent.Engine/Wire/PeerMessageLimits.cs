using System;

namespace BitTorrent.Wire
{
    /// <summary>The largest message a peer may send us, per kind. Every length prefix is checked against these
    /// before a byte of payload is read or a buffer is rented, so a hostile length costs nothing.</summary>
    public sealed class PeerMessageLimits
    {
        /// <summary>The block size every client uses (BEP 3: 2^14; larger requests get the connection closed).</summary>
        public const int StandardBlockLength = 16 * 1024;

        /// <summary>libtorrent's cap on pieces in a torrent (<c>max_piece_count</c>); also bounds a bitfield whose
        /// torrent we do not know yet.</summary>
        public const int MaxPieceCount = 0x200000;

        public static PeerMessageLimits Default { get; } = new PeerMessageLimits();

        /// <summary>Largest block in a 'piece' message, and largest length a 'request' may ask for.</summary>
        public int MaxBlockLength { get; init; } = StandardBlockLength;

        /// <summary>Pieces in the torrent, when known: a bitfield must then be exactly ceil(PieceCount / 8) bytes
        /// and piece indexes must be below it. Null while the metadata is unknown (magnet links).</summary>
        public int? PieceCount { get; init; }

        /// <summary>Largest extended (BEP 10) message after the id bytes: a 16 KiB ut_metadata block plus its
        /// dictionary, or a PEX list, fit with room to spare.</summary>
        public int MaxExtendedLength { get; init; } = 64 * 1024;

        /// <summary>Largest message with an id this codec does not know (skipped without being kept).</summary>
        public int MaxUnknownLength { get; init; } = StandardBlockLength + 13;

        /// <summary>Bytes a bitfield must have (known piece count) or may have at most (unknown).</summary>
        public int MaxBitfieldLength => PieceCount is int n ? (n + 7) / 8 : (MaxPieceCount + 7) / 8;

        /// <summary>The largest length prefix any message may have; anything above is rejected before the id is read.</summary>
        public int MaxFrameLength => Math.Max(Math.Max(9 + MaxBlockLength, 1 + MaxBitfieldLength), Math.Max(2 + MaxExtendedLength, MaxUnknownLength));

        /// <summary>The same limits for a torrent with <paramref name="pieceCount"/> pieces.</summary>
        public PeerMessageLimits WithPieceCount(int? pieceCount)
        {
            if (pieceCount is int n && (n <= 0 || n > MaxPieceCount))
                throw new ArgumentOutOfRangeException(nameof(pieceCount), pieceCount, $"A torrent has 1 to {MaxPieceCount} pieces.");
            return new PeerMessageLimits
            {
                MaxBlockLength = MaxBlockLength,
                PieceCount = pieceCount,
                MaxExtendedLength = MaxExtendedLength,
                MaxUnknownLength = MaxUnknownLength,
            };
        }
    }
}
