using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;

namespace BitTorrent.Metainfo
{
    public static partial class TorrentParser
    {
        /// <summary>A torrent from metadata fetched for a magnet link (BEP 9): <paramref name="info"/> is the info
        /// dictionary exactly as the peers sent it, and must hash (SHA-1) to the magnet's info-hash; the trackers
        /// (<c>tr</c>, one tier each, in the link's order, as libtorrent does) and web seeds (<c>ws</c>) come from the
        /// link, and its <c>dn</c> names the torrent when the dictionary has no name. The result is what reading
        /// <see cref="TorrentWriter.ToBytes"/> of it gives: the same checks and limits as a .torrent file.</summary>
        /// <exception cref="TorrentFormatException">The bytes do not hash to the info-hash
        /// (<see cref="TorrentError.InfoHashMismatch"/>), or they are not a usable info dictionary.</exception>
        public static TorrentInfo FromMetadata(ReadOnlySpan<byte> info, MagnetUri magnet)
        {
            if (magnet is null) throw new ArgumentNullException(nameof(magnet));
            if (magnet.InfoHashBytes is not byte[] expected)
                throw new ArgumentException("The magnet link has no v1 (btih) info-hash.", nameof(magnet));
            if (info.Length == 0 || info.Length > MaxTorrentFileBytes)
                throw new TorrentFormatException(TorrentError.FileTooLarge, $"Metadata of {info.Length} bytes; it is 1 to {MaxTorrentFileBytes} bytes.");
            byte[] actual;
#pragma warning disable CA5350 // SHA-1 is what v1 info-hashes are.
            using (var sha1 = SHA1.Create()) actual = sha1.ComputeHash(info.ToArray());
#pragma warning restore CA5350
            if (!actual.AsSpan().SequenceEqual(expected))
                throw new TorrentFormatException(TorrentError.InfoHashMismatch,
                    $"The metadata hashes to {Hex.ToLower(actual)}, not to the magnet link's {Hex.ToLower(expected)}.");
            var tiers = magnet.Trackers.Select(t => (IReadOnlyList<string>)new[] { t }).ToList();
            var bytes = TorrentWriter.Compose(info, tiers, magnet.WebSeeds, createdBy: null, creationDate: null, comment: null);
            return Parse(bytes, null, MaxPieces, MaxFiles, magnet.Name);
        }
    }
}
