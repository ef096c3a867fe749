using System.Net;
using System.Net.Sockets;
using BitTorrent.Connections;
using BitTorrent.Trackers;
using BitTorrent.Tests.Trackers;
using BitTorrent.Wire;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Connections;

/// <summary>Outgoing connections bound to an address: the far end sees them come from it (127.0.0.2 here, a
/// loopback address that is not the default source), and a peer the bind address cannot reach is not dialled at all.</summary>
public sealed class BoundTcpPeerConnectorTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly IPAddress Second = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task PeerConnection_LeavesFromTheBindAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connector = new BoundTcpPeerConnector(Second);

        using var connection = await connector.ConnectAsync((IPEndPoint)listener.LocalEndpoint, PeerMessageLimits.Default, CancellationToken.None).WaitAsync(Bound);
        using var accepted = await listener.AcceptSocketAsync().WaitAsync(Bound);

        Assert.Equal(Second, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task PeerOfTheOtherFamily_IsUnreachable_NotDialledFromAnotherInterface()
    {
        using var listener = new TcpListener(IPAddress.IPv6Loopback, 0);
        try { listener.Start(); } catch (SocketException) { return; } // no IPv6 here: nothing to show
        var connector = new BoundTcpPeerConnector(Second);

        var ex = await Assert.ThrowsAsync<PeerConnectionException>(() => connector.ConnectAsync((IPEndPoint)listener.LocalEndpoint, PeerMessageLimits.Default, CancellationToken.None).WaitAsync(Bound));

        Assert.Equal(PeerFailure.Unreachable, ex.Failure);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task HttpTracker_IsAskedFromTheBindAddress()
    {
        using var tracker = new FakeHttpTracker(_ => FakeHttpReply.Ok(Bencode(Dict(("interval", Int(1800)), ("peers", Bytes(Array.Empty<byte>()))))));
        using var client = new TrackerClient(new TrackerClientOptions { BindAddress = Second });

        await client.AnnounceAsync(tracker.AnnounceUrl, Request(), TimeSpan.FromSeconds(10));

        Assert.Equal(Second, Assert.Single(tracker.Requests).RemoteAddress);
    }

    [Fact]
    public async Task UdpTracker_IsAskedFromTheBindAddress()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        using var client = new TrackerClient(new TrackerClientOptions { BindAddress = Second });
        using var cancel = new CancellationTokenSource();

        var announce = client.AnnounceAsync($"udp://127.0.0.1:{port}/announce", Request(), TimeSpan.FromSeconds(30), cancel.Token);
        var received = await udp.ReceiveAsync().WaitAsync(Bound);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => announce);

        Assert.Equal(Second, received.RemoteEndPoint.Address);
    }
}
