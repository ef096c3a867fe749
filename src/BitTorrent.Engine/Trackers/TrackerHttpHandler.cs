using System;
using System.IO;
using System.Linq.Expressions;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Connections;

namespace BitTorrent.Trackers
{
    /// <summary>Makes the HTTP handler tracker requests go through. Without a proxy or bind address it is a plain
    /// <see cref="HttpClientHandler"/>. With either, connections are opened by our own code (bound to the address,
    /// tunnelled through the proxy with <see cref="ProxyHandshake"/>, so proxy failures are
    /// <see cref="ProxyException"/>s), which needs <c>SocketsHttpHandler.ConnectCallback</c>: the engine targets
    /// netstandard2.0, so it is found at run time (.NET 5 and later, i.e. PowerShell 7). On .NET Framework (Windows
    /// PowerShell 5.1) an http:// proxy is used through <see cref="WebProxy"/>; a SOCKS5 proxy or a bind address
    /// cannot be honoured there, and <see cref="Unsupported"/> says why rather than letting requests go around them.</summary>
    internal static class TrackerHttpHandler
    {
        private static readonly Type? SocketsHandlerType = Type.GetType("System.Net.Http.SocketsHttpHandler, System.Net.Http", throwOnError: false);

        /// <summary>Whether this runtime can open tracker connections itself (bound, or tunnelled by our code).</summary>
        public static bool CanConnectItself => SocketsHandlerType?.GetProperty("ConnectCallback") is not null;

        /// <summary>Why tracker requests cannot honour the options on this runtime (null: they can).</summary>
        public static string? Unsupported(TrackerClientOptions options)
        {
            if (options.Proxy is null && options.BindAddress is null) return null;
            if (CanConnectItself) return null;
            if (options.BindAddress is not null) return "HTTP trackers cannot be bound to an address on this runtime (.NET Framework); use PowerShell 7.";
            if (options.Proxy!.Kind == ProxyKind.Socks5) return "HTTP trackers cannot go through a SOCKS5 proxy on this runtime (.NET Framework); use PowerShell 7 or an http:// proxy.";
            return null;
        }

        public static HttpMessageHandler Create(TrackerClientOptions options)
        {
            if ((options.Proxy is not null || options.BindAddress is not null) && CanConnectItself)
                return CreateSocketsHandler(options);
            var handler = new HttpClientHandler
            {
                AllowAutoRedirect = false,                          // followed by hand, with a bound and a loop check
                AutomaticDecompression = DecompressionMethods.None, // decompressed by hand, with a bound
                UseCookies = false,
                MaxResponseHeadersLength = 64,                      // KiB
            };
            if (options.Proxy is { Kind: ProxyKind.HttpConnect } proxy)
            {
                handler.UseProxy = true;
                handler.Proxy = new WebProxy(proxy.Address) { BypassProxyOnLocal = false, Credentials = proxy.Credential };
            }
            return handler;
        }

        private static HttpMessageHandler CreateSocketsHandler(TrackerClientOptions options)
        {
            var type = SocketsHandlerType!;
            var handler = (HttpMessageHandler)Activator.CreateInstance(type)!;
            type.GetProperty("AllowAutoRedirect")!.SetValue(handler, false);
            type.GetProperty("AutomaticDecompression")!.SetValue(handler, DecompressionMethods.None);
            type.GetProperty("UseCookies")!.SetValue(handler, false);
            type.GetProperty("MaxResponseHeadersLength")!.SetValue(handler, 64);
            // Our callback does the proxying; the handler must not add a system proxy (HTTP_PROXY) of its own.
            type.GetProperty("UseProxy")!.SetValue(handler, false);

            // Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>, built without naming the types.
            var callback = type.GetProperty("ConnectCallback")!;
            var invoke = callback.PropertyType.GetMethod("Invoke")!;
            var context = Expression.Parameter(invoke.GetParameters()[0].ParameterType, "context");
            var token = Expression.Parameter(typeof(CancellationToken), "cancellationToken");
            var connect = typeof(TrackerHttpHandler).GetMethod(nameof(ConnectAsync), BindingFlags.NonPublic | BindingFlags.Static)!;
            var call = Expression.Call(connect, Expression.Property(context, "DnsEndPoint"), Expression.Constant(options), token);
            var body = Expression.New(invoke.ReturnType.GetConstructor(new[] { typeof(Task<Stream>) })!, call);
            callback.SetValue(handler, Expression.Lambda(callback.PropertyType, body, context, token).Compile());
            return handler;
        }

        /// <summary>Opens one tracker connection: through the proxy's tunnel (to the tracker's name, resolved by the
        /// proxy for SOCKS5 and by the HTTP proxy for CONNECT), or directly from the bind address.</summary>
        private static async Task<Stream> ConnectAsync(DnsEndPoint endPoint, TrackerClientOptions options, CancellationToken cancellationToken)
        {
            Socket socket;
            if (options.Proxy is not null)
                socket = await new ProxyPeerConnector(options.Proxy, options.BindAddress, options.TimeProvider).OpenTunnelAsync(endPoint.Host, endPoint.Port, cancellationToken).ConfigureAwait(false);
            else
                socket = await SocketDialer.ConnectAsync(endPoint.Host, endPoint.Port, options.BindAddress, cancellationToken).ConfigureAwait(false);
            socket.NoDelay = true;
            return new NetworkStream(socket, ownsSocket: true);
        }
    }
}
