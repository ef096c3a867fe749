using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.PowerShell.Jobs;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>What Suspend-TorrentJob and Resume-TorrentJob share: finding torrent jobs (as objects, by id or by
    /// name, like the job cmdlets) and waiting for a job to change state, bounded and interruptible by Ctrl+C.
    /// <para>They exist because PowerShell 7 has no Suspend-Job or Resume-Job (Windows PowerShell 5.1 has both, and
    /// they work on a torrent job as well).</para></summary>
    public abstract class TorrentJobCmdlet : PSCmdlet
    {
        protected const string JobSet = "Job";
        protected const string IdSet = "Id";
        protected const string NameSet = "Name";
        private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(100);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>Jobs from Start-TorrentDownload -AsJob, Start-TorrentSeed -AsJob or Get-Job.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = JobSet)]
        [ValidateNotNullOrEmpty]
        public Job[] Job { get; set; } = Array.Empty<Job>();

        /// <summary>Job ids, as Get-Job shows them.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
        [ValidateNotNullOrEmpty]
        public int[] Id { get; set; } = Array.Empty<int>();

        /// <summary>Job names (wildcards allowed).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>"Suspend" or "Resume", for ShouldProcess.</summary>
        protected abstract string Action { get; }

        /// <summary>"suspended" or "resumed", for messages.</summary>
        protected abstract string Done { get; }

        /// <summary>Starts the change on one torrent job.</summary>
        private protected abstract Task Begin(TorrentJob job);

        protected override void ProcessRecord()
        {
            foreach (var job in FindJobs())
            {
                if (job is not TorrentJob torrentJob)
                {
                    WriteError(new ErrorRecord(
                        new ArgumentException($"Job {job.Id} ('{job.Name}', {job.PSJobTypeName}) is not a torrent job; use the job cmdlets of its own type."),
                        Errors.NotATorrentJobId, ErrorCategory.InvalidType, job));
                    continue;
                }
                if (!ShouldProcess($"Job {job.Id} ('{job.Name}')", Action)) continue;
                if (Wait(torrentJob, Begin(torrentJob))) WriteObject(torrentJob);
            }
        }

        protected override void StopProcessing() => _stop.Cancel();

        /// <summary>Waits for the change (bounded; Ctrl+C ends the wait, not the change); false when it failed.</summary>
        private bool Wait(TorrentJob job, Task change)
        {
            var deadline = DateTime.UtcNow + TorrentJob.TransitionTimeout;
            while (!change.IsCompleted)
            {
                if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
                if (DateTime.UtcNow >= deadline)
                {
                    WriteError(new ErrorRecord(new TimeoutException(
                            $"Job {job.Id} did not finish the change within {TorrentJob.TransitionTimeout.TotalSeconds} seconds; it is {job.JobStateInfo.State}."),
                        Errors.TorrentJobTimeoutId, ErrorCategory.OperationTimeout, job));
                    return false;
                }
                change.Wait(PollEvery);
            }
            if (change.Exception?.InnerException is InvalidJobStateException invalid)
            {
                WriteError(new ErrorRecord(invalid, Errors.TorrentJobStateInvalidId, ErrorCategory.InvalidOperation, job)
                {
                    ErrorDetails = new ErrorDetails($"Job {job.Id} is {job.JobStateInfo.State}: it can no longer be {Done}.")
                    {
                        RecommendedAction = "Start the download again: it keeps every piece the job verified.",
                    },
                });
                return false;
            }
            if (change.Exception is not null)
            {
                WriteError(new ErrorRecord(change.Exception.InnerException ?? change.Exception, Errors.EngineErrorId, ErrorCategory.NotSpecified, job));
                return false;
            }
            return true;
        }

        private IEnumerable<Job> FindJobs()
        {
            switch (ParameterSetName)
            {
                case JobSet:
                    return Job.Where(j => j is not null);
                case IdSet:
                    var found = new List<Job>();
                    foreach (int id in Id)
                    {
                        var job = JobRepository.Jobs.FirstOrDefault(j => j.Id == id);
                        if (job is null) WriteNotFound(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "id");
                        else found.Add(job);
                    }
                    return found;
                default:
                    var named = new List<Job>();
                    foreach (string name in Name)
                    {
                        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                        var matches = JobRepository.Jobs.Where(j => pattern.IsMatch(j.Name)).ToList();
                        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name)) WriteNotFound(name, "name");
                        named.AddRange(matches.Where(m => !named.Contains(m)));
                    }
                    return named;
            }
        }

        private void WriteNotFound(string key, string what) =>
            WriteError(new ErrorRecord(new ItemNotFoundException($"No job with the {what} '{key}' is in this session (Get-Job lists them)."),
                Errors.TorrentJobNotFoundId, ErrorCategory.ObjectNotFound, key));
    }
}
