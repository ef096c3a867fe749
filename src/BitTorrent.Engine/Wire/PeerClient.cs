namespace BitTorrent.Wire
{
    /// <summary>A client name and version decoded from a peer id (for display: peer ids are self-reported).</summary>
    public sealed class PeerClient
    {
        public PeerClient(string name, string? version)
        {
            Name = name;
            Version = version;
        }

        /// <summary>The client's name (e.g. "qBittorrent"), or the peer id's printable prefix when unknown.</summary>
        public string Name { get; }

        /// <summary>The version, or null when the id does not encode one we can read.</summary>
        public string? Version { get; }

        /// <summary>True when the id matched a known convention and client code.</summary>
        public bool IsKnown => Version is not null;

        public override string ToString() => Version is null ? Name : Name + " " + Version;
    }
}
