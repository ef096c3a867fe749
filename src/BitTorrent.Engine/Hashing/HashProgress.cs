namespace BitTorrent.Hashing
{
    /// <summary>How far a hashing job (creating or verifying a torrent) has come.</summary>
    public readonly struct HashProgress
    {
        public HashProgress(long bytesDone, long bytesTotal, int piecesDone, int piecesTotal, int currentFile)
        {
            BytesDone = bytesDone;
            BytesTotal = bytesTotal;
            PiecesDone = piecesDone;
            PiecesTotal = piecesTotal;
            CurrentFile = currentFile;
        }

        /// <summary>Bytes of the pieces finished so far (hashed, or found unavailable).</summary>
        public long BytesDone { get; }

        /// <summary>Bytes of all the pieces the job covers.</summary>
        public long BytesTotal { get; }

        public int PiecesDone { get; }
        public int PiecesTotal { get; }

        /// <summary>Index (in the torrent's file list) of the file being read now, or -1.</summary>
        public int CurrentFile { get; }

        public int Percent => BytesTotal <= 0 ? 100 : (int)(BytesDone * 100 / BytesTotal);
    }
}
