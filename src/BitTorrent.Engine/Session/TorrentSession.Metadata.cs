using System;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;

namespace BitTorrent.Session
{
    public sealed partial class TorrentSession
    {
        /// <summary>Fetches a magnet link's info dictionary from peers (BEP 9 ut_metadata, 16 KiB blocks from several
        /// peers), checks its SHA-1 against the info-hash before trusting a byte, and returns it as a normal
        /// <see cref="TorrentInfo"/> (the magnet's trackers, and its name if the dictionary has none). Throws
        /// <see cref="Download.DownloadException"/> (NoPeersAvailable) when no metadata was found within
        /// <see cref="MetadataFetchOptions.Timeout"/>, and OperationCanceledException when cancelled.
        /// <para>Peers come from the link's <c>x.pe</c>, <see cref="MetadataFetchOptions.Peers"/> and the trackers
        /// (the link's <c>tr</c> and <see cref="MetadataFetchOptions.Trackers"/>, unless
        /// <see cref="MetadataFetchOptions.NoTracker"/>), dialled with the session's peer id, port, bind address and
        /// proxy. Progress is told through <see cref="Events"/>: PeersDiscovered, PeerConnected, PeerConnectFailed,
        /// PeerDisconnected and PeerBanned (with reasons), MetadataHashFailed and MetadataReceived. The session's
        /// discovery sources (<see cref="IPeerDiscovery"/>) are asked for the info-hash while the fetch runs. A verified
        /// dictionary that is not a usable torrent (its hash matches, so the swarm's torrent is broken) is a
        /// <see cref="TorrentFormatException"/>.</para></summary>
        public async Task<TorrentInfo> FetchMetadataAsync(MagnetUri magnet, MetadataFetchOptions options, CancellationToken cancellationToken)
        {
            if (magnet is null) throw new ArgumentNullException(nameof(magnet));
            if (!magnet.HasV1)
                throw new ArgumentException("The magnet link has only a v2 (btmh) info-hash; metadata can be fetched for v1 (btih) links only.", nameof(magnet));
            lock (_sync)
                if (_disposed) throw new ObjectDisposedException(nameof(TorrentSession));
            var fetcher = new MetadataFetcher(magnet, options ?? new MetadataFetchOptions(), _services);
            // The session's discovery sources (local discovery; the DHT later) look for the info-hash too — unless a
            // torrent of the session already has it: the sources know each info-hash once. Nothing private is known
            // yet, so nothing is held back from them.
            var placeholder = fetcher.Placeholder;
            bool discover = !Contains(placeholder.InfoHash) && !(options?.NoDiscovery ?? false);
            if (discover)
                foreach (var source in _options.Discovery) source.Add(placeholder, fetcher.AddPeers);
            // Ends with the session too: disposing it stops every fetch as it stops every torrent.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopAll.Token);
            byte[] metadata;
            try
            {
                metadata = await fetcher.RunAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && _stopAll.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(TorrentSession), "The session was closed while fetching the metadata.");
            }
            finally
            {
                if (discover && !Contains(placeholder.InfoHash))
                    foreach (var source in _options.Discovery)
                    {
                        try { source.Remove(placeholder.InfoHash); } catch (Exception) { /* one source's trouble must not hide the result */ }
                    }
            }
            return TorrentParser.FromMetadata(metadata, magnet);
        }
    }
}
