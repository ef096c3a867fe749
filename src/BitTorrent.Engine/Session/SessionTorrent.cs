using System;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.Session
{
    /// <summary>One torrent of a <see cref="TorrentSession"/>: what it is, where its data goes, its state, and each run
    /// of it (a pause ends a run, a resume starts a new one that keeps every verified piece through the resume
    /// record). Made by <see cref="TorrentSession.Add"/>.</summary>
    public sealed class SessionTorrent
    {
        private readonly object _sync = new object();
        private readonly TaskCompletionSource<RunOutcome> _finished = new TaskCompletionSource<RunOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        private TorrentState _state = TorrentState.Queued;
        private TorrentDownload? _download;
        private DownloadStatus? _lastStatus;
        /// <summary>Peers a discovery source found while no run was on (queued, paused), for the next run.</summary>
        private readonly System.Collections.Generic.List<System.Net.IPEndPoint> _pendingPeers = new System.Collections.Generic.List<System.Net.IPEndPoint>();
        private const int MostPendingPeers = 200;

        internal SessionTorrent(TorrentInfo torrent, string destination, DownloadOptions options, long order)
        {
            Torrent = torrent;
            Destination = destination;
            Options = options;
            Order = order;
        }

        public TorrentInfo Torrent { get; }
        public string InfoHash => Torrent.InfoHash;
        public string Destination { get; }

        /// <summary>The options each run gets (the session's port and limiters already in them).</summary>
        public DownloadOptions Options { get; }

        /// <summary>Position in the session's queue (first added, first started).</summary>
        internal long Order { get; }

        public TorrentState State
        {
            get
            {
                lock (_sync)
                {
                    // While a run is on, its own state says more than ours (checking, downloading or seeding).
                    if (_download is null || _state != TorrentState.Checking) return _state;
                    return _download.GetStatus().State switch
                    {
                        DownloadState.Downloading => TorrentState.Downloading,
                        DownloadState.Seeding => TorrentState.Seeding,
                        DownloadState.Checking => TorrentState.Checking,
                        _ => TorrentState.Downloading, // the run is ending; RunEnded sets the final state
                    };
                }
            }
        }

        /// <summary>Completes when the torrent is done for good (completed, failed, stopped or removed); not on a pause.</summary>
        public Task<RunOutcome> Finished => _finished.Task;

        /// <summary>The run's status now, or the last one seen (null before the first run).</summary>
        public DownloadStatus? GetStatus()
        {
            TorrentDownload? download;
            lock (_sync) download = _download;
            if (download is null) return _lastStatus;
            var status = download.GetStatus();
            _lastStatus = status;
            return status;
        }

        /// <summary>True while a run counts against the session's limit of active torrents (checking or downloading).</summary>
        internal bool HoldsTurn
        {
            get
            {
                var state = State;
                return state == TorrentState.Checking || state == TorrentState.Downloading;
            }
        }

        internal CancellationTokenSource? RunCancel { get; private set; }
        internal Task? Run { get; private set; }
        internal bool PauseRequested { get; set; }
        internal bool Removed { get; set; }

        internal void Starting(TorrentDownload download, CancellationTokenSource cancel)
        {
            lock (_sync)
            {
                _download = download;
                RunCancel = cancel;
                _state = TorrentState.Checking;
                if (_pendingPeers.Count > 0)
                {
                    download.AddPeers(_pendingPeers.ToArray());
                    _pendingPeers.Clear();
                }
            }
        }

        internal void Started(Task run) => Run = run;

        /// <summary>How the last run ended (a paused torrent's too).</summary>
        public RunOutcome? LastRun { get; private set; }

        internal void RunEnded(TorrentState next, RunOutcome outcome)
        {
            lock (_sync)
            {
                LastRun = outcome;
                if (_download is not null) _lastStatus = _download.GetStatus();
                _download = null;
                RunCancel?.Dispose();
                RunCancel = null;
                _state = next;
            }
        }

        internal void SetState(TorrentState state)
        {
            lock (_sync) _state = state;
        }

        internal TorrentState RawState { get { lock (_sync) return _state; } }

        internal void Finish(RunOutcome outcome) => _finished.TrySetResult(outcome);

        /// <summary>Peers from a discovery source: given to the run in progress, or kept (bounded) for the next one, since
        /// a source such as local discovery may not tell us again for minutes.</summary>
        internal void AddPeers(System.Collections.Generic.IEnumerable<System.Net.IPEndPoint> peers)
        {
            TorrentDownload? download;
            lock (_sync)
            {
                download = _download;
                if (download is null)
                {
                    foreach (var peer in peers)
                        if (_pendingPeers.Count < MostPendingPeers && !_pendingPeers.Contains(peer)) _pendingPeers.Add(peer);
                    return;
                }
            }
            download.AddPeers(peers);
        }

        /// <summary>An incoming connection the listener routed here: the run in progress takes it, else it is closed.</summary>
        internal Task AcceptAsync(PeerConnection connection, Handshake theirs)
        {
            TorrentDownload? download;
            lock (_sync) download = _download;
            if (download is null)
            {
                connection.Dispose();
                return Task.CompletedTask;
            }
            return download.AcceptAsync(connection, theirs);
        }
    }
}
