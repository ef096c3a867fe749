using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>The tracker client the rest of the engine uses: announce and scrape by URL, whatever the scheme
    /// (http, https, udp). Bounds the requests in flight across all torrents
    /// (<see cref="TrackerClientOptions.MaxConcurrentRequests"/>). Thread-safe; make one per session.
    /// Failures are <see cref="TrackerException"/>s; cancellation by the caller is <see cref="OperationCanceledException"/>.</summary>
    public sealed class TrackerClient : IDisposable
    {
        private readonly SemaphoreSlim _slots;
        private readonly Lazy<HttpTrackerClient> _http;
        private readonly Lazy<UdpTrackerClient> _udp;

        public TrackerClient(TrackerClientOptions? options = null)
        {
            Options = options ?? TrackerClientOptions.Default;
            if (Options.MaxConcurrentRequests < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxConcurrentRequests must be at least 1.");
            _slots = new SemaphoreSlim(Options.MaxConcurrentRequests);
            _http = new Lazy<HttpTrackerClient>(() => new HttpTrackerClient(Options), LazyThreadSafetyMode.ExecutionAndPublication);
            _udp = new Lazy<UdpTrackerClient>(() => new UdpTrackerClient(Options), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        public TrackerClientOptions Options { get; }

        /// <summary>The UDP side, for its counters (connect requests, ignored datagrams).</summary>
        public UdpTrackerClient Udp => _udp.Value;

        /// <summary>Announces to one tracker. <paramref name="timeout"/> bounds this request from the moment it gets a
        /// slot (DNS, connect, retransmissions, redirects, reading the body).</summary>
        public Task<AnnounceResponse> AnnounceAsync(string trackerUrl, AnnounceRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            if (request is null) throw new ArgumentNullException(nameof(request));
            return RunAsync(trackerUrl, timeout, cancellationToken, uri => uri.Scheme == "udp"
                ? _udp.Value.AnnounceAsync(uri, request, timeout, cancellationToken)
                : _http.Value.AnnounceAsync(uri, request, timeout, cancellationToken));
        }

        /// <summary>Scrapes one tracker for the given 20-byte info-hashes; counts keyed by 40-hex info-hash (a torrent
        /// the tracker does not know is missing from the result).</summary>
        public Task<IReadOnlyDictionary<string, ScrapeEntry>> ScrapeAsync(string trackerUrl, IReadOnlyList<byte[]> infoHashes, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            if (infoHashes is null || infoHashes.Count == 0) throw new ArgumentException("At least one info-hash is needed.", nameof(infoHashes));
            foreach (var h in infoHashes)
                if (h is null || h.Length != 20) throw new ArgumentException("Info-hashes are 20 bytes.", nameof(infoHashes));
            return RunAsync(trackerUrl, timeout, cancellationToken, uri => uri.Scheme == "udp"
                ? _udp.Value.ScrapeAsync(uri, infoHashes, timeout, cancellationToken)
                : _http.Value.ScrapeAsync(uri, infoHashes, timeout, cancellationToken));
        }

        private async Task<T> RunAsync<T>(string trackerUrl, TimeSpan timeout, CancellationToken cancellationToken, Func<Uri, Task<T>> send)
        {
            if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout));
            var uri = TrackerUrl.Parse(trackerUrl);
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await send(uri).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }
        }

        public void Dispose()
        {
            if (_http.IsValueCreated) _http.Value.Dispose();
            if (_udp.IsValueCreated) _udp.Value.Dispose();
        }
    }
}
