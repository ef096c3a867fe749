using System;

namespace BitTorrent.Hashing
{
    /// <summary>Receives the outcome of each piece of a <see cref="PieceHashPipeline"/> run. Called from several worker
    /// threads at once, each call for a different piece; an exception thrown here stops the whole run.</summary>
    internal interface IPieceHashSink
    {
        /// <summary>Every byte of <paramref name="piece"/> was read; <paramref name="sha1"/> is its 20-byte SHA-1
        /// (valid only during the call).</summary>
        void OnPieceHashed(int piece, byte[] sha1);

        /// <summary>Some bytes of <paramref name="piece"/> could not be read (missing or short file, I/O error).</summary>
        void OnPieceUnavailable(int piece);
    }
}
