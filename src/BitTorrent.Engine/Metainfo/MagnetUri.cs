using System;
using System.Collections.Generic;
using System.Globalization;
using BitTorrent.Wire;

namespace BitTorrent.Metainfo
{
    /// <summary>A magnet link (BEP 9, BEP 53): which torrent (a v1 info-hash, a v2 one or both), its name, trackers,
    /// web seeds, peers to try and the files to select. <see cref="Parse"/> reads one (or a bare info-hash) with
    /// libtorrent's rules; <see cref="ToString"/> writes it back in a fixed order with every value
    /// percent-encoded. Immutable.</summary>
    public sealed partial class MagnetUri
    {
        /// <summary>Longest link accepted, in characters (real ones with a hundred trackers are a few KiB).</summary>
        public const int MaxLength = 256 * 1024;

        /// <summary>Most <c>name=value</c> pairs accepted.</summary>
        public const int MaxParameters = 4096;

        /// <summary>Highest file index a BEP 53 <c>so</c> may name (libtorrent's bound: it allocates per index).</summary>
        public const int MaxSelectIndex = 10_000;

        private MagnetUri() { }

        /// <summary>The v1 info-hash (SHA-1 of the info dictionary), 40 lower-case hex digits; null for a v2-only link.</summary>
        public string? InfoHash { get; private set; }

        /// <summary>The 20 bytes of <see cref="InfoHash"/>.</summary>
        public byte[]? InfoHashBytes { get; private set; }

        /// <summary>The v2 info-hash (SHA-256, BEP 52), 64 lower-case hex digits without the multihash prefix.</summary>
        public string? InfoHashV2 { get; private set; }

        /// <summary>The 32 bytes of <see cref="InfoHashV2"/>.</summary>
        public byte[]? InfoHashV2Bytes { get; private set; }

        /// <summary><c>dn</c>: the display name (untrusted, for display until the metadata arrives).</summary>
        public string? Name { get; private set; }

        /// <summary><c>xl</c>: the total size in bytes, if the link says.</summary>
        public long? ExactLength { get; private set; }

        /// <summary><c>tr</c>: tracker URLs in the link's order, without duplicates.</summary>
        public IReadOnlyList<string> Trackers { get; private set; } = Array.Empty<string>();

        /// <summary><c>ws</c>: BEP 19 web seed URLs in the link's order, without duplicates.</summary>
        public IReadOnlyList<string> WebSeeds { get; private set; } = Array.Empty<string>();

        /// <summary><c>x.pe</c>: peers to connect to, in the link's order, without duplicates.</summary>
        public IReadOnlyList<PeerAddress> Peers { get; private set; } = Array.Empty<PeerAddress>();

        /// <summary><c>so</c> (BEP 53): zero-based indices of the files to download, ascending; null when the link
        /// selects nothing (then every file is wanted).</summary>
        public IReadOnlyList<int>? SelectedFiles { get; private set; }

        /// <summary>Parameters that were left out, with the reason (bad trackers, peers, ranges…).</summary>
        public IReadOnlyList<MagnetUriIssue> Ignored { get; private set; } = Array.Empty<MagnetUriIssue>();

        /// <summary>True when the link names a v1 info-hash (the one the v1 wire protocol and trackers use).</summary>
        public bool HasV1 => InfoHashBytes is not null;

        /// <summary>True when the link names a v2 info-hash (a v2-only or hybrid torrent).</summary>
        public bool HasV2 => InfoHashV2Bytes is not null;

        /// <summary>A link for a torrent whose metadata we have: info-hash, name, trackers, web seeds — the form
        /// Get-TorrentInfo shows.</summary>
        public static MagnetUri FromTorrent(TorrentInfo torrent)
        {
            if (torrent is null) throw new ArgumentNullException(nameof(torrent));
            return Create(torrent.InfoHashBytes, torrent.Name, torrent.Trackers, torrent.WebSeeds);
        }

