using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Session
{
    /// <summary>One connection of a <see cref="MetadataFetcher"/>: the peer's extension table, what it told us, and a
    /// send path that several threads may use (the peer's own read loop, the fetcher's tick, another peer whose
    /// reject or hash failure frees blocks for this one). Every write is serialized; a write that fails closes the
    /// connection, and its read loop reports why.</summary>
    internal sealed class MetadataFetchPeer
    {
        private readonly SemaphoreSlim _sendLock = new SemaphoreSlim(1, 1);
        private int _closeReason;
        private PeerProtocolError? _protocolError;

        public MetadataFetchPeer(PeerConnection connection, IPEndPoint endPoint, string key)
        {
            Connection = connection;
            EndPoint = endPoint;
            Key = key;
        }

        public PeerConnection Connection { get; }
        public IPEndPoint EndPoint { get; }

        /// <summary>The peer's address as events show it (the candidate's key).</summary>
        public string Key { get; }

        /// <summary>The ids the peer wants our messages under (its BEP 10 handshakes; bounded by the table).</summary>
        public PeerExtensionTable Extensions { get; } = new PeerExtensionTable();

        /// <summary>Its extended handshake has arrived (with ut_metadata and a metadata_size we accept).</summary>
        public bool Ready { get; set; }

        /// <summary>ut_metadata data messages it sent that nobody asked it for.</summary>
        public int Unsolicited { get; set; }

        /// <summary>When the connection was made (the fetcher's clock): a peer that never becomes ready is dropped.</summary>
        public long ConnectedAt { get; set; }

        /// <summary>Requests sent and answered (data or reject); with <see cref="WaitingSince"/>, a peer that sits on
        /// our requests is noticed (the fetcher's lock).</summary>
        public int RequestsSent { get; set; }
        public int RequestsAnswered { get; set; }

        /// <summary>When it last answered, or was first asked since; null while nothing is outstanding (lock).</summary>
        public long? WaitingSince { get; set; }

        /// <summary>Why we closed it (None: it is open, or the peer closed it).</summary>
        public PeerCloseReason CloseReason => (PeerCloseReason)Volatile.Read(ref _closeReason);

        public PeerProtocolError? ProtocolError => _protocolError;

        /// <summary>Closes the connection with a reason (the first one given wins). Thread-safe.</summary>
        public void Close(PeerCloseReason reason, PeerProtocolError? error = null)
        {
            if (Interlocked.CompareExchange(ref _closeReason, (int)reason, (int)PeerCloseReason.None) == (int)PeerCloseReason.None)
                _protocolError = error;
            Connection.Abort();
        }

        /// <summary>Sends one extended message under the peer's id for <paramref name="extension"/>; nothing when the
        /// peer does not have it on. Never throws: a failed write closes the connection.</summary>
        public async Task SendExtendedAsync(string extension, byte[] payload, CancellationToken cancellationToken)
        {
            byte id;
            lock (Extensions)
            {
                if (!Extensions.TryGetId(extension, out id)) return;
            }
            await SendAsync(PeerMessage.Extended(id, payload), cancellationToken).ConfigureAwait(false);
        }

        public async Task SendAsync(PeerMessage message, CancellationToken cancellationToken)
        {
            try
            {
                await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await Connection.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                    await Connection.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // The read loop sees the socket closed and reports it; a cancelled send means we are stopping anyway.
                Connection.Abort();
            }
        }

        public override string ToString() => Key;
    }
}
