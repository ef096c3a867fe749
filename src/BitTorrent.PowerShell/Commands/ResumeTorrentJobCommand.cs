using System.Management.Automation;
using System.Threading.Tasks;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.PowerShell.Jobs;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Resumes suspended torrent jobs (Resume-Job's work, which PowerShell 7 does not have): their torrents
    /// are queued again and each new run keeps every piece verified before the suspension. Waits until the job is
    /// Running; writes the job.</summary>
    [Cmdlet(VerbsLifecycle.Resume, "TorrentJob", DefaultParameterSetName = IdSet, SupportsShouldProcess = true)]
    [OutputType(typeof(TorrentJob))]
    public sealed class ResumeTorrentJobCommand : TorrentJobCmdlet
    {
        protected override string Action => "Resume";
        protected override string Done => "resumed";
        private protected override Task Begin(TorrentJob job) => job.BeginResume();
    }
}
