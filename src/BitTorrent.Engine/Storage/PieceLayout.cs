using System;
using System.Collections.Generic;
using BitTorrent.Metainfo;

namespace BitTorrent.Storage
{
    /// <summary>How a torrent's pieces lie over its files. A torrent is one byte stream made of its files
    /// concatenated in order (padding files included, zero-length files taking no room) and cut into pieces of
    /// <see cref="PieceLength"/> bytes (the last one may be shorter); a piece can span many files and a file many
    /// pieces. This maps pieces and byte ranges to the (file, offset, length) spans they cover, and files to pieces.
    /// Immutable and thread-safe.</summary>
    public sealed class PieceLayout
    {
        private readonly long[] _fileOffsets;
        private readonly long[] _fileLengths;
        private readonly bool[] _padding;

        /// <param name="fileLengths">The files' lengths in torrent order.</param>
        /// <param name="pieceLength">Bytes per piece (the last piece may be shorter).</param>
        /// <param name="isPadding">Which files are BEP 47 padding files (null: none).</param>
        public PieceLayout(IReadOnlyList<long> fileLengths, int pieceLength, IReadOnlyList<bool>? isPadding = null)
        {
            if (fileLengths is null) throw new ArgumentNullException(nameof(fileLengths));
            if (pieceLength <= 0) throw new ArgumentOutOfRangeException(nameof(pieceLength), "The piece length must be positive.");
            if (isPadding is not null && isPadding.Count != fileLengths.Count)
                throw new ArgumentException("One padding flag per file is needed.", nameof(isPadding));
            int n = fileLengths.Count;
            _fileOffsets = new long[n];
            _fileLengths = new long[n];
            _padding = new bool[n];
            long offset = 0;
            for (int i = 0; i < n; i++)
            {
                long length = fileLengths[i];
                if (length < 0) throw new ArgumentOutOfRangeException(nameof(fileLengths), $"File {i} has a negative length.");
                if (length > long.MaxValue - offset) throw new ArgumentOutOfRangeException(nameof(fileLengths), "The files add up to more than 2^63 bytes.");
                _fileOffsets[i] = offset;
                _fileLengths[i] = length;
                _padding[i] = isPadding is not null && isPadding[i];
                offset += length;
            }
            TotalLength = offset;
            PieceLength = pieceLength;
            long pieces = (offset + pieceLength - 1) / pieceLength;
            if (pieces > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(pieceLength), "Too many pieces for this piece length.");
            PieceCount = (int)pieces;
        }

        /// <summary>The layout of a parsed torrent (padding files marked as such).</summary>
        public static PieceLayout FromTorrent(TorrentInfo torrent)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            var lengths = new long[torrent.Files.Count];
            var padding = new bool[torrent.Files.Count];
            for (int i = 0; i < lengths.Length; i++)
            {
                lengths[i] = torrent.Files[i].Length;
                padding[i] = torrent.Files[i].IsPadding;
            }
            return new PieceLayout(lengths, torrent.PieceLength, padding);
        }

        public int FileCount => _fileLengths.Length;
        public int PieceLength { get; }
        public int PieceCount { get; }
        public long TotalLength { get; }

        public long GetFileOffset(int file) => _fileOffsets[file];
        public long GetFileLength(int file) => _fileLengths[file];
        public bool IsPadding(int file) => _padding[file];

        /// <summary>Offset of piece <paramref name="piece"/>'s first byte in the torrent's byte stream.</summary>
        public long GetPieceOffset(int piece)
        {
            CheckPiece(piece);
            return (long)piece * PieceLength;
        }

        /// <summary>Length of piece <paramref name="piece"/> (the last piece may be shorter).</summary>
        public int GetPieceLength(int piece)
        {
            CheckPiece(piece);
            return piece == PieceCount - 1 ? (int)(TotalLength - (long)piece * PieceLength) : PieceLength;
        }

        /// <summary>Bytes covered by <paramref name="count"/> consecutive pieces starting at <paramref name="firstPiece"/>.</summary>
        public long GetRunLength(int firstPiece, int count)
        {
            if (count <= 0) return 0;
            CheckPiece(firstPiece);
            CheckPiece(firstPiece + count - 1);
            long start = (long)firstPiece * PieceLength;
            long end = Math.Min(TotalLength, (long)(firstPiece + count) * PieceLength);
            return end - start;
        }