        /// <summary>A link from its parts. <paramref name="infoHash"/> is the 20-byte v1 info-hash.</summary>
        public static MagnetUri Create(byte[] infoHash, string? name = null, IEnumerable<string>? trackers = null,
            IEnumerable<string>? webSeeds = null, IEnumerable<PeerAddress>? peers = null, IEnumerable<int>? selectedFiles = null,
            long? exactLength = null, byte[]? infoHashV2 = null)
        {
            if (infoHash is not null && infoHash.Length != 20) throw new ArgumentException("A v1 info-hash is 20 bytes.", nameof(infoHash));
            if (infoHashV2 is not null && infoHashV2.Length != 32) throw new ArgumentException("A v2 info-hash is 32 bytes.", nameof(infoHashV2));
            if (infoHash is null && infoHashV2 is null) throw new ArgumentException("A magnet link needs an info-hash.", nameof(infoHash));
            if (exactLength < 0) throw new ArgumentOutOfRangeException(nameof(exactLength), exactLength, "A size is not negative.");
            var result = new MagnetUri { Name = string.IsNullOrEmpty(name) ? null : name, ExactLength = exactLength };
            if (infoHash is not null) result.SetV1((byte[])infoHash.Clone());
            if (infoHashV2 is not null) result.SetV2((byte[])infoHashV2.Clone());
            result.Trackers = Distinct(trackers);
            result.WebSeeds = Distinct(webSeeds);
            var peerList = new List<PeerAddress>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (peers is not null)
                foreach (var peer in peers)
                    if (seen.Add(peer.ToString())) peerList.Add(peer);
            result.Peers = peerList;
            if (selectedFiles is not null)
            {
                var set = new SortedSet<int>();
                foreach (int index in selectedFiles)
                {
                    if (index < 0 || index > MaxSelectIndex)
                        throw new ArgumentOutOfRangeException(nameof(selectedFiles), index, $"File indices run from 0 to {MaxSelectIndex}.");
                    set.Add(index);
                }
                result.SelectedFiles = new List<int>(set);
            }
            return result;
        }

        /// <summary>Reads a magnet link, or a bare info-hash (40 hex digits or 32 base32 characters). Throws
        /// <see cref="MagnetUriException"/> for a link that cannot be used; parameters that are merely bad are
        /// left out and listed in <see cref="Ignored"/>.</summary>
        public static MagnetUri Parse(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) throw Fail(MagnetUriError.Empty, null, "The magnet link is empty.");
            text = text.Trim();
            if (text.Length > MaxLength)
                throw Fail(MagnetUriError.TooLong, null, $"The magnet link is {text.Length} characters; at most {MaxLength} are accepted.");
            if (TryParseBareHash(text, out var bare)) return bare;
            if (!text.StartsWith("magnet:?", StringComparison.OrdinalIgnoreCase))
                throw Fail(MagnetUriError.NotAMagnetUri, null,
                    "This is neither a magnet link (magnet:?xt=urn:btih:…) nor an info-hash (40 hex digits or 32 base32 characters).");
            return ParseQuery(text.Substring("magnet:?".Length));
        }

        /// <summary><see cref="Parse"/> without the exception: false and the reason for a link that cannot be used.</summary>
        public static bool TryParse(string? text, out MagnetUri magnet, out MagnetUriException? error)
        {
            try
            {
                magnet = Parse(text!);
                error = null;
                return true;
            }
            catch (MagnetUriException ex)
            {
                magnet = null!;
                error = ex;
                return false;
            }
        }

