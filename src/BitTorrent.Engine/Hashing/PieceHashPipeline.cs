using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Storage;

namespace BitTorrent.Hashing
{
    /// <summary>Hashes pieces at the speed of the machine's SHA-1. The pieces to hash are cut into chunks of whole
    /// pieces (about 4 MiB); one worker per core claims the next chunk in torrent order, reads it with one large read
    /// per file span into its own pooled buffer, and hashes its pieces with its own SHA-1 object. Reads stay in
    /// ascending order and large, while opening files, copying from the page cache and hashing all run on every core
    /// (a folder of many small files costs little more than one large file). A piece larger than a chunk is read in
    /// chunk-sized blocks and hashed incrementally, so memory stays at one buffer per worker whatever the piece size.
    /// Nothing is allocated per block. Used by the torrent builder (hash everything) and by the verifier (hash and
    /// compare; the download engine's resume check).</summary>
    internal sealed class PieceHashPipeline
    {
        /// <summary>Bytes read at once (rounded down to whole pieces when pieces are smaller).</summary>
        internal const int TargetChunkBytes = 4 * 1024 * 1024;

        private readonly PieceLayout _layout;
        private readonly IReadOnlyList<string?> _filePaths;
        private readonly int _threads;
        private readonly string?[] _fileErrors;
        private int _currentFile = -1;

        /// <param name="layout">The torrent's layout.</param>
        /// <param name="filePaths">One absolute path per file of the layout; null for a file that must not be read.</param>
        /// <param name="threadCount">Workers; 0 means one per processor.</param>
        public PieceHashPipeline(PieceLayout layout, IReadOnlyList<string?> filePaths, int threadCount)
        {
            _layout = layout ?? throw new ArgumentNullException(nameof(layout));
            _filePaths = filePaths ?? throw new ArgumentNullException(nameof(filePaths));
            if (filePaths.Count != layout.FileCount) throw new ArgumentException("One path per file of the layout is needed.", nameof(filePaths));
            _threads = threadCount > 0 ? threadCount : Environment.ProcessorCount;
            _fileErrors = new string?[layout.FileCount];
        }

        /// <summary>The first problem any worker met reading file <paramref name="file"/> (not found, denied, shorter
        /// than expected, I/O error), or null. Set before the sink hears of a piece it made unavailable.</summary>
        public string? GetFileError(int file) => Volatile.Read(ref _fileErrors[file]);

        /// <summary>Hashes every piece of <paramref name="runs"/> and reports each to <paramref name="sink"/> (from worker
        /// threads). Throws <see cref="OperationCanceledException"/> when cancelled, or the first exception of a worker
        /// or of the sink; in every case all workers have stopped and all buffers are back in the pool on return.</summary>
        public async Task RunAsync(IReadOnlyList<PieceRun> runs, IPieceHashSink sink, IProgress<HashProgress>? progress, CancellationToken cancellationToken)
        {
            if (runs is null) throw new ArgumentNullException(nameof(runs));
            if (sink is null) throw new ArgumentNullException(nameof(sink));
            cancellationToken.ThrowIfCancellationRequested();

            int pieceLength = _layout.PieceLength;
            int chunkPieces = Math.Max(1, TargetChunkBytes / pieceLength);
            var chunks = new List<PieceRun>();
            long totalBytes = 0;
            int totalPieces = 0;
            foreach (var run in runs)
            {
                if (run.Count == 0) continue;
                totalBytes += _layout.GetRunLength(run.First, run.Count);
                totalPieces += run.Count;
                for (int done = 0; done < run.Count; done += chunkPieces)
                    chunks.Add(new PieceRun(run.First + done, Math.Min(chunkPieces, run.Count - done)));
            }
            if (totalPieces == 0)
            {
                progress?.Report(new HashProgress(0, 0, 0, 0, -1));
                return;
            }

            var job = new Job(chunks, sink, progress, totalBytes, totalPieces, cancellationToken);
            try
            {
                int workers = Math.Max(1, Math.Min(_threads, chunks.Count));
                int bufferBytes = pieceLength > TargetChunkBytes ? TargetChunkBytes : chunkPieces * pieceLength;
                var tasks = new Task[workers];
                for (int w = 0; w < workers; w++)
                    tasks[w] = Task.Factory.StartNew(() => Work(job, chunkPieces, bufferBytes), CancellationToken.None,
                        TaskCreationOptions.LongRunning, TaskScheduler.Default);
                // The worker bodies catch everything, so this never throws; errors are in job.Error.
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            finally
            {
                job.Stop.Dispose();
            }

            if (job.Error is not null) ExceptionDispatchInfo.Capture(job.Error).Throw();
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new HashProgress(job.BytesDone, totalBytes, job.PiecesDone, totalPieces, Volatile.Read(ref _currentFile)));
        }

