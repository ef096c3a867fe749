using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Asks every tracker of one torrent (all at once) who is in the swarm, the way Get-TorrentPeer does: an
    /// announce 'started' as a leecher on a random dynamic port, then 'stopped', our own entry left out. Used by
    /// Invoke-PeerHandshake when a torrent comes without -Peer. The work runs on the thread pool; the caller waits
    /// for the whole answer (bounded by the per-request timeout) and writes the records itself.</summary>
    internal static class TrackerPeerLookup
    {
        private const int DynamicPortFirst = 49152;

        /// <summary>What the trackers said: the distinct peers, the trackers that failed, and how many worked.</summary>
        internal sealed class Answer
        {
            public List<PeerAddress> Peers { get; } = new List<PeerAddress>();
            public List<TrackerException> Failures { get; } = new List<TrackerException>();
            public int Working { get; set; }
            public int TrackerCount { get; set; }
        }

        /// <summary>The error for a torrent that lists no tracker to ask: the peers must be named.</summary>
        public static ErrorRecord NoTrackers(TorrentTarget torrent)
        {
            string what = torrent.InputObject is MagnetUri ? "magnet link" : "torrent";
            var record = new ErrorRecord(
                new InvalidOperationException($"The {what} '{torrent.Name}' ({torrent.InfoHash}) lists no trackers (and no x.pe peers), so there is no one to ask for peers."),
                Errors.NoTrackersId, ErrorCategory.ObjectNotFound, torrent.InputObject);
            record.ErrorDetails = new ErrorDetails(record.Exception.Message)
            {
                RecommendedAction = "Name the peers to handshake with -Peer (ip:port or [ipv6]:port), e.g. -Peer 192.0.2.10:6881.",
            };
            return record;
        }

        /// <summary>Asks the torrent's trackers; every request is bounded by <paramref name="timeout"/> (plus at
        /// most 5 s for the 'stopped' announce), so the task always ends.</summary>
        public static async Task<Answer> AskAsync(TorrentTarget torrent, TimeSpan timeout, CancellationToken cancellationToken,
            TrackerClientOptions? clientOptions = null)
        {
            var answer = new Answer();
            var list = new TrackerTierList(torrent.TrackerTiers.Select(t => t.ToArray()).ToArray());
            answer.TrackerCount = list.All.Count;
            if (answer.TrackerCount == 0) return answer;

            var random = new byte[6];
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create()) rng.GetBytes(random);
            var request = new AnnounceRequest(torrent.InfoHashBytes, ClientIdentity.NewPeerId())
            {
                // Not 6881: see Get-TorrentPeer -Port; a random dynamic port never stands for a real client's entry.
                Port = DynamicPortFirst + BitConverter.ToUInt16(random, 4) % (65536 - DynamicPortFirst),
                Key = BitConverter.ToUInt32(random, 0),
                Left = torrent.Left,
                NumWant = AnnounceRequest.DefaultNumWant,
                Event = TrackerEvent.Started,
            };
            using var client = clientOptions is null ? new TrackerClient() : new TrackerClient(clientOptions);
            var query = new TrackerPeerQuery(client, list, request, timeout);
            var results = await Task.WhenAll(list.All.Select(t => query.QueryAsync(t, null, cancellationToken))).ConfigureAwait(false);

            var seen = new HashSet<System.Net.IPEndPoint>();
            foreach (var result in results)
            {
                if (!result.Announce.Succeeded)
                {
                    answer.Failures.Add(result.Announce.Error!);
                    continue;
                }
                answer.Working++;
                foreach (var peer in result.Peers)
                    if (seen.Add(peer.EndPoint)) answer.Peers.Add(new PeerAddress(peer.EndPoint));
            }
            return answer;
        }
    }
}
