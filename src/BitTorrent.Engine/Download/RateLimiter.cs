using System;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Download
{
    /// <summary>A token bucket that caps bytes per second across everyone holding it (every peer of a torrent, or
    /// every torrent of a batch). Tokens accrue at the rate up to <see cref="Burst"/>; a caller takes the tokens for
    /// what it is about to move and waits out any shortfall. Tokens may go negative: each caller reserves its bytes at
    /// once, so callers are served in the order they asked and the long-run rate holds however many wait.</summary>
    public sealed class RateLimiter
    {
        /// <summary>The bucket always holds at least this much, so a whole block (16 KiB plus its header) can pass.</summary>
        public const int MinimumBurst = 2 * 16 * 1024;

        private readonly object _sync = new object();
        private readonly Func<long> _clock;
        private readonly TimeProvider _waits;
        private readonly double _ticksPerSecond;
        private double _tokens;
        private long _lastTicks;
        private readonly RateLimiter? _parent;

        /// <param name="bytesPerSecond">The cap; must be positive (callers treat 0 as "no limiter").</param>
        public RateLimiter(long bytesPerSecond) : this(bytesPerSecond, TimeProvider.System) { }

        /// <summary>On a <see cref="TimeProvider"/>: its timestamps refill the bucket and its timers end the waits
        /// (a FakeTimeProvider drives both).</summary>
        public RateLimiter(long bytesPerSecond, TimeProvider clock)
            : this(bytesPerSecond, (clock ?? throw new ArgumentNullException(nameof(clock))).GetTimestamp, clock.TimestampFrequency, clock) { }

        /// <summary>A cap of its own under a wider one: bytes pass when both buckets allow them (a torrent's limit
        /// under the session's, which every torrent shares).</summary>
        public RateLimiter(long bytesPerSecond, RateLimiter parent)
            : this(bytesPerSecond, (parent ?? throw new ArgumentNullException(nameof(parent)))._waits) => _parent = parent;

        /// <summary>Under a wider cap, with a clock of the caller's choosing.</summary>
        public RateLimiter(long bytesPerSecond, RateLimiter parent, Func<long> clock, double ticksPerSecond) : this(bytesPerSecond, clock, ticksPerSecond) =>
            _parent = parent ?? throw new ArgumentNullException(nameof(parent));

        /// <summary>The wider cap this one sits under, if any.</summary>
        public RateLimiter? Parent => _parent;

        /// <summary>With a clock of the caller's choosing (tests step it by hand).</summary>
        /// <param name="clock">Monotonic ticks.</param>
        /// <param name="ticksPerSecond">Ticks of <paramref name="clock"/> in one second.</param>
        public RateLimiter(long bytesPerSecond, Func<long> clock, double ticksPerSecond) : this(bytesPerSecond, clock, ticksPerSecond, TimeProvider.System) { }

        private RateLimiter(long bytesPerSecond, Func<long> clock, double ticksPerSecond, TimeProvider waits)
        {
            _waits = waits;
            if (bytesPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(bytesPerSecond), bytesPerSecond, "The rate must be positive.");
            if (ticksPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(ticksPerSecond));
            BytesPerSecond = bytesPerSecond;
            _clock = clock ?? throw new ArgumentNullException(nameof(clock));
            _ticksPerSecond = ticksPerSecond;
            // A quarter of a second of credit: smooth enough for a progress bar, small enough not to overshoot much.
            Burst = Math.Max(MinimumBurst, bytesPerSecond / 4);
            _tokens = Burst;
            _lastTicks = clock();
        }

        public long BytesPerSecond { get; }

        /// <summary>Most bytes that can pass at once after an idle spell.</summary>
        public long Burst { get; }

        /// <summary>Tokens in the bucket now (negative while callers wait out a reservation).</summary>
        public double Available
        {
            get
            {
                lock (_sync)
                {
                    Refill();
                    return _tokens;
                }
            }
        }

        /// <summary>Takes <paramref name="bytes"/> tokens and returns how long the caller must wait before moving
        /// them (zero when the bucket had enough).</summary>
        public TimeSpan Reserve(int bytes)
        {
            if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes));
            TimeSpan own;
            lock (_sync)
            {
                Refill();
                _tokens -= bytes;
                own = _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / BytesPerSecond);
            }
            if (_parent is null) return own;
            var wider = _parent.Reserve(bytes);
            return wider > own ? wider : own;
        }

        /// <summary>Reserves <paramref name="bytes"/> and waits until they may be moved.</summary>
        public Task WaitAsync(int bytes, CancellationToken cancellationToken)
        {
            var delay = Reserve(bytes);
            return delay <= TimeSpan.Zero ? Task.CompletedTask : _waits.Delay(delay, cancellationToken);
        }

        private void Refill()
        {
            long now = _clock();
            long elapsed = now - _lastTicks;
            if (elapsed <= 0) return;
            _lastTicks = now;
            _tokens = Math.Min(Burst, _tokens + elapsed / _ticksPerSecond * BytesPerSecond);
        }
    }
}
