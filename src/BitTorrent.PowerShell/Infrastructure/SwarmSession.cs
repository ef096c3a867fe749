using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Session;
using BitTorrent.Storage;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>What Start-TorrentDownload and Start-TorrentSeed do with their torrents: one <see cref="TorrentSession"/>
    /// for the whole command (one port, one peer id, the command's rate caps, -ThrottleLimit torrents checking or
    /// downloading at once), reported through the <see cref="EnginePump"/>: a parent progress record and one child per
    /// torrent at work, the engine's events, each torrent's failure as an error record (through <see cref="Errors"/>)
    /// and each torrent's result as it ends.</summary>
    internal sealed class SwarmSession
    {
        private const int ParentActivityId = 1;
        /// <summary>Child progress records per update: a command seeding a thousand torrents shows the busiest few.</summary>
        private const int MostChildRecords = 16;
        /// <summary>How long a stopping command waits for its metadata fetches to end.</summary>
        private static readonly TimeSpan FetchStopWait = TimeSpan.FromSeconds(10);
        private readonly List<Entry> _entries = new List<Entry>();
        private readonly HashSet<string> _infoHashes = new HashSet<string>(StringComparer.Ordinal);
        /// <summary>Held to pause or resume the torrents, and while the running session appears or goes.</summary>
        private readonly object _control = new object();
        private TorrentSession? _session;
        /// <summary>The running command's pump (for fetches restarted by a resume from another thread).</summary>
        private EnginePump? _pump;
        private bool _paused;
        private volatile string _summary = string.Empty;
        private volatile string _percentText = string.Empty;

        public TorrentSessionOptions SessionOptions { get; set; } = new TorrentSessionOptions();

        /// <summary>"Downloading" or "Seeding", for the progress activity and error messages.</summary>
        public string Verb { get; set; } = "Downloading";

        public int Count => _entries.Count;

        /// <summary>The latest "42 % · 12.3 MiB/s · 5 peers" (empty before the first progress; any thread).</summary>
        public string Summary => _summary;

        /// <summary>The latest "42 %" (empty before the first progress; any thread).</summary>
        public string PercentText => _percentText;

        /// <summary>Pauses every torrent (any thread): each run stops cleanly (data flushed, resume record saved, peers
        /// disconnected); completes when they all have. Torrents not added yet are paused as they are added.</summary>
        public Task PauseAsync()
        {
            lock (_control)
            {
                _paused = true;
                return PauseAdded();
            }
        }

        /// <summary>Queues every paused torrent again (any thread); each new run keeps every verified piece.</summary>
        public void Resume()
        {
            lock (_control)
            {
                _paused = false;
                var session = _session;
                if (session is null) return;
                foreach (var entry in _entries)
                {
                    if (entry.Handle is not null) session.Resume(entry.Handle);
                    // A metadata fetch the pause stopped starts again (one still winding down restarts as it ends).
                    else if (entry.Magnet is not null && entry.Fetch is null && !entry.FetchEnded && _pump is not null)
                    {
                        entry.FetchPaused = false;
                        Fetch(entry, session, _pump);
                    }
                }
            }
        }

        /// <summary>Under <see cref="_control"/>.</summary>
        private Task PauseAdded()
        {
            var session = _session;
            if (session is null) return Task.CompletedTask;
            var stopping = _entries.Where(e => e.Handle is not null).Select(e => session.PauseAsync(e.Handle!)).ToList();
            // Metadata fetches move data too: a suspended job stops them, and fetches them again when resumed.
            foreach (var entry in _entries.Where(e => e.Handle is null && e.Fetch is not null && !e.Fetch.IsCompleted))
            {
                entry.FetchPaused = true;
                entry.FetchStop?.Cancel();
                stopping.Add(entry.Fetch!.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
            }
            return Task.WhenAll(stopping);
        }

        /// <summary>Queues a torrent; false (and nothing queued) when the same torrent is already queued: a session
        /// takes each info-hash once (incoming peers are routed by it).</summary>
        public bool Add(TorrentInfo torrent, string destination, DownloadOptions options)
        {
            if (!_infoHashes.Add(torrent.InfoHash)) return false;
            _entries.Add(new Entry(torrent, destination, options, ParentActivityId + 1 + _entries.Count));
            return true;
        }

        /// <summary>Queues a magnet link whose metadata must first be fetched from the swarm (in the command's session,
        /// so on its port); then it is kept in <c>&lt;destination&gt;/.bittorrent/&lt;info-hash&gt;.torrent</c> and the torrent
        /// runs like any other with the options <paramref name="prepare"/> gives for it (null, and a warning: nothing
        /// to do). False when the same torrent is already queued.</summary>
        public bool AddMagnet(MagnetUri magnet, string destination, MetadataFetchOptions fetch, Func<TorrentInfo, (DownloadOptions? Options, string? Warning)> prepare)
        {
            if (!_infoHashes.Add(magnet.InfoHash!)) return false;
            _entries.Add(new Entry(magnet, destination, fetch, prepare, ParentActivityId + 1 + _entries.Count));
            return true;
        }

        /// <summary>Runs to the end or until the token is cancelled (Ctrl+C, Stop-Job); every torrent then stops
        /// cleanly and still reports its result.</summary>
        public void Run(IRecordSink output, CancellationToken stopToken)
        {
            using var pump = new EnginePump(output, stopToken);
            TorrentSession session;
            try
            {
                session = new TorrentSession(SessionOptions);
            }
            catch (SocketException ex)
            {
                pump.Sink.WriteError(Errors.ListenFailed(ex, SessionOptions.ListenAddress, SessionOptions.ListenPort));
                return;
            }
            var ready = new List<Entry>();
            pump.Events = session.Events;
            _pump = pump;
            pump.OnEvent = ReportFailure;
            pump.Progress = WriteProgress;
            // Results are written after the turn that drained their torrent's events (its failure first).
            pump.AfterTurn = sink =>
            {
                foreach (var entry in ready) Report(entry, sink);
                ready.Clear();
            };
            Func<bool> allReported = () =>
            {
                ready.AddRange(_entries.Where(e => !e.Reported && (e.FetchEnded || (e.Handle is not null && e.Handle.Finished.IsCompleted))));
                foreach (var entry in ready) entry.Reported = true;
                return _entries.All(e => e.Reported);
            };
            try
            {
                lock (_control)
                {
                    foreach (var entry in _entries)
                    {
                        if (entry.Torrent is null) Fetch(entry, session, pump);
                        else entry.Handle = session.Add(entry.Torrent, entry.Destination, entry.Options!);
                    }
                    _session = session;
                    // A job suspended before its torrents were added: they start paused (a queued torrent pauses at once).
                    if (_paused) _ = PauseAdded();
                }
                pump.RunUntil(allReported);
            }
            finally
            {
                // Whatever happens on this thread, no torrent keeps running after the cmdlet returns: the session stops
                // them all (bounded), then what they said last and their results are written.
                lock (_control) _session = null;
                session.Dispose();
                foreach (var entry in _entries.Where(e => e.Handle is null && e.Fetch is null)) entry.Reported = true; // never added (the add threw)
                // A fetch ends on the stop (its token) or the session's disposal; one that does not within the bound
                // is left behind rather than holding the command.
                var giveUp = DateTime.UtcNow + FetchStopWait;
                pump.RunUntil(() =>
                {
                    if (DateTime.UtcNow > giveUp)
                        foreach (var entry in _entries.Where(e => e.Handle is null)) entry.Reported = true;
                    return allReported();
                }, untilDoneEvenIfStopped: true);
                foreach (var entry in _entries.Where(e => e.ProgressShown))
                    pump.Sink.WriteProgress(new ProgressRecord(entry.ActivityId, Activity(entry), "Done") { ParentActivityId = ParentActivityId, RecordType = ProgressRecordType.Completed });
                pump.Sink.WriteProgress(new ProgressRecord(ParentActivityId, ParentActivity(), "Done") { RecordType = ProgressRecordType.Completed });
                SummarizeEnd();
            }
            pump.RethrowIfStopped();
        }

        /// <summary>Starts fetching a magnet link's metadata (pipeline thread, under <see cref="_control"/>). Its end is
        /// handled on the pipeline thread: the metadata kept, the torrent added (paused if the job is suspended); or the
        /// failure recorded as the entry's error.</summary>
        private void Fetch(Entry entry, TorrentSession session, EnginePump pump)
        {
            var magnet = entry.Magnet!;
            entry.FetchStarted = DateTime.UtcNow;
            var stop = CancellationTokenSource.CreateLinkedTokenSource(pump.Token);
            entry.FetchStop = stop;
            entry.Fetch = pump.Watch(Task.Run(() => session.FetchMetadataAsync(magnet, entry.FetchOptions!, stop.Token)));
            entry.Fetch.ContinueWith(done => pump.Post(sink => Fetched(entry, done, session, sink)),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private void Fetched(Entry entry, Task<TorrentInfo> fetch, TorrentSession session, IRecordSink sink)
        {
            // Cancelled by the stop, or cut off by the session closing at the end of the command: no error of its own.
            bool closing;
            lock (_control) closing = _session is null;
            if (fetch.IsCanceled || (fetch.IsFaulted && (fetch.Exception!.GetBaseException() is OperationCanceledException
                    || (closing && fetch.Exception!.GetBaseException() is ObjectDisposedException))))
            {
                lock (_control)
                {
                    if (entry.FetchPaused && _session is not null && !_pump!.Stopping)
                    {
                        // Stopped by a suspend, not by the end: it waits for the resume (or restarts now if that came first).
                        entry.Fetch = null;
                        if (!_paused)
                        {
                            entry.FetchPaused = false;
                            Fetch(entry, _session, _pump);
                        }
                        return;
                    }
                }
                entry.FetchEnded = true;
                return;
            }
            if (fetch.IsFaulted)
            {
                var ex = fetch.Exception!.GetBaseException();
                var error = ex is DownloadException de ? de.Error : (DownloadError?)null;
                entry.Errors.Add(ex is TorrentFormatException bad
                    ? Errors.InvalidFetchedTorrent(bad, entry.Magnet!)
                    : Errors.TorrentFailed(error, ex, ex.Message, entry.Name, entry.Magnet, entry.Destination, "Fetching the metadata of"));
                entry.FetchEnded = true;
                return;
            }
            var torrent = fetch.Result;
            try
            {
                string kept = MetadataCache.Save(entry.Destination, torrent);
                sink.WriteVerbose($"{torrent.Name}: metadata fetched ({torrent.InfoHash}), kept in '{kept}'.");
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                sink.WriteWarning($"{torrent.Name}: the fetched metadata could not be kept ({ex.Message}); a new run fetches it again.");
            }
            var (options, warning) = entry.Prepare!(torrent);
            if (warning is not null) sink.WriteWarning(warning);
            if (options is null)
            {
                entry.FetchEnded = true;
                return;
            }
            entry.Torrent = torrent;
            entry.Options = options;
            lock (_control)
            {
                if (_session is null) { entry.FetchEnded = true; return; }   // the command is ending
                try
                {
                    entry.Handle = session.Add(torrent, entry.Destination, options);
                }
                catch (Exception ex) when (ex is InvalidOperationException || ex is ObjectDisposedException)
                {
                    entry.Errors.Add(Errors.TorrentFailed(null, ex, ex.Message, entry.Name, torrent, entry.Destination, Verb));
                    entry.FetchEnded = true;
                    return;
                }
                if (_paused) _ = session.PauseAsync(entry.Handle);
            }
        }

        /// <summary>A torrent's failure, as an error record naming the torrent (the generic routing knows no verb).</summary>
        private bool ReportFailure(EngineEvent e)
        {
            if (e.Kind != EngineEventKind.TorrentFailed) return false;
            var entry = _entries.FirstOrDefault(x => x.InfoHash == e.InfoHash);
            if (entry is null || entry.Torrent is null) return false;
            entry.Errors.Add(Errors.TorrentFailed(e.Error, e.Exception, e.Message, entry.Torrent.Name, entry.Torrent, entry.Destination, Verb));
            return true;
        }

        private void Report(Entry entry, IRecordSink sink)
        {
            foreach (var error in entry.Errors) sink.WriteError(error);
            entry.Errors.Clear();
            if (entry.ProgressShown)
            {
                sink.WriteProgress(new ProgressRecord(entry.ActivityId, Activity(entry), "Done") { ParentActivityId = ParentActivityId, RecordType = ProgressRecordType.Completed });
                entry.ProgressShown = false;
            }
            if (entry.Handle is not null) sink.WriteObject(entry.Handle.Finished.Result.Result);
        }

        private void WriteProgress(IRecordSink sink)
        {
            long wanted = 0, verified = 0;
            double rate = 0, uploadRate = 0;
            int peerCount = 0;
            bool paused;
            lock (_control) paused = _paused;
            var working = new List<(Entry Entry, DownloadStatus Status)>();
            var fetching = new List<Entry>();
            foreach (var entry in _entries)
            {
                var status = entry.Handle?.GetStatus();
                if (status is null)
                {
                    wanted += entry.Size;
                    if (entry.Torrent is null && !entry.FetchEnded && entry.Fetch is not null) fetching.Add(entry);
                    continue;
                }
                wanted += status.TotalWanted;
                verified += status.BytesVerified;
                // A paused torrent's status is its last run's: its rates and peers are gone with that run.
                if (!IsWorking(entry.Handle!.State)) continue;
                rate += status.DownloadRate;
                uploadRate += status.UploadRate;
                peerCount += status.ConnectedPeers;
                if (!entry.Reported) working.Add((entry, status));
            }
            int percent = Summarize(wanted, verified, rate, uploadRate, peerCount);
            sink.WriteProgress(new ProgressRecord(ParentActivityId, ParentActivity(),
                (paused ? "Suspended · " : "") + $"{Units.FormatBytes(verified)} of {Units.FormatBytes(wanted)} · {Units.FormatRate(rate)}")
            {
                PercentComplete = percent,
            });
            foreach (var entry in fetching.Take(MostChildRecords))
            {
                entry.ProgressShown = true;
                int seconds = (int)(DateTime.UtcNow - entry.FetchStarted).TotalSeconds;
                sink.WriteProgress(new ProgressRecord(entry.ActivityId, $"Fetching metadata {entry.Name}",
                    $"Asking peers for the metadata of {entry.Magnet!.InfoHash} · {seconds} s")
                {
                    ParentActivityId = ParentActivityId,
                });
            }
            // Checking and downloading first (they are few: -ThrottleLimit), then the seeds moving the most data.
            foreach (var (entry, s) in working.OrderBy(w => w.Status.State == DownloadState.Seeding ? 1 : 0)
                         .ThenByDescending(w => w.Status.UploadRate + w.Status.DownloadRate).Take(MostChildRecords))
            {
                string peers = $"{s.ConnectedPeers} peer{(s.ConnectedPeers == 1 ? "" : "s")}";
                string description = s.State == DownloadState.Checking
                    ? "Checking existing data"
                    : s.State == DownloadState.Seeding
                        ? $"Seeding · {Units.FormatBytes(s.BytesUploaded)} uploaded · {Units.FormatRate(s.UploadRate)} · {peers}"
                        : $"{Units.FormatBytes(s.BytesVerified)} of {Units.FormatBytes(s.TotalWanted)} · {Units.FormatRate(s.DownloadRate)} · {peers}";
                entry.ProgressShown = true;
                sink.WriteProgress(new ProgressRecord(entry.ActivityId, Activity(entry), description)
                {
                    ParentActivityId = ParentActivityId,
                    PercentComplete = (int)Math.Min(100, s.PercentComplete),
                    SecondsRemaining = s.SecondsRemaining,
                });
            }
        }

        /// <summary>Keeps what <see cref="Summary"/> and <see cref="PercentText"/> say; returns the percentage.</summary>
        private int Summarize(long wanted, long verified, double rate, double uploadRate, int peerCount)
        {
            int percent = wanted == 0 ? 100 : (int)Math.Min(100, 100 * verified / wanted);
            _percentText = $"{percent} %";
            string peersText = $"{peerCount} peer{(peerCount == 1 ? "" : "s")}";
            _summary = uploadRate > 0 && rate < 1
                ? $"{percent} % · {Units.FormatRate(uploadRate)} up · {peersText}"
                : $"{percent} % · {Units.FormatRate(rate)} · {peersText}";
            return percent;
        }

        /// <summary>The summary once every torrent has ended: what they verified, nothing moving.</summary>
        private void SummarizeEnd()
        {
            long wanted = 0, verified = 0;
            foreach (var entry in _entries)
            {
                var status = entry.Handle?.GetStatus();
                wanted += status?.TotalWanted ?? entry.Size;
                verified += status?.BytesVerified ?? 0;
            }
            Summarize(wanted, verified, 0, 0, 0);
        }

        private static bool IsWorking(TorrentState state) =>
            state == TorrentState.Checking || state == TorrentState.Downloading || state == TorrentState.Seeding;

        private string ParentActivity() => _entries.Count == 1 ? $"{Verb} 1 torrent" : $"{Verb} {_entries.Count} torrents";

        private string Activity(Entry entry) => $"{Verb} {entry.Name}";

        private sealed class Entry
        {
            public Entry(TorrentInfo torrent, string destination, DownloadOptions options, int activityId)
            {
                Torrent = torrent;
                InfoHash = torrent.InfoHash;
                Destination = destination;
                Options = options;
                ActivityId = activityId;
            }

            public Entry(MagnetUri magnet, string destination, MetadataFetchOptions fetch,
                Func<TorrentInfo, (DownloadOptions?, string?)> prepare, int activityId)
            {
                Magnet = magnet;
                InfoHash = magnet.InfoHash!;
                Destination = destination;
                FetchOptions = fetch;
                Prepare = prepare;
                ActivityId = activityId;
            }

            /// <summary>Null for a magnet link until its metadata has been fetched.</summary>
            public TorrentInfo? Torrent { get; set; }
            public string InfoHash { get; }
            public MagnetUri? Magnet { get; }
            public MetadataFetchOptions? FetchOptions { get; }
            public Func<TorrentInfo, (DownloadOptions?, string?)>? Prepare { get; }
            public Task<TorrentInfo>? Fetch { get; set; }
            /// <summary>Cancels this fetch alone (a suspend); the command's stop cancels it too.</summary>
            public CancellationTokenSource? FetchStop { get; set; }
            /// <summary>The fetch was stopped by a suspend: it starts again on resume.</summary>
            public bool FetchPaused { get; set; }
            public DateTime FetchStarted { get; set; }
            /// <summary>The fetch ended without adding a torrent (failed, stopped or nothing to do): it is reported.</summary>
            public bool FetchEnded { get; set; }
            public string Destination { get; }
            public DownloadOptions? Options { get; set; }
            public int ActivityId { get; }
            public SessionTorrent? Handle { get; set; }
            public bool Reported { get; set; }
            public bool ProgressShown { get; set; }
            /// <summary>Its failure, drained from the events, written just before its result.</summary>
            public List<ErrorRecord> Errors { get; } = new List<ErrorRecord>();

            public string Name => Torrent?.Name ?? TorrentInput.DisplayName(Magnet!);
            public long Size => Torrent?.TotalSize ?? Magnet?.ExactLength ?? 0;
        }
    }
}
