using System;
using BitTorrent.Metainfo;

namespace BitTorrent.Storage
{
    /// <summary>Metadata fetched for a magnet link, kept as <c>&lt;destination&gt;/.bittorrent/&lt;info-hash&gt;.torrent</c>
    /// so a resumed run does not fetch it again.</summary>
    public static class MetadataCache
    {
        /// <summary>The file's path for this destination and info-hash (40 hex, lowercase).</summary>
        public static string GetPath(string destination, string infoHash) =>
            System.IO.Path.Combine(destination, ".bittorrent", infoHash.ToLowerInvariant() + ".torrent");

        /// <summary>The kept torrent, or null when there is none or it does not hash to <paramref name="infoHash"/>.</summary>
        public static TorrentInfo? TryLoad(string destination, string infoHash) =>
            throw new NotImplementedException("The metadata cache is not written yet.");

        /// <summary>Writes the torrent (atomically: a temporary file renamed) and returns its path.</summary>
        public static string Save(string destination, TorrentInfo torrent) =>
            throw new NotImplementedException("The metadata cache is not written yet.");
    }
}
