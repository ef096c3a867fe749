using System;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using BitTorrent.Connections;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>-BindAddress, -Proxy and -ProxyCredential, checked once in BeginProcessing (terminating errors with
    /// stable ids: a bad value stops the command before any connection is made, so nothing goes around them).</summary>
    internal static class NetworkParameters
    {
        /// <summary>The bind address: -BindAddress if given, else -ListenAddress when that is one specific address of
        /// this machine (not '::' or '0.0.0.0', and not loopback, which listens on both loopbacks and reaches only
        /// loopback peers anyway). Checked by binding a socket to it, so an address this machine does not have fails
        /// here, not on every peer.</summary>
        public static IPAddress? Bind(PSCmdlet cmdlet, string? bindAddress, IPAddress? listenAddress)
        {
            IPAddress? bind;
            if (!string.IsNullOrEmpty(bindAddress))
            {
                if (!IPAddress.TryParse(bindAddress, out bind))
                    cmdlet.ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{bindAddress}' is not an IP address."),
                        Errors.InvalidBindAddressId, ErrorCategory.InvalidArgument, bindAddress));
            }
            else if (listenAddress is not null && !listenAddress.Equals(IPAddress.Any) && !listenAddress.Equals(IPAddress.IPv6Any) && !IPAddress.IsLoopback(listenAddress))
            {
                bind = listenAddress;
            }
            else
            {
                return null;
            }
            try
            {
                using var probe = new Socket(bind!.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(bind, 0));
            }
            catch (SocketException ex)
            {
                var record = new ErrorRecord(ex, Errors.InvalidBindAddressId, ErrorCategory.InvalidArgument, bind!.ToString());
                record.ErrorDetails = new ErrorDetails($"Cannot send from {bind}: {ex.Message}")
                {
                    RecommendedAction = "Give -BindAddress (or -ListenAddress) an address of one of this machine's interfaces.",
                };
                cmdlet.ThrowTerminatingError(record);
            }
            return bind;
        }

        public static ProxySettings? Proxy(PSCmdlet cmdlet, Uri? proxy, PSCredential? credential)
        {
            if (proxy is null)
            {
                if (credential is not null)
                    cmdlet.ThrowTerminatingError(new ErrorRecord(new ArgumentException("-ProxyCredential needs -Proxy."),
                        Errors.InvalidProxyId, ErrorCategory.InvalidArgument, null));
                return null;
            }
            try
            {
                return ProxySettings.Parse(proxy, credential?.GetNetworkCredential());
            }
            catch (ArgumentException ex)
            {
                var record = new ErrorRecord(ex, Errors.InvalidProxyId, ErrorCategory.InvalidArgument, proxy);
                record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = "Give -Proxy as http://host:port or socks5://host:port, and the user name and password as -ProxyCredential." };
                cmdlet.ThrowTerminatingError(record);
                return null;
            }
        }
    }
}
