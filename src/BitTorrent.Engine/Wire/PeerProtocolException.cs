using System.IO;

namespace BitTorrent.Wire
{
    /// <summary>What a peer did wrong on the wire. The names are a contract: callers and tests match on them.</summary>
    public enum PeerProtocolError
    {
        /// <summary>The handshake did not start with length 19 and "BitTorrent protocol".</summary>
        WrongProtocolString,

        /// <summary>The peer answered for a different torrent than the one we asked for.</summary>
        InfoHashMismatch,

        /// <summary>A length prefix larger than anything that message may legally be; nothing was allocated for it.</summary>
        MessageTooLarge,

        /// <summary>A message whose length does not fit its id (a 'have' that is not 5 bytes, a 'piece' without a
        /// header), or whose fields are out of range.</summary>
        MalformedMessage,

        /// <summary>The connection ended in the middle of a handshake or a message.</summary>
        TruncatedFrame,

        /// <summary>A bitfield whose length is not ceil(pieces / 8) bytes.</summary>
        BitfieldWrongLength,

        /// <summary>A bitfield with bits set past the last piece (BEP 3: spare bits must be zero).</summary>
        BitfieldSpareBitsSet,

        /// <summary>A 'have' or similar index at or past the piece count.</summary>
        PieceIndexOutOfRange,

        /// <summary>A BEP 10 extended handshake that is not a bencoded dictionary within the limits.</summary>
        InvalidExtendedHandshake,

        /// <summary>A BEP 9 ut_metadata message that is not a dictionary with msg_type and piece, names a block
        /// outside the metadata, or carries a block of the wrong size.</summary>
        InvalidMetadataMessage,

        /// <summary>A metadata_size (handshake) or total_size (data) that is negative, above our 10 MB limit, or
        /// disagrees with the size the peer gave before.</summary>
        InvalidMetadataSize,

        /// <summary>Far more ut_metadata requests than the metadata has blocks, within a minute.</summary>
        MetadataRequestFlood,

        /// <summary>A BEP 11 ut_pex message that is not a bencoded dictionary within 500 KiB.</summary>
        InvalidPexMessage,

        /// <summary>More ut_pex messages than BEP 11's one a minute allows, beyond a small burst.</summary>
        PexFlood,
    }

    /// <summary>The peer broke the protocol. The connection must be closed; the message that caused it was never
    /// buffered whole (lengths are checked before anything is allocated).</summary>
    public sealed class PeerProtocolException : IOException
    {
        public PeerProtocolException(PeerProtocolError error, string message) : base(message) => Error = error;

        public PeerProtocolError Error { get; }
    }
}
