using System;

namespace BitTorrent.Download
{
    public enum DownloadState
    {
        Checking,
        Downloading,
        Seeding,
        Completed,
        Stopped,
        Failed,
    }

    /// <summary>A snapshot of a running download, taken on demand (the cmdlet polls it for progress).</summary>
    public sealed class DownloadStatus
    {
        public DownloadState State { get; init; }
        public long TotalWanted { get; init; }
        public long BytesVerified { get; init; }
        public long BytesDownloaded { get; init; }
        public double DownloadRate { get; init; }
        public long BytesUploaded { get; init; }
        public double UploadRate { get; init; }
        public int ConnectedPeers { get; init; }
        public int KnownPeers { get; init; }
        public int PiecesVerified { get; init; }
        public int PiecesWanted { get; init; }
        public int HashFailures { get; init; }
        public TimeSpan Elapsed { get; init; }

        public double PercentComplete => TotalWanted == 0 ? 100 : 100.0 * BytesVerified / TotalWanted;

        /// <summary>Seconds left at the current rate, or -1 when unknown.</summary>
        public int SecondsRemaining => DownloadRate < 1 ? -1 : (int)Math.Min(int.MaxValue, (TotalWanted - BytesVerified) / DownloadRate);
    }
}
