using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>One UDP socket (per address family) shared by every UDP tracker request, with one receive loop that
    /// hands each reply to the request waiting for its transaction id — but only if it came from the address and
    /// port that request was sent to. Anything else (unknown transaction id, wrong sender, shorter than 8 bytes) is
    /// dropped and counted. Sharing one socket keeps our source port stable, which some trackers tie connection
    /// ids to.</summary>
    internal sealed class UdpTrackerSocket : IDisposable
    {
        private const int MaxDatagram = 65536;
        private readonly Socket _socket;
        private readonly TimeProvider _time;
        private readonly ConcurrentDictionary<uint, Pending> _pending = new ConcurrentDictionary<uint, Pending>();
        private readonly RandomNumberGenerator _random = RandomNumberGenerator.Create();
        private readonly object _randomLock = new object();
        private int _ignored;
        private volatile bool _disposed;

        /// <param name="local">The address to send from (null: any); it must be of <paramref name="family"/>.</param>
        public UdpTrackerSocket(AddressFamily family, TimeProvider time, IPAddress? local = null)
        {
            Family = family;
            _time = time;
            _socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                // Windows reports an ICMP "port unreachable" from an earlier send as a failed receive on the shared
                // socket (SIO_UDP_CONNRESET); turn that off so one dead tracker cannot disturb the others.
                try { _socket.IOControl(unchecked((int)0x9800000C), new byte[] { 0, 0, 0, 0 }, null); } catch (SocketException) { }
            }
            _socket.Bind(new IPEndPoint(local ?? (family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any), 0));
            _ = Task.Run(ReceiveLoopAsync);
        }

        public AddressFamily Family { get; }

        /// <summary>Datagrams dropped: unknown transaction id, wrong sender, or too short to carry one.</summary>
        public int IgnoredDatagrams => Volatile.Read(ref _ignored);

        /// <summary>Sends a request and waits for the reply with its transaction id from <paramref name="target"/>,
        /// sending again after <c>retryBase · 2^n</c> (BEP 15). The caller's token carries the overall timeout.</summary>
        public async Task<byte[]> ExchangeAsync(IPEndPoint target, Func<uint, byte[]> build, UdpRetrySchedule schedule, CancellationToken ct)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(UdpTrackerSocket));
            var pending = new Pending(target);
            uint transactionId;
            do { transactionId = NextTransactionId(); } while (!_pending.TryAdd(transactionId, pending));
            try
            {
                byte[] datagram = build(transactionId);
                while (true)
                {
                    await _socket.SendToAsync(new ArraySegment<byte>(datagram), SocketFlags.None, target).ConfigureAwait(false);
                    using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var delay = _time.Delay(schedule.CurrentWait, waitCts.Token);
                    var first = await Task.WhenAny(pending.Reply.Task, delay).ConfigureAwait(false);
                    waitCts.Cancel(); // release the timer either way
                    if (first == pending.Reply.Task) return await pending.Reply.Task.ConfigureAwait(false);
                    ct.ThrowIfCancellationRequested();
                    if (_disposed) throw new ObjectDisposedException(nameof(UdpTrackerSocket));
                    schedule.OnTimedOut();
                }
            }
            finally
            {
                _pending.TryRemove(transactionId, out _);
            }
        }

        private uint NextTransactionId()
        {
            var bytes = new byte[4];
            lock (_randomLock) _random.GetBytes(bytes);
            return BitConverter.ToUInt32(bytes, 0);
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new byte[MaxDatagram];
            EndPoint any = new IPEndPoint(Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            int consecutiveErrors = 0;
            while (!_disposed)
            {
                SocketReceiveFromResult result;
                try
                {
                    result = await _socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
                    consecutiveErrors = 0;
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException) when (!_disposed)
                {
                    // ICMP errors and the like; a burst of them must not spin the CPU.
                    if (++consecutiveErrors > 10) await Task.Delay(50).ConfigureAwait(false);
                    continue;
                }
                catch (Exception) when (_disposed)
                {
                    break;
                }
                Dispatch(new ReadOnlySpan<byte>(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
            }
            foreach (var p in _pending.Values) p.Reply.TrySetException(new ObjectDisposedException(nameof(UdpTrackerSocket)));
        }

        private void Dispatch(ReadOnlySpan<byte> datagram, IPEndPoint from)
        {
            if (!UdpTrackerMessages.TryReadHeader(datagram, out _, out uint transactionId)
                || !_pending.TryGetValue(transactionId, out var pending)
                || !SameEndPoint(pending.Target, from))
            {
                Interlocked.Increment(ref _ignored);
                return;
            }
            pending.Reply.TrySetResult(datagram.ToArray());
        }

        private static bool SameEndPoint(IPEndPoint a, IPEndPoint b) =>
            a.Port == b.Port && PeerEndPoint.Normalize(a.Address).Equals(PeerEndPoint.Normalize(b.Address));

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _socket.Dispose();
            _random.Dispose();
            foreach (var p in _pending.Values) p.Reply.TrySetException(new ObjectDisposedException(nameof(UdpTrackerSocket)));
        }

        private sealed class Pending
        {
            public Pending(IPEndPoint target) => Target = target;
            public IPEndPoint Target { get; }
            public TaskCompletionSource<byte[]> Reply { get; } = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
