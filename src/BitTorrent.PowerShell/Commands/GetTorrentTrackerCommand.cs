using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.Trackers;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Reports on every tracker of a torrent: does it answer, how many seeders and leechers does it count
    /// (scrape), what interval does it ask for, how many peers did it list. One <see cref="TrackerStatus"/> per
    /// tracker, in the torrent's tier order; failures are in the objects, not error records.</summary>
    [Cmdlet(VerbsCommon.Get, "TorrentTracker", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(TrackerStatus))]
    public sealed class GetTorrentTrackerCommand : TrackerCmdletBase
    {
        /// <summary>Only scrape: never announce, so the trackers never list this query as a peer.</summary>
        [Parameter]
        public SwitchParameter ScrapeOnly { get; set; }

        protected override string ProgressActivity => "Querying trackers";

        protected override int OperationsPerTorrent(TorrentQuery query) =>
            query.PeerQuery.Trackers.All.Count * (ScrapeOnly ? 1 : 2);

        protected override async Task RunAsync(TorrentQuery query, CancellationToken cancellationToken)
        {
            var trackers = query.PeerQuery.Trackers.All;
            // Scrape every tracker first, then announce: our own announce (to one tracker, or to the same tracker
            // over HTTP and UDP) would otherwise show up as an extra leecher in another tracker's scrape.
            var scrapes = await Task.WhenAll(trackers.Select(async t =>
            {
                try { return await query.PeerQuery.ScrapeAsync(t, cancellationToken).ConfigureAwait(false); }
                finally { TrackerOperationDone(); }
            })).ConfigureAwait(false);

            TrackerPeerQueryResult?[] announces = new TrackerPeerQueryResult?[trackers.Count];
            if (!ScrapeOnly)
            {
                announces = await Task.WhenAll(trackers.Select(async t =>
                {
                    try { return (TrackerPeerQueryResult?)await query.PeerQuery.QueryAsync(t, null, cancellationToken).ConfigureAwait(false); }
                    finally { TrackerOperationDone(); }
                })).ConfigureAwait(false);
            }

            var statuses = new List<TrackerStatus>();
            for (int i = 0; i < trackers.Count; i++) statuses.Add(Describe(query, trackers[i], scrapes[i].Counts, scrapes[i].Error, announces[i]));
            var order = query.GivenOrder.Select((url, index) => (url, index)).ToDictionary(p => p.url, p => p.index, StringComparer.Ordinal);
            foreach (var status in statuses.OrderBy(s => s.Tier).ThenBy(s => order.TryGetValue(s.Url, out int i) ? i : int.MaxValue))
                query.Post(status);
        }

        private TrackerStatus Describe(TorrentQuery query, TrackerEntry tracker, ScrapeEntry? counts, TrackerException? scrapeError, TrackerPeerQueryResult? announce)
        {
            var status = new TrackerStatus
            {
                Url = tracker.Url,
                Tier = tracker.Tier,
                InfoHash = query.Torrent.InfoHash,
                TorrentName = query.Torrent.Name,
                Seeders = counts?.Seeders,
                Leechers = counts?.Leechers,
                Completed = counts?.Completed,
            };
            if (ScrapeOnly)
            {
                status.Status = counts is not null ? TrackerState.Working
                    : scrapeError?.Error == TrackerError.ScrapeNotSupported ? TrackerState.NotContacted : TrackerState.Failed;
                status.Error = scrapeError?.Message;
                status.ErrorKind = scrapeError?.Error;
                return status;
            }

            status.ScrapeError = scrapeError?.Message;
            var result = announce!.Announce;
            status.LastAnnounce = result.At;
            if (result.Response is not AnnounceResponse response)
            {
                status.Status = TrackerState.Failed;
                status.Error = result.Error!.Message;
                status.ErrorKind = result.Error.Error;
                return status;
            }
            status.Status = TrackerState.Working;
            status.Interval = response.Interval;
            status.MinInterval = response.MinInterval;
            status.PeerCount = announce.Peers.Count;
            status.WarningMessage = response.WarningMessage;
            if (counts is null)
            {
                // No scrape: the counts from the announce replies instead; the one to 'stopped' no longer counts us.
                var source = announce.StoppedResponse?.Seeders is not null ? announce.StoppedResponse : response;
                status.Seeders = source.Seeders;
                status.Leechers = source.Leechers;
                status.Completed = source.Completed ?? response.Completed;
            }
            return status;
        }

        protected override void OnEvent(TorrentQuery query, object item)
        {
            if (item is not TrackerStatus status) return;
            if (status.Error is not null) WriteVerbose($"{status.Url}: {status.ErrorKind}: {status.Error}");
            if (status.WarningMessage is not null) WriteWarning($"Tracker '{status.Url}' says: {status.WarningMessage}");
            WriteObject(status);
        }

        protected override void OnCompleted(TorrentQuery query) { }
    }
}
