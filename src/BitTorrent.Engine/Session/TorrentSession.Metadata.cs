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
        /// <see cref="MetadataFetchOptions.Timeout"/>, and OperationCanceledException when cancelled.</summary>
        public Task<TorrentInfo> FetchMetadataAsync(MagnetUri magnet, MetadataFetchOptions options, CancellationToken cancellationToken)
        {
            // The contract for the cmdlets; the fetch itself is being written (issue 12).
            throw new NotImplementedException("Fetching metadata from peers is not written yet.");
        }
    }
}
