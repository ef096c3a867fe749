using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>The one way a cmdlet runs engine work and reports it: the work runs on the thread pool and posts what
    /// it has to say (to <see cref="Post"/>, or to an <see cref="EngineEventQueue"/>); the pipeline thread pumps, and is
    /// the only one that writes records.
    /// <para>Each turn runs the posted writes in order, drains the event queue (each event routed by severity: Verbose →
    /// verbose, Information → information tagged 'BitTorrent' and its kind, Warning → warning, Error → an error record
    /// through <see cref="Errors"/>), and writes progress at most every <see cref="ProgressEvery"/>. Waits between
    /// turns are short (a tenth of a second at most) and end early when there is something to write.</para>
    /// <para>Stopping: the caller's token (StopProcessing, Stop-Job) cancels <see cref="Token"/>; so does a Write*
    /// that throws PipelineStoppedException (Ctrl+C, or Select-Object -First downstream), after which writes are
    /// dropped (progress is still tried, so Completed records can close the bars) and <see cref="RethrowIfStopped"/>
    /// rethrows it once the work has been shut down, so PowerShell finishes the stop as usual.</para></summary>
    internal sealed class EnginePump : IDisposable
    {
        public static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
        private static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(100);

        private readonly StoppableSink _sink;
        private readonly CancellationTokenSource _stop;
        private readonly ConcurrentQueue<Action<IRecordSink>> _outbox = new ConcurrentQueue<Action<IRecordSink>>();
        private readonly SemaphoreSlim _signal = new SemaphoreSlim(0);
        // Started now: the first progress record comes after one interval, so work that ends at once shows no bar.
        private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

        public EnginePump(IRecordSink output, CancellationToken stopToken)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(stopToken);
            _sink = new StoppableSink(output ?? throw new ArgumentNullException(nameof(output)), _stop);
        }

        /// <summary>Cancelled when the user stops the command or the pipeline stops taking records.</summary>
        public CancellationToken Token => _stop.Token;

        public bool Stopping => _stop.IsCancellationRequested;

        /// <summary>Where records go (pipeline thread only); writes after a pipeline stop are dropped.</summary>
        public IRecordSink Sink => _sink;

        /// <summary>Engine events drained every turn (null: none).</summary>
        public EngineEventQueue? Events { get; set; }

        /// <summary>Handles an event before the severity routing; true when it was handled (pipeline thread).</summary>
        public Func<EngineEvent, bool>? OnEvent { get; set; }

        /// <summary>Writes progress (pipeline thread), called at most every <see cref="ProgressEvery"/>.</summary>
        public Action<IRecordSink>? Progress { get; set; }

        /// <summary>Runs after each turn of <see cref="RunUntil"/> (pipeline thread): what must follow the events
        /// drained in that turn, such as a torrent's result after its failure.</summary>
        public Action<IRecordSink>? AfterTurn { get; set; }

        /// <summary>Queues a write for the pipeline thread (callable from any thread).</summary>
        public void Post(Action<IRecordSink> write)
        {
            _outbox.Enqueue(write ?? throw new ArgumentNullException(nameof(write)));
            Wake();
        }

        /// <summary>Ends the current wait early (from any thread).</summary>
        public void Wake()
        {
            if (_signal.CurrentCount == 0)
            {
                try { _signal.Release(); } catch (ObjectDisposedException) { } catch (SemaphoreFullException) { }
            }
        }

        /// <summary>Wakes the pump when the task ends, so a finished task is noticed at once.</summary>
        public T Watch<T>(T task) where T : Task
        {
            task.ContinueWith(_ => Wake(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return task;
        }

        /// <summary>Stops the work (as a Ctrl+C would).</summary>
        public void Cancel() => _stop.Cancel();

        /// <summary>One turn without waiting: posted writes, events, progress if due.</summary>
        public void Turn()
        {
            while (_outbox.TryDequeue(out var write)) write(_sink);
            var events = Events;
            if (events is not null)
                while (events.TryRead(out var e)) Route(e);
            var progress = Progress;
            if (progress is not null && _sinceProgress.Elapsed >= ProgressEvery)
            {
                _sinceProgress.Restart();
                progress(_sink);
            }
        }

        /// <summary>Turns until <paramref name="done"/> says so (checked before each turn, so a last turn always follows
        /// it) or, unless <paramref name="untilDoneEvenIfStopped"/>, until the command is stopped.</summary>
        public void RunUntil(Func<bool> done, bool untilDoneEvenIfStopped = false)
        {
            while (true)
            {
                bool finished = done();
                Turn();
                AfterTurn?.Invoke(_sink);
                if (finished || (Stopping && !untilDoneEvenIfStopped)) return;
                _signal.Wait(LongestWait);
            }
        }

        /// <summary>Pumps until the task ends, then returns its result or throws its own exception (not an AggregateException).</summary>
        public T Await<T>(Task<T> task)
        {
            Watch(task);
            RunUntil(() => task.IsCompleted, untilDoneEvenIfStopped: true);
            return task.GetAwaiter().GetResult();
        }

        /// <summary>Writes one event to the stream its severity names. Verbose and warning lines read
        /// "name: [Tag @peer] message": the tag (<see cref="EngineEvent.Tag"/>, enum names only) is what scripts match on.</summary>
        public void Route(EngineEvent e)
        {
            if (OnEvent is not null && OnEvent(e)) return;
            switch (e.Severity)
            {
                case EventSeverity.Verbose:
                    _sink.WriteVerbose(TaggedLine(e));
                    break;
                case EventSeverity.Information:
                    var record = new InformationRecord(e, "BitTorrent");
                    record.Tags.Add("BitTorrent");
                    record.Tags.Add(e.Kind.ToString());
                    _sink.WriteInformation(record);
                    break;
                case EventSeverity.Warning:
                    _sink.WriteWarning(TaggedLine(e));
                    break;
                default:
                    _sink.WriteError(Errors.EngineError(e));
                    break;
            }
        }

        /// <summary>"payload.bin: [PeerBanned/Banned @127.0.0.1:5000] Banning …": the torrent's name, then in brackets
        /// the event's <see cref="EngineEvent.Tag"/> and, for an event about one peer, "@" and its
        /// <see cref="EngineEvent.Peer"/> — both from the event's fields, never from its sentence — then the sentence.</summary>
        internal static string TaggedLine(EngineEvent e)
        {
            string label = e.Peer is null ? e.Tag : $"{e.Tag} @{e.Peer}";
            return e.TorrentName is null ? $"[{label}] {e.Message}" : $"{e.TorrentName}: [{label}] {e.Message}";
        }

        /// <summary>After a pipeline stop, rethrows it (call once the work is shut down).</summary>
        public void RethrowIfStopped() => _sink.RethrowIfStopped();

        public void Dispose()
        {
            // Late workers may still Post or Wake: the semaphore and the token source are left to the GC.
            _stop.Cancel();
        }

        /// <summary>Passes records on until the pipeline says it is stopping, then cancels the work and drops the rest
        /// (the pipeline can take no more).</summary>
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
            public void WriteInformation(InformationRecord record) => Write(() => _inner.WriteInformation(record));

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
    }
}
