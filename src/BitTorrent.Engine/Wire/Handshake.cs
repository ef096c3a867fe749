using System;

namespace BitTorrent.Wire
{
    /// <summary>The 68-byte BEP 3 handshake: <c>19 "BitTorrent protocol"</c>, 8 reserved bytes (capability bits),
    /// the 20-byte info-hash and the 20-byte peer id.</summary>
    public sealed class Handshake
    {
        public const int Length = 68;
        public const string ProtocolString = "BitTorrent protocol";
        internal const int PrefixLength = 20;   // the length byte and the protocol string: checked before the rest is read

        private static readonly byte[] Prefix = BuildPrefix();
        private readonly byte[] _reserved;
        private readonly byte[] _infoHash;
        private readonly byte[] _peerId;

        public Handshake(ReadOnlySpan<byte> reserved, ReadOnlySpan<byte> infoHash, ReadOnlySpan<byte> peerId)
        {
            if (reserved.Length != 8) throw new ArgumentException("The reserved field is 8 bytes.", nameof(reserved));
            if (infoHash.Length != 20) throw new ArgumentException("The info-hash is 20 bytes.", nameof(infoHash));
            if (peerId.Length != 20) throw new ArgumentException("The peer id is 20 bytes.", nameof(peerId));
            _reserved = reserved.ToArray();
            _infoHash = infoHash.ToArray();
            _peerId = peerId.ToArray();
        }

        /// <summary>Our handshake: the capability bits for what we speak set in the reserved bytes.</summary>
        public static Handshake Create(ReadOnlySpan<byte> infoHash, ReadOnlySpan<byte> peerId,
            bool extensionProtocol = true, bool fastExtension = true, bool dht = false)
        {
            Span<byte> reserved = stackalloc byte[8];
            reserved.Clear();
            if (extensionProtocol) reserved[5] |= ExtensionProtocolBit;
            if (fastExtension) reserved[7] |= FastExtensionBit;
            if (dht) reserved[7] |= DhtBit;
            return new Handshake(reserved, infoHash, peerId);
        }

        // BEP 10: bit 20 from the right (reserved[5] & 0x10). BEP 6: reserved[7] & 0x04. BEP 5: reserved[7] & 0x01.
        private const byte ExtensionProtocolBit = 0x10;
        private const byte FastExtensionBit = 0x04;
        private const byte DhtBit = 0x01;

        public ReadOnlySpan<byte> Reserved => _reserved;
        public ReadOnlySpan<byte> InfoHash => _infoHash;
        public ReadOnlySpan<byte> PeerId => _peerId;

        /// <summary>BEP 10 extension protocol (extended messages, ut_metadata, ut_pex …).</summary>
        public bool SupportsExtensionProtocol => (_reserved[5] & ExtensionProtocolBit) != 0;

        /// <summary>BEP 6 fast extension (have all/none, reject, suggest, allowed fast).</summary>
        public bool SupportsFastExtension => (_reserved[7] & FastExtensionBit) != 0;

        /// <summary>BEP 5 DHT: the peer will send a 'port' message.</summary>
        public bool SupportsDht => (_reserved[7] & DhtBit) != 0;

        public void WriteTo(Span<byte> destination)
        {
            if (destination.Length < Length) throw new ArgumentException("The destination is shorter than a handshake.", nameof(destination));
            Prefix.CopyTo(destination);
            _reserved.CopyTo(destination.Slice(20));
            _infoHash.CopyTo(destination.Slice(28));
            _peerId.CopyTo(destination.Slice(48));
        }

        public byte[] ToArray()
        {
            var bytes = new byte[Length];
            WriteTo(bytes);
            return bytes;
        }

        /// <summary>Checks the first 20 bytes (length byte and protocol string) so a reader can stop before reading
        /// the rest from something that is not a BitTorrent peer.</summary>
        public static void ValidatePrefix(ReadOnlySpan<byte> prefix)
        {
            if (prefix.Length < PrefixLength || !prefix.Slice(0, PrefixLength).SequenceEqual(Prefix))
            {
                throw new PeerProtocolException(PeerProtocolError.WrongProtocolString,
                    $"The peer did not answer with the BitTorrent handshake (expected length 19 and \"{ProtocolString}\", got {Describe(prefix)}).");
            }
        }

        /// <summary>Parses a handshake; with <paramref name="expectedInfoHash"/> it must be for that torrent.</summary>
        public static Handshake Parse(ReadOnlySpan<byte> data, ReadOnlySpan<byte> expectedInfoHash = default)
        {
            if (data.Length < Length)
            {
                // Check what we have first: a wrong protocol string is the more useful diagnosis.
                if (data.Length >= PrefixLength) ValidatePrefix(data);
                throw new PeerProtocolException(PeerProtocolError.TruncatedFrame, $"A handshake is {Length} bytes; got {data.Length}.");
            }
            ValidatePrefix(data);
            var infoHash = data.Slice(28, 20);
            if (!expectedInfoHash.IsEmpty && !infoHash.SequenceEqual(expectedInfoHash))
            {
                throw new PeerProtocolException(PeerProtocolError.InfoHashMismatch,
                    $"The peer answered for info-hash {Hex.ToLower(infoHash)}, not {Hex.ToLower(expectedInfoHash)}.");
            }
            return new Handshake(data.Slice(20, 8), infoHash, data.Slice(48, 20));
        }

        private static byte[] BuildPrefix()
        {
            var prefix = new byte[PrefixLength];
            prefix[0] = (byte)ProtocolString.Length;
            for (int i = 0; i < ProtocolString.Length; i++) prefix[1 + i] = (byte)ProtocolString[i];
            return prefix;
        }

        private static string Describe(ReadOnlySpan<byte> prefix)
        {
            if (prefix.IsEmpty) return "nothing";
            var shown = prefix.Length > PrefixLength ? prefix.Slice(0, PrefixLength) : prefix;
            var chars = new char[shown.Length - 1];
            for (int i = 1; i < shown.Length; i++) chars[i - 1] = shown[i] >= 0x20 && shown[i] < 0x7F ? (char)shown[i] : '.';
            return $"length {prefix[0]} and \"{new string(chars)}\"";
        }
    }
}
