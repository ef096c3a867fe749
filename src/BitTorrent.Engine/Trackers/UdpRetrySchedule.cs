using System;

namespace BitTorrent.Trackers
{
    /// <summary>BEP 15's retransmission schedule: wait <c>base · 2^n</c> for a reply, and after each wait that ends
    /// without one, send again with n + 1 (n from 0 up to 8: 15 s … 3 840 s with the spec's base). One schedule
    /// spans a whole operation (connect, then announce), so n counts the timeouts of that operation. The caller's
    /// timeout cuts every wait short.</summary>
    internal sealed class UdpRetrySchedule
    {
        private const int MaxExponent = 8;
        private readonly TimeSpan _base;
        private int _n;

        public UdpRetrySchedule(TimeSpan retryBase)
        {
            if (retryBase <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retryBase));
            _base = retryBase;
        }

        /// <summary>Waits that ended without a reply so far.</summary>
        public int Timeouts { get; private set; }

        /// <summary>How long to wait for the reply to the transmission about to be sent.</summary>
        public TimeSpan CurrentWait => TimeSpan.FromTicks(_base.Ticks << _n);

        public void OnTimedOut()
        {
            Timeouts++;
            if (_n < MaxExponent) _n++;
        }
    }
}
