using System.Net;
using System.Net.Sockets;
using System.Text;
using BitTorrent.Connections;
using BitTorrent.Trackers;
using BitTorrent.Tests.Trackers;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Connections;

/// <summary>The proxy connectors against scripted proxies on loopback: the bytes we send, the replies we accept, and
/// every way a proxy can fail — each a <see cref="ProxyException"/> with the right <see cref="ProxyError"/>, or a
/// peer failure when the proxy works but the peer does not; never a hang (timeouts run on a fake clock).</summary>
public sealed class ProxyPeerConnectorTests
{
    /// <summary>How long a test waits (really) for the machine to get round to something; never what is tested.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly IPEndPoint Peer = new(IPAddress.Parse("10.1.2.3"), 6881);
    private static readonly byte[] Tunnelled = Encoding.ASCII.GetBytes("tunnel-bytes");

    private static ProxyPeerConnector Socks(FakeProxy proxy, NetworkCredential? credential = null, TimeProvider? time = null) =>
        new(ProxySettings.Parse(new Uri($"socks5://127.0.0.1:{proxy.Port}"), credential), null, time);

    private static ProxyPeerConnector Http(FakeProxy proxy, NetworkCredential? credential = null, TimeProvider? time = null) =>
        new(ProxySettings.Parse(new Uri($"http://127.0.0.1:{proxy.Port}"), credential), null, time);

    private static async Task<T> Bounded<T>(Task<T> task)
    {
        if (await Task.WhenAny(task, Task.Delay(Bound)) != task) throw new TimeoutException("The connector did not finish in time.");
        return await task;
    }

    private static async Task<TException> Fails<TException>(Task task) where TException : Exception
    {
        if (await Task.WhenAny(task, Task.Delay(Bound)) != task) throw new TimeoutException("The connector did not finish in time.");
        return await Assert.ThrowsAsync<TException>(() => task);
    }

    private static async Task ReadTunnelledAsync(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        Assert.Equal(Tunnelled, await FakeProxy.ReadExactAsync(stream, Tunnelled.Length));
    }

    // ---- SOCKS5 ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Socks5_NoAuth_SendsConnectForTheIPv4Peer_AndTheTunnelStartsRightAfterTheReply()
    {
        (byte, string, int) asked = default;
        using var proxy = new FakeProxy(async s =>
        {
            Assert.Equal(new byte[] { 5, 1, 0 }, await FakeProxy.ReadExactAsync(s, 3));
            await s.WriteAsync(new byte[] { 5, 0 });
            asked = await FakeProxy.ReadSocksRequestAsync(s);
            // The reply and the peer's first bytes in one write: the connector must not read past the reply.
            await s.WriteAsync(FakeProxy.SocksSuccess.Concat(Tunnelled).ToArray());
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Socks(proxy);

        var socket = await Bounded(connector.OpenTunnelAsync("10.1.2.3", 6881, CancellationToken.None));

        Assert.Equal(((byte)1, "10.1.2.3", 6881), asked);
        await ReadTunnelledAsync(socket);
        Assert.Empty(proxy.ScriptErrors);
    }

    [Fact]
    public async Task Socks5_PeerConnection_IsThePeers_NotTheProxys()
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, 0 });
            await FakeProxy.ReadSocksRequestAsync(s);
            await s.WriteAsync(FakeProxy.SocksSuccess);
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Socks(proxy);

        using var connection = await Bounded(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(Peer, connection.RemoteEndPoint);
        Assert.Equal(1, connector.TunnelsOpened);
        Assert.Null(connector.LastProxyFailure);
    }

