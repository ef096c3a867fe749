using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Events
{
    /// <summary>The engine's one event stream: many producers (peer loops, timers, trackers), one consumer (the
    /// cmdlet's pump on the pipeline thread, or a test). Bounded, and never blocks a producer: when full, a new
    /// Verbose event is dropped, and anything more important evicts the oldest event instead; either way the loss is
    /// counted and reported as one <see cref="EngineEventKind.EventsDropped"/> event when there is room again.</summary>
    public sealed class EngineEventQueue
    {
        public const int DefaultCapacity = 4096;

        private readonly object _sync = new object();
        private readonly Queue<EngineEvent> _queue = new Queue<EngineEvent>();
        private readonly int _capacity;
        private long _dropped;
        private long _droppedTotal;
        private bool _completed;
        private TaskCompletionSource<bool> _available = NewSignal();

        public EngineEventQueue(int capacity = DefaultCapacity)
        {
            if (capacity < 2) throw new ArgumentOutOfRangeException(nameof(capacity));
            _capacity = capacity;
        }

        /// <summary>Events lost to the bound since the queue was made.</summary>
        public long DroppedCount { get { lock (_sync) return _droppedTotal; } }

        public int Count { get { lock (_sync) return _queue.Count; } }

        /// <summary>Adds an event; never blocks, never throws (after <see cref="Complete"/> it is ignored).</summary>
        public void Publish(EngineEvent e)
        {
            if (e is null) throw new ArgumentNullException(nameof(e));
            TaskCompletionSource<bool>? signal = null;
            lock (_sync)
            {
                if (_completed) return;
                if (_dropped > 0 && _queue.Count < _capacity - 1)
                {
                    _queue.Enqueue(new EngineEvent(EngineEventKind.EventsDropped, EventSeverity.Warning,
                        $"{_dropped} engine event(s) were dropped because the reader fell behind.") { Count = _dropped });
                    _dropped = 0;
                }
                if (_queue.Count >= _capacity)
                {
                    _dropped++;
                    _droppedTotal++;
                    if (e.Severity == EventSeverity.Verbose) return;
                    _queue.Dequeue();
                }
                _queue.Enqueue(e);
                if (!_available.Task.IsCompleted) signal = _available;
            }
            signal?.TrySetResult(true);
        }

        public bool TryRead(out EngineEvent e)
        {
            lock (_sync)
            {
                if (_queue.Count > 0)
                {
                    e = _queue.Dequeue();
                    return true;
                }
                if (_available.Task.IsCompleted && !_completed) _available = NewSignal();
            }
            e = null!;
            return false;
        }

        /// <summary>Completes when an event can be read (true) or the queue is completed and empty (false).</summary>
        public Task<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            Task<bool> signal;
            lock (_sync)
            {
                if (_queue.Count > 0) return Task.FromResult(true);
                if (_completed) return Task.FromResult(false);
                if (_available.Task.IsCompleted) _available = NewSignal();
                signal = _available.Task;
            }
            if (!cancellationToken.CanBeCanceled) return signal;
            return WaitAsync(signal, cancellationToken);
        }

        /// <summary>No more events will be published; readers drain what is left.</summary>
        public void Complete()
        {
            TaskCompletionSource<bool> signal;
            lock (_sync)
            {
                _completed = true;
                signal = _available;
            }
            signal.TrySetResult(false);
        }

        private static async Task<bool> WaitAsync(Task<bool> signal, CancellationToken token)
        {
            var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (token.Register(() => cancelled.TrySetCanceled(token)))
                return await (await Task.WhenAny(signal, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
        }

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
