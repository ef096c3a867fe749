using System;

namespace BitTorrent.Metainfo
{
    /// <summary>What is wrong with a magnet link. Stable names: the cmdlets map them to <c>InvalidMagnetUri</c> error
    /// records and tests key on them. The first group makes a link unusable (<see cref="MagnetUriException"/>);
    /// the second names a parameter that was left out (<see cref="MagnetUri.Ignored"/>), as libtorrent leaves it
    /// out.</summary>
    public enum MagnetUriError
    {
        /// <summary>Empty or white space.</summary>
        Empty,

        /// <summary>Neither "magnet:?…" nor a bare 40-hex or 32-base32 info-hash.</summary>
        NotAMagnetUri,

        /// <summary>Longer than <see cref="MagnetUri.MaxLength"/> characters, or more than
        /// <see cref="MagnetUri.MaxParameters"/> parameters.</summary>
        TooLong,

        /// <summary>No <c>xt=urn:btih:</c> and no <c>xt=urn:btmh:</c>: nothing says which torrent it is.</summary>
        MissingInfoHash,

        /// <summary>A <c>urn:btih:</c> that is neither 40 hex digits nor 32 base32 characters.</summary>
        InvalidInfoHash,

        /// <summary>A <c>urn:btmh:</c> that is not <c>1220</c> (SHA-256, 32 bytes) followed by 64 hex digits.</summary>
        InvalidV2InfoHash,

        /// <summary>Two different info-hashes of the same version: which torrent is meant is unknown.</summary>
        ConflictingInfoHashes,

        /// <summary>A '%' not followed by two hex digits, or escapes that are not UTF-8, in <c>xt</c> or <c>dn</c>.</summary>
        InvalidPercentEncoding,

        /// <summary>Ignored: a <c>tr</c> that is empty, badly escaped or not an absolute URL.</summary>
        InvalidTracker,

        /// <summary>Ignored: a <c>ws</c> that is empty, badly escaped or not an absolute URL.</summary>
        InvalidWebSeed,

        /// <summary>Ignored: an <c>x.pe</c> that is not host:port, ipv4:port or [ipv6]:port.</summary>
        InvalidPeerAddress,

        /// <summary>Ignored: an <c>xl</c> that is not a non-negative integer.</summary>
        InvalidExactLength,

        /// <summary>Ignored (all or part): a BEP 53 <c>so</c> with characters other than digits, ',' and '-'
        /// (the whole value), or an entry with a missing end, a reversed range or an index above 10 000.</summary>
        InvalidSelectOnly,

        /// <summary>Ignored: an <c>xt</c> naming another kind of hash (<c>urn:sha1:</c>, <c>urn:ed2k:</c>…).</summary>
        UnsupportedExactTopic,
    }

    /// <summary>A magnet link that cannot be used, with the reason as an enum and in words.</summary>
    public sealed class MagnetUriException : FormatException
    {
        public MagnetUriException(MagnetUriError error, string? parameter, string message) : base(message)
        {
            Error = error;
            Parameter = parameter;
        }

        public MagnetUriError Error { get; }

        /// <summary>The parameter at fault (<c>xt</c>, <c>dn</c>…), when one is.</summary>
        public string? Parameter { get; }
    }

    /// <summary>A parameter of a magnet link that was left out, and why.</summary>
    public sealed class MagnetUriIssue
    {
        internal MagnetUriIssue(string parameter, string value, MagnetUriError error)
        {
            Parameter = parameter;
            Value = value;
            Error = error;
        }

        public string Parameter { get; }

        /// <summary>The value as it was in the link (still percent-encoded; cut at 200 characters).</summary>
        public string Value { get; }

        public MagnetUriError Error { get; }

        public override string ToString() => $"{Parameter}={Value} ({Error})";
    }
}
