using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace BitTorrent.Trackers
{
    /// <summary>Tracker URLs: which ones we can talk to, how announce and scrape query strings are built (binary
    /// values percent-encoded byte by byte), and the BEP 48 scrape URL.</summary>
    public static class TrackerUrl
    {
        /// <summary>Parses and checks a tracker URL: http, https or udp, with a host (and, for udp, a port).</summary>
        public static Uri Parse(string url)
        {
            if (string.IsNullOrWhiteSpace(url))
                throw new TrackerException(TrackerError.InvalidUrl, url ?? string.Empty, "The tracker URL is empty.");
            if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
                throw new TrackerException(TrackerError.InvalidUrl, url, $"'{url}' is not a valid tracker URL.");
            switch (uri.Scheme)
            {
                case "http":
                case "https":
                    return uri;
                case "udp":
                    if (uri.Port <= 0 || uri.Port > 65535)
                        throw new TrackerException(TrackerError.InvalidUrl, url, $"The UDP tracker URL '{url}' has no port.");
                    return uri;
                default:
                    throw new TrackerException(TrackerError.UnsupportedScheme, url,
                        $"Trackers with the '{uri.Scheme}' scheme are not supported (only http, https and udp).");
            }
        }

        /// <summary>True when <paramref name="url"/> is a tracker URL this client can talk to.</summary>
        public static bool IsSupported(string url)
        {
            try { Parse(url); return true; }
            catch (TrackerException) { return false; }
        }

        /// <summary>Percent-encodes bytes for a query string: RFC 3986 unreserved characters as themselves,
        /// every other byte as %XX. Info-hashes and peer ids are binary; this is the only safe form.</summary>
        public static string PercentEncode(ReadOnlySpan<byte> bytes)
        {
            const string hex = "0123456789ABCDEF";
            var sb = new StringBuilder(bytes.Length * 3);
            foreach (byte b in bytes)
            {
                if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '.' || b == '_' || b == '~')
                {
                    sb.Append((char)b);
                }
                else
                {
                    sb.Append('%').Append(hex[b >> 4]).Append(hex[b & 0xF]);
                }
            }
            return sb.ToString();
        }

        /// <summary>The announce URL with the BEP 3 parameters appended (after any query the tracker URL already
        /// has, such as a private tracker's passkey).</summary>
        public static Uri BuildAnnounceUri(Uri announce, AnnounceRequest request)
        {
            var q = new StringBuilder();
            Append(q, "info_hash", PercentEncode(request.InfoHash));
            Append(q, "peer_id", PercentEncode(request.PeerId));
            Append(q, "port", request.Port.ToString(CultureInfo.InvariantCulture));
            Append(q, "uploaded", request.Uploaded.ToString(CultureInfo.InvariantCulture));
            Append(q, "downloaded", request.Downloaded.ToString(CultureInfo.InvariantCulture));
            Append(q, "left", request.Left.ToString(CultureInfo.InvariantCulture));
            if (request.Compact) Append(q, "compact", "1");
            switch (request.Event)
            {
                case TrackerEvent.Started: Append(q, "event", "started"); break;
                case TrackerEvent.Completed: Append(q, "event", "completed"); break;
                case TrackerEvent.Stopped: Append(q, "event", "stopped"); break;
            }
            if (request.NumWant >= 0) Append(q, "numwant", request.NumWant.ToString(CultureInfo.InvariantCulture));
            Append(q, "key", request.Key.ToString("x8", CultureInfo.InvariantCulture));
            if (!string.IsNullOrEmpty(request.TrackerId)) Append(q, "trackerid", PercentEncode(Encoding.UTF8.GetBytes(request.TrackerId)));
            return WithQuery(announce, q.ToString());
        }

        /// <summary>The scrape URL with one <c>info_hash</c> parameter per torrent.</summary>
        public static Uri BuildScrapeUri(Uri scrape, IEnumerable<byte[]> infoHashes)
        {
            var q = new StringBuilder();
            foreach (var hash in infoHashes) Append(q, "info_hash", PercentEncode(hash));
            return WithQuery(scrape, q.ToString());
        }

        /// <summary>BEP 48: the scrape URL is the announce URL with 'announce' at the start of its last path segment
        /// replaced by 'scrape' (<c>/announce.php?k=1</c> → <c>/scrape.php?k=1</c>). False when there is no such
        /// segment: that tracker does not support scrape. UDP trackers scrape on the same address.</summary>
        public static bool TryGetScrapeUri(Uri announce, out Uri scrape)
        {
            scrape = announce;
            if (announce.Scheme == "udp") return true;
            string path = announce.AbsolutePath;
            int slash = path.LastIndexOf('/');
            if (slash < 0 || string.CompareOrdinal(path, slash + 1, "announce", 0, 8) != 0) return false;
            string scrapePath = path.Substring(0, slash + 1) + "scrape" + path.Substring(slash + 1 + 8);
            scrape = new Uri(announce.GetLeftPart(UriPartial.Authority) + scrapePath + announce.Query, UriKind.Absolute);
            return true;
        }

        private static void Append(StringBuilder q, string name, string encodedValue)
        {
            if (q.Length > 0) q.Append('&');
            q.Append(name).Append('=').Append(encodedValue);
        }

        private static Uri WithQuery(Uri baseUri, string query)
        {
            // Built as text: UriBuilder.Query would re-escape our '%'. The fragment never goes on the wire.
            string existing = baseUri.Query; // "" or "?..."
            string left = baseUri.GetLeftPart(UriPartial.Path);
            string combined = existing.Length > 1 ? existing + "&" + query : "?" + query;
            return new Uri(left + combined, UriKind.Absolute);
        }
    }
}
