using System;
using System.Collections.Generic;
using System.Text;

namespace BitTorrent.Wire
{
    /// <summary>Names the client behind a peer id, following the conventions in BEP 20: Azureus style
    /// (<c>-qB4520-</c>), Shadow style (<c>T03I-----</c>), Mainline style (<c>M4-3-6--</c>) and aria2's
    /// <c>A2-1-36-0-</c>. Anything else is shown by its printable prefix.</summary>
    public static class PeerIdDecoder
    {
        // Azureus-style two-letter codes (BEP 20 and the lists clients keep). Case matters: 'LT' and 'lt' differ.
        private static readonly Dictionary<string, string> AzureusClients = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["7T"] = "aTorrent", ["AB"] = "AnyEvent::BitTorrent", ["AG"] = "Ares", ["A~"] = "Ares", ["AR"] = "Arctic",
            ["AT"] = "Artemis", ["AV"] = "Avicora", ["AX"] = "BitPump", ["AZ"] = "Azureus", ["BB"] = "BitBuddy",
            ["BC"] = "BitComet", ["BE"] = "Baretorrent", ["BF"] = "Bitflu", ["BG"] = "BTG", ["BI"] = "BiglyBT",
            ["BL"] = "BitCometLite", ["BP"] = "BitTorrent Pro", ["BR"] = "BitRocket", ["BS"] = "BTSlave",
            ["BT"] = "BitTorrent", ["BW"] = "BitWombat", ["BX"] = "BittorrentX", ["CD"] = "Enhanced CTorrent",
            ["CT"] = "CTorrent", ["DE"] = "Deluge", ["DP"] = "Propagate Data Client", ["EB"] = "EBit",
            ["ES"] = "electric sheep", ["FC"] = "FileCroc", ["FD"] = "Free Download Manager", ["FT"] = "FoxTorrent",
            ["FW"] = "FrostWire", ["FX"] = "Freebox BitTorrent", ["GS"] = "GSTorrent", ["GT"] = "anacrolix/torrent",
            ["HK"] = "Hekate", ["HL"] = "Halite", ["HM"] = "hMule", ["HN"] = "Hydranode", ["IL"] = "iLivid",
            ["JS"] = "Justseed.it", ["JT"] = "JavaTorrent", ["KG"] = "KGet", ["KT"] = "KTorrent", ["LC"] = "LeechCraft",
            ["LH"] = "LH-ABC", ["LP"] = "Lphant", ["LT"] = "libtorrent (Rasterbar)", ["lt"] = "libTorrent (Rakshasa)",
            ["LW"] = "LimeWire", ["MK"] = "Meerkat", ["MO"] = "MonoTorrent", ["MP"] = "MooPolice", ["MR"] = "Miro",
            ["MT"] = "MoonlightTorrent", ["NB"] = "Net::BitTorrent", ["NX"] = "Net Transport", ["OS"] = "OneSwarm",
            ["OT"] = "OmegaTorrent", ["PB"] = "BitTorrent for PowerShell", ["PD"] = "Pando", ["PI"] = "PicoTorrent",
            ["qB"] = "qBittorrent", ["QD"] = "QQDownload", ["QT"] = "Qt 4 Torrent example", ["RT"] = "Retriever",
            ["RZ"] = "RezTorrent", ["S~"] = "Shareaza beta", ["SD"] = "Thunder", ["SM"] = "SoMud", ["SP"] = "BitSpirit",
            ["SS"] = "SwarmScope", ["ST"] = "SymTorrent", ["st"] = "sharktorrent", ["SZ"] = "Shareaza", ["TB"] = "Torch",
            ["TE"] = "terasaur Seed Bank", ["TL"] = "Tribler", ["TN"] = "TorrentDotNET", ["TR"] = "Transmission",
            ["TS"] = "Torrentstorm", ["TT"] = "TuoTu", ["UL"] = "uLeecher!", ["UM"] = "µTorrent Mac", ["UT"] = "µTorrent",
            ["UW"] = "µTorrent Web", ["VG"] = "Vagaa", ["WD"] = "WebTorrent Desktop", ["WT"] = "BitLet", ["WW"] = "WebTorrent",
            ["WY"] = "FireTorrent", ["XF"] = "Xfplay", ["XL"] = "Xunlei", ["XS"] = "XSwifter", ["XT"] = "XanTorrent",
            ["XX"] = "Xtorrent", ["ZT"] = "ZipTorrent",
        };

