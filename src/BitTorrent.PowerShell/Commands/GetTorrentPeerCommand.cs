using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.Trackers;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Asks a torrent's trackers (HTTP, HTTPS, UDP; all of them at once) for peers and emits one
    /// <see cref="TorrentPeer"/> per distinct peer as the replies come in. A tracker that fails is a warning when
    /// another tracker of the torrent worked, and an error (TrackerAnnounceFailed or TrackerTimeout) when none did.</summary>
    [Cmdlet(VerbsCommon.Get, "TorrentPeer", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(TorrentPeer))]
    public sealed class GetTorrentPeerCommand : TrackerCmdletBase
    {
        protected override string ProgressActivity => "Asking trackers for peers";

        /// <summary>What a peer found in a magnet link's x.pe (rather than from a tracker) shows as its Source.</summary>
        internal const string MagnetPeerSource = "magnet x.pe";

        protected override int OperationsPerTorrent(TorrentQuery query) => query.PeerQuery.Trackers.All.Count;

        /// <summary>A magnet link's x.pe peers are peers of the torrent too: written first, and the trackers' answers
        /// leave them out (each peer is written once). With x.pe peers a link needs no tracker.</summary>
        private protected override object? BeginTorrent(TorrentTarget torrent, out bool needsNoTracker)
        {
            var state = new PeerState();
            foreach (var peer in torrent.Peers)
            {
                if (peer.Address is null)
                {
                    WriteVerbose($"The magnet link's peer '{peer}' is a host name; Get-TorrentPeer lists addresses only (Invoke-PeerHandshake -InfoHash takes the link as it is).");
                    continue;
                }
                var endPoint = new IPEndPoint(peer.Address, peer.Port);
                if (!state.Emitted.Add(endPoint)) continue;
                var found = new TorrentPeer(peer.Address, peer.Port, torrent.InfoHash, MagnetPeerSource, torrent.Name);
                RecentPeers.Remember(found);
                WriteObject(found);
            }
            needsNoTracker = state.Emitted.Count > 0;
            return state;
        }

        protected override async Task RunAsync(TorrentQuery query, CancellationToken cancellationToken)
        {
            var tasks = query.PeerQuery.Trackers.All.Select(async tracker =>
            {
                try
                {
                    // Peers go out as soon as a tracker answered; the stopped announce follows in the background.
                    var result = await query.PeerQuery.QueryAsync(tracker, r => query.Post(new Answered(r)), cancellationToken).ConfigureAwait(false);
                    if (!result.Announce.Succeeded) query.Post(new Answered(result));
                    else if (result.StopError is TrackerException stopError) query.Post(new StopFailed(stopError));
                }
                finally
                {
                    TrackerOperationDone();
                }
            });
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }

        protected override void OnEvent(TorrentQuery query, object item)
        {
            var state = query.State as PeerState ?? (PeerState)(query.State = new PeerState());
            switch (item)
            {
                case Answered { Result: var result } when result.Announce.Succeeded:
                    state.Working++;
                    var response = result.Announce.Response!;
                    int fresh = 0;
                    foreach (var peer in result.Peers)
                    {
                        if (!state.Emitted.Add(peer.EndPoint)) continue;
                        fresh++;
                        var found = new TorrentPeer(peer.EndPoint.Address, peer.EndPoint.Port, query.Torrent.InfoHash,
                            result.Tracker.Url, query.Torrent.Name, peer.PeerId);
                        RecentPeers.Remember(found); // for -Peer's tab completion
                        WriteObject(found);
                    }
                    WriteVerbose($"{result.Tracker.Url}: {result.Peers.Count} peer(s), {fresh} new; seeders {Show(response.Seeders)}, leechers {Show(response.Leechers)}, interval {response.Interval.TotalSeconds:0} s ({result.Announce.Elapsed.TotalMilliseconds:0} ms).");
                    if (!string.IsNullOrEmpty(response.WarningMessage))
                        WriteWarning($"Tracker '{result.Tracker.Url}' says: {response.WarningMessage}");
                    break;
                case Answered { Result: var failed }:
                    state.Failures.Add(failed.Announce.Error!);
                    WriteVerbose($"{failed.Tracker.Url}: {failed.Announce.Error!.Error}: {failed.Announce.Error.Message}");
                    break;
                case StopFailed { Error: var stopError }:
                    WriteVerbose($"{stopError.TrackerUrl}: the 'stopped' announce failed ({stopError.Error}); the tracker will list us until it times us out.");
                    break;
            }
        }

        protected override void OnCompleted(TorrentQuery query)
        {
            var state = query.State as PeerState ?? new PeerState();
            foreach (var error in state.Failures)
            {
                if (state.Working > 0)
                    WriteWarning($"Tracker '{error.TrackerUrl}' failed for '{query.Torrent.Name}' ({error.Error}): {error.Message}");
                else
                    WriteError(Errors.TrackerFailed(error, query.Torrent));
            }
        }

        private static string Show(int? n) => n?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";

        private sealed class PeerState
        {
            public readonly HashSet<IPEndPoint> Emitted = new HashSet<IPEndPoint>();
            public readonly List<TrackerException> Failures = new List<TrackerException>();
            public int Working;
        }

        private sealed class Answered
        {
            public Answered(TrackerPeerQueryResult result) => Result = result;
            public TrackerPeerQueryResult Result { get; }
        }

        private sealed class StopFailed
        {
            public StopFailed(TrackerException error) => Error = error;
            public TrackerException Error { get; }
        }
    }
}