    [Fact]
    public async Task Socks5_IPv6PeerAndHostName_GoAsAddressType4And3()
    {
        var asked = new List<(byte, string, int)>();
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, 0 });
            var request = await FakeProxy.ReadSocksRequestAsync(s);
            lock (asked) asked.Add(request);
            await s.WriteAsync(new byte[] { 5, 0, 0, 3, 9 }.Concat(Encoding.ASCII.GetBytes("proxy.lan")).Concat(new byte[] { 0, 80 }).Concat(Tunnelled).ToArray());
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Socks(proxy);

        await ReadTunnelledAsync(await Bounded(connector.OpenTunnelAsync("2001:db8::7", 51413, CancellationToken.None)));
        await ReadTunnelledAsync(await Bounded(connector.OpenTunnelAsync("tracker.example", 80, CancellationToken.None)));

        Assert.Contains(((byte)4, "2001:db8::7", 51413), asked);
        Assert.Contains(((byte)3, "tracker.example", 80), asked);
    }

    [Fact]
    public async Task Socks5_UserPassword_IsSentPerRfc1929_AndAccepted()
    {
        byte[]? login = null;
        using var proxy = new FakeProxy(async s =>
        {
            Assert.Equal(new byte[] { 5, 2, 0, 2 }, await FakeProxy.ReadExactAsync(s, 4));
            await s.WriteAsync(new byte[] { 5, 2 });
            var head = await FakeProxy.ReadExactAsync(s, 2);
            var user = await FakeProxy.ReadExactAsync(s, head[1]);
            var passLength = await FakeProxy.ReadExactAsync(s, 1);
            var pass = await FakeProxy.ReadExactAsync(s, passLength[0]);
            login = head.Concat(user).Concat(passLength).Concat(pass).ToArray();
            await s.WriteAsync(new byte[] { 1, 0 });
            await FakeProxy.ReadSocksRequestAsync(s);
            await s.WriteAsync(FakeProxy.SocksSuccess.Concat(Tunnelled).ToArray());
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Socks(proxy, new NetworkCredential("alice", "s3cret"));

        await ReadTunnelledAsync(await Bounded(connector.OpenTunnelAsync("10.1.2.3", 6881, CancellationToken.None)));

        Assert.Equal(new byte[] { 1, 5 }.Concat(Encoding.UTF8.GetBytes("alice")).Append((byte)6).Concat(Encoding.UTF8.GetBytes("s3cret")), login);
    }

    [Fact]
    public async Task Socks5_WrongPassword_IsProxyAuthenticationFailed_AndRemembered()
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 4);
            await s.WriteAsync(new byte[] { 5, 2 });
            var head = await FakeProxy.ReadExactAsync(s, 2);
            await FakeProxy.ReadExactAsync(s, head[1]);
            var passLength = await FakeProxy.ReadExactAsync(s, 1);
            await FakeProxy.ReadExactAsync(s, passLength[0]);
            await s.WriteAsync(new byte[] { 1, 1 });
        });
        var connector = Socks(proxy, new NetworkCredential("alice", "wrong"));

        var ex = await Fails<ProxyException>(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyAuthenticationFailed, ex.Error);
        Assert.Same(ex, connector.LastProxyFailure);
    }

    [Fact]
    public async Task Socks5_ProxyThatWantsAuthWeCannotGive_IsProxyAuthenticationFailed()
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, 0xFF });
        });

        var ex = await Fails<ProxyException>(Socks(proxy).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyAuthenticationFailed, ex.Error);
    }

    [Fact]
    public async Task Socks5_PeerRefusedBehindTheProxy_IsAPeerFailure_AndClearsTheProxysLastFailure()
    {
        int connection = 0;
        using var proxy = new FakeProxy(async s =>
        {
            bool first = Interlocked.Increment(ref connection) == 1;
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, first ? (byte)0xFF : (byte)0 });
            if (first) return;
            await FakeProxy.ReadSocksRequestAsync(s);
            await s.WriteAsync(FakeProxy.SocksReply(5)); // connection refused
        });
        var connector = Socks(proxy);
        await Fails<ProxyException>(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));
        Assert.NotNull(connector.LastProxyFailure);

        var ex = await Fails<PeerConnectionException>(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(PeerFailure.ConnectionRefused, ex.Failure);
        Assert.Null(connector.LastProxyFailure);
    }

    [Theory]
    [InlineData(new byte[] { 4, 0 })]                 // a SOCKS4 answer
    [InlineData(new byte[] { 5, 1 })]                 // a method we never offered
    [InlineData(new byte[] { 0x48, 0x54 })]           // "HT": an HTTP server
    public async Task Socks5_GarbageGreetingReply_IsProxyConnectFailed(byte[] reply)
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(reply);
            await Task.Delay(Timeout.Infinite);
        });

        var ex = await Fails<ProxyException>(Socks(proxy).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    [Theory]
    [InlineData(new byte[] { 5, 0, 0, 9, 0, 0, 0, 0, 0, 0 })] // unknown address type
    [InlineData(new byte[] { 5, 0, 1, 1, 0, 0, 0, 0, 0, 0 })] // reserved byte set
    [InlineData(new byte[] { 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 })] // not allowed by its rules
    [InlineData(new byte[] { 5, 77, 0, 1, 0, 0, 0, 0, 0, 0 })] // no such reply code
    public async Task Socks5_BadOrRefusingConnectReply_IsProxyConnectFailed(byte[] reply)
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, 0 });
            await FakeProxy.ReadSocksRequestAsync(s);
            await s.WriteAsync(reply);
            await Task.Delay(Timeout.Infinite);
        });

        var ex = await Fails<ProxyException>(Socks(proxy).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    [Fact]
    public async Task Socks5_ProxyClosingMidHandshake_IsProxyConnectFailed()
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5 }); // half a reply, then gone
        });

        var ex = await Fails<ProxyException>(Socks(proxy).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    [Fact]
    public async Task Socks5_SilentProxy_TimesOutOnTheClock_AsProxyConnectFailed()
    {
        var greeted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            greeted.TrySetResult();
            await Task.Delay(Timeout.Infinite); // never answers
        });
        var clock = new FakeTimeProvider();
        var connector = Socks(proxy, time: clock);

        var attempt = connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None);
        await greeted.Task.WaitAsync(Bound);
        Assert.False(attempt.IsCompleted);
        clock.Advance(ProxySettings.DefaultHandshakeTimeout + TimeSpan.FromSeconds(1));

        var ex = await Fails<ProxyException>(attempt);
        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    [Fact]
    public async Task DeadProxy_IsProxyConnectFailed_AndThePeerIsNeverDialledDirectly()
    {
        int deadPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            deadPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        using var peer = new TcpListener(IPAddress.Loopback, 0);
        peer.Start();
        var peerEndPoint = (IPEndPoint)peer.LocalEndpoint;
        var connector = new ProxyPeerConnector(ProxySettings.Parse(new Uri($"socks5://127.0.0.1:{deadPort}")));

        var ex = await Fails<ProxyException>(connector.ConnectAsync(peerEndPoint, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
        Assert.False(peer.Pending()); // nothing went around the proxy
    }

    [Fact]
    public async Task CallerCancellation_IsOperationCanceled_NotAProxyFailure()
    {
        var greeted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            greeted.TrySetResult();
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Socks(proxy, time: new FakeTimeProvider());
        using var cancel = new CancellationTokenSource();

        var attempt = connector.ConnectAsync(Peer, PeerMessageLimits.Default, cancel.Token);
        await greeted.Task.WaitAsync(Bound);
        cancel.Cancel();

        await Fails<OperationCanceledException>(attempt);
        Assert.Null(connector.LastProxyFailure);
    }

    // ---- HTTP CONNECT ------------------------------------------------------------------------------------------

    [Fact]
    public async Task HttpConnect_SendsConnectWithBasicAuth_AndTheTunnelStartsRightAfterTheHead()
    {
        string? head = null;
        using var proxy = new FakeProxy(async s =>
        {
            head = await FakeProxy.ReadHttpHeadAsync(s);
            await s.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\nProxy-Agent: fake\r\n\r\n").Concat(Tunnelled).ToArray());
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Http(proxy, new NetworkCredential("bob", "pa:ss"));

        await ReadTunnelledAsync(await Bounded(connector.OpenTunnelAsync("2001:db8::7", 51413, CancellationToken.None)));

        Assert.StartsWith("CONNECT [2001:db8::7]:51413 HTTP/1.1\r\n", head);
        Assert.Contains("\r\nHost: [2001:db8::7]:51413\r\n", head);
        Assert.Contains("\r\nProxy-Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:pa:ss")) + "\r\n", head);
    }

    [Theory]
    [InlineData("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n")]
    [InlineData("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\n\r\n")] // tinyproxy 1.11
    public async Task HttpConnect_407Or401_IsProxyAuthenticationFailed(string reply)
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadHttpHeadAsync(s);
            await s.WriteAsync(Encoding.ASCII.GetBytes(reply));
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Http(proxy);

        var ex = await Fails<ProxyException>(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyAuthenticationFailed, ex.Error);
        Assert.Same(ex, connector.LastProxyFailure);
    }

    [Fact]
    public async Task HttpConnect_502_IsAPeerFailure_403_IsTheProxyRefusing()
    {
        int connection = 0;
        using var proxy = new FakeProxy(async s =>
        {
            bool first = Interlocked.Increment(ref connection) == 1;
            await FakeProxy.ReadHttpHeadAsync(s);
            await s.WriteAsync(Encoding.ASCII.GetBytes(first ? "HTTP/1.0 502 Bad Gateway\r\n\r\n" : "HTTP/1.0 403 Forbidden\r\n\r\n"));
            await Task.Delay(Timeout.Infinite);
        });
        var connector = Http(proxy);

        var peerFailure = await Fails<PeerConnectionException>(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));
        var proxyFailure = await Fails<ProxyException>(connector.ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(PeerFailure.ConnectionRefused, peerFailure.Failure);
        Assert.Equal(ProxyError.ProxyConnectFailed, proxyFailure.Error);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n")]
    [InlineData("\r\n\r\n")]
    public async Task HttpConnect_GarbageReply_IsProxyConnectFailed(string reply)
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadHttpHeadAsync(s);
            await s.WriteAsync(Encoding.ASCII.GetBytes(reply));
            await Task.Delay(Timeout.Infinite);
        });

        var ex = await Fails<ProxyException>(Http(proxy).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    [Fact]
    public async Task HttpConnect_EndlessHead_IsCutOffAtTheBound()
    {
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadHttpHeadAsync(s);
            await s.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n"));
            var header = Encoding.ASCII.GetBytes("X-Filler: " + new string('a', 1000) + "\r\n");
            for (int i = 0; i < 1000; i++) await s.WriteAsync(header); // 1 MB of headers, never a blank line
        });

        var ex = await Fails<ProxyException>(Http(proxy).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None));

        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    [Fact]
    public async Task HttpConnect_SlowProxy_TimesOutOnTheClock()
    {
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadHttpHeadAsync(s);
            await s.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200"));   // a trickle, then nothing
            asked.TrySetResult();
            await Task.Delay(Timeout.Infinite);
        });
        var clock = new FakeTimeProvider();
        var attempt = Http(proxy, time: clock).ConnectAsync(Peer, PeerMessageLimits.Default, CancellationToken.None);
        await asked.Task.WaitAsync(Bound);
        clock.Advance(ProxySettings.DefaultHandshakeTimeout + TimeSpan.FromSeconds(1));

        var ex = await Fails<ProxyException>(attempt);
        Assert.Equal(ProxyError.ProxyConnectFailed, ex.Error);
    }

    // ---- settings ----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("socks5://127.0.0.1")]
    [InlineData("socks5://user:pass@127.0.0.1:1080")]
    [InlineData("http://127.0.0.1:3128/path")]
    [InlineData("socks4://127.0.0.1:1080")]
    public void ProxySettings_RejectsWhatIsNotAProxyUri(string uri)
    {
        Assert.Throws<ArgumentException>(() => ProxySettings.Parse(new Uri(uri)));
    }

    [Fact]
    public void ProxySettings_TakesHttpAndSocks5()
    {
        var socks = ProxySettings.Parse(new Uri("socks5://[::1]:1080"));
        Assert.Equal((ProxyKind.Socks5, "::1", 1080), (socks.Kind, socks.Host, socks.Port));
        var http = ProxySettings.Parse(new Uri("http://127.0.0.1:8888/"));
        Assert.Equal((ProxyKind.HttpConnect, "127.0.0.1", 8888), (http.Kind, http.Host, http.Port));
    }

    // ---- trackers through the proxy ----------------------------------------------------------------------------

    [Fact]
    public async Task HttpTracker_ThroughSocks5_IsReachedOnlyThroughTheTunnel()
    {
        using var tracker = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(1800)), ("peers", Bytes(CompactV4(("10.0.0.9", 6881))))))));
        var targets = new List<(byte, string, int)>();
        using var proxy = new FakeProxy(async s =>
        {
            await FakeProxy.ReadExactAsync(s, 3);
            await s.WriteAsync(new byte[] { 5, 0 });
            var target = await FakeProxy.ReadSocksRequestAsync(s);
            lock (targets) targets.Add(target);
            await s.WriteAsync(FakeProxy.SocksSuccess);
            await FakeProxy.RelayAsync(s, target.Host, target.Port);
        });
        using var client = new TrackerClient(new TrackerClientOptions { Proxy = ProxySettings.Parse(new Uri($"socks5://127.0.0.1:{proxy.Port}")) });

        var response = await client.AnnounceAsync(tracker.AnnounceUrl, Request(), TimeSpan.FromSeconds(10));

        Assert.Equal("10.0.0.9", Assert.Single(response.Peers).EndPoint.Address.ToString());
        Assert.Equal(((byte)1, "127.0.0.1", tracker.Port), Assert.Single(targets));
        Assert.Single(tracker.Requests);
    }

    [Fact]
    public async Task HttpTracker_DeadProxy_IsProxyFailed_NotADirectRequest()
    {
        using var tracker = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(1800)), ("peers", Bytes(Array.Empty<byte>()))))));
        int deadPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            deadPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        using var client = new TrackerClient(new TrackerClientOptions { Proxy = ProxySettings.Parse(new Uri($"http://127.0.0.1:{deadPort}")) });

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(tracker.AnnounceUrl, Request(), TimeSpan.FromSeconds(10)));

        Assert.Equal(TrackerError.ProxyFailed, ex.Error);
        Assert.Equal(ProxyError.ProxyConnectFailed, Assert.IsType<ProxyException>(ex.InnerException).Error);
        Assert.Empty(tracker.Requests);
    }

    [Fact]
    public async Task UdpTracker_WithAProxy_IsSkipped_NotAskedDirectly()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var client = new TrackerClient(new TrackerClientOptions { Proxy = ProxySettings.Parse(new Uri("socks5://127.0.0.1:1")) });

        var ex = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync($"udp://127.0.0.1:{port}/announce", Request(), TimeSpan.FromSeconds(10)));

        Assert.Equal(TrackerError.NetworkSettingUnsupported, ex.Error);
        Assert.Equal(0, udp.Available);
    }
}
