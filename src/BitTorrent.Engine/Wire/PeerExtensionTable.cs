using System;
using System.Collections.Generic;

namespace BitTorrent.Wire
{
    /// <summary>The BEP 10 extension names this engine knows.</summary>
    public static class ExtensionNames
    {
        /// <summary>BEP 9: metadata (the info dictionary) from peers.</summary>
        public const string UtMetadata = "ut_metadata";

        /// <summary>BEP 11: peer exchange.</summary>
        public const string UtPex = "ut_pex";

        /// <summary>libtorrent's runtime upload-only toggle (BEP 21 has the handshake key only). Not advertised yet.</summary>
        public const string UploadOnly = "upload_only";
    }

    /// <summary>The extended message ids we ask peers to send our extensions under (ids are chosen by the receiver;
    /// these are libtorrent's, which makes captures easy to compare). Id 0 is the handshake.</summary>
    public static class ExtensionIds
    {
        public const byte Handshake = 0;
        public const byte UtPex = 1;
        public const byte UtMetadata = 2;
        public const byte UploadOnly = 3;

        /// <summary>The extension an incoming extended message id means (we chose the ids), or null.</summary>
        public static string? LocalName(byte id) => id switch
        {
            UtPex => ExtensionNames.UtPex,
            UtMetadata => ExtensionNames.UtMetadata,
            UploadOnly => ExtensionNames.UploadOnly,
            _ => null,
        };
    }

    /// <summary>One connection's view of the ids a peer wants our messages under. BEP 10: the first extended
    /// handshake sets the table; later ones are additive deltas — a name with a new id is updated, a name mapped to 0
    /// is turned off, names not mentioned keep their ids. Not thread-safe: owned by the connection's reader.</summary>
    public sealed class PeerExtensionTable
    {
        private readonly Dictionary<string, byte> _ids = new Dictionary<string, byte>(StringComparer.Ordinal);

        /// <summary>Handshakes applied so far.</summary>
        public int HandshakeCount { get; private set; }

        public int Count => _ids.Count;

        /// <summary>Applies a (first or later) extended handshake from the peer.</summary>
        public void Apply(ExtendedHandshake handshake)
        {
            if (handshake is null) throw new ArgumentNullException(nameof(handshake));
            foreach (var name in handshake.DisabledExtensions) _ids.Remove(name);
            foreach (var entry in handshake.Extensions)
            {
                // The handshake bounds its own entries; the table bounds the sum of the deltas.
                if (_ids.Count >= ExtendedHandshake.MaxExtensions && !_ids.ContainsKey(entry.Key)) continue;
                _ids[entry.Key] = entry.Value;
            }
            HandshakeCount++;
        }

        /// <summary>The id to send <paramref name="name"/> under, when the peer has it on.</summary>
        public bool TryGetId(string name, out byte id) => _ids.TryGetValue(name, out id);

        public bool Supports(string name) => _ids.ContainsKey(name);
    }
}
