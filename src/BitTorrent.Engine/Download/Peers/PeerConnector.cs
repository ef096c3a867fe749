using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Opens a connection to a peer (no handshake yet). The default dials TCP; tests script connections.</summary>
    public interface IPeerConnector
    {
        Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, PeerMessageLimits limits, CancellationToken cancellationToken);
    }

    /// <summary>Dials peers over TCP.</summary>
    public sealed class TcpPeerConnector : IPeerConnector
    {
        public static readonly TcpPeerConnector Instance = new TcpPeerConnector();

        public Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, PeerMessageLimits limits, CancellationToken cancellationToken) =>
            PeerConnection.ConnectAsync(endPoint, limits, cancellationToken);
    }
}
