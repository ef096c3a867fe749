using System;
using System.Collections.Generic;

namespace BitTorrent.Download
{
    public enum DownloadOutcome
    {
        Completed,
        Stopped,
        Failed,
    }

    /// <summary>What one torrent download did (Start-TorrentDownload emits one per torrent).</summary>
    public sealed class DownloadResult
    {
        public string Name { get; init; } = string.Empty;
        public string InfoHash { get; init; } = string.Empty;
        /// <summary>The folder the torrent's content went into.</summary>
        public string DestinationPath { get; init; } = string.Empty;
        /// <summary>Full paths of the selected files (complete ones under their real names).</summary>
        public IReadOnlyList<string> Files { get; init; } = Array.Empty<string>();
        public long TotalSize { get; init; }
        /// <summary>Bytes of the selected files.</summary>
        public long SelectedSize { get; init; }
        /// <summary>Payload bytes received from peers in this run (a resumed download counts only what it fetched).</summary>
        public long BytesDownloaded { get; init; }
        /// <summary>Bytes already verified on disk when the run started (resume).</summary>
        public long BytesResumed { get; init; }
        public TimeSpan Duration { get; init; }
        /// <summary>Bytes per second over the run.</summary>
        public double AverageRate { get; init; }
        public int PeersUsed { get; init; }
        /// <summary>Payload bytes uploaded to peers in this run.</summary>
        public long BytesUploaded { get; init; }
        /// <summary>Peers that received at least one block from us.</summary>
        public int PeersServed { get; init; }
        public int HashFailures { get; init; }
        public DownloadOutcome Status { get; init; }
        /// <summary>Why the download failed or stopped, when it did (for people).</summary>
        public string? Message { get; init; }
        /// <summary>What failed, when <see cref="Status"/> is Failed for a reason the user can act on (null for a
        /// failure that is a bug: see <see cref="Exception"/>).</summary>
        public DownloadError? Error { get; init; }
        /// <summary>The exception behind a failure, for error records. A method, not a property, so that
        /// ConvertTo-Json, Export-Clixml and the formatter never dump it with the result.</summary>
        public Exception? GetException() => _exception;

        internal Exception? Exception { init => _exception = value; }
        private Exception? _exception;
    }
}
