using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Storage;

namespace BitTorrent.Hashing
{
    /// <summary>Checks a torrent's data on disk against the torrent's piece hashes: every piece (or a chosen set) is
    /// read and hashed in parallel (<see cref="PieceHashPipeline"/>) and found Valid, Corrupt or Missing; each file is
    /// then Complete, Partial, Missing or WrongSize. Absent and short files are findings, never exceptions. This is
    /// both Test-Torrent and the download engine's resume check.</summary>
    public static class PieceVerifier
    {
        /// <summary>Verifies <paramref name="torrent"/> against the data at <paramref name="dataPath"/> (see
        /// <see cref="TorrentDataLocation.Resolve"/> for how the path is read). Throws <see cref="StorageException"/>
        /// when the data path does not exist or does not fit the torrent, and
        /// <see cref="OperationCanceledException"/> when cancelled.</summary>
        public static Task<VerificationResult> VerifyAsync(TorrentInfo torrent, string dataPath, VerificationOptions? options = null,
            IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            var location = TorrentDataLocation.Resolve(torrent, dataPath);
            return VerifyAsync(torrent, location, options, progress, cancellationToken);
        }

        /// <summary>Verifies <paramref name="torrent"/> against the files at <paramref name="location"/>.</summary>
        public static async Task<VerificationResult> VerifyAsync(TorrentInfo torrent, TorrentDataLocation location, VerificationOptions? options = null,
            IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            if (location is null) throw new ArgumentNullException(nameof(location));
            options ??= new VerificationOptions();
            var clock = Stopwatch.StartNew();
            var layout = PieceLayout.FromTorrent(torrent);
            var runs = options.Pieces is null
                ? new List<PieceRun> { new PieceRun(0, layout.PieceCount) }
                : PieceRun.FromIndexes(options.Pieces, layout.PieceCount);

            // Look at every file first: absent ones are not opened at all, and every file gets a status even when
            // none of its pieces is read (an empty file, or a partial check).
            var probe = new FileProbe(location.Root, options.FollowSymbolicLinks);
            var probes = new FileProbeResult[torrent.Files.Count];
            var readable = new string?[torrent.Files.Count];
            for (int i = 0; i < probes.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? path = location.FilePaths[i];
                if (torrent.Files[i].IsPadding || path is null) continue;
                probes[i] = probe.Probe(path, isUnderRoot: !location.IsSingleFilePath);
                if (probes[i].Exists) readable[i] = path;
            }

            var states = new PieceStateMap(layout.PieceCount);
            var pipeline = new PieceHashPipeline(layout, readable, options.ThreadCount);
            await pipeline.RunAsync(runs, new CompareSink(torrent, states), progress, cancellationToken).ConfigureAwait(false);
            return BuildResult(torrent, location, layout, states, probes, pipeline, clock.Elapsed);
        }

        private static VerificationResult BuildResult(TorrentInfo torrent, TorrentDataLocation location, PieceLayout layout,
            PieceStateMap states, FileProbeResult[] probes, PieceHashPipeline pipeline, TimeSpan elapsed)
        {
            var files = new List<FileVerification>();
            bool allFilesComplete = true;
            for (int i = 0; i < torrent.Files.Count; i++)
            {
                var tf = torrent.Files[i];
                if (tf.IsPadding) continue;
                var probe = probes[i];
                var fv = new FileVerification
                {
                    Index = i,
                    Path = tf.Path,
                    FullPath = location.FilePaths[i] ?? string.Empty,
                    Length = tf.Length,
                    ActualLength = probe.Exists ? probe.Length : (long?)null,
                    Problem = probe.Problem ?? pipeline.GetFileError(i),
                };
                int notChecked = 0;
                if (layout.TryGetFilePieces(i, out int first, out int last))
                {
                    fv.PieceCount = last - first + 1;
                    for (int p = first; p <= last; p++)
                    {
                        var state = states[p];
                        if (state == PieceState.Valid)
                        {
                            fv.ValidPieces++;
                            fv.BytesValid += layout.GetOverlap(i, p);
                        }
                        else if (state == PieceState.NotChecked)
                        {
                            notChecked++;
                        }
                    }
                }
                if (!probe.Exists) fv.Status = FileStatus.Missing;
                else if (probe.Length != tf.Length) fv.Status = FileStatus.WrongSize;
                else if (fv.ValidPieces == fv.PieceCount) fv.Status = FileStatus.Complete;
                else if (notChecked == fv.PieceCount) fv.Status = FileStatus.NotChecked;
                else fv.Status = FileStatus.Partial;
                if (fv.Status == FileStatus.WrongSize && fv.Problem is null)
                    fv.Problem = $"The file is {probe.Length} bytes long; the torrent says {tf.Length}.";
                if (fv.Status != FileStatus.Complete) allFilesComplete = false;
                files.Add(fv);
            }

            long bytesValid = 0;
            for (int p = 0; p < states.Count; p++)
                if (states[p] == PieceState.Valid) bytesValid += layout.GetPieceLength(p);
            int valid = states.CountOf(PieceState.Valid);
            return new VerificationResult
            {
                Name = torrent.Name,
                InfoHash = torrent.InfoHash,
                TorrentPath = torrent.Source,
                DataPath = location.IsSingleFilePath ? location.FilePaths[0]! : location.Root,
                PieceCount = states.Count,
                PieceLength = torrent.PieceLength,
                CheckedPieces = states.Count - states.CountOf(PieceState.NotChecked),
                ValidPieces = valid,
                CorruptPieces = states.CountOf(PieceState.Corrupt),
                MissingPieces = states.CountOf(PieceState.Missing),
                CorruptPieceIndexes = states.IndexesOf(PieceState.Corrupt),
                MissingPieceIndexes = states.IndexesOf(PieceState.Missing),
                BytesValid = bytesValid,
                TotalSize = torrent.TotalSize,
                IsComplete = valid == states.Count && allFilesComplete,
                Files = files,
                Pieces = states,
                Duration = elapsed,
                Torrent = torrent,
            };
        }

        /// <summary>Compares each piece's SHA-1 with the torrent's.</summary>
        private sealed class CompareSink : IPieceHashSink
        {
            private readonly TorrentInfo _torrent;
            private readonly PieceStateMap _states;

            public CompareSink(TorrentInfo torrent, PieceStateMap states)
            {
                _torrent = torrent;
                _states = states;
            }

            public void OnPieceHashed(int piece, byte[] sha1) =>
                _states[piece] = _torrent.GetPieceHash(piece).SequenceEqual(sha1) ? PieceState.Valid : PieceState.Corrupt;

            public void OnPieceUnavailable(int piece) => _states[piece] = PieceState.Missing;
        }
    }
}
