namespace BitTorrent.Hashing
{
    /// <summary>What a verification found for one piece.</summary>
    public enum PieceState : byte
    {
        /// <summary>The piece was not part of this check.</summary>
        NotChecked = 0,

        /// <summary>Every byte was read and the SHA-1 matches the torrent.</summary>
        Valid = 1,

        /// <summary>Every byte was read but the SHA-1 differs: the data is damaged or different.</summary>
        Corrupt = 2,

        /// <summary>Some bytes could not be read: a file is absent, shorter than the torrent says, or unreadable.</summary>
        Missing = 3,
    }
}