        /// <summary>A worker: claims chunks in order until none is left, reading and hashing each one itself.</summary>
        private void Work(Job job, int chunkPieces, int bufferBytes)
        {
            byte[]? buffer = null;
            try
            {
                var token = job.Stop.Token;
                buffer = ArrayPool<byte>.Shared.Rent(bufferBytes);
                var unavailable = new List<ByteRange>();
                var pieceUnavailable = new bool[chunkPieces];
                using var reader = new TorrentDataReader(_layout, _filePaths);
                using var sha1 = SHA1.Create();
                int index;
                while ((index = job.ClaimChunk()) >= 0)
                {
                    token.ThrowIfCancellationRequested();
                    var chunk = job.Chunks[index];
                    long offset = _layout.GetPieceOffset(chunk.First);
                    int length = (int)_layout.GetRunLength(chunk.First, chunk.Count);
                    if (length > buffer.Length)
                    {
                        // One piece larger than the buffer.
                        bool complete = HashInBlocks(reader, sha1, buffer, offset, length, unavailable, token);
                        Volatile.Write(ref _currentFile, reader.CurrentFile);
                        if (complete) job.Sink.OnPieceHashed(chunk.First, sha1.Hash);
                        else job.Sink.OnPieceUnavailable(chunk.First);
                    }
                    else
                    {
                        unavailable.Clear();
                        Array.Clear(pieceUnavailable, 0, chunk.Count);
                        if (!reader.Read(offset, buffer, 0, length, unavailable))
                        {
                            RecordErrors(reader, offset, length);
                            MarkUnavailablePieces(unavailable, offset, pieceUnavailable);
                        }
                        Volatile.Write(ref _currentFile, reader.CurrentFile);
                        int pieceLength = _layout.PieceLength;
                        for (int i = 0; i < chunk.Count; i++)
                        {
                            token.ThrowIfCancellationRequested();
                            int at = i * pieceLength;
                            if (pieceUnavailable[i]) job.Sink.OnPieceUnavailable(chunk.First + i);
                            else job.Sink.OnPieceHashed(chunk.First + i, sha1.ComputeHash(buffer, at, Math.Min(pieceLength, length - at)));
                        }
                    }
                    job.ChunkDone(chunk.Count, length, Volatile.Read(ref _currentFile));
                }
            }
            catch (Exception ex)
            {
                job.Fail(ex);
            }
            finally
            {
                if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        /// <summary>Hashes one piece of <paramref name="length"/> bytes from <paramref name="offset"/> through the buffer,
        /// block by block; false as soon as some of its bytes cannot be read. (Hashing on past a missing block only
        /// burned CPU: a crafted torrent of 16 384 pieces of 256 MiB over a missing 4 TiB file took an hour to report
        /// every piece missing.)</summary>
        private bool HashInBlocks(TorrentDataReader reader, SHA1 sha1, byte[] buffer, long offset, int length, List<ByteRange> unavailable, CancellationToken token)
        {
            sha1.Initialize();
            for (int done = 0; done < length;)
            {
                token.ThrowIfCancellationRequested();
                int block = Math.Min(buffer.Length, length - done);
                unavailable.Clear();
                if (!reader.Read(offset + done, buffer, 0, block, unavailable))
                {
                    RecordErrors(reader, offset + done, block);
                    return false;
                }
                done += block;
                if (done < length) sha1.TransformBlock(buffer, 0, block, null, 0);
                else sha1.TransformFinalBlock(buffer, 0, block);
            }
            return true;
        }

        /// <summary>Copies the reader's file errors for the files of a range to the shared list (first error wins).</summary>
        private void RecordErrors(TorrentDataReader reader, long offset, int length)
        {
            foreach (var span in _layout.GetSpans(offset, length))
            {
                string? error = reader.GetFileError(span.FileIndex);
                if (error is not null) Interlocked.CompareExchange(ref _fileErrors[span.FileIndex], error, null);
            }
        }

        private void MarkUnavailablePieces(List<ByteRange> unavailable, long chunkOffset, bool[] pieceUnavailable)
        {
            int pieceLength = _layout.PieceLength;
            foreach (var range in unavailable)
            {
                long start = range.Offset - chunkOffset;
                int firstIndex = (int)(start / pieceLength);
                int lastIndex = (int)((start + range.Length - 1) / pieceLength);
                for (int i = firstIndex; i <= lastIndex; i++) pieceUnavailable[i] = true;
            }
        }

        /// <summary>State shared by the workers of one run.</summary>
        private sealed class Job
        {
            private readonly IProgress<HashProgress>? _progress;
            private long _bytesDone;
            private int _piecesDone;
            private int _nextChunk = -1;
            private Exception? _error;

            public Job(IReadOnlyList<PieceRun> chunks, IPieceHashSink sink, IProgress<HashProgress>? progress, long totalBytes, int totalPieces, CancellationToken cancellationToken)
            {
                Chunks = chunks;
                Sink = sink;
                _progress = progress;
                TotalBytes = totalBytes;
                TotalPieces = totalPieces;
                Stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            }

            /// <summary>The work, in torrent order: runs of at most one chunk's worth of pieces.</summary>
            public IReadOnlyList<PieceRun> Chunks { get; }
            public IPieceHashSink Sink { get; }
            public long TotalBytes { get; }
            public int TotalPieces { get; }

            /// <summary>Cancelled by the caller's token or by the first failure, which stops every worker.</summary>
            public CancellationTokenSource Stop { get; }

            public long BytesDone => Interlocked.Read(ref _bytesDone);
            public int PiecesDone => Volatile.Read(ref _piecesDone);
            public Exception? Error => Volatile.Read(ref _error);

            /// <summary>The index of the next chunk to hash, or -1 when all are taken.</summary>
            public int ClaimChunk()
            {
                int index = Interlocked.Increment(ref _nextChunk);
                return index < Chunks.Count ? index : -1;
            }

            public void ChunkDone(int pieces, int bytes, int currentFile)
            {
                long b = Interlocked.Add(ref _bytesDone, bytes);
                int p = Interlocked.Add(ref _piecesDone, pieces);
                _progress?.Report(new HashProgress(b, TotalBytes, p, TotalPieces, currentFile));
            }

            public void Fail(Exception ex)
            {
                // Cancellation is not a failure of its own: it is the caller's request or the echo of another failure.
                if (!(ex is OperationCanceledException && Stop.IsCancellationRequested))
                    Interlocked.CompareExchange(ref _error, ex, null);
                try { Stop.Cancel(); }
                catch (ObjectDisposedException) { }
            }
        }
    }
}
