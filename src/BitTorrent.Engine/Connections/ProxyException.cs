using System;

namespace BitTorrent.Connections
{
    /// <summary>What went wrong with the proxy itself (not with the peer or tracker behind it). The names are a
    /// contract: the cmdlets use them as error ids.</summary>
    public enum ProxyError
    {
        /// <summary>The proxy could not be reached, did not answer in time, broke its protocol, or refused to
        /// tunnel for a reason of its own (its rules, an unsupported command).</summary>
        ProxyConnectFailed,
        /// <summary>The proxy wants credentials we do not have, or refused the ones we gave.</summary>
        ProxyAuthenticationFailed,
    }

    /// <summary>A failure of the proxy, classified by <see cref="ProxyError"/>.</summary>
    public sealed class ProxyException : Exception
    {
        public ProxyException(ProxyError error, string proxy, string message, Exception? innerException = null)
            : base(message, innerException)
        {
            Error = error;
            Proxy = proxy;
        }

        public ProxyError Error { get; }

        /// <summary>The proxy, as "host:port".</summary>
        public string Proxy { get; }
    }
}
