using System;
using System.Security.Cryptography;
using System.Text;

namespace BitTorrent
{
    /// <summary>Who we are on the wire: the Azureus-style peer-id prefix (<c>-PB0100-</c>: "PowerShell BitTorrent"
    /// 0.1.0.0), the client name for the BEP 10 <c>v</c> key, and the random part of peer ids.</summary>
    public static class ClientIdentity
    {
        public const string PeerIdPrefix = "-PB0100-";
        public const string ClientName = "BitTorrent for PowerShell 0.1.0";

        /// <summary>A fresh 20-byte peer id: the prefix then 12 random alphanumeric characters (printable, so it
        /// survives trackers and logs that treat it as text).</summary>
        public static byte[] NewPeerId()
        {
            const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
            var id = new byte[20];
            Encoding.ASCII.GetBytes(PeerIdPrefix, 0, PeerIdPrefix.Length, id, 0);
            var random = new byte[12];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(random);
            for (int i = 0; i < 12; i++) id[8 + i] = (byte)alphabet[random[i] % alphabet.Length];
            return id;
        }
    }
}
