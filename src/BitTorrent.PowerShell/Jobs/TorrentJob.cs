using System;
using System.Management.Automation;
using System.Threading;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Jobs
{
    /// <summary>A PowerShell job running torrent work on a background thread (<c>-AsJob</c>). Receive-Job returns its
    /// results, <c>$job.Progress</c> shows its progress, Stop-Job stops it cleanly (the work sees a cancelled token,
    /// flushes its data and reports Stopped).</summary>
    public sealed class TorrentJob : Job
    {
        private const int MaxProgressRecords = 200;
        private readonly Action<IRecordSink, CancellationToken> _work;
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly ManualResetEventSlim _finished = new ManualResetEventSlim(false);
        private bool _hadError;

        internal TorrentJob(string command, string name, Action<IRecordSink, CancellationToken> work) : base(command, name)
        {
            _work = work;
            PSJobTypeName = "TorrentJob";
        }

        public override string Location => Environment.MachineName;
        public override string StatusMessage => JobStateInfo.State.ToString();

        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Verbose.Count > 0 || Warning.Count > 0 || Information.Count > 0;

        internal void Start()
        {
            SetJobState(JobState.Running);
            var thread = new Thread(Run) { IsBackground = true, Name = "BitTorrent job " + Name };
            thread.Start();
        }

        public override void StopJob()
        {
            if (IsFinishedState(JobStateInfo.State)) return;
            _cancel.Cancel();
            // The work stops within seconds (it flushes data and writes resume records); bounded all the same.
            _finished.Wait(TimeSpan.FromSeconds(60));
        }

        private void Run()
        {
            try
            {
                _work(new JobSink(this), _cancel.Token);
                SetJobState(_cancel.IsCancellationRequested ? JobState.Stopped : _hadError ? JobState.Failed : JobState.Completed);
            }
            catch (Exception ex)
            {
                Error.Add(new ErrorRecord(ex, "TorrentJobFailed", ErrorCategory.NotSpecified, null));
                SetJobState(JobState.Failed);
            }
            finally
            {
                _finished.Set();
            }
        }

        private static bool IsFinishedState(JobState state) =>
            state == JobState.Completed || state == JobState.Failed || state == JobState.Stopped;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _cancel.Cancel();
                _cancel.Dispose();
            }
            base.Dispose(disposing);
        }

        private sealed class JobSink : IRecordSink
        {
            private readonly TorrentJob _job;
            public JobSink(TorrentJob job) => _job = job;
            public void WriteObject(object value) => _job.Output.Add(PSObject.AsPSObject(value));
            public void WriteError(ErrorRecord record) { _job._hadError = true; _job.Error.Add(record); }
            public void WriteVerbose(string text) => _job.Verbose.Add(new VerboseRecord(text));
            public void WriteWarning(string text) => _job.Warning.Add(new WarningRecord(text));
            public void WriteInformation(InformationRecord record) => _job.Information.Add(record);

            public void WriteProgress(ProgressRecord record)
            {
                // Progress arrives several times a second for hours: keep only the recent records.
                var progress = _job.Progress;
                while (progress.Count >= MaxProgressRecords) progress.RemoveAt(0);
                progress.Add(record);
            }
        }
    }
}
