using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace BitTorrent.Trackers
{
    /// <summary>BEP 15 datagrams: building requests and checking replies. Every reply is checked for its length
    /// before a field is read; a reply that is too short or carries the wrong action is rejected.</summary>
    public static class UdpTrackerMessages
    {
        /// <summary>The magic constant a connect request starts with.</summary>
        public const long ProtocolId = 0x41727101980;

        public const int ActionConnect = 0;
        public const int ActionAnnounce = 1;
        public const int ActionScrape = 2;
        public const int ActionError = 3;

        public const int ConnectRequestSize = 16;
        public const int ConnectReplySize = 16;
        public const int AnnounceRequestSize = 98;
        public const int AnnounceReplyHeaderSize = 20;
        public const int ScrapeReplyHeaderSize = 8;
        public const int ScrapeReplyEntrySize = 12;

        /// <summary>BEP 15: "up to about 74 torrents can be scraped at once".</summary>
        public const int MaxScrapeHashes = 74;

        public static byte[] BuildConnect(uint transactionId)
        {
            var d = new byte[ConnectRequestSize];
            BinaryPrimitives.WriteInt64BigEndian(d.AsSpan(0), ProtocolId);
            BinaryPrimitives.WriteInt32BigEndian(d.AsSpan(8), ActionConnect);
            BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(12), transactionId);
            return d;
        }

        public static byte[] BuildAnnounce(long connectionId, uint transactionId, AnnounceRequest request)
        {
            var d = new byte[AnnounceRequestSize];
            var s = d.AsSpan();
            BinaryPrimitives.WriteInt64BigEndian(s.Slice(0), connectionId);
            BinaryPrimitives.WriteInt32BigEndian(s.Slice(8), ActionAnnounce);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(12), transactionId);
            request.InfoHash.AsSpan().CopyTo(s.Slice(16, 20));
            request.PeerId.AsSpan().CopyTo(s.Slice(36, 20));
            BinaryPrimitives.WriteInt64BigEndian(s.Slice(56), request.Downloaded);
            BinaryPrimitives.WriteInt64BigEndian(s.Slice(64), request.Left);
            BinaryPrimitives.WriteInt64BigEndian(s.Slice(72), request.Uploaded);
            BinaryPrimitives.WriteInt32BigEndian(s.Slice(80), (int)request.Event);
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(84), 0);          // IP address: 0 = the sender's
            BinaryPrimitives.WriteUInt32BigEndian(s.Slice(88), request.Key);
            BinaryPrimitives.WriteInt32BigEndian(s.Slice(92), request.NumWant);
            BinaryPrimitives.WriteUInt16BigEndian(s.Slice(96), (ushort)request.Port);
            return d;
        }

        public static byte[] BuildScrape(long connectionId, uint transactionId, IReadOnlyList<byte[]> infoHashes)
        {
            if (infoHashes.Count == 0 || infoHashes.Count > MaxScrapeHashes)
                throw new ArgumentOutOfRangeException(nameof(infoHashes), $"A UDP scrape carries 1 to {MaxScrapeHashes} info-hashes.");
            var d = new byte[16 + 20 * infoHashes.Count];
            BinaryPrimitives.WriteInt64BigEndian(d.AsSpan(0), connectionId);
            BinaryPrimitives.WriteInt32BigEndian(d.AsSpan(8), ActionScrape);
            BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(12), transactionId);
            for (int i = 0; i < infoHashes.Count; i++)
            {
                if (infoHashes[i].Length != 20) throw new ArgumentException("Info-hashes are 20 bytes.", nameof(infoHashes));
                infoHashes[i].AsSpan().CopyTo(d.AsSpan(16 + 20 * i));
            }
            return d;
        }

        /// <summary>Reads the action and transaction id every reply starts with; false if it is shorter than 8 bytes.</summary>
        public static bool TryReadHeader(ReadOnlySpan<byte> reply, out int action, out uint transactionId)
        {
            action = 0;
            transactionId = 0;
            if (reply.Length < 8) return false;
            action = BinaryPrimitives.ReadInt32BigEndian(reply);
            transactionId = BinaryPrimitives.ReadUInt32BigEndian(reply.Slice(4));
            return true;
        }

        public static long ParseConnect(ReadOnlySpan<byte> reply, string trackerUrl)
        {
            Expect(reply, ActionConnect, ConnectReplySize, trackerUrl, "connect");
            return BinaryPrimitives.ReadInt64BigEndian(reply.Slice(8));
        }

        /// <summary>An announce reply: interval, leechers, seeders, then peers — 6 bytes each over IPv4, 18 over IPv6
        /// (BEP 15: the address family of the tracker connection decides).</summary>
        public static AnnounceResponse ParseAnnounce(ReadOnlySpan<byte> reply, bool ipv6, int maxPeers, string trackerUrl)
        {
            if (reply.Length == 8 && TryReadHeader(reply, out int action, out _) && action == ActionAnnounce)
            {
                // Header only, no interval: opentracker's answer for an info-hash it does not track (off its
                // whitelist). A refusal, not line noise, so it is reported as one.
                const string reason = "empty announce reply: the tracker does not track this torrent";
                throw new TrackerException(TrackerError.TrackerFailure, trackerUrl, $"The tracker refused the request ({reason}).") { FailureReason = reason };
            }
            Expect(reply, ActionAnnounce, AnnounceReplyHeaderSize, trackerUrl, "announce");
            int interval = BinaryPrimitives.ReadInt32BigEndian(reply.Slice(8));
            int leechers = BinaryPrimitives.ReadInt32BigEndian(reply.Slice(12));
            int seeders = BinaryPrimitives.ReadInt32BigEndian(reply.Slice(16));
            var peers = new PeerListBuilder(maxPeers);
            peers.AddCompact(reply.Slice(AnnounceReplyHeaderSize), ipv6);
            return new AnnounceResponse(peers.ToList())
            {
                PeersDiscarded = peers.Discarded,
                Interval = interval > 0 ? TimeSpan.FromSeconds(interval) : AnnounceResponse.DefaultInterval,
                Leechers = leechers >= 0 ? leechers : (int?)null,
                Seeders = seeders >= 0 ? seeders : (int?)null,
            };
        }

        /// <summary>A scrape reply: one (seeders, completed, leechers) triple per info-hash asked, in order. A reply
        /// with fewer triples gives counts for the first ones only.</summary>
        public static IReadOnlyDictionary<string, ScrapeEntry> ParseScrape(ReadOnlySpan<byte> reply, IReadOnlyList<byte[]> infoHashes, string trackerUrl)
        {
            Expect(reply, ActionScrape, ScrapeReplyHeaderSize, trackerUrl, "scrape");
            var result = new Dictionary<string, ScrapeEntry>(StringComparer.Ordinal);
            int entries = Math.Min(infoHashes.Count, (reply.Length - ScrapeReplyHeaderSize) / ScrapeReplyEntrySize);
            for (int i = 0; i < entries; i++)
            {
                var e = reply.Slice(ScrapeReplyHeaderSize + i * ScrapeReplyEntrySize);
                string hash = Hex.ToLower(infoHashes[i]);
                result[hash] = new ScrapeEntry(hash,
                    seeders: Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(e)),
                    leechers: Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(e.Slice(8))),
                    completed: Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(e.Slice(4))));
            }
            return result;
        }

        private static void Expect(ReadOnlySpan<byte> reply, int action, int minimumLength, string trackerUrl, string what)
        {
            if (!TryReadHeader(reply, out int got, out _))
                throw new TrackerException(TrackerError.InvalidResponse, trackerUrl, $"The tracker's {what} reply is truncated ({reply.Length} bytes).");
            if (got == ActionError)
            {
                string message = HttpTrackerResponseParser.Clean(Encoding.UTF8.GetString(reply.Slice(8).ToArray()), 1024);
                if (message.Length == 0) message = "(no message)";
                throw new TrackerException(TrackerError.TrackerFailure, trackerUrl, $"The tracker refused the request: {message}") { FailureReason = message };
            }
            if (got != action)
                throw new TrackerException(TrackerError.InvalidResponse, trackerUrl, $"The tracker answered the {what} request with action {got}, not {action}.");
            if (reply.Length < minimumLength)
                throw new TrackerException(TrackerError.InvalidResponse, trackerUrl, $"The tracker's {what} reply is truncated ({reply.Length} of at least {minimumLength} bytes).");
        }
    }
}
