using System;
using System.Diagnostics;
using System.Threading;

namespace BitTorrent.Download
{
    /// <summary>The one lock of a torrent. Every part of a download (peer sessions, the request scheduler, upload
    /// slots, piece completion, smart ban, known peers) changes its state only while holding it, and says so by calling
    /// <see cref="AssertHeld"/> first: in DEBUG builds (the xunit runs) a change made without the lock throws at once,
    /// instead of corrupting a dictionary once in a thousand runs. Hashing and disk I/O call <see cref="AssertNotHeld"/>:
    /// they are slow, and holding the lock through them would stall every peer of the torrent.</summary>
    internal sealed class TorrentLock
    {
        private readonly object _gate = new object();

        /// <summary>Takes the lock; dispose the scope (a <c>using</c>) to release it.</summary>
        public Scope Enter()
        {
            Monitor.Enter(_gate);
            return new Scope(_gate);
        }

        /// <summary>True in DEBUG builds, where <see cref="AssertHeld"/> and <see cref="AssertNotHeld"/> check; in
        /// release builds they compile away.</summary>
#if DEBUG
        public const bool ChecksEnabled = true;
#else
        public const bool ChecksEnabled = false;
#endif

        /// <summary>True when the calling thread holds the lock.</summary>
        public bool IsHeld => Monitor.IsEntered(_gate);

        [Conditional("DEBUG")]
        public void AssertHeld()
        {
            if (!Monitor.IsEntered(_gate)) throw new LockViolationException("The torrent's state was changed without holding its lock.");
        }

        [Conditional("DEBUG")]
        public void AssertNotHeld()
        {
            if (Monitor.IsEntered(_gate)) throw new LockViolationException("Slow work (hashing, disk I/O, waiting) was done while holding the torrent's lock.");
        }

        public readonly struct Scope : IDisposable
        {
            private readonly object _gate;
            internal Scope(object gate) => _gate = gate;
            public void Dispose() => Monitor.Exit(_gate);
        }
    }

    /// <summary>A broken locking rule (DEBUG builds only): a bug in the engine, never a network or user problem.</summary>
    internal sealed class LockViolationException : InvalidOperationException
    {
        public LockViolationException(string message) : base(message) { }
    }
}
