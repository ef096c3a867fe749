using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Trackers;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Shared by the cmdlets that query trackers: torrents from -Path/-LiteralPath (.torrent files, magnet
    /// links, info-hashes) or TorrentInfo objects,
    /// -Tracker, -TimeoutSec, -Port, -NumWant; the queries run on worker threads (several torrents at once, every
    /// tracker of a torrent at once) and post events to the <see cref="EnginePump"/>, which the pipeline thread turns,
    /// writing records and progress between short waits. StopProcessing cancels everything.</summary>
    public abstract class TrackerCmdletBase : TorrentPathCmdlet, IDisposable
    {
        protected const string TorrentSet = "Torrent";

        /// <summary>Torrents in flight at once; further pipeline input waits (the queue stays bounded).</summary>
        private const int MaxTorrentsInFlight = 8;
        private const int DynamicPortFirst = 49152; // IANA dynamic/private range: 49152–65535

        /// <summary>Torrents as Get-TorrentInfo emits them, by value or by property name (-InputObject is the name
        /// this parameter had before every cmdlet called it -Torrent).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TorrentSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("InputObject")]
        [ValidateNotNull]
        public TorrentInfo[] Torrent { get; set; } = Array.Empty<TorrentInfo>();

        /// <summary>Tracker URLs to ask instead of the torrent's own (each is its own tier, in the order given).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TorrentTrackerCompleter))]
        public string[]? Tracker { get; set; }

        /// <summary>Seconds each tracker request may take (DNS, connect, retransmissions, reading the reply).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 15;

        /// <summary>The TCP port announced to the trackers. Default: a random port in 49152–65535, chosen per run.
        /// Not 6881: trackers key peers by address and port, so announcing (and then stopping) on the port of a real
        /// client behind the same address would replace that client's entry and then remove it.</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>How many peers to ask each tracker for.</summary>
        [Parameter]
        [ValidateRange(0, 1000)]
        public int NumWant { get; set; } = AnnounceRequest.DefaultNumWant;

        /// <summary>The local address tracker requests leave from (the interface to use).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BindAddress { get; set; }

        /// <summary>A proxy for HTTP(S) tracker requests: http://host:port or socks5://host:port. UDP trackers are
        /// skipped with it (they cannot go through it).</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        /// <summary>User name and password for -Proxy.</summary>
        [Parameter]
        [ValidateNotNull]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly List<TorrentQuery> _active = new List<TorrentQuery>();
        private EnginePump? _pump;
        private TrackerClient? _client;
        private byte[] _peerId = Array.Empty<byte>();
        private uint _key;
        private int _torrentsStarted, _torrentsDone, _trackersTotal, _trackersDone, _progressShown;
        private string _lastProgress = string.Empty;

        protected CancellationToken Cancellation => _cancel.Token;

        /// <summary>The progress activity, e.g. "Querying trackers".</summary>
        protected abstract string ProgressActivity { get; }

        /// <summary>Starts the work for one torrent (on worker threads). Post events with <see cref="TorrentQuery.Post"/>
        /// and count finished tracker operations with <see cref="TrackerOperationDone"/>.</summary>
        protected abstract Task RunAsync(TorrentQuery query, CancellationToken cancellationToken);

        /// <summary>Operations (announces, scrapes) one torrent will count, for the progress bar.</summary>
        protected abstract int OperationsPerTorrent(TorrentQuery query);

        /// <summary>Handles one posted event, on the pipeline thread.</summary>
        protected abstract void OnEvent(TorrentQuery query, object item);

        /// <summary>Called on the pipeline thread once a torrent's work ended and its events were handled.</summary>
        protected abstract void OnCompleted(TorrentQuery query);

        protected override void BeginProcessing()
        {
            if (Tracker is not null)
            {
                foreach (var url in Tracker)
                {
                    try { TrackerUrl.Parse(url); }
                    catch (TrackerException ex) { ThrowTerminatingError(Errors.InvalidTrackerUrl(ex, url)); }
                }
            }
            _client = new TrackerClient(new TrackerClientOptions
            {
                BindAddress = NetworkParameters.Bind(this, BindAddress, null),
                Proxy = NetworkParameters.Proxy(this, Proxy, ProxyCredential),
            });
            _peerId = ClientIdentity.NewPeerId();
            var random = new byte[6];
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create()) rng.GetBytes(random);
            _key = BitConverter.ToUInt32(random, 0);
            if (!MyInvocation.BoundParameters.ContainsKey(nameof(Port)))
                Port = DynamicPortFirst + BitConverter.ToUInt16(random, 4) % (65536 - DynamicPortFirst);
            WriteVerbose($"Announcing port {Port} with peer id {System.Text.Encoding.ASCII.GetString(_peerId)}.");
            _pump = new EnginePump(new CmdletSink(this), _cancel.Token) { Progress = ShowProgress };
        }

        protected override void ProcessRecord()
        {
            IEnumerable<TorrentTarget?> targets = ParameterSetName == TorrentSet
                ? Torrent.Select(t => (TorrentTarget?)TorrentTarget.From(t))
                : ResolveInputs().Select(source => source.Magnet is not null
                    ? TorrentTarget.From(source.Magnet)
                    : ReadTorrent(source.Path!) is TorrentInfo t ? TorrentTarget.From(t) : null);
            foreach (var target in targets)
            {
                if (target is null) continue;
                Start(target);
                Pump(untilInFlightBelow: MaxTorrentsInFlight);
            }
            Pump(untilInFlightBelow: int.MaxValue);
        }

        protected override void EndProcessing()
        {
            Pump(untilInFlightBelow: 1);
            if (_progressShown > 0)
                _pump!.Sink.WriteProgress(new ProgressRecord(1, ProgressActivity, "Done") { RecordType = ProgressRecordType.Completed });
            _pump!.RethrowIfStopped();
        }

        protected override void StopProcessing() => _cancel.Cancel();

        /// <summary>Called by workers when one announce or scrape finished (any outcome).</summary>
        protected void TrackerOperationDone()
        {
            Interlocked.Increment(ref _trackersDone);
            _pump?.Wake();
        }

        /// <summary>Called for each torrent before its trackers are asked (pipeline thread); returns the query's
        /// initial <see cref="TorrentQuery.State"/>. <paramref name="needsNoTracker"/>: the torrent is served
        /// without trackers (Get-TorrentPeer writes a magnet link's x.pe peers), so having none is no error.</summary>
        private protected virtual object? BeginTorrent(TorrentTarget torrent, out bool needsNoTracker)
        {
            needsNoTracker = false;
            return null;
        }

        private void Start(TorrentTarget torrent)
        {
            object? state = BeginTorrent(torrent, out bool needsNoTracker);
            IEnumerable<IEnumerable<string>> tiers = Tracker is not null
                ? Tracker.Select(u => new[] { u })
                : torrent.TrackerTiers;
            var given = tiers.Select(t => t.ToArray()).ToArray();
            var list = new TrackerTierList(given);
            if (list.TierCount == 0)
            {
                if (!needsNoTracker) WriteError(Errors.NoTrackers(torrent));
                return;
            }
            var request = new AnnounceRequest(torrent.InfoHashBytes, _peerId)
            {
                Port = Port,
                Left = torrent.Left,
                NumWant = NumWant,
                Key = _key,
                Event = TrackerEvent.Started,
            };
            var peerQuery = new TrackerPeerQuery(_client!, list, request, TimeSpan.FromSeconds(TimeoutSec));
            var pump = _pump!;
            TorrentQuery? query = null;
            query = new TorrentQuery(torrent, peerQuery, item => pump.Post(_ => OnEvent(query!, item)))
            {
                GivenOrder = given.SelectMany(t => t).Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.Trim()).Distinct().ToArray(),
                State = state,
            };
            Interlocked.Add(ref _trackersTotal, OperationsPerTorrent(query));
            _torrentsStarted++;
            WriteVerbose($"Querying {list.All.Count} tracker(s) for '{torrent.Name}' ({torrent.InfoHash}).");
            query.Work = Task.Run(() => RunAsync(query, _cancel.Token));
            // Posted after every event the work posted, so the torrent's events are handled before its end.
            query.Work.ContinueWith(_ => pump.Post(_ => Finished(query)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _active.Add(query);
        }

        /// <summary>One torrent's work ended (pipeline thread, after its events).</summary>
        private void Finished(TorrentQuery query)
        {
            _active.Remove(query);
            _torrentsDone++;
            if (query.Work!.IsFaulted && !_cancel.IsCancellationRequested)
            {
                var ex = query.Work.Exception!.GetBaseException();
                WriteError(new ErrorRecord(ex, Errors.TrackerAnnounceFailedId, ErrorCategory.NotSpecified, query.Torrent.InputObject));
            }
            if (!query.Work.IsCanceled && !_cancel.IsCancellationRequested) OnCompleted(query);
        }

        /// <summary>Turns the pump on the pipeline thread until fewer than <paramref name="untilInFlightBelow"/>
        /// torrents are in flight (int.MaxValue: one turn, no waiting) or the command is stopped.</summary>
        private void Pump(int untilInFlightBelow)
        {
            if (untilInFlightBelow == int.MaxValue) _pump!.Turn();
            else _pump!.RunUntil(() => _active.Count < untilInFlightBelow);
        }

        private void ShowProgress(IRecordSink sink)
        {
            if (_active.Count == 0) return;
            int done = Volatile.Read(ref _trackersDone), total = Math.Max(1, Volatile.Read(ref _trackersTotal));
            string status = $"{done} of {total} tracker request(s) done; {_torrentsDone} of {_torrentsStarted} torrent(s) finished";
            if (status == _lastProgress) return;
            _lastProgress = status;
            _progressShown++;
            sink.WriteProgress(new ProgressRecord(1, ProgressActivity, status)
            {
                PercentComplete = Math.Min(100, done * 100 / total),
                CurrentOperation = _active[0].Torrent.Name,
            });
        }

        public void Dispose()
        {
            // After a Ctrl+C workers may still be winding down: cancel them and close the sockets they use, but leave
            // the token source and the signal to the GC, so a late worker never touches a disposed object.
            _cancel.Cancel();
            _client?.Dispose();
            GC.SuppressFinalize(this);
        }

        /// <summary>One torrent being queried: the engine query, and a queue of events from its workers.</summary>
        protected sealed class TorrentQuery
        {
            private readonly Action<object> _post;

            internal TorrentQuery(TorrentTarget torrent, TrackerPeerQuery peerQuery, Action<object> post)
            {
                Torrent = torrent;
                PeerQuery = peerQuery;
                _post = post;
            }

            /// <summary>The torrent (from a .torrent file or a magnet link).</summary>
            internal TorrentTarget Torrent { get; }
            public TrackerPeerQuery PeerQuery { get; }
            internal Task? Work { get; set; }

            /// <summary>The tracker URLs in the order the torrent (or -Tracker) gave them, before any shuffle.</summary>
            public IReadOnlyList<string> GivenOrder { get; internal set; } = Array.Empty<string>();

            /// <summary>Per-cmdlet bookkeeping, touched only on the pipeline thread.</summary>
            public object? State { get; set; }

            /// <summary>Queues an event for the pipeline thread (callable from any thread).</summary>
            public void Post(object item) => _post(item);
        }
    }
}
