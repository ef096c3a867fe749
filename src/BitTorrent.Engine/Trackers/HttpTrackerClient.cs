using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>HTTP(S) tracker client (BEP 3 announce, BEP 48 scrape). Owns its HttpClient and handler: redirects
    /// are followed here (bounded), decompression is done here (bounded), every request has its own timeout.
    /// Thread-safe; one instance serves many torrents.</summary>
    public sealed class HttpTrackerClient : IDisposable
    {
        private readonly TrackerClientOptions _options;
        private readonly HttpClient _http;
        /// <summary>Why the proxy or bind address cannot be honoured on this runtime (null: they can).</summary>
        private readonly string? _unsupported;

        public HttpTrackerClient(TrackerClientOptions? options = null)
        {
            _options = options ?? TrackerClientOptions.Default;
            _unsupported = TrackerHttpHandler.Unsupported(_options);
            var handler = TrackerHttpHandler.Create(_options);
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", _options.UserAgent);
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Accept-Encoding", "gzip");
            // One request per connection, as libtorrent does: trackers such as opentracker close after each reply, and a
            // pooled connection reused in the instant before its FIN arrives fails with "connection reset by peer".
            _http.DefaultRequestHeaders.ConnectionClose = true;
        }

        public async Task<AnnounceResponse> AnnounceAsync(Uri tracker, AnnounceRequest request, TimeSpan timeout, CancellationToken cancellationToken)
        {
            string url = tracker.OriginalString;
            var uri = TrackerUrl.BuildAnnounceUri(tracker, request);
            byte[] body = await GetAsync(uri, url, timeout, cancellationToken).ConfigureAwait(false);
            return HttpTrackerResponseParser.ParseAnnounce(body, url, _options.MaxPeersPerResponse);
        }

        public async Task<IReadOnlyDictionary<string, ScrapeEntry>> ScrapeAsync(Uri tracker, IReadOnlyList<byte[]> infoHashes, TimeSpan timeout, CancellationToken cancellationToken)
        {
            string url = tracker.OriginalString;
            if (!TrackerUrl.TryGetScrapeUri(tracker, out var scrape))
                throw new TrackerException(TrackerError.ScrapeNotSupported, url,
                    "The tracker does not support scrape (the last part of its URL does not start with 'announce').");
            var uri = TrackerUrl.BuildScrapeUri(scrape, infoHashes);
            byte[] body = await GetAsync(uri, url, timeout, cancellationToken).ConfigureAwait(false);
            return HttpTrackerResponseParser.ParseScrape(body, url);
        }

        /// <summary>GET with redirects, status handling, a bounded body and a timeout. Returns the body of a 2xx reply.</summary>
        private async Task<byte[]> GetAsync(Uri uri, string trackerUrl, TimeSpan timeout, CancellationToken cancellationToken)
        {
            // The timeout runs on the options' clock (a fake one in tests), linked with the caller's token.
            using var timer = (_options.TimeProvider ?? TimeProvider.System).CreateCancellationTokenSource(timeout);
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            var ct = timeoutCts.Token;
            var visited = new HashSet<string>(StringComparer.Ordinal) { uri.AbsoluteUri };
            if (_unsupported is not null) throw new TrackerException(TrackerError.NetworkSettingUnsupported, trackerUrl, _unsupported);
            try
            {
                for (int redirects = 0; ; redirects++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                    int status = (int)response.StatusCode;

                    if (status >= 300 && status < 400 && response.Headers.Location is Uri location)
                    {
                        var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                        if (next.Scheme != "http" && next.Scheme != "https")
                            throw new TrackerException(TrackerError.InvalidResponse, trackerUrl, $"The tracker redirected to an unsupported URL scheme '{next.Scheme}'.");
                        if (redirects >= _options.MaxRedirects || !visited.Add(next.AbsoluteUri))
                            throw new TrackerException(TrackerError.TooManyRedirects, trackerUrl,
                                $"The tracker redirected more than {_options.MaxRedirects} times or in a loop (last: {next.GetLeftPart(UriPartial.Path)}).");
                        uri = next;
                        continue;
                    }

                    long? length = response.Content.Headers.ContentLength;
                    if (length > _options.MaxResponseBytes) throw BoundedBodyReader.TooLarge(trackerUrl, _options.MaxResponseBytes);
                    string? encoding = null;
                    foreach (var e in response.Content.Headers.ContentEncoding) encoding = e;
                    using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
                    using (ct.Register(() => stream.Dispose())) // ReadAsync on some streams ignores the token
                    {
                        byte[] body = await BoundedBodyReader.ReadAsync(stream, encoding, _options.MaxResponseBytes, trackerUrl, ct).ConfigureAwait(false);
                        if (status >= 200 && status < 300) return body;
                        string? reason = HttpTrackerResponseParser.TryGetFailureReason(body);
                        if (reason is not null)
                            throw new TrackerException(TrackerError.TrackerFailure, trackerUrl, $"The tracker refused the request (HTTP {status}): {HttpTrackerResponseParser.Clean(reason, 1024)}")
                            {
                                FailureReason = HttpTrackerResponseParser.Clean(reason, 1024),
                                HttpStatusCode = status,
                            };
                        throw new TrackerException(TrackerError.HttpStatus, trackerUrl, $"The tracker answered HTTP {status} {HttpTrackerResponseParser.Clean(response.ReasonPhrase ?? string.Empty, 100)}.".Replace(" .", "."))
                        {
                            HttpStatusCode = status,
                        };
                    }
                }
            }
            catch (TrackerException)
            {
                throw;
            }
            catch (Connections.ProxyException ex)
            {
                throw MapNetworkError(ex, trackerUrl);
            }
            catch (Exception ex) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TrackerException(TrackerError.Timeout, trackerUrl, $"The tracker did not answer within {timeout.TotalSeconds:0.###} s.", ex);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw MapNetworkError(ex, trackerUrl);
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is SocketException)
            {
                throw MapNetworkError(ex, trackerUrl);
            }
        }

        private static TrackerException MapNetworkError(Exception ex, string trackerUrl)
        {
            for (var e = ex; e is not null; e = e.InnerException)
                if (e is Connections.ProxyException pe)
                    return new TrackerException(TrackerError.ProxyFailed, trackerUrl, $"Could not reach the tracker through the proxy: {pe.Message}", pe);
            for (var e = ex; e is not null; e = e.InnerException)
            {
                if (e is SocketException se)
                {
                    if (se.SocketErrorCode == SocketError.HostNotFound || se.SocketErrorCode == SocketError.NoData || se.SocketErrorCode == SocketError.TryAgain)
                        return new TrackerException(TrackerError.NameResolutionFailed, trackerUrl, $"The tracker's host name did not resolve: {se.Message}", ex);
                    return new TrackerException(TrackerError.ConnectionFailed, trackerUrl, $"Could not talk to the tracker: {se.Message}", ex);
                }
            }
            return new TrackerException(TrackerError.ConnectionFailed, trackerUrl, $"Could not talk to the tracker: {Innermost(ex).Message}", ex);
        }

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException is not null) ex = ex.InnerException;
            return ex;
        }

        public void Dispose() => _http.Dispose();
    }
}
