using System;

namespace BitTorrent.Creation
{
    /// <summary>Why a torrent could not be created.</summary>
    public enum TorrentCreationError
    {
        /// <summary>The source path does not exist.</summary>
        SourceNotFound,

        /// <summary>The source has no files, or only empty ones: there is nothing to share.</summary>
        NoFiles,

        /// <summary>More files than a torrent may hold, or folders nested deeper than a torrent path may go.</summary>
        TooManyFiles,

        /// <summary>A folder of the source could not be listed.</summary>
        SourceUnreadable,

        /// <summary>A file changed (became shorter or unreadable) while it was being hashed.</summary>
        SourceChanged,

        /// <summary>The piece length is not a power of two in the accepted range, or gives too many pieces.</summary>
        InvalidPieceLength,

        /// <summary>A tracker or web-seed URL is not an absolute URL of a usable scheme.</summary>
        InvalidUrl,

        /// <summary>The .torrent would be larger than torrent readers accept (use larger pieces).</summary>
        TorrentTooLarge,
    }

    /// <summary>A torrent could not be created; <see cref="Error"/> says why.</summary>
    public sealed class TorrentCreationException : Exception
    {
        public TorrentCreationException(TorrentCreationError error, string message, Exception? inner = null) : base(message, inner)
        {
            Error = error;
        }

        public TorrentCreationError Error { get; }
    }
}
