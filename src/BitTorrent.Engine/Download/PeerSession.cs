using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>One connected peer of a download: its wire state and the requests we have outstanding with it.
    /// A read loop hands every message to the <see cref="TorrentDownload"/> (which holds the lock); a send loop
    /// drains this session's outbox, batching messages and flushing when the outbox is empty. State fields are
    /// guarded by the download's lock.</summary>
    internal sealed class PeerSession
    {
        private readonly Channel<PeerMessage> _outbox = Channel.CreateUnbounded<PeerMessage>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        private long _rateWindowBytes;
        private double _rate;

        public PeerSession(PeerConnection connection, IPEndPoint endPoint, Handshake handshake, int pieceCount)
        {
            Connection = connection;
            EndPoint = endPoint;
            PeerHas = new Bitfield(pieceCount);
            SupportsFast = handshake.SupportsFastExtension;
            SupportsExtensions = handshake.SupportsExtensionProtocol;
            PeerId = handshake.PeerId.ToArray();
            Client = PeerIdDecoder.Decode(PeerId).ToString();
            LastBlockAt = DateTime.UtcNow;
        }

        public PeerConnection Connection { get; }
        public IPEndPoint EndPoint { get; }
        public byte[] PeerId { get; }
        public string Client { get; set; }
        public Bitfield PeerHas { get; }
        public bool SupportsFast { get; }
        public bool SupportsExtensions { get; }

        /// <summary>Whether a bitfield/have-all/have-none may still come (only as the first message).</summary>
        public bool FirstMessage { get; set; } = true;
        public bool PeerChoking { get; set; } = true;
        public bool AmInterested { get; set; }
        public HashSet<int> AllowedFast { get; } = new HashSet<int>();

        /// <summary>Requests sent and not yet answered, by block key.</summary>
        public Dictionary<long, BlockRequest> Outstanding { get; } = new Dictionary<long, BlockRequest>();

        /// <summary>How many requests to keep outstanding (grows with the peer's rate).</summary>
        public int DesiredQueue { get; set; }

        /// <summary>The peer's advertised request queue (BEP 10 reqq); 250 when it does not say (libtorrent's default).</summary>
        public int PeerRequestQueue { get; set; } = 250;

        public DateTime LastBlockAt { get; set; }
        public bool Snubbed { get; set; }
        public long BytesDownloaded { get; set; }
        public int HashFailures { get; set; }
        public bool Closed { get; set; }

        /// <summary>Payload bytes per second, smoothed over ticks.</summary>
        public double DownloadRate => _rate;

        public void CountPayload(int bytes)
        {
            BytesDownloaded += bytes;
            _rateWindowBytes += bytes;
        }

        /// <summary>Once a second: fold the window into the smoothed rate.</summary>
        public void Tick(double seconds)
        {
            double instant = seconds > 0 ? _rateWindowBytes / seconds : 0;
            _rate = _rate == 0 ? instant : 0.6 * instant + 0.4 * _rate;
            _rateWindowBytes = 0;
        }

        public void Send(PeerMessage message)
        {
            if (!_outbox.Writer.TryWrite(message)) message.Dispose();
        }

        /// <summary>Writes queued messages until the connection closes or the token is cancelled.</summary>
        public async Task RunSendLoopAsync(CancellationToken cancellationToken)
        {
            var reader = _outbox.Reader;
            var writer = Connection.Writer;
            try
            {
                while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (reader.TryRead(out var message))
                    {
                        try { await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false); }
                        finally { message.Dispose(); }
                    }
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                while (reader.TryRead(out var left)) left.Dispose();
            }
        }

        public void CompleteOutbox() => _outbox.Writer.TryComplete();

        public override string ToString() => $"{EndPoint} ({Client})";
    }
}
