namespace BitTorrent.Storage
{
    /// <summary>A range of the torrent's byte stream.</summary>
    public readonly struct ByteRange
    {
        public ByteRange(long offset, long length)
        {
            Offset = offset;
            Length = length;
        }

        public long Offset { get; }
        public long Length { get; }
        public long End => Offset + Length;

        public override string ToString() => $"[{Offset}, {End})";
    }
}
