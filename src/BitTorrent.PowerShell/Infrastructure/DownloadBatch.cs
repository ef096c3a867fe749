using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Metainfo;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Runs several torrent downloads, at most <see cref="ThrottleLimit"/> at once, and reports them through a
    /// sink from the calling thread only: the engine works on the thread pool, this loop polls it about four times a
    /// second and turns what it sees into progress, verbose, error and output records.</summary>
    internal sealed class DownloadBatch
    {
        private const int ParentActivityId = 1;
        private readonly List<Item> _items = new List<Item>();

        public int ThrottleLimit { get; set; } = 3;

        /// <summary>Where to accept peer connections (null: do not listen). One port serves every torrent of the batch.</summary>
        public System.Net.IPAddress? ListenAddress { get; set; }
        public int ListenPort { get; set; }

        /// <summary>"Downloading" or "Seeding", for the progress activity.</summary>
        public string Verb { get; set; } = "Downloading";

        public int Count => _items.Count;

        /// <summary>Queues a torrent; false (and nothing queued) when the same torrent already goes to the same
        /// folder in this batch: two runs would write the same files and resume record at once.</summary>
        public bool Add(TorrentInfo torrent, string destination, DownloadOptions options)
        {
            var key = torrent.InfoHash + "|" + System.IO.Path.GetFullPath(destination);
            if (!_keys.Add(key)) return false;
            _items.Add(new Item(torrent, destination, options, ParentActivityId + 1 + _items.Count));
            return true;
        }

        private readonly HashSet<string> _keys = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Runs to the end or until the token is cancelled (Ctrl+C, Stop-Job); every download then stops
        /// cleanly and still reports its result.</summary>
        public void Run(IRecordSink output, CancellationToken stopToken)
        {
            // A stopping pipeline (Ctrl+C, or Select-Object -First downstream) throws from every Write*: from then on
            // the downloads are cancelled, their shutdown (flush, resume record) is still awaited, writes are dropped,
            // and the exception is rethrown at the end so PowerShell finishes the stop as usual.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopToken);
            var sink = new StoppableSink(output, stop);
            try
            {
                RunCore(sink, stop.Token);
            }
            finally
            {
                // Whatever happens on this thread, no download keeps running after the cmdlet returns.
                stop.Cancel();
                WaitForShutdown();
            }
            sink.RethrowIfStopped();
        }

        private void RunCore(IRecordSink sink, CancellationToken cancellationToken)
        {
            var pending = new Queue<Item>(_items);
            var running = new List<Item>();
            var lastProgress = DateTime.MinValue;
            BitTorrent.Download.PeerListener? listener = null;
            try
            {
                if (ListenAddress is not null) listener = new BitTorrent.Download.PeerListener(ListenAddress, ListenPort);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                sink.WriteError(new ErrorRecord(ex, Errors.ListenFailedId, ErrorCategory.ResourceUnavailable, $"{ListenAddress}:{ListenPort}")
                {
                    ErrorDetails = new ErrorDetails($"Cannot listen for peers on port {ListenPort}: {ex.Message}"),
                });
                return;
            }
            if (listener is not null) sink.WriteVerbose($"Listening for peers on port {listener.Port}.");
            try
            {
                RunAll(sink, pending, running, listener, cancellationToken, ref lastProgress);
            }
            finally
            {
                listener?.Dispose();
            }
        }

        private void RunAll(IRecordSink sink, Queue<Item> pending, List<Item> running, BitTorrent.Download.PeerListener? listener,
            CancellationToken cancellationToken, ref DateTime lastProgress)
        {
            while (pending.Count > 0 || running.Count > 0)
            {
                while (running.Count < Math.Max(1, ThrottleLimit) && pending.Count > 0 && !cancellationToken.IsCancellationRequested)
                {
                    var item = pending.Dequeue();
                    var options = listener is null ? item.Options : item.Options with { ListenPort = listener.Port };
                    item.Download = new TorrentDownload(item.Torrent, item.Destination, options);
                    listener?.Register(item.Download);
                    item.Task = Task.Run(() => item.Download.RunAsync(cancellationToken));
                    running.Add(item);
                }
                if (cancellationToken.IsCancellationRequested)
                {
                    // Torrents never started are reported as stopped, not silently dropped.
                    while (pending.Count > 0) sink.WriteObject(NotStarted(pending.Dequeue()));
                }

                try { Task.WaitAny(running.Select(r => (Task)r.Task!).ToArray(), 250); }
                catch (AggregateException) { }

                foreach (var item in running) Drain(item, sink);
                if (DateTime.UtcNow - lastProgress >= TimeSpan.FromMilliseconds(250))
                {
                    lastProgress = DateTime.UtcNow;
                    WriteProgress(sink, running);
                }
                foreach (var done in running.Where(r => r.Task!.IsCompleted).ToList())
                {
                    running.Remove(done);
                    Drain(done, sink);
                    Finish(done, sink);
                }
            }
            foreach (var item in _items)
                sink.WriteProgress(new ProgressRecord(item.ActivityId, Activity(item), "Done") { ParentActivityId = ParentActivityId, RecordType = ProgressRecordType.Completed });
            sink.WriteProgress(new ProgressRecord(ParentActivityId, ParentActivity(), "Done") { RecordType = ProgressRecordType.Completed });
        }

        /// <summary>Waits (bounded) for cancelled downloads to flush their data and save their resume records.</summary>
        private void WaitForShutdown()
        {
            var tasks = _items.Where(i => i.Task is not null && !i.Task.IsCompleted).Select(i => (Task)i.Task!).ToArray();
            if (tasks.Length == 0) return;
            try { Task.WaitAll(tasks, TimeSpan.FromSeconds(60)); }
            catch (AggregateException) { }
        }

        private void WriteProgress(IRecordSink sink, List<Item> running)
        {
            long wanted = 0, verified = 0;
            double rate = 0;
            foreach (var item in _items)
            {
                if (item.Download is null) { wanted += item.Torrent.TotalSize; continue; }
                var s = item.Download.GetStatus();
                wanted += s.TotalWanted;
                verified += s.BytesVerified;
                rate += s.DownloadRate;
            }
            var parent = new ProgressRecord(ParentActivityId, ParentActivity(),
                $"{Units.FormatBytes(verified)} of {Units.FormatBytes(wanted)} · {Units.FormatRate(rate)}")
            {
                PercentComplete = wanted == 0 ? 100 : (int)Math.Min(100, 100 * verified / wanted),
            };
            sink.WriteProgress(parent);
            foreach (var item in running)
            {
                var s = item.Download!.GetStatus();
                string peers = $"{s.ConnectedPeers} peer{(s.ConnectedPeers == 1 ? "" : "s")}";
                string description = s.State == DownloadState.Checking
                    ? "Checking existing data"
                    : s.State == DownloadState.Seeding
                        ? $"Seeding · {Units.FormatBytes(s.BytesUploaded)} uploaded · {Units.FormatRate(s.UploadRate)} · {peers}"
                        : $"{Units.FormatBytes(s.BytesVerified)} of {Units.FormatBytes(s.TotalWanted)} · {Units.FormatRate(s.DownloadRate)} · {peers}";
                sink.WriteProgress(new ProgressRecord(item.ActivityId, Activity(item), description)
                {
                    ParentActivityId = ParentActivityId,
                    PercentComplete = (int)Math.Min(100, s.PercentComplete),
                    SecondsRemaining = s.SecondsRemaining,
                });
            }
        }

        private static void Drain(Item item, IRecordSink sink)
        {
            if (item.Download is null) return;
            // Interim: one queue per download, until the session's shared pump replaces this loop.
            while (item.Download.Events.TryRead(out var e))
            {
                // The failure becomes the error record Finish writes; a warning too would say it twice.
                if (e.Kind == BitTorrent.Events.EngineEventKind.TorrentFailed) continue;
                if (e.Severity >= BitTorrent.Events.EventSeverity.Warning) sink.WriteWarning(e.ToString());
                else sink.WriteVerbose(e.ToString());
            }
        }

        private void Finish(Item item, IRecordSink sink)
        {
            sink.WriteProgress(new ProgressRecord(item.ActivityId, Activity(item), "Done") { ParentActivityId = ParentActivityId, RecordType = ProgressRecordType.Completed });
            var task = item.Task!;
            if (task.Status != TaskStatus.RanToCompletion)
            {
                // RunAsync always returns a result; a faulted task is a bug in the engine.
                sink.WriteError(new ErrorRecord(task.Exception?.GetBaseException() ?? new InvalidOperationException("The download ended without a result."),
                    Errors.DownloadFailedId, ErrorCategory.NotSpecified, item.Torrent));
                return;
            }
            var result = task.Result;
            if (result.Status == DownloadOutcome.Failed)
            {
                // Interim mapping until Errors.cs maps result.Error (the session branch).
                var error = result.Error;
                var record = new ErrorRecord(result.GetException() ?? new InvalidOperationException(result.Message ?? "The download failed."),
                    error?.ToString() ?? Errors.DownloadFailedId,
                    error == DownloadError.NoPeersAvailable ? ErrorCategory.ResourceUnavailable : error is null ? ErrorCategory.NotSpecified : ErrorCategory.WriteError, item.Torrent);
                record.ErrorDetails = new ErrorDetails($"{Verb} '{item.Torrent.Name}' failed: {result.Message}");
                sink.WriteError(record);
            }
            sink.WriteObject(result);
        }

        private DownloadResult NotStarted(Item item) => new DownloadResult
        {
            Name = item.Torrent.Name,
            InfoHash = item.Torrent.InfoHash,
            DestinationPath = item.Destination,
            TotalSize = item.Torrent.TotalSize,
            Status = DownloadOutcome.Stopped,
            Message = "Stopped before it started.",
        };

        private string ParentActivity() => _items.Count == 1 ? $"{Verb} 1 torrent" : $"{Verb} {_items.Count} torrents";

        private string Activity(Item item) => $"{Verb} {item.Torrent.Name}";

        /// <summary>Passes records on until the pipeline says it is stopping, then cancels the downloads and drops the
        /// rest (the pipeline can take no more).</summary>
        private sealed class StoppableSink : IRecordSink
        {
            private readonly IRecordSink _inner;
            private readonly CancellationTokenSource _stop;
            private PipelineStoppedException? _stopped;

            public StoppableSink(IRecordSink inner, CancellationTokenSource stop)
            {
                _inner = inner;
                _stop = stop;
            }

            public void WriteObject(object value) => Write(() => _inner.WriteObject(value));
            public void WriteError(ErrorRecord record) => Write(() => _inner.WriteError(record));
            public void WriteVerbose(string text) => Write(() => _inner.WriteVerbose(text));
            public void WriteWarning(string text) => Write(() => _inner.WriteWarning(text));

            /// <summary>Progress is still attempted while stopping: the Completed records close the host's bars.</summary>
            public void WriteProgress(ProgressRecord record)
            {
                try { _inner.WriteProgress(record); }
                catch (PipelineStoppedException ex)
                {
                    _stopped ??= ex;
                    _stop.Cancel();
                }
            }

            public void RethrowIfStopped()
            {
                if (_stopped is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_stopped).Throw();
            }

            private void Write(Action write)
            {
                if (_stopped is not null) return;
                try { write(); }
                catch (PipelineStoppedException ex)
                {
                    _stopped = ex;
                    _stop.Cancel();
                }
            }
        }

        private sealed class Item
        {
            public Item(TorrentInfo torrent, string destination, DownloadOptions options, int activityId)
            {
                Torrent = torrent;
                Destination = destination;
                Options = options;
                ActivityId = activityId;
            }

            public TorrentInfo Torrent { get; }
            public string Destination { get; }
            public DownloadOptions Options { get; }
            public int ActivityId { get; }
            public TorrentDownload? Download { get; set; }
            public Task<DownloadResult>? Task { get; set; }
        }
    }
}
