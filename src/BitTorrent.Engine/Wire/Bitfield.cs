using System;

namespace BitTorrent.Wire
{
    /// <summary>Which pieces a peer (or we) have: one bit per piece, most significant bit of byte 0 = piece 0,
    /// exactly as in the BEP 3 bitfield message. Spare bits past the last piece are always zero. The set-bit count is
    /// kept up to date, so <see cref="Count"/> and <see cref="IsComplete"/> cost nothing. Not thread-safe.</summary>
    public sealed class Bitfield
    {
        private readonly byte[] _bytes;
        private int _count;

        public Bitfield(int length)
        {
            if (length < 0 || length > PeerMessageLimits.MaxPieceCount)
                throw new ArgumentOutOfRangeException(nameof(length), length, $"A bitfield holds 0 to {PeerMessageLimits.MaxPieceCount} pieces.");
            Length = length;
            _bytes = new byte[ByteCount(length)];
        }

        /// <summary>Number of pieces (bits).</summary>
        public int Length { get; }

        /// <summary>Number of pieces set.</summary>
        public int Count => _count;

        public bool IsComplete => _count == Length;
        public bool IsEmpty => _count == 0;

        /// <summary>Percentage of pieces set (0–100); 0 for an empty torrent.</summary>
        public double PercentComplete => Length == 0 ? 0 : 100.0 * _count / Length;

        /// <summary>The wire form (ceil(Length / 8) bytes), for a bitfield message.</summary>
        public ReadOnlySpan<byte> Bytes => _bytes;

        public static int ByteCount(int pieces) => (pieces + 7) / 8;

        /// <summary>Reads a peer's bitfield message: exactly ceil(pieces / 8) bytes, spare bits zero.</summary>
        /// <exception cref="PeerProtocolException">Wrong length or spare bits set.</exception>
        public static Bitfield FromWire(ReadOnlySpan<byte> bits, int pieceCount)
        {
            var bitfield = new Bitfield(pieceCount);
            ValidateWireFormat(bits, pieceCount);
            bits.CopyTo(bitfield._bytes);
            bitfield._count = PopCount(bitfield._bytes);
            return bitfield;
        }

        /// <summary>Checks a bitfield message's payload against the piece count without copying it.</summary>
        public static void ValidateWireFormat(ReadOnlySpan<byte> bits, int pieceCount)
        {
            int expected = ByteCount(pieceCount);
            if (bits.Length != expected)
            {
                throw new PeerProtocolException(PeerProtocolError.BitfieldWrongLength,
                    $"The torrent has {pieceCount} pieces, so a bitfield is {expected} bytes; the peer sent {bits.Length}.");
            }
            int spare = expected * 8 - pieceCount;
            if (spare > 0 && (bits[expected - 1] & ((1 << spare) - 1)) != 0)
            {
                throw new PeerProtocolException(PeerProtocolError.BitfieldSpareBitsSet,
                    $"The peer's bitfield has bits set past piece {pieceCount - 1} (spare bits must be zero).");
            }
        }

        /// <summary>Counts the set bits of raw bitfield bytes (for a bitfield whose torrent we do not know).</summary>
        public static int PopCount(ReadOnlySpan<byte> bits)
        {
            int count = 0;
            for (int i = 0; i < bits.Length; i++)
            {
                uint b = bits[i];
                b -= (b >> 1) & 0x55;
                b = (b & 0x33) + ((b >> 2) & 0x33);
                count += (int)((b + (b >> 4)) & 0x0F);
            }
            return count;
        }

        public bool this[int index]
        {
            get => Get(index);
            set { if (value) Set(index); else Clear(index); }
        }

        public bool Get(int index)
        {
            CheckIndex(index);
            return (_bytes[index >> 3] & (0x80 >> (index & 7))) != 0;
        }

        /// <summary>Sets a piece; returns true if it was not set before.</summary>
        public bool Set(int index)
        {
            CheckIndex(index);
            int mask = 0x80 >> (index & 7);
            ref byte b = ref _bytes[index >> 3];
            if ((b & mask) != 0) return false;
            b |= (byte)mask;
            _count++;
            return true;
        }

        /// <summary>Clears a piece; returns true if it was set before.</summary>
        public bool Clear(int index)
        {
            CheckIndex(index);
            int mask = 0x80 >> (index & 7);
            ref byte b = ref _bytes[index >> 3];
            if ((b & mask) == 0) return false;
            b &= (byte)~mask;
            _count--;
            return true;
        }

        public void SetAll()
        {
            _bytes.AsSpan().Fill(0xFF);
            ClearSpareBits();
            _count = Length;
        }

        public void ClearAll()
        {
            Array.Clear(_bytes, 0, _bytes.Length);
            _count = 0;
        }

