using System;
using System.Collections.Generic;
using System.Text;

namespace BitTorrent.Metainfo
{
    /// <summary>Builds magnet URIs (BEP 9): xt=urn:btih, dn, tr, ws.</summary>
    public static class MagnetLink
    {
        public static string Build(string infoHashHex, string? name, IEnumerable<string> trackers, IEnumerable<string>? webSeeds = null)
        {
            var sb = new StringBuilder("magnet:?xt=urn:btih:").Append(infoHashHex);
            if (!string.IsNullOrEmpty(name)) sb.Append("&dn=").Append(Uri.EscapeDataString(name));
            foreach (var t in trackers) sb.Append("&tr=").Append(Uri.EscapeDataString(t));
            if (webSeeds is not null)
                foreach (var w in webSeeds) sb.Append("&ws=").Append(Uri.EscapeDataString(w));
            return sb.ToString();
        }
    }
}
