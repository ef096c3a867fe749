using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Wire;

public class BitfieldTests
{
    [Fact]
    public void Set_get_clear_and_count_use_BEP3_bit_order()
    {
        var bits = new Bitfield(10);
        Assert.True(bits.Set(0));
        Assert.False(bits.Set(0));   // already set: count unchanged
        bits.Set(9);
        Assert.Equal(new byte[] { 0x80, 0x40 }, bits.ToArray());   // piece 0 = high bit of byte 0; piece 9 = second bit of byte 1
        Assert.Equal(2, bits.Count);
        Assert.True(bits[9]);
        Assert.False(bits[8]);
        Assert.True(bits.Clear(0));
        Assert.False(bits.Clear(0));
        Assert.Equal(1, bits.Count);
        Assert.Equal(10.0, bits.PercentComplete, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.Get(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.Set(-1));
    }

    [Fact]
    public void SetAll_and_Not_keep_spare_bits_zero()
    {
        var bits = new Bitfield(11);
        bits.SetAll();
        Assert.Equal(new byte[] { 0xFF, 0xE0 }, bits.ToArray());
        Assert.True(bits.IsComplete);
        bits.Clear(3);
        bits.Not();
        Assert.Equal(new byte[] { 0x10, 0x00 }, bits.ToArray());
        Assert.Equal(1, bits.Count);
        Bitfield.ValidateWireFormat(bits.Bytes, 11);   // still a valid wire bitfield
    }

    [Fact]
    public void FromWire_checks_length_and_spare_bits()
    {
        Assert.Equal(PeerProtocolError.BitfieldWrongLength,
            Assert.Throws<PeerProtocolException>(() => Bitfield.FromWire(new byte[] { 0xFF }, 9)).Error);
        Assert.Equal(PeerProtocolError.BitfieldWrongLength,
            Assert.Throws<PeerProtocolException>(() => Bitfield.FromWire(new byte[] { 0xFF, 0x80, 0x00 }, 9)).Error);
        Assert.Equal(PeerProtocolError.BitfieldSpareBitsSet,
            Assert.Throws<PeerProtocolException>(() => Bitfield.FromWire(new byte[] { 0xFF, 0xC0 }, 9)).Error);
        Assert.Equal(PeerProtocolError.BitfieldSpareBitsSet,
            Assert.Throws<PeerProtocolException>(() => Bitfield.FromWire(new byte[] { 0x00, 0x01 }, 9)).Error);
        var ok = Bitfield.FromWire(new byte[] { 0xF0, 0x80 }, 9);
        Assert.Equal(5, ok.Count);
        Assert.True(ok[8]);
        var exact = Bitfield.FromWire(new byte[] { 0xFF, 0xFF }, 16);   // no spare bits at all
        Assert.True(exact.IsComplete);
    }

    [Fact]
    public void And_AndNot_Or_combine_and_recount()
    {
        var peer = Bitfield.FromWire(new byte[] { 0b1110_0000 }, 4);   // 0,1,2
        var ours = Bitfield.FromWire(new byte[] { 0b0110_0000 }, 4);   // 1,2
        Assert.True(peer.HasAnyNotIn(ours));
        Assert.False(ours.HasAnyNotIn(peer));

        var wanted = peer.Clone();
        wanted.AndNot(ours);
        Assert.Equal(1, wanted.Count);
        Assert.Equal(0, wanted.NextSet(0));

        var both = peer.Clone();
        both.And(Bitfield.FromWire(new byte[] { 0b1001_0000 }, 4));
        Assert.Equal(new byte[] { 0b1000_0000 }, both.ToArray());

        var union = ours.Clone();
        union.Or(Bitfield.FromWire(new byte[] { 0b0001_0000 }, 4));
        Assert.Equal(3, union.Count);
        Assert.Throws<ArgumentException>(() => union.Or(new Bitfield(5)));
    }

    [Fact]
    public void FirstMissing_NextMissing_and_NextSet_skip_whole_bytes()
    {
        var bits = new Bitfield(40);
        for (int i = 0; i < 37; i++) bits.Set(i);
        Assert.Equal(37, bits.FirstMissing());
        Assert.Equal(38, bits.NextMissing(38));
        bits.Set(37); bits.Set(38); bits.Set(39);
        Assert.Equal(-1, bits.FirstMissing());

        var sparse = new Bitfield(1000);
        Assert.Equal(-1, sparse.NextSet(0));
        sparse.Set(999);
        Assert.Equal(999, sparse.NextSet(0));
        Assert.Equal(0, sparse.FirstMissing());
    }

    [Fact]
    public void Availability_counts_add_and_subtract_per_peer()
    {
        var availability = new int[12];
        var a = Bitfield.FromWire(new byte[] { 0b1010_0000, 0b0001_0000 }, 12);   // 0, 2, 11
        var b = Bitfield.FromWire(new byte[] { 0b1000_0000, 0b0011_0000 }, 12);   // 0, 10, 11
        a.AddTo(availability);
        b.AddTo(availability);
        Assert.Equal(new[] { 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2 }, availability);
        a.SubtractFrom(availability);
        Assert.Equal(new[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 }, availability);
        Assert.Throws<ArgumentException>(() => a.AddTo(new int[11]));
    }

    [Fact]
    public void PopCount_counts_raw_bytes()
    {
        Assert.Equal(0, Bitfield.PopCount(new byte[] { 0, 0 }));
        Assert.Equal(8 + 1 + 4, Bitfield.PopCount(new byte[] { 0xFF, 0x80, 0x0F }));
    }
}
