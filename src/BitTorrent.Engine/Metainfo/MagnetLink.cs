using System;
using System.Collections.Generic;

namespace BitTorrent.Metainfo
{
    /// <summary>Builds magnet URIs (BEP 9): xt=urn:btih, dn, tr, ws. Kept for its callers; <see cref="MagnetUri"/>
    /// does the work (and parses them too).</summary>
    public static class MagnetLink
    {
        public static string Build(string infoHashHex, string? name, IEnumerable<string> trackers, IEnumerable<string>? webSeeds = null)
        {
            if (!Hex.TryParse(infoHashHex, out var hash) || hash.Length != 20)
                throw new ArgumentException("A v1 info-hash is 40 hex digits.", nameof(infoHashHex));
            return MagnetUri.Create(hash, name, trackers, webSeeds).ToString();
        }
    }
}
