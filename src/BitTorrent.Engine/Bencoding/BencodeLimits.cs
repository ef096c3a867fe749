namespace BitTorrent.Bencoding
{
    /// <summary>Bounds on what the decoder accepts, so hostile input costs us bounded memory and time.
    /// Defaults are libtorrent's <c>load_torrent_limits</c>: 10 MB, depth 100, 3 000 000 tokens.</summary>
    public sealed class BencodeLimits
    {
        public static BencodeLimits Default { get; } = new BencodeLimits();

        /// <summary>Largest input accepted, in bytes.</summary>
        public int MaxInputBytes { get; init; } = 10_000_000;

        /// <summary>Deepest nesting of lists and dictionaries.</summary>
        public int MaxDepth { get; init; } = 100;

        /// <summary>Most values (integers, strings, lists, dictionaries) in one input.</summary>
        public int MaxTokens { get; init; } = 3_000_000;

        /// <summary>Reject dictionaries whose keys are not in raw-byte order (canonical form). Off by default:
        /// such files exist in the wild and the info-hash is taken from the raw bytes anyway; the dictionary is
        /// flagged with <see cref="BDictionary.HadUnsortedKeys"/>.</summary>
        public bool RejectUnsortedKeys { get; init; }

        /// <summary>Reject bytes after the root value. On by default; message parsers that carry a payload
        /// after a dictionary (BEP 9) use <see cref="BencodeDecoder.DecodePrefix"/> instead.</summary>
        public bool RejectTrailingData { get; init; } = true;
    }
}
