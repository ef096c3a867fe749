using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>One torrent named by the user: a .torrent file's path, or a magnet link (or bare info-hash).</summary>
    internal sealed class TorrentSource
    {
        private TorrentSource(string? path, MagnetUri? magnet)
        {
            Path = path;
            Magnet = magnet;
        }

        public string? Path { get; }
        public MagnetUri? Magnet { get; }

        public static TorrentSource FromPath(string path) => new TorrentSource(path, null);
        public static TorrentSource FromMagnet(MagnetUri magnet) => new TorrentSource(null, magnet);
    }

    /// <summary>How the cmdlets tell a magnet link from a path, and turn the text into a <see cref="MagnetUri"/>.
    /// <para>A string is a magnet link when it starts with "magnet:" (no file-system path does: it would name a drive
    /// called 'magnet'), and an info-hash when it is 40 hex digits or 32 base32 characters and no file or folder of
    /// that name exists in the current location (so a path still means a path). -LiteralPath takes only the first
    /// form: it is a literal path.</para></summary>
    internal static class TorrentInput
    {
        /// <summary>True when <paramref name="text"/> is to be read as a magnet link or an info-hash.</summary>
        public static bool IsMagnetText(PSCmdlet cmdlet, string? text, bool literalPath)
        {
            if (text is null) return false;
            string trimmed = text.Trim();
            if (trimmed.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)) return true;
            if (literalPath || !MagnetUri.LooksLikeMagnet(trimmed)) return false;
            return !ExistsAsPath(cmdlet, trimmed);
        }

        private static bool ExistsAsPath(PSCmdlet cmdlet, string text)
        {
            try
            {
                string full = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(text);
                return File.Exists(full) || Directory.Exists(full);
            }
            catch (Exception ex) when (ex is ItemNotFoundException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException
                || ex is NotSupportedException || ex is ArgumentException || ex is PSInvalidOperationException)
            {
                return false;
            }
        }

        /// <summary>Parses a magnet link or info-hash, writing an InvalidMagnetUri error (and returning null) when it
        /// cannot be used; parameters left out are warnings.</summary>
        public static MagnetUri? Parse(PSCmdlet cmdlet, string text)
        {
            if (!TryParse(text, out var magnet, out var error))
            {
                cmdlet.WriteError(error!);
                return null;
            }
            foreach (var issue in magnet!.Ignored)
                cmdlet.WriteWarning($"The magnet link's parameter {issue.Parameter}={issue.Value} is left out ({issue.Error}).");
            return magnet;
        }

        /// <summary>A usable magnet link, or the InvalidMagnetUri error saying why not: malformed, or naming only a
        /// v2 info-hash (the v1 wire protocol and trackers need a v1 one).</summary>
        public static bool TryParse(string text, out MagnetUri? magnet, out ErrorRecord? error)
        {
            error = null;
            if (!MagnetUri.TryParse(text, out var parsed, out var invalid))
            {
                magnet = null;
                error = Errors.InvalidMagnetUri(invalid!, text);
                return false;
            }
            if (!parsed.HasV1)
            {
                magnet = null;
                error = Errors.InvalidMagnetUri(new MagnetUriException(MagnetUriError.MissingInfoHash, "xt",
                    "The magnet link names only a v2 (btmh) info-hash; v2-only torrents are not supported yet, a v1 (btih) info-hash is needed."), text);
                return false;
            }
            magnet = parsed;
            return true;
        }

        /// <summary>-Path/-LiteralPath values as torrent sources: magnet links and info-hashes parsed (bad ones are
        /// InvalidMagnetUri errors), paths resolved (wildcards for -Path; problems are errors, as before). One bad
        /// entry never stops the others.</summary>
        public static IEnumerable<TorrentSource> Resolve(PSCmdlet cmdlet, IEnumerable<string> inputs, bool literal)
        {
            foreach (var text in inputs)
            {
                if (IsMagnetText(cmdlet, text, literal))
                {
                    var magnet = Parse(cmdlet, text);
                    if (magnet is not null) yield return TorrentSource.FromMagnet(magnet);
                    continue;
                }
                foreach (var path in FileSystemPathResolver.Resolve(cmdlet, new[] { text }, literal))
                    yield return TorrentSource.FromPath(path);
            }
        }

        /// <summary>The name to show for a magnet before its metadata is known: its dn, else its info-hash.</summary>
        public static string DisplayName(MagnetUri magnet) => string.IsNullOrWhiteSpace(magnet.Name) ? magnet.InfoHash! : magnet.Name!;
    }

    /// <summary>What the tracker and handshake cmdlets need of a torrent, from a .torrent or from a magnet link (which
    /// has no metadata): info-hash, name, trackers, peers named in the link, and what to announce as 'left'.</summary>
    internal sealed class TorrentTarget
    {
        /// <summary>'left' announced for a magnet link without xl: not zero, or trackers would count us as a seeder
        /// (and many give seeders no seeders); one block, as a client that has nothing yet.</summary>
        private const long UnknownLeft = 16 * 1024;

        private TorrentTarget(object inputObject, string name, string infoHash, byte[] infoHashBytes,
            IReadOnlyList<IReadOnlyList<string>> trackerTiers, long left, int? pieceCount, IReadOnlyList<PeerAddress> peers)
        {
            InputObject = inputObject;
            Name = name;
            InfoHash = infoHash;
            InfoHashBytes = infoHashBytes;
            TrackerTiers = trackerTiers;
            Left = left;
            PieceCount = pieceCount;
            Peers = peers;
        }

        /// <summary>The TorrentInfo or MagnetUri given: the error records' target object.</summary>
        public object InputObject { get; }
        public string Name { get; }
        public string InfoHash { get; }
        public byte[] InfoHashBytes { get; }
        public IReadOnlyList<IReadOnlyList<string>> TrackerTiers { get; }
        public int TrackerCount => TrackerTiers.Sum(t => t.Count);
        public long Left { get; }
        /// <summary>Known only with the metadata (a handshake then says what share of the pieces a peer has).</summary>
        public int? PieceCount { get; }
        /// <summary>The magnet link's x.pe peers (none for a .torrent).</summary>
        public IReadOnlyList<PeerAddress> Peers { get; }

        public static TorrentTarget From(TorrentInfo torrent) => new TorrentTarget(torrent, torrent.Name, torrent.InfoHash,
            torrent.InfoHashBytes, torrent.TrackerTiers, torrent.TotalSize, torrent.PieceCount, Array.Empty<PeerAddress>());

        /// <summary>A magnet link's trackers, each its own tier in the link's order (BEP 9 has no tiers).</summary>
        public static TorrentTarget From(MagnetUri magnet) => new TorrentTarget(magnet, TorrentInput.DisplayName(magnet), magnet.InfoHash!,
            magnet.InfoHashBytes!, magnet.Trackers.Select(t => (IReadOnlyList<string>)new[] { t }).ToArray(),
            magnet.ExactLength is long xl && xl > 0 ? xl : UnknownLeft, null, magnet.Peers);

        public override string ToString() => $"{Name} ({InfoHash})";
    }
}
