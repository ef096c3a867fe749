using System;

namespace BitTorrent.Wire
{
    /// <summary>Why talking to a peer failed. The names are a contract (the cmdlets turn them into error ids).</summary>
    public enum PeerFailure
    {
        /// <summary>Nothing listens at that port (TCP RST to our SYN).</summary>
        ConnectionRefused,

        /// <summary>No route, or the name did not resolve.</summary>
        Unreachable,

        /// <summary>The peer did not connect or answer within the time allowed.</summary>
        Timeout,

        /// <summary>The peer closed the connection during the handshake without answering: it does not serve this
        /// torrent (what libtorrent, Transmission and aria2 do for an unknown info-hash), or it refused us.</summary>
        HandshakeRejected,

        /// <summary>The peer answered for a different info-hash.</summary>
        InfoHashMismatch,

        /// <summary>The peer broke the wire protocol (see <see cref="PeerConnectionException.ProtocolError"/>).</summary>
        ProtocolViolation,
    }

    /// <summary>A failed exchange with one peer, classified by <see cref="PeerFailure"/>.</summary>
    public sealed class PeerConnectionException : Exception
    {
        public PeerConnectionException(PeerFailure failure, string endPoint, string message, Exception? innerException = null)
            : base(message, innerException)
        {
            Failure = failure;
            EndPoint = endPoint;
            ProtocolError = (innerException as PeerProtocolException)?.Error;
        }

        public PeerFailure Failure { get; }

        /// <summary>The peer, as "ip:port" or "[ipv6]:port".</summary>
        public string EndPoint { get; }

        /// <summary>The protocol rule broken, for <see cref="PeerFailure.ProtocolViolation"/> and
        /// <see cref="PeerFailure.InfoHashMismatch"/>.</summary>
        public PeerProtocolError? ProtocolError { get; }
    }
}