        /// <summary>Keeps only pieces also set in <paramref name="other"/> (this AND other).</summary>
        public void And(Bitfield other)
        {
            CheckSameLength(other);
            for (int i = 0; i < _bytes.Length; i++) _bytes[i] &= other._bytes[i];
            _count = PopCount(_bytes);
        }

        /// <summary>Removes pieces set in <paramref name="other"/> (this AND NOT other): with this = a peer's pieces
        /// and other = ours, what remains is what the peer can give us.</summary>
        public void AndNot(Bitfield other)
        {
            CheckSameLength(other);
            for (int i = 0; i < _bytes.Length; i++) _bytes[i] &= (byte)~other._bytes[i];
            _count = PopCount(_bytes);
        }

        /// <summary>Adds pieces set in <paramref name="other"/> (this OR other).</summary>
        public void Or(Bitfield other)
        {
            CheckSameLength(other);
            for (int i = 0; i < _bytes.Length; i++) _bytes[i] |= other._bytes[i];
            _count = PopCount(_bytes);
        }

        /// <summary>Flips every piece (spare bits stay zero).</summary>
        public void Not()
        {
            for (int i = 0; i < _bytes.Length; i++) _bytes[i] = (byte)~_bytes[i];
            ClearSpareBits();
            _count = Length - _count;
        }

        /// <summary>True if this bitfield has a piece that <paramref name="ours"/> lacks (we are interested in that peer).</summary>
        public bool HasAnyNotIn(Bitfield ours)
        {
            CheckSameLength(ours);
            for (int i = 0; i < _bytes.Length; i++)
                if ((_bytes[i] & ~ours._bytes[i]) != 0) return true;
            return false;
        }

        public Bitfield Clone()
        {
            var copy = new Bitfield(Length);
            _bytes.CopyTo(copy._bytes, 0);
            copy._count = _count;
            return copy;
        }

        /// <summary>The first piece not set, or -1 when complete.</summary>
        public int FirstMissing() => NextMissing(0);

        /// <summary>The first piece at or after <paramref name="start"/> that is not set, or -1.</summary>
        public int NextMissing(int start)
        {
            if (start < 0) throw new ArgumentOutOfRangeException(nameof(start));
            for (int i = start; i < Length;)
            {
                byte b = _bytes[i >> 3];
                if (b == 0xFF && (i & 7) == 0) { i += 8; continue; }
                if ((b & (0x80 >> (i & 7))) == 0) return i;
                i++;
            }
            return -1;
        }

        /// <summary>The first piece at or after <paramref name="start"/> that is set, or -1.</summary>
        public int NextSet(int start)
        {
            if (start < 0) throw new ArgumentOutOfRangeException(nameof(start));
            for (int i = start; i < Length;)
            {
                byte b = _bytes[i >> 3];
                if (b == 0 && (i & 7) == 0) { i += 8; continue; }
                if ((b & (0x80 >> (i & 7))) != 0) return i;
                i++;
            }
            return -1;
        }

        /// <summary>Adds one to <paramref name="availability"/>[i] for every piece i set here: how many peers have
        /// each piece, for rarest-first.</summary>
        public void AddTo(int[] availability) => Accumulate(availability, +1);

        /// <summary>Undoes <see cref="AddTo"/> when the peer leaves.</summary>
        public void SubtractFrom(int[] availability) => Accumulate(availability, -1);

        public byte[] ToArray() => (byte[])_bytes.Clone();

        public override string ToString() => $"{_count}/{Length} pieces";

        private void Accumulate(int[] availability, int delta)
        {
            if (availability is null) throw new ArgumentNullException(nameof(availability));
            if (availability.Length < Length) throw new ArgumentException($"The availability array needs {Length} entries.", nameof(availability));
            for (int byteIndex = 0; byteIndex < _bytes.Length; byteIndex++)
            {
                byte b = _bytes[byteIndex];
                if (b == 0) continue;
                int first = byteIndex << 3;
                for (int bit = 0; bit < 8; bit++)
                    if ((b & (0x80 >> bit)) != 0) availability[first + bit] += delta;
            }
        }

        private void ClearSpareBits()
        {
            int spare = _bytes.Length * 8 - Length;
            if (spare > 0) _bytes[_bytes.Length - 1] &= (byte)~((1 << spare) - 1);
        }

        private void CheckIndex(int index)
        {
            if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"Piece indexes run from 0 to {Length - 1}.");
        }

        private void CheckSameLength(Bitfield other)
        {
            if (other is null) throw new ArgumentNullException(nameof(other));
            if (other.Length != Length) throw new ArgumentException($"Bitfields of {Length} and {other.Length} pieces cannot be combined.", nameof(other));
        }
    }
}
