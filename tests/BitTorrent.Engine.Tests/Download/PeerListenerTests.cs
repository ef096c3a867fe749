using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
using BitTorrent.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace BitTorrent.Tests.Download
{
    /// <summary>The listener's handshake slots under a crowd of idle sockets (found with tests/Pester/Load.Tests.ps1:
    /// refusing newcomers once 64 sockets waited let a crowd lock an honest leecher out).</summary>
    public sealed class PeerListenerTests
    {
        private static Socket Connect(IPAddress from, int port)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(from, 0));
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return s;
        }

        /// <summary>True once the listener has closed the socket (readable with nothing to read), within the wait.</summary>
        private static bool ClosedByListener(Socket s, TimeSpan wait)
        {
            var deadline = DateTime.UtcNow + wait;
            while (DateTime.UtcNow < deadline)
                if (s.Poll(50_000, SelectMode.SelectRead)) return s.Available == 0;
            return false;
        }

        /// <summary>Routes an info-hash of our own to a handler that records the handshakes it is given.</summary>
        private static (byte[] InfoHash, List<Handshake> Accepted) Route(PeerListener listener)
        {
            var infoHash = new byte[20];
            Random.Shared.NextBytes(infoHash);
            var accepted = new List<Handshake>();
            listener.Register(Hex.ToLower(infoHash), 10, (connection, theirs) =>
            {
                lock (accepted) accepted.Add(theirs);
                connection.Dispose();
                return Task.CompletedTask;
            });
            return (infoHash, accepted);
        }

        private static void SendHandshake(Socket s, byte[] infoHash)
        {
            var hs = new byte[68];
            hs[0] = 19;
            "BitTorrent protocol"u8.CopyTo(hs.AsSpan(1));
            infoHash.CopyTo(hs, 28);
            "-XX0001-listenertest"u8.CopyTo(hs.AsSpan(48));
            s.Send(hs);
        }

        /// <summary>The socket is still held open by the listener: a handshake sent on it now reaches the torrent.
        /// (A closed socket's handshake goes nowhere.) A condition, not a wait for "nothing happened".</summary>
        private static void AssertStillPending(PeerListener listener, Socket s)
        {
            var (infoHash, accepted) = Route(listener);
            SendHandshake(s, infoHash);
            WaitFor(() => { lock (accepted) return accepted.Count == 1; }, "the handshake to reach the torrent");
        }

        private static void WaitFor(Func<bool> condition, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
                Thread.Sleep(20);
            }
        }

        [Fact]
        public void One_address_holds_at_most_its_share_and_the_oldest_waiting_socket_makes_room()
        {
            using var listener = new PeerListener(IPAddress.Loopback, 0);
            var crowd = new List<Socket>();
            try
            {
                var from = IPAddress.Parse("127.0.0.2");
                for (int i = 0; i < PeerListener.MaxHandshakingPerAddress + 4; i++)
                {
                    crowd.Add(Connect(from, listener.Port));
                    int expected = Math.Min(i + 1, PeerListener.MaxHandshakingPerAddress);
                    WaitFor(() => listener.Handshaking == expected, $"{expected} handshaking after {i + 1} connections");
                }
                WaitFor(() => listener.Evictions == 4, "four evictions");
                Assert.Equal(PeerListener.MaxHandshakingPerAddress, listener.Handshaking);
                // The first four were closed to make room; the newest are still waiting.
                for (int i = 0; i < 4; i++) Assert.True(ClosedByListener(crowd[i], TimeSpan.FromSeconds(5)), $"socket {i} closed");

                // Another address still gets in at once.
                crowd.Add(Connect(IPAddress.Loopback, listener.Port));
                WaitFor(() => listener.Handshaking == PeerListener.MaxHandshakingPerAddress + 1, "the other address admitted");
                Assert.Equal(4, listener.Evictions);
                // The newest of the crowd was kept: its handshake still gets through.
                AssertStillPending(listener, crowd[^2]);
            }
            finally
            {
                foreach (var s in crowd) s.Dispose();
            }
        }

        [Fact]
        public void The_listener_never_holds_more_than_its_limit_from_many_addresses_and_evicts_the_oldest()
        {
            using var listener = new PeerListener(IPAddress.Loopback, 0);
            var crowd = new List<Socket>();
            try
            {
                int total = PeerListener.MaxHandshaking + 10;
                for (int i = 0; i < total; i++)
                    crowd.Add(Connect(IPAddress.Parse($"127.0.{1 + i / PeerListener.MaxHandshakingPerAddress}.{1 + i % 200}"), listener.Port));
                WaitFor(() => listener.Evictions == 10, "ten evictions");
                Assert.Equal(PeerListener.MaxHandshaking, listener.Handshaking);
                Assert.True(ClosedByListener(crowd[0], TimeSpan.FromSeconds(5)));
                AssertStillPending(listener, crowd[^1]);
            }
            finally
            {
                foreach (var s in crowd) s.Dispose();
            }
        }

        [Fact]
        public void A_silent_connection_is_closed_when_the_handshake_timeout_passes_on_the_listeners_clock()
        {
            var clock = new FakeTimeProvider();
            using var listener = new PeerListener(IPAddress.Loopback, 0, clock);
            using var silent = Connect(IPAddress.Loopback, listener.Port);
            WaitFor(() => listener.Handshaking == 1, "the connection admitted");

            clock.Advance(PeerListener.HandshakeTimeout - TimeSpan.FromMilliseconds(1));
            AssertStillPending(listener, silent);    // a moment before the timeout, the connection is still served

            using var second = Connect(IPAddress.Loopback, listener.Port);
            WaitFor(() => listener.Handshaking == 1, "the second connection admitted");
            // Stepped until it is dropped: the listener may start its timer a moment after it counts the connection.
            WaitFor(() => { clock.Advance(PeerListener.HandshakeTimeout); return listener.Handshaking == 0; }, "the timed-out connection dropped");
            Assert.True(ClosedByListener(second, TimeSpan.FromSeconds(5)));
        }

        [Fact]
        public void An_unregistered_info_hash_is_refused()
        {
            using var listener = new PeerListener(IPAddress.Loopback, 0);
            var (infoHash, accepted) = Route(listener);
            listener.Unregister(Hex.ToLower(infoHash));
            Assert.False(listener.IsRegistered(Hex.ToLower(infoHash)));
            using var s = Connect(IPAddress.Loopback, listener.Port);
            SendHandshake(s, infoHash);
            Assert.True(ClosedByListener(s, TimeSpan.FromSeconds(5)));
            lock (accepted) Assert.Empty(accepted);
        }
    }
}
