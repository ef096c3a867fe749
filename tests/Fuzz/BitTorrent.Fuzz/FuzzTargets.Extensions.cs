using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using BitTorrent.Discovery;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.Fuzz
{
    /// <summary>The targets for what magnet links bring in: the link itself, ut_metadata (BEP 9) messages fed to a
    /// metadata download and server, ut_pex (BEP 11) messages and LSD (BEP 14) datagrams.</summary>
    public static partial class FuzzTargets
    {
        private static readonly IPEndPoint[] OwnEndPoints = { new IPEndPoint(IPAddress.Loopback, 6881), new IPEndPoint(IPAddress.IPv6Loopback, 6881) };

        /// <summary>Magnet: the input as text (UTF-8, invalid bytes replaced). An accepted link must write itself
        /// back to text that parses to the same text again, and keep its own bounds.</summary>
        private static void Magnet(ReadOnlySpan<byte> input)
        {
            string text = new UTF8Encoding(false, false).GetString(input.ToArray());
            _ = MagnetUri.LooksLikeMagnet(text);
            var magnet = MagnetUri.Parse(text);
            if (magnet.InfoHash is { Length: not 40 } || magnet.InfoHashBytes is { Length: not 20 } || magnet.InfoHashV2 is { Length: not 64 })
                throw new FuzzInvariantException("An info-hash of the wrong length was accepted.");
            if (!magnet.HasV1 && !magnet.HasV2) throw new FuzzInvariantException("A link without an info-hash was accepted.");
            if (magnet.SelectedFiles is { } files)
            {
                for (int i = 0; i < files.Count; i++)
                    if (files[i] < 0 || files[i] > MagnetUri.MaxSelectIndex || (i > 0 && files[i] <= files[i - 1]))
                        throw new FuzzInvariantException($"Selected files are not ascending within 0..{MagnetUri.MaxSelectIndex}.");
            }
            if (magnet.ExactLength < 0) throw new FuzzInvariantException("A negative xl was accepted.");
            foreach (var issue in magnet.Ignored) _ = issue.ToString();
            string written = magnet.ToString();
            // Escaping can make a link longer than the input was; only links within the limit must read back.
            if (written.Length > MagnetUri.MaxLength) return;
            string again = MagnetUri.Parse(written).ToString();
            if (again != written) throw new FuzzInvariantException($"'{written}' read back as '{again}'.");
        }

        /// <summary>ut_metadata: the first byte sets the metadata size (all zero bytes, so a peer can complete it);
        /// then frames of [2-byte big-endian length][payload], each decoded and fed where the engine feeds it: data
        /// and rejects to a <see cref="MetadataDownload{TPeer}"/> that keeps asking, requests to a
        /// <see cref="MetadataServer{TPeer}"/>, whose replies must decode again.</summary>
        private static void UtMetadata(ReadOnlySpan<byte> input)
        {
            if (input.IsEmpty) return;
            int size = 1 + input[0] * 300;   // 1 byte to 5 blocks
            var metadata = new byte[size];
#pragma warning disable CA5350 // SHA-1 is what BitTorrent v1 info-hashes are.
            var infoHash = SHA1.HashData(metadata);
#pragma warning restore CA5350
            var clock = new SteppingClock();
            var download = new MetadataDownload<string>(infoHash, clock);
            var server = new MetadataServer<string>(metadata, clock);
            download.AddPeer("peer", size);
            int pos = 1;
            for (int frames = 0; frames < 256 && pos + 2 <= input.Length; frames++)
            {
                int length = Math.Min((input[pos] << 8) | input[pos + 1], input.Length - pos - 2);
                var payload = input.Slice(pos + 2, length).ToArray();
                pos += 2 + length;
                while (download.TryGetRequest("peer", out int asked))
                    if (asked < 0 || asked >= download.BlockCount) throw new FuzzInvariantException($"Block {asked} of {download.BlockCount} asked.");
                if (!UtMetadataMessage.TryDecode(payload, out var message)) continue;
                _ = message.ToString();
                switch (message.Type)
                {
                    case UtMetadataMessageType.Request:
                        var reply = server.HandleRequest("peer", message.Piece);
                        if (!UtMetadataMessage.TryDecode(reply.Payload, out var decoded) || decoded.Type != reply.Type || decoded.Piece != message.Piece)
                            throw new FuzzInvariantException($"Our reply to a request for block {message.Piece} does not read back.");
                        break;
                    case UtMetadataMessageType.Reject:
                        download.OnReject("peer", message.Piece);
                        break;
                    default:
                        var outcome = download.OnData("peer", message, out var banned);
                        if (outcome == MetadataBlockOutcome.Completed && !download.Metadata!.AsSpan().SequenceEqual(metadata))
                            throw new FuzzInvariantException("Completed metadata is not the bytes that hash to the info-hash.");
                        if (outcome == MetadataBlockOutcome.HashMismatch)
                        {
                            if (banned.Count != 1 || !download.IsBanned("peer")) throw new FuzzInvariantException("A hash failure banned nobody.");
                            download.AddPeer("peer", size);   // a banned peer stays banned
                            if (download.TryGetRequest("peer", out _)) throw new FuzzInvariantException("A banned peer was asked again.");
                            return;
                        }
                        break;
                }
                if (download.ReceivedBlocks > download.BlockCount) throw new FuzzInvariantException("More blocks received than there are.");
                clock.Step(TimeSpan.FromSeconds(1));
            }
        }

        /// <summary>ut_pex: decode with our own endpoints known; what is kept must keep the bounds, survive an
        /// encode/decode round trip, and feed a <see cref="PexState"/> that never advertises more than the limit.</summary>
        private static void UtPex(ReadOnlySpan<byte> input)
        {
            var message = PexMessage.Decode(input, OwnEndPoints);
            _ = message.ToString();
            if (message.Added.Count > PexMessage.MaxPeersPerMessage || message.Dropped.Count > PexMessage.MaxPeersPerMessage)
                throw new FuzzInvariantException($"{message.Added.Count} added and {message.Dropped.Count} dropped kept.");
            foreach (var peer in message.Added)
            {
                if (!PexMessage.IsUsable(peer.EndPoint, OwnEndPoints) || ((byte)peer.Flags & 0xE0) != 0)
                    throw new FuzzInvariantException($"Added peer {peer} should have been left out.");
                if (message.Dropped.Contains(peer.EndPoint)) throw new FuzzInvariantException($"{peer.EndPoint} both added and dropped.");
            }
            var back = PexMessage.Decode(message.Encode());
            if (!back.Added.SequenceEqual(message.Added.OrderBy(p => p.EndPoint.AddressFamily)) || !back.Dropped.SequenceEqual(message.Dropped.OrderBy(e => e.AddressFamily)))
                throw new FuzzInvariantException("A PEX message did not survive a round trip.");
            var state = new PexState(new SteppingClock());
            if (state.TryCreateMessage(message.Added, null, out var ours) && ours.Added.Count > PexMessage.MaxPeersPerMessage)
                throw new FuzzInvariantException("PexState built a message over the limit.");
        }

        /// <summary>LSD: an accepted datagram names a port and valid info-hashes, and building a datagram from them
        /// reads back the same.</summary>
        private static void Lsd(ReadOnlySpan<byte> input)
        {
            if (!LsdMessage.TryParse(input, "ffff", out var announcement, out _)) return;
            if (announcement.Port < 1 || announcement.Port > 65535 || announcement.InfoHashes.Count == 0
                || announcement.InfoHashes.Any(h => h.Length != 40 || h == new string('0', 40)))
                throw new FuzzInvariantException("An LSD announcement without a valid port or info-hash was accepted.");
            var hashes = announcement.InfoHashes.Select(h => Hex.TryParse(h, out var b) ? b : throw new FuzzInvariantException($"'{h}' is not hex.")).ToList();
            var read = new List<string>();
            foreach (var datagram in LsdMessage.Build(false, announcement.Port, hashes, "c0ffee"))
            {
                if (datagram.Length > LsdMessage.MaxDatagramLength) throw new FuzzInvariantException($"An LSD datagram of {datagram.Length} bytes.");
                if (!LsdMessage.TryParse(datagram, null, out var again, out var reason) || again.Port != announcement.Port)
                    throw new FuzzInvariantException($"Our own LSD datagram did not read back ({reason}).");
                read.AddRange(again.InfoHashes);
            }
            if (!read.SequenceEqual(announcement.InfoHashes)) throw new FuzzInvariantException("LSD info-hashes did not survive a round trip.");
        }

        /// <summary>A clock the target moves itself, so runs are deterministic (AFL's stability) yet timing rules run.</summary>
        private sealed class SteppingClock : TimeProvider
        {
            private long _ticks = 1_000_000_000;

            public override long TimestampFrequency => TimeSpan.TicksPerSecond;
            public override long GetTimestamp() => _ticks;
            public override DateTimeOffset GetUtcNow() => new DateTimeOffset(_ticks, TimeSpan.Zero);
            public void Step(TimeSpan by) => _ticks += by.Ticks;
        }
    }
}
