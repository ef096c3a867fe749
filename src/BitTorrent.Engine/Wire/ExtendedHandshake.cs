using System;
using System.Collections.Generic;
using System.Net;
using BitTorrent.Bencoding;

namespace BitTorrent.Wire
{
    /// <summary>The BEP 10 extended handshake (extended message id 0): the extensions a peer speaks and the ids it
    /// wants them sent under (<c>m</c>), its client name (<c>v</c>), listen port (<c>p</c>), request queue depth
    /// (<c>reqq</c>), the address it sees us at (<c>yourip</c>) and, with ut_metadata, the info dictionary's size.
    /// Keys we do not model stay in <see cref="Dictionary"/>.</summary>
    public sealed class ExtendedHandshake
    {
        /// <summary>Largest extended handshake we decode; real ones are a few hundred bytes.</summary>
        public const int MaxEncodedLength = 64 * 1024;

        /// <summary>Longest client name kept (longer ones are cut, not rejected: it is for display).</summary>
        public const int MaxClientNameLength = 200;

        /// <summary>Most entries kept from the m dictionary (extended ids are one byte).</summary>
        public const int MaxExtensions = 255;

        /// <summary>Longest extension name kept from the m dictionary, in bytes (real ones are under 20).</summary>
        public const int MaxExtensionNameLength = 64;

        private static readonly BencodeLimits DecodeLimits = new BencodeLimits
        {
            MaxInputBytes = MaxEncodedLength,
            MaxDepth = 16,
            MaxTokens = 8192,
            RejectTrailingData = false,
        };

        public ExtendedHandshake() : this(new BDictionary()) { }

        private ExtendedHandshake(BDictionary dictionary) => Dictionary = dictionary;

        /// <summary>Extension name → the extended message id to use when sending it to this peer (1–255). Names
        /// mapped to 0 (BEP 10: "disabled") are in <see cref="DisabledExtensions"/> instead.</summary>
        public SortedDictionary<string, byte> Extensions { get; } = new SortedDictionary<string, byte>(StringComparer.Ordinal);

        /// <summary>Names the handshake maps to 0: BEP 10 handshakes after the first are deltas, and 0 turns an
        /// extension off (see <see cref="PeerExtensionTable"/>). Encoded as 0.</summary>
        public SortedSet<string> DisabledExtensions { get; } = new SortedSet<string>(StringComparer.Ordinal);

        /// <summary><c>v</c>: client name and version as the peer tells it.</summary>
        public string? ClientName { get; set; }

        /// <summary><c>p</c>: the TCP port the peer listens on.</summary>
        public int? ListenPort { get; set; }

        /// <summary><c>reqq</c>: how many outstanding requests the peer accepts.</summary>
        public int? RequestQueueLength { get; set; }

        /// <summary><c>yourip</c>: our address as the peer sees it (4 or 16 bytes on the wire).</summary>
        public IPAddress? YourIp { get; set; }

        /// <summary><c>ipv4</c> / <c>ipv6</c>: the peer's own addresses, if it told us.</summary>
        public IPAddress? Ipv4 { get; set; }
        public IPAddress? Ipv6 { get; set; }

        /// <summary><c>metadata_size</c> (BEP 9): bytes in the info dictionary, as the peer says it (any integer:
        /// a negative or huge one is the peer's fault and <see cref="MetadataDownload{TPeer}"/> drops it for that).</summary>
        public long? MetadataSize { get; set; }

        /// <summary>True when <see cref="MetadataSize"/> is one we would fetch: above 0 and at most
        /// <see cref="UtMetadataMessage.MaxMetadataSize"/>.</summary>
        public bool HasUsableMetadataSize => MetadataSize is long size && size > 0 && size <= UtMetadataMessage.MaxMetadataSize;

        /// <summary><c>upload_only</c> (libtorrent, BEP 21): the peer only uploads (a seed or a partial seed).</summary>
        public bool? UploadOnly { get; set; }

        /// <summary>The whole dictionary as received (or as built for sending), unknown keys included.</summary>
        public BDictionary Dictionary { get; }

