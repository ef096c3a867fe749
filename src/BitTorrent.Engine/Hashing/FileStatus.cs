namespace BitTorrent.Hashing
{
    /// <summary>What a verification found for one file of a torrent.</summary>
    public enum FileStatus
    {
        /// <summary>The file has the right size and every piece holding its bytes is valid.</summary>
        Complete,

        /// <summary>The file has the right size, but some (or all) of the pieces holding its bytes are not valid.</summary>
        Partial,

        /// <summary>The file is not there (or may not be read: a folder in its place, a link that is not followed).</summary>
        Missing,

        /// <summary>The file is there but its size differs from the torrent's.</summary>
        WrongSize,

        /// <summary>None of the pieces holding its bytes was part of this check.</summary>
        NotChecked,
    }
}
