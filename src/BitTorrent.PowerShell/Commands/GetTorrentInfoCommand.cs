using System.Management.Automation;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Reads .torrent files and emits one <see cref="TorrentInfo"/> per file.</summary>
    [Cmdlet(VerbsCommon.Get, "TorrentInfo", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(TorrentInfo))]
    public sealed class GetTorrentInfoCommand : TorrentPathCmdlet
    {
        protected override void ProcessRecord()
        {
            foreach (var path in ResolveInputPaths())
            {
                var torrent = ReadTorrent(path);
                if (torrent is not null) WriteObject(torrent);
            }
        }
    }
}