        // Shadow-style first letters (BEP 20).
        private static readonly Dictionary<char, string> ShadowClients = new Dictionary<char, string>
        {
            ['A'] = "ABC", ['O'] = "Osprey Permaseed", ['Q'] = "BTQueue", ['R'] = "Tribler", ['S'] = "Shadow's client",
            ['T'] = "BitTornado", ['U'] = "UPnP NAT Bit Torrent",
        };

        private const string ShadowAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-";

        public static PeerClient Decode(ReadOnlySpan<byte> peerId)
        {
            if (peerId.Length != 20) return new PeerClient(PrintablePrefix(peerId), null);
            return TryAzureus(peerId) ?? TryAria2(peerId) ?? TryMainline(peerId) ?? TryOther(peerId) ?? TryShadow(peerId)
                ?? new PeerClient(PrintablePrefix(peerId), null);
        }

        /// <summary>Peer ids shown as text: printable ASCII as is, every other byte as '.'.</summary>
        public static string ToPrintable(ReadOnlySpan<byte> peerId)
        {
            var chars = new char[peerId.Length];
            for (int i = 0; i < peerId.Length; i++) chars[i] = IsPrintable(peerId[i]) ? (char)peerId[i] : '.';
            return new string(chars);
        }

        private static PeerClient? TryAzureus(ReadOnlySpan<byte> id)
        {
            if (id[0] != '-' || id[7] != '-') return null;
            for (int i = 1; i < 7; i++) if (!IsAlnum(id[i]) && id[i] != '~') return null;
            string code = Ascii(id.Slice(1, 2));
            if (!AzureusClients.TryGetValue(code, out var name)) return new PeerClient(Ascii(id.Slice(0, 8)), null);
            var v = id.Slice(3, 4);
            for (int i = 0; i < 4; i++) if (!IsAlnum(v[i])) return new PeerClient(name, null);
            string version = code switch
            {
                "TR" => TransmissionVersion(v),
                "lt" => $"{Value(v[0])}.{Value(v[1])}.{Value(v[2])}",
                "UT" or "UM" or "UW" or "BT" or "BP" => $"{Value(v[0])}.{Value(v[1])}.{Value(v[2])}",
                "BC" or "BL" => $"{Value(v[0]) * 10 + Value(v[1])}.{Value(v[2]) * 10 + Value(v[3]):00}",
                "WW" or "WD" => $"{Value(v[0]) * 10 + Value(v[1])}.{Value(v[2]) * 10 + Value(v[3])}",
                _ => FourPart(v),
            };
            return new PeerClient(name, version);
        }

        // Transmission: -TR0072- is 0.72, -TR111Z- is 1.11+, -TR3000- is 3.00, -TR4050- is 4.0.5 (from 4.0 on,
        // three numbers; a trailing Z or X marks a development build, B a beta).
        private static string TransmissionVersion(ReadOnlySpan<byte> v)
        {
            if (v[0] == '0' && v[1] == '0') return $"0.{Value(v[2]) * 10 + Value(v[3]):00}";
            bool dev = v[3] == 'Z' || v[3] == 'X';
            if (v[0] <= '3') return $"{Value(v[0])}.{Value(v[1]) * 10 + Value(v[2]):00}{(dev ? "+" : "")}";
            string suffix = dev ? "-dev" : v[3] == 'B' ? "-beta" : "";
            return $"{Value(v[0])}.{Value(v[1])}.{Value(v[2])}{suffix}";
        }

        // a.b.c.d with digits 0-9 and letters for 10 and up; a final .0 is dropped (qB4520 → 4.5.2).
        private static string FourPart(ReadOnlySpan<byte> v)
        {
            string three = $"{Value(v[0])}.{Value(v[1])}.{Value(v[2])}";
            return v[3] == '0' ? three : $"{three}.{Value(v[3])}";
        }

        // aria2: "A2-1-36-0-" then random bytes.
        private static PeerClient? TryAria2(ReadOnlySpan<byte> id)
        {
            if (id[0] != 'A' || id[1] != '2' || id[2] != '-') return null;
            var parts = new List<string>();
            int i = 3;
            while (parts.Count < 3 && i < id.Length)
            {
                int start = i;
                while (i < id.Length && id[i] >= '0' && id[i] <= '9') i++;
                if (i == start || i >= id.Length || id[i] != '-') return null;
                parts.Add(Ascii(id.Slice(start, i - start)));
                i++;
            }
            return parts.Count == 3 ? new PeerClient("aria2", string.Join(".", parts)) : null;
        }

