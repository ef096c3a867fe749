using System;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Metainfo;

namespace BitTorrent.Session
{
    /// <summary>How one run of a torrent ended: its result and, when it failed, why. The one place that turns a
    /// <see cref="TorrentDownload.RunAsync"/> into that, whichever way the run reports a failure.</summary>
    public sealed class RunOutcome
    {
        private RunOutcome(DownloadResult result, DownloadError? error, Exception? exception)
        {
            Result = result;
            Error = error;
            Exception = exception;
        }

        public DownloadResult Result { get; }

        /// <summary>What the user must act on, when the run failed for a known reason.</summary>
        public DownloadError? Error { get; }

        /// <summary>The exception behind a failure, when there was one.</summary>
        public Exception? Exception { get; }

        public bool Failed => Result.Status == DownloadOutcome.Failed;

        /// <summary>Runs the download to its end; never throws (an unexpected exception is a Failed result).</summary>
        public static async Task<RunOutcome> RunAsync(TorrentDownload download, string destination, CancellationToken cancellationToken)
        {
            try
            {
                // RunAsync reports failures in its result (Status, Error, GetException) rather than by throwing.
                var result = await download.RunAsync(cancellationToken).ConfigureAwait(false);
                return new RunOutcome(result, result.Status == DownloadOutcome.Failed ? result.Error : null, result.GetException());
            }
            catch (Exception ex)
            {
                return new RunOutcome(Failure(download.Torrent, destination, ex.Message), null, ex);
            }
        }

        /// <summary>The result of a torrent that never ran (stopped or removed while it waited).</summary>
        public static RunOutcome NotStarted(TorrentInfo torrent, string destination) => new RunOutcome(new DownloadResult
        {
            Name = torrent.Name,
            InfoHash = torrent.InfoHash,
            DestinationPath = destination,
            TotalSize = torrent.TotalSize,
            Status = DownloadOutcome.Stopped,
            Message = "Stopped before it started.",
        }, null, null);

        /// <summary>A paused torrent that is not resumed: what its last run did, as stopped.</summary>
        public static RunOutcome Stopped(RunOutcome last) => new RunOutcome(new DownloadResult
        {
            Name = last.Result.Name,
            InfoHash = last.Result.InfoHash,
            DestinationPath = last.Result.DestinationPath,
            Files = last.Result.Files,
            TotalSize = last.Result.TotalSize,
            SelectedSize = last.Result.SelectedSize,
            BytesDownloaded = last.Result.BytesDownloaded,
            BytesResumed = last.Result.BytesResumed,
            Duration = last.Result.Duration,
            AverageRate = last.Result.AverageRate,
            PeersUsed = last.Result.PeersUsed,
            BytesUploaded = last.Result.BytesUploaded,
            PeersServed = last.Result.PeersServed,
            HashFailures = last.Result.HashFailures,
            Status = last.Result.Status == DownloadOutcome.Completed ? DownloadOutcome.Completed : DownloadOutcome.Stopped,
            Message = last.Result.Status == DownloadOutcome.Completed ? null : "Paused, and stopped before it was resumed.",
        }, null, null);

        private static DownloadResult Failure(TorrentInfo torrent, string destination, string message) => new DownloadResult
        {
            Name = torrent.Name,
            InfoHash = torrent.InfoHash,
            DestinationPath = destination,
            TotalSize = torrent.TotalSize,
            Status = DownloadOutcome.Failed,
            Message = message,
        };
    }
}