        /// <summary>True for text that is a magnet link or a bare info-hash at first sight (the cmdlets use it to tell
        /// a link from a path; <see cref="Parse"/> then says what is wrong with it).</summary>
        public static bool LooksLikeMagnet(string? text)
        {
            if (text is null) return false;
            text = text.Trim();
            return text.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) || TryParseBareHash(text, out _);
        }

        private static bool TryParseBareHash(string text, out MagnetUri magnet)
        {
            magnet = null!;
            byte[]? hash = null;
            if (text.Length == 40 && Hex.TryParse(text, out var hex)) hash = hex;
            else if (text.Length == 32 && Base32.TryDecode(text, out var b32)) hash = b32;
            if (hash is null) return false;
            magnet = new MagnetUri();
            magnet.SetV1(hash);
            return true;
        }

        private static MagnetUri ParseQuery(string query)
        {
            var result = new MagnetUri();
            var trackers = new List<string>();
            var trackerSet = new HashSet<string>(StringComparer.Ordinal);
            var webSeeds = new List<string>();
            var webSeedSet = new HashSet<string>(StringComparer.Ordinal);
            var peers = new List<PeerAddress>();
            var peerKeys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var ignored = new List<MagnetUriIssue>();
            bool[]? selected = null;   // by index: a link repeating "so=0-10000" costs 10 001 writes each, no more
            int count = 0;
            foreach (var pair in query.Split('&'))
            {
                if (pair.Length == 0) continue;
                if (++count > MaxParameters)
                    throw Fail(MagnetUriError.TooLong, null, $"The magnet link has more than {MaxParameters} parameters.");
                int eq = pair.IndexOf('=');
                string name = eq < 0 ? pair : pair.Substring(0, eq);
                string raw = eq < 0 ? string.Empty : pair.Substring(eq + 1);
                switch (StripNumberSuffix(name))
                {
                    case "xt":
                        ParseExactTopic(result, raw, ignored);
                        break;
                    case "dn":
                        if (!PercentEncoding.TryDecode(raw, plusIsSpace: true, out var dn))
                            throw Fail(MagnetUriError.InvalidPercentEncoding, "dn", $"The display name '{Cut(raw)}' is not valid percent-encoded UTF-8.");
                        result.Name = dn.Length == 0 ? null : dn;
                        break;
                    case "xl":
                        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out long xl)) result.ExactLength = xl;
                        else ignored.Add(Issue("xl", raw, MagnetUriError.InvalidExactLength));
                        break;
                    case "tr":
                        AddUrl(trackers, trackerSet, "tr", raw, MagnetUriError.InvalidTracker, ignored);
                        break;
                    case "ws":
                        AddUrl(webSeeds, webSeedSet, "ws", raw, MagnetUriError.InvalidWebSeed, ignored);
                        break;
                    case "x.pe":
                        // A scoped IPv6 address (fe80::1%eth0) names an interface of the link's author, not a peer.
                        if (PercentEncoding.TryDecode(raw, plusIsSpace: false, out var pe) && PeerAddress.TryParse(pe, out var peer)
                            && !(peer.Address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 && v6.ScopeId != 0))
                        {
                            if (peerKeys.Add(peer.ToString())) peers.Add(peer);
                        }
                        else ignored.Add(Issue("x.pe", raw, MagnetUriError.InvalidPeerAddress));
                        break;
                    case "so":
                        ParseSelectOnly(raw, ref selected, ignored);
                        break;
                }
            }
            if (!result.HasV1 && !result.HasV2)
                throw Fail(MagnetUriError.MissingInfoHash, "xt", "The magnet link has no info-hash (xt=urn:btih:… or xt=urn:btmh:…).");
            result.Trackers = trackers;
            result.WebSeeds = webSeeds;
            result.Peers = peers;
            if (selected is not null)
            {
                var indices = new List<int>();
                for (int i = 0; i < selected.Length; i++)
                    if (selected[i]) indices.Add(i);
                result.SelectedFiles = indices;
            }
            result.Ignored = ignored;
            return result;
        }

        /// <summary>libtorrent strips a ".&lt;digits&gt;" suffix from parameter names (<c>tr.1</c>, <c>xt.2</c>).</summary>
        private static string StripNumberSuffix(string name)
        {
            int dot = name.LastIndexOf('.');
            if (dot < 0 || dot == name.Length - 1) return name;
            for (int i = dot + 1; i < name.Length; i++)
                if (name[i] < '0' || name[i] > '9') return name;
            return name.Substring(0, dot);
        }

        private static void ParseExactTopic(MagnetUri result, string raw, List<MagnetUriIssue> ignored)
        {
            if (!PercentEncoding.TryDecode(raw, plusIsSpace: false, out var value))
                throw Fail(MagnetUriError.InvalidPercentEncoding, "xt", $"The exact topic '{Cut(raw)}' is not valid percent-encoded text.");
            if (value.StartsWith("urn:btih:", StringComparison.OrdinalIgnoreCase))
            {
                string hash = value.Substring(9);
                byte[]? bytes = null;
                if (hash.Length == 40 && Hex.TryParse(hash, out var hex)) bytes = hex;
                else if (hash.Length == 32 && Base32.TryDecode(hash, out var b32)) bytes = b32;
                if (bytes is null)
                    throw Fail(MagnetUriError.InvalidInfoHash, "xt",
                        $"The info-hash '{Cut(hash)}' is neither 40 hex digits nor 32 base32 characters.");
                if (result.InfoHashBytes is not null && !result.InfoHashBytes.AsSpan().SequenceEqual(bytes))
                    throw Fail(MagnetUriError.ConflictingInfoHashes, "xt", $"The magnet link names two v1 info-hashes, {result.InfoHash} and {Hex.ToLower(bytes)}.");
                result.SetV1(bytes);
            }
            else if (value.StartsWith("urn:btmh:", StringComparison.OrdinalIgnoreCase))
            {
                string multihash = value.Substring(9);
                // Multihash: function 0x12 (SHA-256), length 0x20, then the digest; nothing else is a v2 info-hash.
                if (multihash.Length != 68 || !multihash.StartsWith("1220", StringComparison.Ordinal) || !Hex.TryParse(multihash.Substring(4), out var digest))
                    throw Fail(MagnetUriError.InvalidV2InfoHash, "xt",
                        $"The v2 info-hash '{Cut(multihash)}' is not a SHA-256 multihash (1220 followed by 64 hex digits).");
                if (result.InfoHashV2Bytes is not null && !result.InfoHashV2Bytes.AsSpan().SequenceEqual(digest))
                    throw Fail(MagnetUriError.ConflictingInfoHashes, "xt", $"The magnet link names two v2 info-hashes, {result.InfoHashV2} and {Hex.ToLower(digest)}.");
                result.SetV2(digest);
            }
            else ignored.Add(Issue("xt", raw, MagnetUriError.UnsupportedExactTopic));
        }

        private static void AddUrl(List<string> list, HashSet<string> seen, string parameter, string raw, MagnetUriError error, List<MagnetUriIssue> ignored)
        {
            if (PercentEncoding.TryDecode(raw, plusIsSpace: false, out var url) && url.Length > 0
                && Uri.TryCreate(url, UriKind.Absolute, out _) && !HasControlCharacters(url))
            {
                if (seen.Add(url)) list.Add(url);
            }
            else ignored.Add(Issue(parameter, raw, error));
        }

        /// <summary>BEP 53 with libtorrent's rules: a value with anything but digits, ',' and '-' is ignored whole;
        /// an entry with a missing end, a start above its end or an index above <see cref="MaxSelectIndex"/> is
        /// ignored alone.</summary>
        private static void ParseSelectOnly(string raw, ref bool[]? selected, List<MagnetUriIssue> ignored)
        {
            foreach (char c in raw)
            {
                if ((c < '0' || c > '9') && c != ',' && c != '-')
                {
                    ignored.Add(Issue("so", raw, MagnetUriError.InvalidSelectOnly));
                    return;
                }
            }
            foreach (var token in raw.Split(','))
            {
                if (token.Length == 0) continue;
                int dash = token.IndexOf('-');
                int first, last;
                bool valid;
                if (dash < 0)
                {
                    valid = TryIndex(token, out first);
                    last = first;
                }
                else
                {
                    bool firstValid = TryIndex(token.Substring(0, dash), out first);
                    bool lastValid = TryIndex(token.Substring(dash + 1), out last);
                    valid = firstValid && lastValid && first <= last;
                }
                if (!valid)
                {
                    ignored.Add(Issue("so", token, MagnetUriError.InvalidSelectOnly));
                    continue;
                }
                selected ??= new bool[MaxSelectIndex + 1];
                for (int i = first; i <= last; i++) selected[i] = true;
            }
        }

        private static bool TryIndex(string text, out int index) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index <= MaxSelectIndex;

        private void SetV1(byte[] hash)
        {
            InfoHashBytes = hash;
            InfoHash = Hex.ToLower(hash);
        }

        private void SetV2(byte[] hash)
        {
            InfoHashV2Bytes = hash;
            InfoHashV2 = Hex.ToLower(hash);
        }

        private static IReadOnlyList<string> Distinct(IEnumerable<string>? values)
        {
            // A set, not list.Contains: a torrent may list 100 000 trackers (the hostile corpus has one), and a quadratic
            // scan made Get-TorrentInfo take 24 s on it.
            var list = new List<string>();
            if (values is null) return list;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var value in values)
                if (!string.IsNullOrEmpty(value) && seen.Add(value)) list.Add(value);
            return list;
        }

        private static bool HasControlCharacters(string text)
        {
            foreach (char c in text)
                if (char.IsControl(c)) return true;
            return false;
        }

        private static string Cut(string text) => text.Length <= 200 ? text : text.Substring(0, 200) + "…";

        private static MagnetUriIssue Issue(string parameter, string raw, MagnetUriError error) => new MagnetUriIssue(parameter, Cut(raw), error);

        private static MagnetUriException Fail(MagnetUriError error, string? parameter, string message) =>
            new MagnetUriException(error, parameter, message);
    }
}