        // Mainline 4.x and Queen Bee: "M4-3-6--", "M7-10-2-", "Q1-10-0-": letter, then numbers separated by '-'.
        private static PeerClient? TryMainline(ReadOnlySpan<byte> id)
        {
            string? name = id[0] == 'M' ? "Mainline" : id[0] == 'Q' ? "Queen Bee" : null;
            if (name is null || id[1] < '0' || id[1] > '9') return null;
            var parts = new List<string>();
            int i = 1;
            while (parts.Count < 3)
            {
                int start = i;
                while (i < 8 && id[i] >= '0' && id[i] <= '9') i++;
                if (i == start || i >= 8 || id[i] != '-') return null;
                parts.Add(Ascii(id.Slice(start, i - start)));
                i++;
            }
            // What follows the third number up to byte 8 must be '-' padding.
            for (; i < 8; i++) if (id[i] != '-') return null;
            return new PeerClient(name, string.Join(".", parts));
        }

        private static PeerClient? TryOther(ReadOnlySpan<byte> id)
        {
            // Tixati: "TIX0193-" → 1.93.
            if (id[0] == 'T' && id[1] == 'I' && id[2] == 'X' && AllDigits(id.Slice(3, 4)))
                return new PeerClient("Tixati", $"{Value(id[3]) * 10 + Value(id[4])}.{Value(id[5]) * 10 + Value(id[6]):00}");
            // XBT Client: "XBT054d-" → 0.5.4 (a trailing 'd' marks a debug build).
            if (id[0] == 'X' && id[1] == 'B' && id[2] == 'T' && AllDigits(id.Slice(3, 3)))
                return new PeerClient("XBT Client", $"{Value(id[3])}.{Value(id[4])}.{Value(id[5])}{(id[6] == 'd' ? " (debug)" : "")}");
            // MLDonkey: "-ML2.7.2-".
            if (id[0] == '-' && id[1] == 'M' && id[2] == 'L')
            {
                int end = id.Slice(3).IndexOf((byte)'-');
                if (end > 0) return new PeerClient("MLDonkey", Ascii(id.Slice(3, end)));
            }
            return null;
        }

        // Shadow style: a client letter, up to five version characters padded with '-', then three more characters
        // (BitTornado "T03I-----" is 0.3.18).
        private static PeerClient? TryShadow(ReadOnlySpan<byte> id)
        {
            if (!ShadowClients.TryGetValue((char)id[0], out var name)) return null;
            int end = 1;
            while (end < 6 && id[end] != '-')
            {
                if (ShadowAlphabet.IndexOf((char)id[end]) < 0) return null;
                end++;
            }
            if (end == 1) return null;
            // Padding up to byte 5; the three bytes after it are "commonly '---', but not always" (BEP 20), so they
            // are only required when there is no padding to recognise the style by.
            for (int i = end; i < 6; i++) if (id[i] != '-') return null;
            if (end == 6 && (id[6] != '-' || id[7] != '-' || id[8] != '-')) return null;
            var parts = new string[end - 1];
            for (int i = 1; i < end; i++) parts[i - 1] = ShadowAlphabet.IndexOf((char)id[i]).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new PeerClient(name, string.Join(".", parts));
        }

        private static string PrintablePrefix(ReadOnlySpan<byte> id)
        {
            int n = 0;
            while (n < id.Length && n < 8 && IsPrintable(id[n])) n++;
            return n >= 2 ? Ascii(id.Slice(0, n)) : "Unknown";
        }

        private static int Value(byte c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : c >= 'a' && c <= 'z' ? c - 'a' + 36 : 0;

        private static bool IsAlnum(byte c) => (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

        private static bool IsPrintable(byte c) => c >= 0x20 && c < 0x7F;

        private static bool AllDigits(ReadOnlySpan<byte> s)
        {
            foreach (var c in s) if (c < '0' || c > '9') return false;
            return true;
        }

        private static string Ascii(ReadOnlySpan<byte> s)
        {
            var sb = new StringBuilder(s.Length);
            foreach (var c in s) sb.Append(IsPrintable(c) ? (char)c : '.');
            return sb.ToString();
        }
    }
}
