using System.Management.Automation;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Reads .torrent files, or fetches a magnet link's (or info-hash's) metadata from its swarm, and emits
    /// one <see cref="TorrentInfo"/> per torrent.</summary>
    [Cmdlet(VerbsCommon.Get, "TorrentInfo", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(TorrentInfo))]
    public sealed class GetTorrentInfoCommand : MetadataFetchCmdlet
    {
        protected override void ProcessRecord()
        {
            foreach (var source in ResolveInputs())
            {
                var torrent = Load(source);
                if (torrent is not null) WriteObject(torrent);
            }
        }
    }
}
