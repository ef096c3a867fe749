using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading.Tasks;
using BitTorrent.Hashing;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Runs one hashing job (creating or verifying a torrent) on worker threads while the pipeline thread
    /// waits in short steps and writes progress: the engine reports to this object from its threads, and only the
    /// pipeline thread calls <see cref="Cmdlet.WriteProgress"/>. A Completed record closes the activity.</summary>
    internal sealed class HashProgressPump : IProgress<HashProgress>
    {
        private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
        private readonly object _gate = new object();
        private HashProgress _latest;
        private bool _reported;

        /// <summary>Called by the engine's threads; reports may arrive out of order, so the furthest one wins.</summary>
        public void Report(HashProgress value)
        {
            lock (_gate)
            {
                if (!_reported || value.BytesDone >= _latest.BytesDone) _latest = value;
                _reported = true;
            }
        }

        /// <summary>Waits for <paramref name="job"/> on the pipeline thread, writing a progress record at the start and
        /// then about four times a second, and a Completed record at the end; returns the job's result or throws its exception (the original one,
        /// not an AggregateException). <paramref name="describeFile"/> names file N of the job for CurrentOperation.</summary>
        public T Run<T>(Cmdlet cmdlet, Task<T> job, int activityId, string activity, Func<int, string?> describeFile)
        {
            var clock = Stopwatch.StartNew();
            var wait = ((IAsyncResult)job).AsyncWaitHandle;
            // One record at the start, even for a job that ends within the first step, so the activity always has a
            // beginning and an end.
            cmdlet.WriteProgress(new ProgressRecord(activityId, activity, "Starting") { PercentComplete = 0 });
            try
            {
                while (!wait.WaitOne(ProgressEvery))
                {
                    HashProgress now;
                    lock (_gate)
                    {
                        if (!_reported) continue;
                        now = _latest;
                    }
                    cmdlet.WriteProgress(Describe(now, clock.Elapsed, activityId, activity, describeFile));
                }
            }
            finally
            {
                // Not after a Ctrl+C: the pipeline is stopping and every Write* would throw.
                if (!job.IsCanceled)
                {
                    try
                    {
                        cmdlet.WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
                    }
                    catch (PipelineStoppedException) { }
                }
            }
            return job.GetAwaiter().GetResult();
        }

        private static ProgressRecord Describe(HashProgress p, TimeSpan elapsed, int activityId, string activity, Func<int, string?> describeFile)
        {
            double seconds = Math.Max(0.001, elapsed.TotalSeconds);
            double rate = p.BytesDone / seconds;
            var record = new ProgressRecord(activityId, activity,
                $"{Units.FormatBytes(p.BytesDone)} of {Units.FormatBytes(p.BytesTotal)} hashed ({Units.FormatRate(rate)}); piece {p.PiecesDone} of {p.PiecesTotal}")
            {
                PercentComplete = Math.Max(0, Math.Min(100, p.Percent)),
            };
            if (rate > 0 && p.BytesTotal > p.BytesDone)
                record.SecondsRemaining = (int)Math.Min(int.MaxValue, (p.BytesTotal - p.BytesDone) / rate);
            if (p.CurrentFile >= 0)
            {
                string? file = describeFile(p.CurrentFile);
                if (!string.IsNullOrEmpty(file)) record.CurrentOperation = file;
            }
            return record;
        }
    }
}
