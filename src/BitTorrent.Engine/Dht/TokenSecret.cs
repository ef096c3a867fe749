using System;
using System.Net;
using System.Security.Cryptography;

namespace BitTorrent.Dht
{
    /// <summary>The write tokens of BEP 5: a get_peers reply carries a token, and announce_peer must bring it back from
    /// the same IP address. A token is the first <see cref="TokenLength"/> bytes of HMAC-SHA1(secret, requester IP);
    /// the secret is replaced every <see cref="RotationInterval"/> on the clock and the previous one is still
    /// accepted, so a token lives between 5 and 10 minutes. Nothing is stored per requester.</summary>
    public sealed class TokenSecret
    {
        public static readonly TimeSpan RotationInterval = TimeSpan.FromMinutes(5);

        /// <summary>8 bytes: enough that guessing is hopeless for a short-lived token, small in a reply.</summary>
        public const int TokenLength = 8;

        private const int SecretLength = 20;
        private readonly TimeProvider _time;
        private readonly RandomNumberGenerator _random;
        private byte[] _current;
        private byte[] _previous;
        private DateTimeOffset _currentSince;
        private readonly object _gate = new object();

        public TokenSecret(TimeProvider time) : this(time, RandomNumberGenerator.Create()) { }

        /// <summary>A given random source (tests may pass their own; production uses the system's).</summary>
        public TokenSecret(TimeProvider time, RandomNumberGenerator random)
        {
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _random = random ?? throw new ArgumentNullException(nameof(random));
            _current = NewSecret();
            // A fresh start has no previous secret; a random one accepts nothing anyone holds.
            _previous = NewSecret();
            _currentSince = _time.GetUtcNow();
        }

        /// <summary>The token to hand <paramref name="requester"/> in a get_peers reply.</summary>
        public byte[] Create(IPAddress requester)
        {
            if (requester == null) throw new ArgumentNullException(nameof(requester));
            lock (_gate)
            {
                Rotate();
                return Compute(_current, requester);
            }
        }

        /// <summary>True when <paramref name="token"/> was made for <paramref name="requester"/> under the current or
        /// the previous secret. Any other length, another IP's token or an older token is refused.</summary>
        public bool Validate(ReadOnlySpan<byte> token, IPAddress requester)
        {
            if (requester == null || token.Length != TokenLength) return false;
            lock (_gate)
            {
                Rotate();
                return FixedTimeEquals(token, Compute(_current, requester))
                     | FixedTimeEquals(token, Compute(_previous, requester));
            }
        }

        private void Rotate()
        {
            var now = _time.GetUtcNow();
            var elapsed = now - _currentSince;
            if (elapsed < RotationInterval) return;
            // Two or more intervals passed with no call: the current secret is already two generations old.
            _previous = elapsed >= RotationInterval + RotationInterval ? NewSecret() : _current;
            _current = NewSecret();
            long intervals = elapsed.Ticks / RotationInterval.Ticks;
            _currentSince += TimeSpan.FromTicks(intervals * RotationInterval.Ticks);
        }

        private static byte[] Compute(byte[] secret, IPAddress requester)
        {
            // An IPv4 address seen through a dual-stack socket is the same requester as the plain IPv4 one.
            var address = requester.IsIPv4MappedToIPv6 ? requester.MapToIPv4() : requester;
            using (var hmac = new HMACSHA1(secret))
            {
                var mac = hmac.ComputeHash(address.GetAddressBytes());
                var token = new byte[TokenLength];
                Array.Copy(mac, token, TokenLength);
                return token;
            }
        }

        private byte[] NewSecret()
        {
            var secret = new byte[SecretLength];
            _random.GetBytes(secret);
            return secret;
        }

        // Constant time so a forger learns nothing from how long a wrong token took to refuse.
        private static bool FixedTimeEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        {
            if (a.Length != b.Length) return false;
            int diff = 0;
            for (int i = 0; i < a.Length; i++) diff |= a[i] ^ b[i];
            return diff == 0;
        }
    }
}
