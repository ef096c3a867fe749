using System;
using System.Collections.Generic;
using System.Net;
using System.Text;
using BitTorrent.Bencoding;

namespace BitTorrent.Trackers
{
    /// <summary>Reads HTTP tracker bodies (BEP 3, 23, 7, 24, 48) into responses. Lenient where real trackers differ
    /// harmlessly (bytes after the dictionary, a missing interval), strict where a wrong guess would mislead
    /// (not bencode, not a dictionary, a failure reason).</summary>
    public static class HttpTrackerResponseParser
    {
        public static AnnounceResponse ParseAnnounce(ReadOnlySpan<byte> body, string trackerUrl, int maxPeers)
        {
            var root = DecodeDictionary(body, trackerUrl);
            ThrowOnFailure(root, trackerUrl, null);

            var peers = new PeerListBuilder(maxPeers);
            switch (root["peers"])
            {
                case BString compact:
                    peers.AddCompact(compact.Span, ipv6: false);
                    break;
                case BList dictionaryModel:
                    foreach (var item in dictionaryModel) AddDictionaryPeer(peers, item);
                    break;
            }
            if (root["peers6"] is BString compact6) peers.AddCompact(compact6.Span, ipv6: true);

            var response = new AnnounceResponse(peers.ToList())
            {
                PeersDiscarded = peers.Discarded,
                Interval = Seconds(root["interval"]) ?? AnnounceResponse.DefaultInterval,
                MinInterval = Seconds(root["min interval"]),
                TrackerId = Text(root["tracker id"]),
                Seeders = Count(root["complete"]),
                Leechers = Count(root["incomplete"]),
                Completed = Count(root["downloaded"]),
                WarningMessage = Text(root["warning message"]),
            };
            if (root["external ip"] is BString ext && (ext.Length == 4 || ext.Length == 16))
                response.ExternalAddress = new IPAddress(ext.Bytes);
            return response;
        }

        /// <summary>Scrape counts by info-hash (40 lower-case hex). Entries that are not 20-byte keys with a
        /// dictionary value are skipped.</summary>
        public static IReadOnlyDictionary<string, ScrapeEntry> ParseScrape(ReadOnlySpan<byte> body, string trackerUrl)
        {
            var root = DecodeDictionary(body, trackerUrl);
            ThrowOnFailure(root, trackerUrl, null);
            var result = new Dictionary<string, ScrapeEntry>(StringComparer.Ordinal);
            if (root["files"] is not BDictionary files)
                throw new TrackerException(TrackerError.InvalidResponse, trackerUrl, "The scrape reply has no 'files' dictionary.");
            foreach (var pair in files)
            {
                if (pair.Key.Length != 20 || pair.Value is not BDictionary counts) continue;
                string hash = Hex.ToLower(pair.Key.Span);
                result[hash] = new ScrapeEntry(hash, Count(counts["complete"]) ?? 0, Count(counts["incomplete"]) ?? 0, Count(counts["downloaded"]) ?? 0)
                {
                    Name = Text(counts["name"]),
                };
            }
            return result;
        }

        /// <summary>For a non-2xx reply: the tracker's failure reason if the body is a bencoded failure, else null.</summary>
        public static string? TryGetFailureReason(ReadOnlySpan<byte> body)
        {
            try
            {
                return BencodeDecoder.DecodePrefix(body, out _, Limits(body.Length)) is BDictionary d ? Text(d["failure reason"]) : null;
            }
            catch (BencodeException)
            {
                return null;
            }
        }

        internal static void ThrowOnFailure(BDictionary root, string trackerUrl, int? httpStatus)
        {
            if (!root.ContainsKey("failure reason")) return;
            string reason = Text(root["failure reason"]) ?? "(no reason given)";
            throw new TrackerException(TrackerError.TrackerFailure, trackerUrl, $"The tracker refused the request: {reason}")
            {
                FailureReason = reason,
                HttpStatusCode = httpStatus,
            };
        }