        /// <summary>Decodes an extended handshake payload (what follows the extended id byte). Keys with the wrong
        /// type or out-of-range values are ignored, as clients disagree on the details; anything that is not a
        /// bencoded dictionary within the limits is a protocol violation.</summary>
        public static ExtendedHandshake Decode(ReadOnlySpan<byte> payload)
        {
            if (payload.Length > MaxEncodedLength)
                throw Invalid($"The extended handshake is {payload.Length} bytes; the limit is {MaxEncodedLength}.");
            BValue root;
            try
            {
                root = BencodeDecoder.DecodePrefix(payload, out _, DecodeLimits);
            }
            catch (BencodeException ex)
            {
                throw Invalid($"The extended handshake is not valid bencode: {ex.Message}");
            }
            if (root is not BDictionary dict) throw Invalid("The extended handshake is not a bencoded dictionary.");

            var handshake = new ExtendedHandshake(dict);
            if (dict["m"] is BDictionary m)
            {
                foreach (var entry in m)
                {
                    if (handshake.Extensions.Count + handshake.DisabledExtensions.Count >= MaxExtensions) break;
                    if (entry.Value is not BInteger id || entry.Key.Length == 0 || entry.Key.Length > MaxExtensionNameLength) continue;
                    string name = entry.Key.ToDisplayString();
                    if (id.Value == 0) handshake.DisabledExtensions.Add(name);
                    else if (id.Value > 0 && id.Value <= 255) handshake.Extensions[name] = (byte)id.Value;
                }
            }
            if (dict["v"] is BString v)
            {
                string name = v.ToDisplayString();
                handshake.ClientName = name.Length > MaxClientNameLength ? name.Substring(0, MaxClientNameLength) : name;
            }
            if (dict["p"] is BInteger p && p.Value > 0 && p.Value <= 65535) handshake.ListenPort = (int)p.Value;
            if (dict["reqq"] is BInteger reqq && reqq.Value > 0 && reqq.Value <= int.MaxValue) handshake.RequestQueueLength = (int)reqq.Value;
            handshake.YourIp = ReadAddress(dict["yourip"], 4, 16);
            handshake.Ipv4 = ReadAddress(dict["ipv4"], 4);
            handshake.Ipv6 = ReadAddress(dict["ipv6"], 16);
            if (dict["metadata_size"] is BInteger size) handshake.MetadataSize = size.Value;
            if (dict["upload_only"] is BInteger uploadOnly) handshake.UploadOnly = uploadOnly.Value != 0;
            return handshake;
        }

        /// <summary>The bencoded dictionary: the modelled properties, on top of any other keys in
        /// <see cref="Dictionary"/>.</summary>
        public byte[] Encode()
        {
            var dict = new BDictionary();
            foreach (var entry in Dictionary) dict.Set(entry.Key, entry.Value);
            var m = new BDictionary();
            foreach (var extension in Extensions) m.Set(extension.Key, new BInteger(extension.Value));
            foreach (var disabled in DisabledExtensions)
                if (!Extensions.ContainsKey(disabled)) m.Set(disabled, new BInteger(0));
            dict.Set("m", m);
            if (ClientName is not null) dict.Set("v", new BString(ClientName));
            if (ListenPort is int port) dict.Set("p", new BInteger(port));
            if (RequestQueueLength is int reqq) dict.Set("reqq", new BInteger(reqq));
            if (YourIp is not null) dict.Set("yourip", new BString(YourIp.GetAddressBytes()));
            if (Ipv4 is not null) dict.Set("ipv4", new BString(Ipv4.GetAddressBytes()));
            if (Ipv6 is not null) dict.Set("ipv6", new BString(Ipv6.GetAddressBytes()));
            if (MetadataSize is long size) dict.Set("metadata_size", new BInteger(size));
            if (UploadOnly is bool uploadOnly) dict.Set("upload_only", new BInteger(uploadOnly ? 1 : 0));
            return BencodeEncoder.Encode(dict);
        }

        /// <summary>Our own handshake: ut_metadata and ut_pex under our ids (<see cref="ExtensionIds"/>), ut_pex not
        /// for a private torrent (BEP 27: peers come from the private tracker only), <c>metadata_size</c> when we
        /// have the metadata and serve it (a private torrent's too: a peer that asks already knows its info-hash from
        /// that tracker), and <c>upload_only</c> (BEP 21) only when it is true and we have the metadata (libtorrent:
        /// a magnet without metadata must not look finished).</summary>
        public static ExtendedHandshake CreateLocal(string clientName, int requestQueueLength, int? listenPort = null, IPAddress? yourIp = null,
            long? metadataSize = null, bool uploadOnly = false, bool isPrivate = false)
        {
            bool hasMetadata = metadataSize is > 0;
            var handshake = new ExtendedHandshake
            {
                ClientName = clientName,
                RequestQueueLength = requestQueueLength,
                ListenPort = listenPort is > 0 and <= 65535 ? listenPort : null,
                YourIp = yourIp is { IsIPv4MappedToIPv6: true } ? yourIp.MapToIPv4() : yourIp,
            };
            handshake.Extensions[ExtensionNames.UtMetadata] = ExtensionIds.UtMetadata;
            if (!isPrivate) handshake.Extensions[ExtensionNames.UtPex] = ExtensionIds.UtPex;
            if (hasMetadata) handshake.MetadataSize = metadataSize;
            if (uploadOnly && hasMetadata) handshake.UploadOnly = true;
            return handshake;
        }

        private static IPAddress? ReadAddress(BValue? value, params int[] lengths)
        {
            if (value is not BString s) return null;
            foreach (int length in lengths)
            {
                if (s.Length != length) continue;
                var address = new IPAddress(s.Bytes);
                // An IPv4 address sent in its IPv6-mapped form is the IPv4 address (libtorrent does the same).
                return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            }
            return null;
        }

        private static PeerProtocolException Invalid(string message) =>
            new PeerProtocolException(PeerProtocolError.InvalidExtendedHandshake, message);
    }
}
