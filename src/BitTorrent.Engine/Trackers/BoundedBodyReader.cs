using System;
using System.Buffers;
using System.IO;
using System.IO.Compression;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Trackers
{
    /// <summary>Reads an HTTP body into memory with a hard limit on both the bytes received and the bytes they
    /// decompress to (gzip or deflate), so neither a huge body nor a gzip bomb costs more than the limit.</summary>
    internal static class BoundedBodyReader
    {
        /// <summary>Returns the (decompressed) body, or throws <see cref="TrackerError.ResponseTooLarge"/>.</summary>
        public static async Task<byte[]> ReadAsync(Stream raw, string? contentEncoding, int maxBytes, string trackerUrl, CancellationToken ct)
        {
            var counted = new CountingStream(raw, maxBytes);
            string encoding = (contentEncoding ?? string.Empty).Trim().ToLowerInvariant();
            Stream source = encoding switch
            {
                "gzip" or "x-gzip" => new GZipStream(counted, CompressionMode.Decompress),
                "deflate" => new DeflateStream(counted, CompressionMode.Decompress),
                _ => counted,
            };
            try
            {
                byte[] body = await CopyBoundedAsync(source, maxBytes, trackerUrl, ct).ConfigureAwait(false);
                // A gzip body sent without Content-Encoding (seen in the wild): bencode never starts with 0x1f.
                if (source == counted && body.Length >= 2 && body[0] == 0x1f && body[1] == 0x8b)
                {
                    using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                    body = await CopyBoundedAsync(gzip, maxBytes, trackerUrl, ct).ConfigureAwait(false);
                }
                return body;
            }
            catch (CountingStream.LimitExceededException)
            {
                throw TooLarge(trackerUrl, maxBytes);
            }
            catch (InvalidDataException ex)
            {
                throw new TrackerException(TrackerError.InvalidResponse, trackerUrl, $"The tracker's {encoding} body is corrupt: {ex.Message}", ex);
            }
            finally
            {
                if (source != counted) source.Dispose();
            }
        }

        private static async Task<byte[]> CopyBoundedAsync(Stream source, int maxBytes, string trackerUrl, CancellationToken ct)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                using var output = new MemoryStream();
                while (true)
                {
                    int n = await source.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false);
                    if (n == 0) break;
                    if (output.Length + n > maxBytes) throw TooLarge(trackerUrl, maxBytes);
                    output.Write(buffer, 0, n);
                }
                return output.ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        internal static TrackerException TooLarge(string trackerUrl, int maxBytes) =>
            new TrackerException(TrackerError.ResponseTooLarge, trackerUrl, $"The tracker's reply is larger than the limit of {maxBytes} bytes.");

        /// <summary>Counts raw bytes read and fails past the limit.</summary>
        private sealed class CountingStream : Stream
        {
            private readonly Stream _inner;
            private readonly long _limit;
            private long _read;

            public CountingStream(Stream inner, long limit) { _inner = inner; _limit = limit; }

            public override int Read(byte[] buffer, int offset, int count) => Count(_inner.Read(buffer, offset, count));

            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Count(await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));

            private int Count(int n)
            {
                _read += n;
                if (_read > _limit) throw new LimitExceededException();
                return n;
            }

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => _read; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            internal sealed class LimitExceededException : Exception { }
        }
    }
}
