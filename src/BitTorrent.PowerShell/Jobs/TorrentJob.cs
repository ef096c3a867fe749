using System;
using System.ComponentModel;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Jobs
{
    /// <summary>A PowerShell job running a command's torrents on a background thread (<c>-AsJob</c>). Receive-Job returns
    /// their results, <c>$job.Progress</c> and <c>$job.StatusMessage</c> show how far they are, and an admin manages it
    /// with the job cmdlets:
    /// <list type="bullet">
    /// <item>Suspend-Job pauses every torrent of the job (Running → Suspending → Suspended): each run stops cleanly —
    /// data flushed, resume record saved, peers disconnected — so no payload moves while suspended.</item>
    /// <item>Resume-Job queues them again (Suspended → Running); each new run keeps every verified piece.</item>
    /// <item>Stop-Job (also while suspended) stops them for good (Stopping → Stopped), each still reporting its result.</item>
    /// </list>
    /// The work ends Completed, or Failed when a torrent failed.</summary>
    public sealed class TorrentJob : Job2
    {
        private const int MaxProgressRecords = 200;
        /// <summary>How long a synchronous stop, suspend or resume waits: runs stop within seconds (flush and resume
        /// record), bounded all the same so no job cmdlet hangs.</summary>
        internal static readonly TimeSpan TransitionTimeout = TimeSpan.FromSeconds(60);

        private readonly SwarmSession _swarm;
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly ManualResetEventSlim _finished = new ManualResetEventSlim(false);
        /// <summary>Held while the job changes state, so suspend, resume, stop and the end of the work see one another.</summary>
        private readonly object _transition = new object();
        private Task _suspending = Task.CompletedTask;
        private volatile bool _hadError;
        private int _started;

        internal TorrentJob(string command, string name, SwarmSession swarm) : base(command, name)
        {
            _swarm = swarm ?? throw new ArgumentNullException(nameof(swarm));
            PSJobTypeName = "TorrentJob";
        }

        public override string Location => Environment.MachineName;

        /// <summary>What Get-Job shows: "42 % · 12.3 MiB/s · 5 peers" while running, the state and how far it got otherwise.</summary>
        public override string StatusMessage
        {
            get
            {
                var state = JobStateInfo.State;
                string summary = _swarm.Summary;
                if (state == JobState.Running) return summary.Length == 0 ? "Starting" : summary;
                string percent = _swarm.PercentText;
                return percent.Length == 0 ? state.ToString() : $"{state} · {percent}";
            }
        }

        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Verbose.Count > 0 || Warning.Count > 0 || Information.Count > 0;

        // ---- start ----------------------------------------------------------------------------------------------

        public override void StartJob()
        {
            if (Interlocked.Exchange(ref _started, 1) != 0)
                throw new InvalidJobStateException(JobStateInfo.State, "The torrent job has already started.");
            SetJobState(JobState.Running);
            var thread = new Thread(Run) { IsBackground = true, Name = "BitTorrent job " + Name };
            thread.Start();
        }

        public override void StartJobAsync()
        {
            Exception? error = null;
            try { StartJob(); }
            catch (InvalidJobStateException ex) { error = ex; }
            OnStartJobCompleted(new AsyncCompletedEventArgs(error, false, null));
        }

        // ---- suspend and resume ---------------------------------------------------------------------------------

        public override void SuspendJob() => WaitFor(BeginSuspend());
        public override void SuspendJob(bool force, string reason) => SuspendJob();
        public override void SuspendJobAsync() => RaiseWhenDone(BeginSuspend(), OnSuspendJobCompleted);
        public override void SuspendJobAsync(bool force, string reason) => SuspendJobAsync();

        public override void ResumeJob() => WaitFor(BeginResume());
        public override void ResumeJobAsync() => RaiseWhenDone(BeginResume(), OnResumeJobCompleted);

        /// <summary>Starts suspending (Suspend-TorrentJob waits for it, interruptibly); fails with
        /// InvalidJobStateException when the job has ended.</summary>
        internal Task BeginSuspend()
        {
            lock (_transition)
            {
                var state = JobStateInfo.State;
                if (state == JobState.Suspending || state == JobState.Suspended) return _suspending;
                if (state != JobState.Running)
                    return Task.FromException(new InvalidJobStateException(state, $"A torrent job can be suspended while it runs, not when it is {state}."));
                SetJobState(JobState.Suspending);
                // Off this lock and this thread: pausing cancels the runs, whose cancellation callbacks are engine code.
                _suspending = Task.Run(SuspendAsync);
                return _suspending;
            }
        }

        private async Task SuspendAsync()
        {
            await _swarm.PauseAsync().ConfigureAwait(false);
            lock (_transition)
            {
                // Stop-Job or the end of the work may have come first: then their state stands.
                if (JobStateInfo.State == JobState.Suspending) SetJobState(JobState.Suspended);
            }
        }

        /// <summary>Starts resuming (Resume-TorrentJob waits for it); fails with InvalidJobStateException when the
        /// job has ended.</summary>
        internal Task BeginResume()
        {
            Task suspending;
            lock (_transition)
            {
                var state = JobStateInfo.State;
                if (state == JobState.Running) return Task.CompletedTask;
                if (state != JobState.Suspending && state != JobState.Suspended)
                    return Task.FromException(new InvalidJobStateException(state, $"A torrent job can be resumed when it is suspended, not when it is {state}."));
                suspending = _suspending;
            }
            return Task.Run(async () =>
            {
                // A resume during Suspending waits for the pause to finish: a run half-stopped cannot be queued again.
                try { await suspending.ConfigureAwait(false); }
                catch (Exception) { /* the pause's own failure was reported to its caller; resuming still applies */ }
                lock (_transition)
                {
                    var state = JobStateInfo.State;
                    if (state != JobState.Suspended && state != JobState.Suspending) return; // stopped or ended meanwhile
                    _swarm.Resume();
                    SetJobState(JobState.Running);
                }
            });
        }

        // ---- stop -----------------------------------------------------------------------------------------------

        public override void StopJob() => StopJob(false, string.Empty);

        public override void StopJob(bool force, string reason)
        {
            BeginStop();
            // The work stops within seconds (it flushes data and writes resume records); bounded all the same.
            _finished.Wait(TransitionTimeout);
        }

        public override void StopJobAsync() => RaiseWhenDone(Task.Run(() => StopJob()), OnStopJobCompleted);
        public override void StopJobAsync(bool force, string reason) => StopJobAsync();

        private void BeginStop()
        {
            lock (_transition)
            {
                var state = JobStateInfo.State;
                if (IsFinished(state)) return;
                if (state == JobState.NotStarted)
                {
                    // Never started: nothing runs, so it is stopped at once.
                    Interlocked.Exchange(ref _started, 1);
                    SetJobState(JobState.Stopped);
                    _finished.Set();
                    return;
                }
                if (state != JobState.Stopping) SetJobState(JobState.Stopping);
                _cancel.Cancel();
            }
        }

        // ---- unblock: a torrent job never blocks on input ------------------------------------------------------

        public override void UnblockJob() => throw new NotSupportedException("A torrent job never waits for input, so there is nothing to unblock.");

        public override void UnblockJobAsync() =>
            OnUnblockJobCompleted(new AsyncCompletedEventArgs(new NotSupportedException("A torrent job never waits for input, so there is nothing to unblock."), false, null));

        // ---- the work -------------------------------------------------------------------------------------------

        private void Run()
        {
            JobState end;
            try
            {
                _swarm.Run(new JobSink(this), _cancel.Token);
                end = _cancel.IsCancellationRequested ? JobState.Stopped : _hadError ? JobState.Failed : JobState.Completed;
            }
            catch (Exception ex)
            {
                // The streams are closed if Remove-Job -Force disposed the job first; this thread must not throw then.
                try { Error.Add(new ErrorRecord(ex, "TorrentJobFailed", ErrorCategory.NotSpecified, null)); }
                catch (Exception) { }
                end = JobState.Failed;
            }
            lock (_transition)
            {
                // Remove-Job -Force may have disposed the job already; a background thread must not throw for that.
                try { SetJobState(end); }
                catch (ObjectDisposedException) { }
            }
            _finished.Set();
        }

        private static bool IsFinished(JobState state) =>
            state == JobState.Completed || state == JobState.Failed || state == JobState.Stopped;

        /// <summary>Waits (bounded) for a transition and rethrows its failure, for the synchronous variants.</summary>
        private static void WaitFor(Task transition)
        {
            if (Task.WhenAny(transition, Task.Delay(TransitionTimeout)).GetAwaiter().GetResult() != transition)
                throw new TimeoutException($"The torrent job did not finish the change within {TransitionTimeout.TotalSeconds} seconds.");
            transition.GetAwaiter().GetResult();
        }

        /// <summary>Raises the completion event Suspend-Job, Resume-Job and Stop-Job wait for, whatever happens
        /// (they wait for it unboundedly): with the failure, if any, as its Error.</summary>
        private static void RaiseWhenDone(Task transition, Action<AsyncCompletedEventArgs> raise)
        {
            transition.ContinueWith(t => raise(new AsyncCompletedEventArgs(t.Exception?.InnerException, false, null)),
                CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        protected override void Dispose(bool disposing)
        {
            // The token source is not disposed: the work thread may still read it while it shuts down.
            if (disposing) _cancel.Cancel();
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