        private static BDictionary DecodeDictionary(ReadOnlySpan<byte> body, string trackerUrl)
        {
            BValue value;
            try
            {
                // Some trackers end the body with a newline; what follows the dictionary is ignored.
                value = BencodeDecoder.DecodePrefix(body, out _, Limits(body.Length));
            }
            catch (BencodeException ex)
            {
                throw new TrackerException(TrackerError.InvalidResponse, trackerUrl,
                    $"The tracker's reply is not bencoded ({ex.Error}): {Preview(body)}", ex);
            }
            return value as BDictionary ?? throw new TrackerException(TrackerError.InvalidResponse, trackerUrl,
                "The tracker's reply is bencoded but not a dictionary.");
        }

        private static BencodeLimits Limits(int length) => new BencodeLimits
        {
            MaxInputBytes = Math.Max(1, length),
            MaxDepth = 8,
            MaxTokens = 200_000,
            RejectTrailingData = false,
        };

        private static void AddDictionaryPeer(PeerListBuilder peers, BValue item)
        {
            if (peers.IsFull) { peers.Discard(); return; }
            if (item is not BDictionary d || d["port"] is not BInteger port || port.Value <= 0 || port.Value > 65535) { peers.Discard(); return; }
            IPAddress? address = null;
            if (d["ip"] is BString ip)
            {
                // BEP 3 says text (dotted quad, IPv6, or a DNS name, which is not resolved here); some trackers put the
                // raw 4 or 16 address bytes instead. Text wins when it parses as an address.
                if (!TryParseAddressText(ip.ToDisplayString(), out address) && (ip.Length == 4 || (ip.Length == 16 && !IsPrintable(ip.Span))))
                    address = new IPAddress(ip.Bytes); // (a 16-character host name is text, not an IPv6 address)
            }
            if (address is null) { peers.Discard(); return; }
            peers.Add(address, (int)port.Value, (d["peer id"] as BString)?.Bytes);
        }

        private static bool IsPrintable(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) if (b < 0x21 || b > 0x7E) return false;
            return true;
        }

        private static bool TryParseAddressText(string text, out IPAddress? address)
        {
            address = null;
            // IPAddress.TryParse also takes "1234" as 0.0.4.210; an address has dots or colons.
            if (text.IndexOf('.') < 0 && text.IndexOf(':') < 0) return false;
            if (!IPAddress.TryParse(text, out var parsed)) return false;
            address = parsed;
            return true;
        }

        private static TimeSpan? Seconds(BValue? value) =>
            value is BInteger i && i.Value >= 0 ? TimeSpan.FromSeconds(Math.Min(i.Value, (long)TimeSpan.FromDays(365).TotalSeconds)) : (TimeSpan?)null;

        private static int? Count(BValue? value) =>
            value is BInteger i && i.Value >= 0 ? (int)Math.Min(i.Value, int.MaxValue) : (int?)null;

        internal static string? Text(BValue? value)
        {
            if (value is not BString s) return null;
            return Clean(s.ToDisplayString(), 1024);
        }

        /// <summary>Tracker text is untrusted: control characters out, length bounded.</summary>
        internal static string Clean(string text, int maxLength)
        {
            var sb = new StringBuilder(Math.Min(text.Length, maxLength));
            foreach (char c in text)
            {
                if (sb.Length >= maxLength) { sb.Append('…'); break; }
                sb.Append(char.IsControl(c) ? ' ' : c);
            }
            return sb.ToString().Trim();
        }

        internal static string Preview(ReadOnlySpan<byte> body)
        {
            if (body.IsEmpty) return "(empty body)";
            var slice = body.Slice(0, Math.Min(body.Length, 80));
            var chars = new char[slice.Length];
            for (int i = 0; i < slice.Length; i++) chars[i] = slice[i] >= 0x20 && slice[i] < 0x7F ? (char)slice[i] : '.';
            return "'" + new string(chars) + (body.Length > 80 ? "…'" : "'");
        }
    }
}
