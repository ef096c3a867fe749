using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Hashing;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Progress of one hashing job (creating or verifying a torrent): the engine reports to this object from
    /// its threads (the furthest report wins), and the <see cref="EnginePump"/> writes it from the pipeline thread:
    /// a record at the start, then at most four a second, and a Completed record at the end.</summary>
    internal sealed class HashProgressReporter : IProgress<HashProgress>
    {
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

        /// <summary>Starts the job with this reporter and a token that Ctrl+C cancels, pumps until it ends, and returns
        /// its result or throws its own exception (not an AggregateException). <paramref name="describeFile"/> names
        /// file N of the job for CurrentOperation.</summary>
        public T Run<T>(Cmdlet cmdlet, CancellationToken stopToken, Func<IProgress<HashProgress>, CancellationToken, Task<T>> start,
            int activityId, string activity, Func<int, string?> describeFile)
        {
            using var pump = new EnginePump(new CmdletSink(cmdlet), stopToken);
            var clock = Stopwatch.StartNew();
            // One record at the start, even for a job that ends within the first step, so the activity always has a
            // beginning and an end.
            pump.Sink.WriteProgress(new ProgressRecord(activityId, activity, "Starting") { PercentComplete = 0 });
            pump.Progress = sink =>
            {
                HashProgress now;
                lock (_gate)
                {
                    if (!_reported) return;
                    now = _latest;
                }
                sink.WriteProgress(Describe(now, clock.Elapsed, activityId, activity, describeFile));
            };
            var token = pump.Token;
            var job = Task.Run(() => start(this, token));
            try
            {
                return pump.Await(job);
            }
            finally
            {
                pump.Sink.WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
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
