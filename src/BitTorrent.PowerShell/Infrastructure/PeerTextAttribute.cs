using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using BitTorrent.Trackers;
using BitTorrent.Wire;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>On Invoke-PeerHandshake -Peer: takes text (and IPEndPoint, PeerAddress or TorrentPeer objects, as their
    /// address), and refuses any other object as an invalid cast. The pipeline binder skips a parameter whose
    /// transformation fails with an invalid cast, so a piped TorrentInfo is no longer turned into its display text
    /// ("name (info-hash)") and handed on as a peer address: it binds to -Torrent, and objects with an EndPoint
    /// property still bind -Peer by property name.</summary>
    internal sealed class PeerTextAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject ps ? ps.BaseObject : inputData;
            if (value is null || value is string) return inputData;
            if (AsText(value) is string single) return single;
            if (value is IEnumerable items)
            {
                var texts = new List<string>();
                foreach (var item in items)
                {
                    object element = item is PSObject p ? p.BaseObject : item;
                    if (element is string s) texts.Add(s);
                    else if (AsText(element) is string t) texts.Add(t);
                    else throw Refuse(element);
                }
                return texts.ToArray();
            }
            throw Refuse(value);
        }

        private static string? AsText(object? value) => value switch
        {
            IPEndPoint endPoint => PeerEndPoint.Format(endPoint.Address, endPoint.Port),
            PeerAddress address => address.ToString(),
            TorrentPeer peer => peer.EndPoint,
            _ => null,
        };

        private static ArgumentTransformationMetadataException Refuse(object? value)
        {
            string type = value?.GetType().FullName ?? "null";
            string message = $"-Peer takes peer addresses as text (ip:port or [ipv6]:port), not a {type}.";
            return new ArgumentTransformationMetadataException(message, new PSInvalidCastException(message));
        }
    }
}
