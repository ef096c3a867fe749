using System.Management.Automation;
using System.Threading.Tasks;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.PowerShell.Jobs;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Pauses every torrent of torrent jobs (Suspend-Job's work, which PowerShell 7 does not have): each run
    /// stops cleanly — data flushed, resume record saved, peers disconnected — and the job is Suspended until
    /// Resume-TorrentJob. Waits until the job is Suspended; writes the job.</summary>
    [Cmdlet(VerbsLifecycle.Suspend, "TorrentJob", DefaultParameterSetName = IdSet, SupportsShouldProcess = true)]
    [OutputType(typeof(TorrentJob))]
    public sealed class SuspendTorrentJobCommand : TorrentJobCmdlet
    {
        protected override string Action => "Suspend";
        protected override string Done => "suspended";
        private protected override Task Begin(TorrentJob job) => job.BeginSuspend();
    }
}
