using System;
using System.Collections.Generic;

namespace BitTorrent.Hashing
{
    /// <summary>One <see cref="PieceState"/> per piece: the result of a check, and what the download engine resumes
    /// from (<see cref="ToBitfield"/> gives the BEP 3 bitfield of the valid pieces). Writes to different pieces may
    /// come from different threads.</summary>
    public sealed class PieceStateMap
    {
        private readonly PieceState[] _states;

        public PieceStateMap(int pieceCount)
        {
            if (pieceCount < 0) throw new ArgumentOutOfRangeException(nameof(pieceCount));
            _states = new PieceState[pieceCount];
        }

        public int Count => _states.Length;

        public PieceState this[int piece]
        {
            get => _states[piece];
            set => _states[piece] = value;
        }

        /// <summary>How many pieces are in <paramref name="state"/>.</summary>
        public int CountOf(PieceState state)
        {
            int n = 0;
            foreach (var s in _states) if (s == state) n++;
            return n;
        }

        /// <summary>The indexes of the pieces in <paramref name="state"/>, ascending.</summary>
        public int[] IndexesOf(PieceState state)
        {
            var list = new List<int>();
            for (int i = 0; i < _states.Length; i++) if (_states[i] == state) list.Add(i);
            return list.ToArray();
        }

        /// <summary>The BEP 3 bitfield: bit 7 of byte 0 is piece 0; set for every valid piece; spare bits are zero.</summary>
        public byte[] ToBitfield()
        {
            var bits = new byte[(_states.Length + 7) / 8];
            for (int i = 0; i < _states.Length; i++)
                if (_states[i] == PieceState.Valid) bits[i >> 3] |= (byte)(0x80 >> (i & 7));
            return bits;
        }

        public override string ToString() =>
            $"{CountOf(PieceState.Valid)} valid, {CountOf(PieceState.Corrupt)} corrupt, {CountOf(PieceState.Missing)} missing of {Count}";
    }
}
