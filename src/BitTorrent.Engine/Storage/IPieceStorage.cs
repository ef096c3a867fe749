using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Wire;

namespace BitTorrent.Storage
{
    /// <summary>Where a download's verified pieces live, and its resume record. <see cref="DownloadStorage"/> keeps
    /// them in the destination's files; tests use one in memory (and crash it at chosen points). Writes, flushes and
    /// resume saves are serialized by the caller (one at a time); reads for uploads may run beside them.</summary>
    public interface IPieceStorage : IDisposable
    {
        /// <summary>Creates what the download needs (folders, empty files). Throws IOException and the like.</summary>
        void Prepare();

        /// <summary>Throws IOException or UnauthorizedAccessException if the destination cannot be written.</summary>
        void ProbeWritable();

        /// <summary>True when every byte of the piece could be stored (a cheap check before hashing it).</summary>
        bool PieceDataPresent(int piece);

        /// <summary>The pieces the saved resume record vouches for whose data has not changed since it was saved
        /// (null: no usable record). Others with data present must be hash-checked.</summary>
        Bitfield? TrustedResumePieces();

        /// <summary>Hash-checks stored pieces; returns those that match the torrent.</summary>
        Task<IReadOnlyList<int>> VerifyPiecesAsync(IReadOnlyList<int> pieces, CancellationToken cancellationToken);

        /// <summary>Writes a verified piece.</summary>
        Task WritePieceAsync(int piece, ArraySegment<byte> data, CancellationToken cancellationToken);

        /// <summary>Reads part of a stored piece to upload it; false if it cannot be read.</summary>
        bool TryReadBlock(int piece, int offset, byte[] destination, int length);

        /// <summary>Finishes files whose pieces are all verified (a .part file gets its real name).</summary>
        IReadOnlyList<int> FinishCompletedFiles(Bitfield have, IEnumerable<int> candidates);

        /// <summary>Files touching a piece.</summary>
        IEnumerable<int> FilesOf(int piece);

        /// <summary>Makes written data durable enough for a resume record to vouch for it.</summary>
        void Flush();

        /// <summary>Records the verified pieces (after <see cref="Flush"/>), so a restart trusts them.</summary>
        void SaveResume(Bitfield verified);

        /// <summary>Full paths (or names) of the selected files, for the result.</summary>
        IReadOnlyList<string> SelectedFilePaths();
    }
}
