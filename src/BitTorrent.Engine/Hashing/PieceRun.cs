using System;
using System.Collections.Generic;

namespace BitTorrent.Hashing
{
    /// <summary>Consecutive pieces: <see cref="Count"/> pieces from <see cref="First"/>.</summary>
    public readonly struct PieceRun
    {
        public PieceRun(int first, int count)
        {
            if (first < 0) throw new ArgumentOutOfRangeException(nameof(first));
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
            First = first;
            Count = count;
        }

        public int First { get; }
        public int Count { get; }

        /// <summary>Sorted, de-duplicated runs from a set of piece indexes (each checked against <paramref name="pieceCount"/>).</summary>
        public static List<PieceRun> FromIndexes(IEnumerable<int> pieces, int pieceCount)
        {
            if (pieces is null) throw new ArgumentNullException(nameof(pieces));
            var sorted = new SortedSet<int>();
            foreach (int p in pieces)
            {
                if ((uint)p >= (uint)pieceCount) throw new ArgumentOutOfRangeException(nameof(pieces), $"Piece {p} is not in 0..{pieceCount - 1}.");
                sorted.Add(p);
            }
            var runs = new List<PieceRun>();
            int start = -1, previous = -2;
            foreach (int p in sorted)
            {
                if (p != previous + 1)
                {
                    if (start >= 0) runs.Add(new PieceRun(start, previous - start + 1));
                    start = p;
                }
                previous = p;
            }
            if (start >= 0) runs.Add(new PieceRun(start, previous - start + 1));
            return runs;
        }

        public override string ToString() => Count == 1 ? $"[{First}]" : $"[{First}..{First + Count - 1}]";
    }
}
