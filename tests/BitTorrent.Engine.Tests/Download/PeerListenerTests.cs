using System.Net;
using System.Net.Sockets;
using BitTorrent.Download;
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
                for (int i = 0; i < 4; i++) Assert.True(ClosedByListener(crowd[i], TimeSpan.FromSeconds(2)), $"socket {i} closed");
                Assert.False(ClosedByListener(crowd[^1], TimeSpan.FromMilliseconds(200)));

                // Another address still gets in at once.
                crowd.Add(Connect(IPAddress.Loopback, listener.Port));
                WaitFor(() => listener.Handshaking == PeerListener.MaxHandshakingPerAddress + 1, "the other address admitted");
                Assert.Equal(4, listener.Evictions);
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
                Assert.True(ClosedByListener(crowd[0], TimeSpan.FromSeconds(2)));
                Assert.False(ClosedByListener(crowd[^1], TimeSpan.FromMilliseconds(200)));
            }
            finally
            {
                foreach (var s in crowd) s.Dispose();
            }
        }
    }
}
