using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Storage;

namespace BitTorrent.Hashing
{
    /// <summary>Hashes pieces at the speed of the machine's SHA-1: one thread reads the torrent's bytes sequentially in
    /// large chunks of whole pieces (about 8 MiB, rented once from the shared ArrayPool and recycled), and one worker
    /// per core takes full chunks from a bounded queue and hashes their pieces, each worker with its own SHA-1 object.
    /// Nothing is allocated per block; in-flight memory is bounded by (2 × workers + 1) chunks. Used by the torrent
    /// builder (hash everything) and by the verifier (hash and compare; the download engine's resume check).</summary>
    internal sealed class PieceHashPipeline
    {
        /// <summary>Bytes read per chunk (rounded down to whole pieces; at least one piece).</summary>
        internal const int TargetChunkBytes = 8 * 1024 * 1024;

        /// <summary>Bytes of chunks in flight beyond which fewer chunks are used (only pieces over 16 MiB get there).</summary>
        internal const long MaxInFlightBytes = 96L * 1024 * 1024;

        private readonly PieceLayout _layout;
        private readonly TorrentDataReader _reader;
        private readonly int _threads;

        public PieceHashPipeline(PieceLayout layout, TorrentDataReader reader, int threadCount)
        {
            _layout = layout ?? throw new ArgumentNullException(nameof(layout));
            _reader = reader ?? throw new ArgumentNullException(nameof(reader));
            _threads = threadCount > 0 ? threadCount : Environment.ProcessorCount;
        }

