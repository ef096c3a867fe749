using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Every peer the torrent knows of (from trackers, the user, or because it called us): which may be
    /// dialled now (back-off after failures, quick retries while nobody is connected), which are banned, which are
    /// seeds a seed need not meet again. Changed only under the torrent's lock.</summary>
    internal sealed class PeerCandidates
    {
        private readonly TorrentLock _lock;
        private readonly Dictionary<string, PeerCandidate> _byKey = new Dictionary<string, PeerCandidate>(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new HashSet<string>(StringComparer.Ordinal);

        public PeerCandidates(TorrentLock torrentLock) => _lock = torrentLock;

        public int Count => _byKey.Count;

        /// <summary>Distinct peers we exchanged a handshake with by dialling them.</summary>
        public int UsedCount => _used.Count;

        public static string KeyOf(IPEndPoint endPoint) => new PeerAddress(endPoint).ToString();

        public void Add(IPEndPoint endPoint, bool explicitPeer)
        {
            _lock.AssertHeld();
            var key = KeyOf(endPoint);
            if (!_byKey.ContainsKey(key)) _byKey[key] = new PeerCandidate(endPoint, key) { Explicit = explicitPeer };
        }

        /// <summary>Most peers learnt by peer exchange known at once: what a PEX message says is unchecked, so it may
        /// not grow the table without bound (trackers' and the user's peers do not count against it).</summary>
        public const int MaxFromPex = 300;

        /// <summary>Peers learnt by peer exchange and still known.</summary>
        public int FromPexCount { get; private set; }

        /// <summary>Adds peers learnt by peer exchange (BEP 11) that are not known yet, while there is room (see
        /// <see cref="MaxFromPex"/>; learnt peers that could not be reached twice make room). A seed does not dial
        /// the ones flagged as seeds. Returns the endpoints added.</summary>
        public List<IPEndPoint> AddFromPex(IEnumerable<(IPEndPoint EndPoint, bool Seed)> peers)
        {
            _lock.AssertHeld();
            var added = new List<IPEndPoint>();
            bool pruned = false;
            foreach (var (endPoint, seed) in peers)
            {
                var key = KeyOf(endPoint);
                if (_byKey.ContainsKey(key)) continue;
                if (FromPexCount >= MaxFromPex)
                {
                    // Once per batch: a flood of new addresses must not rescan the table for each one.
                    if (pruned || !ForgetUnreachableFromPex()) break;
                    pruned = true;
                    if (FromPexCount >= MaxFromPex) break;
                }
                _byKey[key] = new PeerCandidate(endPoint, key) { FromPex = true, KnownSeed = seed };
                FromPexCount++;
                added.Add(endPoint);
            }
            return added;
        }

        /// <summary>Forgets learnt peers that failed twice and are not being dialled: made-up addresses must not keep
        /// the room for learnt peers full for good. False if none was forgotten.</summary>
        private bool ForgetUnreachableFromPex()
        {
            var stale = _byKey.Values.Where(c => c.FromPex && c.Failures >= 2 && !c.Connecting && !c.Connected && !c.Banned).Select(c => c.Key).ToList();
            foreach (var key in stale) _byKey.Remove(key);
            FromPexCount -= stale.Count;
            return stale.Count > 0;
        }

        public bool IsBanned(string key) => _byKey.TryGetValue(key, out var known) && known.Banned;

        /// <summary>The candidate for a peer that called us (made if new: such a peer is never dialled back).</summary>
        public PeerCandidate Incoming(IPEndPoint endPoint)
        {
            _lock.AssertHeld();
            var key = KeyOf(endPoint);
            if (!_byKey.TryGetValue(key, out var candidate)) _byKey[key] = candidate = new PeerCandidate(endPoint, key) { Incoming = true };
            candidate.Connected = true;
            return candidate;
        }

        public int AvailableCount(DateTime now) => _byKey.Values.Count(c => c.IsAvailable(now));

        /// <summary>Candidates to dial now, marked as connecting; at most <paramref name="max"/>.</summary>
        public List<PeerCandidate> TakeToDial(DateTime now, int max, bool starving, bool seeding)
        {
            _lock.AssertHeld();
            var list = new List<PeerCandidate>();
            foreach (var c in _byKey.Values)
            {
                if (list.Count >= max) break;
                // A seed dials out too (some clients never connect to the peers a tracker gives them: Transmission 3.00
                // drops loopback addresses as "martian"), but leaves peers known to be seeds alone.
                if (!c.IsAvailable(now, starving) || (seeding && c.KnownSeed)) continue;
                c.Connecting = true;
                list.Add(c);
            }
            return list;
        }

        public void Connected(PeerCandidate candidate)
        {
            _lock.AssertHeld();
            candidate.Connecting = false;
            candidate.Connected = true;
            candidate.Failures = 0;
            _used.Add(candidate.Key);
        }

        public void ConnectFailed(PeerCandidate candidate, DateTime now, string why)
        {
            _lock.AssertHeld();
            candidate.Connecting = false;
            candidate.Connected = false;
            candidate.Failed(now, why);
        }

        /// <summary>A session with the peer ended.</summary>
        public void Disconnected(PeerCandidate candidate, DateTime now, bool ban, bool knownSeed, string why)
        {
            _lock.AssertHeld();
            candidate.Connected = false;
            candidate.Failed(now, why);
            if (ban) candidate.Banned = true;
            if (knownSeed) candidate.KnownSeed = true;
        }

        /// <summary>Why the peers failed, for the error that ends a download with no peer: the latest failure
        /// ("127.0.0.1:6881: the peer closed the connection (12 attempts)"), or null when none failed.</summary>
        public string? DescribeLastFailure()
        {
            _lock.AssertHeld();
            PeerCandidate? latest = null;
            foreach (var c in _byKey.Values)
                if (c.LastError is not null && (latest is null || c.LastFailure > latest.LastFailure)) latest = c;
            if (latest is null) return null;
            return $"{latest.Key}: {latest.LastError} ({latest.Attempts} attempt{(latest.Attempts == 1 ? "" : "s")}{(latest.Banned ? ", banned" : "")})";
        }

        public void Ban(IPEndPoint endPoint)
        {
            _lock.AssertHeld();
            if (_byKey.TryGetValue(KeyOf(endPoint), out var candidate)) candidate.Banned = true;
        }
    }

    internal sealed class PeerCandidate
    {
        public PeerCandidate(IPEndPoint endPoint, string key) { EndPoint = endPoint; Key = key; }
        public IPEndPoint EndPoint { get; }
        public string Key { get; }
        public bool Explicit { get; set; }
        /// <summary>Learnt by peer exchange (counts against <see cref="PeerCandidates.MaxFromPex"/>).</summary>
        public bool FromPex { get; set; }
        /// <summary>Known only because it connected to us: never dialled back.</summary>
        public bool Incoming { get; set; }
        public bool Connecting { get; set; }
        public bool Connected { get; set; }
        public bool Banned { get; set; }
        /// <summary>It had every piece when we last met: a seed does not dial it again.</summary>
        public bool KnownSeed { get; set; }
        public int Failures { get; set; }
        public DateTime NextAttempt { get; set; }
        public DateTime LastFailure { get; set; }
        /// <summary>How the last attempt or session ended (for the error a starved download ends with).</summary>
        public string? LastError { get; private set; }
        /// <summary>Attempts and sessions that ended, however they ended.</summary>
        public int Attempts { get; private set; }

        /// <param name="starving">No peer is connected at all: then a peer is retried at least every
        /// <see cref="StarvingRetry"/>, however often it failed (Transmission, for one, turns away a connection that
        /// comes too soon after another from the same address, and a long back-off would outlast -TimeoutSec).</param>
        public bool IsAvailable(DateTime now, bool starving = false) =>
            !Incoming && !Connecting && !Connected && !Banned && (NextAttempt <= now || (starving && now - LastFailure >= StarvingRetry));

        private static readonly TimeSpan StarvingRetry = TimeSpan.FromSeconds(3);

        /// <summary>Back off: 0.5, 1, 2, 4 … s up to 2 minutes. The first retry is quick because libtorrent-based
        /// peers (libtorrent 2.0.8, qBittorrent 4.5) close the very first incoming connection after they start
        /// seeding and accept the next one.</summary>
        public void Failed(DateTime now, string why)
        {
            Failures++;
            Attempts++;
            LastError = why;
            LastFailure = now;
            NextAttempt = now + TimeSpan.FromSeconds(Math.Min(120, 0.5 * Math.Pow(2, Math.Min(Failures - 1, 8))));
        }
    }
}
