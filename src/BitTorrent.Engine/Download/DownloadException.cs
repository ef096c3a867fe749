using System;

namespace BitTorrent.Download
{
    public enum DownloadError
    {
        /// <summary>No peer could be reached or none sent data within the timeout.</summary>
        NoPeersAvailable,
        /// <summary>Writing to the destination failed (disk full, read-only, permissions).</summary>
        DestinationWriteFailed,
        /// <summary>The destination cannot be used (not a folder, not creatable).</summary>
        DestinationInvalid,
        /// <summary>Seeding was asked for data that is missing or does not match the torrent.</summary>
        SeedDataIncomplete,
        /// <summary>Peers are dialled through a proxy, and the proxy could not be reached or would not tunnel.</summary>
        ProxyConnectFailed,
        /// <summary>Peers are dialled through a proxy that refused our credentials (or wants some).</summary>
        ProxyAuthenticationFailed,
    }

    public sealed class DownloadException : Exception
    {
        public DownloadException(DownloadError error, string message, Exception? inner = null) : base(message, inner) => Error = error;
        public DownloadError Error { get; }
    }
}
