using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download;

/// <summary>The concurrency rule is checked, not just written down: in DEBUG builds (these tests) a part's state
/// change without the torrent's lock throws, and slow work under the lock throws too.</summary>
public class TorrentLockTests
{
    [SkippableFact]
    public void AssertHeld_throws_without_the_lock_and_passes_with_it()
    {
        Skip.IfNot(TorrentLock.ChecksEnabled, "the lock checks compile away in a Release build; build.ps1 runs the tests in Debug");
        var torrentLock = new TorrentLock();
        Assert.Throws<LockViolationException>(() => torrentLock.AssertHeld());
        using (torrentLock.Enter())
        {
            torrentLock.AssertHeld();
            Assert.Throws<LockViolationException>(() => torrentLock.AssertNotHeld());
        }
        torrentLock.AssertNotHeld();
    }

    [SkippableFact]
    public async Task A_peer_session_refuses_a_state_change_made_without_the_lock()
    {
        Skip.IfNot(TorrentLock.ChecksEnabled, "the lock checks compile away in a Release build; build.ps1 runs the tests in Debug");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptSocketAsync();
        using var connection = new PeerConnection(server);
        var handshake = Handshake.Create(new byte[20], new byte[20], extensionProtocol: false, fastExtension: true);
        var torrentLock = new TorrentLock();
        var session = new PeerSession(connection, connection.RemoteEndPoint, handshake, 8, torrentLock, new FakeTimeProvider(), 16, incoming: false);

        Assert.Throws<LockViolationException>(() => session.Unchoke(DateTime.UtcNow));
        Assert.Throws<LockViolationException>(() => session.OnHave(3));
        Assert.Throws<LockViolationException>(() => session.SetInterested(true));
        Assert.True(session.AmChoking);
        using (torrentLock.Enter())
        {
            session.Unchoke(DateTime.UtcNow);
            Assert.True(session.OnHave(3));
        }
        Assert.False(session.AmChoking);
        Assert.True(session.PeerHas[3]);
    }
}
