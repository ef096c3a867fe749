using System;
using System.IO;
using BitTorrent.Metainfo;

namespace BitTorrent.Storage
{
    /// <summary>Metadata fetched for a magnet link, kept as <c>&lt;destination&gt;/.bittorrent/&lt;info-hash&gt;.torrent</c>
    /// so a resumed run does not fetch it again.</summary>
    public static class MetadataCache
    {
        /// <summary>The file's path for this destination and info-hash (40 hex, lowercase). Anything but 40 hex
        /// digits is refused: the info-hash becomes a file name, and must not be able to name another place.</summary>
        public static string GetPath(string destination, string infoHash)
        {
            if (destination is null) throw new ArgumentNullException(nameof(destination));
            if (!IsInfoHash(infoHash)) throw new ArgumentException("An info-hash is 40 hexadecimal digits.", nameof(infoHash));
            return Path.Combine(Path.GetFullPath(destination), TorrentParser.StateFolderName, infoHash.ToLowerInvariant() + ".torrent");
        }

        /// <summary>The kept torrent, or null when there is none, it cannot be read or parsed, or it does not hash
        /// to <paramref name="infoHash"/> (a file changed or put there by someone else is never trusted).
        /// <paramref name="fallbackName"/> (the magnet link's dn) names a torrent whose info dictionary has no name, as
        /// when it was first fetched (<see cref="TorrentParser.FromMetadata"/>).</summary>
        public static TorrentInfo? TryLoad(string destination, string infoHash, string? fallbackName = null)
        {
            var path = GetPath(destination, infoHash);
            try
            {
                var file = new FileInfo(path);
                if (!file.Exists || file.Length > TorrentParser.MaxTorrentFileBytes) return null;
                var torrent = TorrentParser.ParseFile(path, fallbackName);
                return string.Equals(torrent.InfoHash, infoHash, StringComparison.OrdinalIgnoreCase) ? torrent : null;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TorrentFormatException)
            {
                return null;
            }
        }

        /// <summary>Writes the torrent (<see cref="TorrentWriter.ToBytes"/>: trackers, web seeds and the exact info
        /// dictionary) atomically — a temporary file in the same folder, flushed, then renamed over the old one — and
        /// returns its path. Creates <c>.bittorrent</c> when needed. Throws IOException when <c>.bittorrent</c> or
        /// the file is a symbolic link or junction (or the disk refuses the write).</summary>
        public static string Save(string destination, TorrentInfo torrent)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            var path = GetPath(destination, torrent.InfoHash);
            var folder = Path.GetDirectoryName(path)!;
            // A link planted where our state goes would carry the write anywhere it points (as DownloadStorage refuses).
            foreach (var entry in new FileSystemInfo[] { new DirectoryInfo(folder), new FileInfo(path) })
                if (entry.Exists && FileSystemLinks.IsLink(entry))
                    throw new IOException($"'{entry.FullName}' is a symbolic link or junction; the metadata is not written through links (one could lead outside the destination).");
            Directory.CreateDirectory(folder);
            var bytes = TorrentWriter.ToBytes(torrent);
            // A name of our own per write: two runs saving the same torrent at once must not write one temporary file.
            var temp = path + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
            try
            {
                using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    fs.Write(bytes, 0, bytes.Length);
                    fs.Flush(true);
                }
                if (File.Exists(path)) File.Replace(temp, path, null);   // rename(2) over the old file: never half a file
                else File.Move(temp, path);
            }
            finally
            {
                try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            return path;
        }

        private static bool IsInfoHash(string? text)
        {
            if (text is null || text.Length != 40) return false;
            foreach (char c in text)
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
            return true;
        }
    }
}