        /// <summary>Hashes every piece of <paramref name="runs"/> and reports each to <paramref name="sink"/> (from worker
        /// threads). Throws <see cref="OperationCanceledException"/> when cancelled, or the first exception of a worker
        /// or of the sink; in every case all threads have stopped and all buffers are back in the pool on return.</summary>
        public async Task RunAsync(IReadOnlyList<PieceRun> runs, IPieceHashSink sink, IProgress<HashProgress>? progress, CancellationToken cancellationToken)
        {
            if (runs is null) throw new ArgumentNullException(nameof(runs));
            if (sink is null) throw new ArgumentNullException(nameof(sink));
            cancellationToken.ThrowIfCancellationRequested();

            int pieceLength = _layout.PieceLength;
            int chunkPieces = Math.Max(1, TargetChunkBytes / pieceLength);
            long totalBytes = 0, totalChunks = 0;
            int totalPieces = 0;
            foreach (var run in runs)
            {
                if (run.Count == 0) continue;
                totalBytes += _layout.GetRunLength(run.First, run.Count);
                totalPieces += run.Count;
                totalChunks += (run.Count + chunkPieces - 1) / chunkPieces;
            }
            var job = new Job(runs, sink, progress, totalBytes, totalPieces, cancellationToken);
            if (totalPieces == 0)
            {
                progress?.Report(new HashProgress(0, 0, 0, 0, -1));
                return;
            }

            int workers = (int)Math.Max(1, Math.Min(_threads, totalChunks));
            int chunkBytes = (int)Math.Min((long)chunkPieces * pieceLength, int.MaxValue);
            // Two chunks per worker (one hashed, one waiting) and one being read keep every core busy. Pieces larger
            // than a chunk make chunks large: then fewer are kept in flight, but never less than one per worker plus
            // the one being read, or the workers would take turns.
            long chunkCount = Math.Min(2L * workers + 1, totalChunks + workers);
            chunkCount = Math.Max(Math.Min(chunkCount, MaxInFlightBytes / chunkBytes), workers + 1L);
            var chunks = new Chunk[(int)chunkCount];
            var free = new BlockingCollection<Chunk>(new ConcurrentQueue<Chunk>());
            var full = new BlockingCollection<Chunk>(new ConcurrentQueue<Chunk>(), workers);
            try
            {
                for (int i = 0; i < chunks.Length; i++)
                {
                    chunks[i] = new Chunk(ArrayPool<byte>.Shared.Rent(chunkBytes), chunkPieces);
                    free.Add(chunks[i]);
                }
                var tasks = new Task[workers + 1];
                tasks[0] = Task.Factory.StartNew(() => Produce(job, chunkPieces, free, full), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
                for (int w = 1; w <= workers; w++)
                    tasks[w] = Task.Factory.StartNew(() => Consume(job, free, full), CancellationToken.None,
                        TaskCreationOptions.LongRunning, TaskScheduler.Default);
                // The thread bodies catch everything, so this never throws; errors are in job.Error.
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            finally
            {
                foreach (var chunk in chunks)
                    if (chunk is not null) ArrayPool<byte>.Shared.Return(chunk.Buffer);
                free.Dispose();
                full.Dispose();
                job.Stop.Dispose();
            }

            if (job.Error is not null) ExceptionDispatchInfo.Capture(job.Error).Throw();
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new HashProgress(job.BytesDone, totalBytes, job.PiecesDone, totalPieces, _reader.CurrentFile));
        }

        /// <summary>The reading thread: fills free chunks with whole pieces, in order, and queues them for the workers.</summary>
        private void Produce(Job job, int chunkPieces, BlockingCollection<Chunk> free, BlockingCollection<Chunk> full)
        {
            try
            {
                var token = job.Stop.Token;
                foreach (var run in job.Runs)
                {
                    for (int done = 0; done < run.Count;)
                    {
                        int first = run.First + done;
                        int count = Math.Min(chunkPieces, run.Count - done);
                        var chunk = free.Take(token);
                        long offset = _layout.GetPieceOffset(first);
                        int length = (int)_layout.GetRunLength(first, count);
                        chunk.Reset(first, count, length);
                        if (!_reader.Read(offset, chunk.Buffer, 0, length, chunk.Unavailable))
                            MarkUnavailablePieces(chunk, offset);
                        full.Add(chunk, token);
                        done += count;
                    }
                }
            }
            catch (Exception ex)
            {
                job.Fail(ex);
            }
            finally
            {
                full.CompleteAdding();
            }
        }

        private void MarkUnavailablePieces(Chunk chunk, long chunkOffset)
        {
            int pieceLength = _layout.PieceLength;
            foreach (var range in chunk.Unavailable)
            {
                long start = range.Offset - chunkOffset;
                int firstIndex = (int)(start / pieceLength);
                int lastIndex = (int)((start + range.Length - 1) / pieceLength);
                for (int i = firstIndex; i <= lastIndex; i++) chunk.PieceUnavailable[i] = true;
            }
        }

        /// <summary>A hashing worker: one SHA-1 object for its whole life, hashing straight from the pooled buffers.</summary>
        private void Consume(Job job, BlockingCollection<Chunk> free, BlockingCollection<Chunk> full)
        {
            try
            {
                var token = job.Stop.Token;
                using var sha1 = SHA1.Create();
                foreach (var chunk in full.GetConsumingEnumerable(token))
                {
                    int pieceLength = _layout.PieceLength;
                    for (int i = 0; i < chunk.PieceCount; i++)
                    {
                        token.ThrowIfCancellationRequested();
                        int piece = chunk.FirstPiece + i;
                        int offset = i * pieceLength;
                        int length = Math.Min(pieceLength, chunk.Length - offset);
                        if (chunk.PieceUnavailable[i]) job.Sink.OnPieceUnavailable(piece);
                        else job.Sink.OnPieceHashed(piece, sha1.ComputeHash(chunk.Buffer, offset, length));
                    }
                    job.ChunkDone(chunk.PieceCount, chunk.Length, _reader.CurrentFile);
                    free.Add(chunk);
                }
            }
            catch (Exception ex)
            {
                job.Fail(ex);
            }
        }

        /// <summary>One buffer of whole pieces on its way from the reader to a worker.</summary>
        private sealed class Chunk
        {
            public Chunk(byte[] buffer, int maxPieces)
            {
                Buffer = buffer;
                PieceUnavailable = new bool[maxPieces];
            }

            public byte[] Buffer { get; }
            public bool[] PieceUnavailable { get; }
            public List<ByteRange> Unavailable { get; } = new List<ByteRange>();
            public int FirstPiece { get; private set; }
            public int PieceCount { get; private set; }
            public int Length { get; private set; }

            public void Reset(int firstPiece, int pieceCount, int length)
            {
                FirstPiece = firstPiece;
                PieceCount = pieceCount;
                Length = length;
                Unavailable.Clear();
                Array.Clear(PieceUnavailable, 0, PieceUnavailable.Length);
            }
        }

        /// <summary>State shared by the reader and the workers of one run.</summary>
        private sealed class Job
        {
            private readonly IProgress<HashProgress>? _progress;
            private long _bytesDone;
            private int _piecesDone;
            private Exception? _error;

            public Job(IReadOnlyList<PieceRun> runs, IPieceHashSink sink, IProgress<HashProgress>? progress, long totalBytes, int totalPieces, CancellationToken cancellationToken)
            {
                Runs = runs;
                Sink = sink;
                _progress = progress;
                TotalBytes = totalBytes;
                TotalPieces = totalPieces;
                Stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            }

            public IReadOnlyList<PieceRun> Runs { get; }
            public IPieceHashSink Sink { get; }
            public long TotalBytes { get; }
            public int TotalPieces { get; }

            /// <summary>Cancelled by the caller's token or by the first failure, which stops every thread.</summary>
            public CancellationTokenSource Stop { get; }

            public long BytesDone => Interlocked.Read(ref _bytesDone);
            public int PiecesDone => Volatile.Read(ref _piecesDone);
            public Exception? Error => Volatile.Read(ref _error);

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