        /// <summary>The piece holding byte <paramref name="offset"/> of the torrent.</summary>
        public int GetPieceAt(long offset)
        {
            if (offset < 0 || offset >= TotalLength) throw new ArgumentOutOfRangeException(nameof(offset));
            return (int)(offset / PieceLength);
        }

        /// <summary>The file holding byte <paramref name="offset"/> of the torrent (never a zero-length file).</summary>
        public int FindFile(long offset)
        {
            if (offset < 0 || offset >= TotalLength) throw new ArgumentOutOfRangeException(nameof(offset));
            // The last file starting at or before the offset. A zero-length file shares its offset with the file after
            // it, so the last such file always has bytes (the torrent's end is excluded above).
            int lo = 0, hi = _fileOffsets.Length - 1;
            while (lo < hi)
            {
                int mid = lo + (hi - lo + 1) / 2;
                if (_fileOffsets[mid] <= offset) lo = mid;
                else hi = mid - 1;
            }
            return lo;
        }

        /// <summary>The pieces holding bytes of <paramref name="file"/>; false for a zero-length file (it lies in no piece).</summary>
        public bool TryGetFilePieces(int file, out int firstPiece, out int lastPiece)
        {
            long length = _fileLengths[file];
            if (length == 0)
            {
                firstPiece = lastPiece = -1;
                return false;
            }
            firstPiece = (int)(_fileOffsets[file] / PieceLength);
            lastPiece = (int)((_fileOffsets[file] + length - 1) / PieceLength);
            return true;
        }

        /// <summary>Bytes of <paramref name="file"/> that lie in piece <paramref name="piece"/> (0 when none).</summary>
        public long GetOverlap(int file, int piece)
        {
            long pieceStart = GetPieceOffset(piece);
            long pieceEnd = pieceStart + GetPieceLength(piece);
            long fileStart = _fileOffsets[file];
            long fileEnd = fileStart + _fileLengths[file];
            return Math.Max(0, Math.Min(pieceEnd, fileEnd) - Math.Max(pieceStart, fileStart));
        }

        /// <summary>The file spans covering piece <paramref name="piece"/>, in order.</summary>
        public SpanEnumerator GetPieceSpans(int piece) => GetSpans(GetPieceOffset(piece), GetPieceLength(piece));

        /// <summary>The file spans covering <paramref name="length"/> bytes of the torrent from <paramref name="offset"/>,
        /// in order. Zero-length files never appear (they cover no bytes).</summary>
        public SpanEnumerator GetSpans(long offset, int length)
        {
            if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
            if (offset < 0 || offset > TotalLength - length) throw new ArgumentOutOfRangeException(nameof(offset), "The range goes beyond the torrent's end.");
            return new SpanEnumerator(this, offset, length);
        }

        private void CheckPiece(int piece)
        {
            if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece), $"Piece {piece} is not in 0..{PieceCount - 1}.");
        }

        /// <summary>Allocation-free enumerator of the spans of a byte range (use with foreach).</summary>
        public struct SpanEnumerator
        {
            private readonly PieceLayout _layout;
            private long _position;
            private int _remaining;
            private int _file;

            internal SpanEnumerator(PieceLayout layout, long offset, int length)
            {
                _layout = layout;
                _position = offset;
                _remaining = length;
                _file = length == 0 ? 0 : layout.FindFile(offset);
                Current = default;
            }

            public FileSpan Current { get; private set; }

            public SpanEnumerator GetEnumerator() => this;

            public bool MoveNext()
            {
                if (_remaining == 0) return false;
                // Skip files that end at or before the position (zero-length files included).
                while (_layout._fileOffsets[_file] + _layout._fileLengths[_file] <= _position) _file++;
                long inFile = _position - _layout._fileOffsets[_file];
                int take = (int)Math.Min(_remaining, _layout._fileLengths[_file] - inFile);
                Current = new FileSpan(_file, inFile, _position, take, _layout._padding[_file]);
                _position += take;
                _remaining -= take;
                return true;
            }

            /// <summary>Copies the spans to a list (for tests and diagnostics).</summary>
            public List<FileSpan> ToList()
            {
                var list = new List<FileSpan>();
                var e = this;
                while (e.MoveNext()) list.Add(e.Current);
                return list;
            }
        }
    }
}
