using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace BitTorrent.Storage
{
    /// <summary>Reads ranges of a torrent's byte stream from the files on disk. Padding files read as zeros and are
    /// never opened. Bytes that cannot be read — a file that does not exist, is shorter than the torrent says, or
    /// fails with an I/O error — are zero-filled and reported, never thrown: the caller decides what a missing byte
    /// means (a Missing piece for the verifier, an error for the torrent builder).
    /// One reader serves one thread; it keeps the current file open, since reads are mostly sequential. On Linux files
    /// are read with open/pread/close (<see cref="PosixFile"/>), elsewhere through a FileStream.</summary>
    public sealed class TorrentDataReader : IDisposable
    {
        private const long SequentialHintBytes = 1024 * 1024;
        private readonly PieceLayout _layout;
        private readonly string?[] _paths;
        private readonly long[] _readableUpTo;    // per file: bytes known readable before a failure; long.MaxValue = unknown
        private readonly string?[] _errors;
        private FileStream? _open;
        private int _openFd = -1;                 // the open file when read through PosixFile
        private int _openIndex = -1;
        private int _currentFile = -1;

        /// <param name="layout">The torrent's layout.</param>
        /// <param name="filePaths">One absolute path per file of the layout; null for a file that must not be read (its
        /// bytes are reported unavailable). Padding files are never read, whatever their entry.</param>
        public TorrentDataReader(PieceLayout layout, IReadOnlyList<string?> filePaths)
        {
            _layout = layout ?? throw new ArgumentNullException(nameof(layout));
            if (filePaths is null) throw new ArgumentNullException(nameof(filePaths));
            if (filePaths.Count != layout.FileCount) throw new ArgumentException("One path per file of the layout is needed.", nameof(filePaths));
            _paths = new string?[filePaths.Count];
            for (int i = 0; i < _paths.Length; i++) _paths[i] = filePaths[i];
            _readableUpTo = new long[_paths.Length];
            for (int i = 0; i < _paths.Length; i++) _readableUpTo[i] = long.MaxValue;
            _errors = new string?[_paths.Length];
        }

        /// <summary>The file being read now (for progress; -1 before the first read). Any thread may read it.</summary>
        public int CurrentFile => Volatile.Read(ref _currentFile);

        /// <summary>The first problem met with file <paramref name="file"/> (not found, denied, shorter than expected,
        /// I/O error), or null.</summary>
        public string? GetFileError(int file) => _errors[file];

        /// <summary>Reads <paramref name="count"/> bytes of the torrent from <paramref name="offset"/> into
        /// <paramref name="buffer"/>. Unreadable bytes are zeroed and their ranges appended to
        /// <paramref name="unavailable"/> (merged when adjacent). Returns true when every byte was read.</summary>
        public bool Read(long offset, byte[] buffer, int bufferOffset, int count, List<ByteRange>? unavailable)
        {
            if (buffer is null) throw new ArgumentNullException(nameof(buffer));
            if (bufferOffset < 0 || count < 0 || bufferOffset > buffer.Length - count) throw new ArgumentOutOfRangeException(nameof(count));
            bool complete = true;
            foreach (var span in _layout.GetSpans(offset, count))
            {
                int at = bufferOffset + (int)(span.TorrentOffset - offset);
                if (span.IsPadding)
                {
                    // BEP 47: a padding file's bytes are zeros by definition and never live on disk.
                    Array.Clear(buffer, at, span.Length);
                    continue;
                }
                Volatile.Write(ref _currentFile, span.FileIndex);
                int got = ReadSpan(span, buffer, at);
                if (got < span.Length)
                {
                    complete = false;
                    Array.Clear(buffer, at + got, span.Length - got);
                    if (unavailable is not null) AddRange(unavailable, span.TorrentOffset + got, span.Length - got);
                }
            }
            return complete;
        }

        /// <summary>Reads as much of a span as the file has; returns the number of bytes read.</summary>
        private int ReadSpan(FileSpan span, byte[] buffer, int at)
        {
            int file = span.FileIndex;
            long readable = _readableUpTo[file];
            if (span.FileOffset >= readable) return 0;
            string? path = _paths[file];
            if (path is null)
            {
                MarkUnreadable(file, 0, "The file is not available.");
                return 0;
            }
            int wanted = (int)Math.Min(span.Length, readable - span.FileOffset);
            return PosixFile.IsSupported
                ? ReadWithPosix(file, path, span.FileOffset, buffer, at, wanted)
                : ReadWithStream(file, path, span.FileOffset, buffer, at, wanted);
        }

        private int ReadWithPosix(int file, string path, long fileOffset, byte[] buffer, int at, int wanted)
        {
            int error;
            if (_openIndex != file || _openFd < 0)
            {
                CloseOpen();
                int fd = PosixFile.Open(path, _layout.GetFileLength(file) >= SequentialHintBytes, out error);
                if (fd < 0)
                {
                    MarkUnreadable(file, fileOffset, PosixFile.Describe(error, path));
                    return 0;
                }
                _openFd = fd;
                _openIndex = file;
            }
            int done = 0;
            while (done < wanted)
            {
                int n = PosixFile.Read(_openFd, buffer, at + done, wanted - done, fileOffset + done, out error);
                if (n < 0)
                {
                    CloseOpen();
                    MarkUnreadable(file, fileOffset + done, PosixFile.Describe(error, path));
                    break;
                }
                if (n == 0)
                {
                    MarkShort(file, fileOffset + done);
                    break;
                }
                done += n;
            }
            return done;
        }

        private int ReadWithStream(int file, string path, long fileOffset, byte[] buffer, int at, int wanted)
        {
            int done = 0;
            try
            {
                var stream = Open(file, path);
                if (stream.Position != fileOffset) stream.Position = fileOffset;
                while (done < wanted)
                {
                    int n = stream.Read(buffer, at + done, wanted - done);
                    if (n == 0)
                    {
                        MarkShort(file, fileOffset + done);
                        break;
                    }
                    done += n;
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                CloseOpen();
                MarkUnreadable(file, fileOffset + done, Describe(ex));
            }
            return done;
        }

        private void MarkShort(int file, long length) =>
            MarkUnreadable(file, length, $"The file is {length} bytes long; the torrent says {_layout.GetFileLength(file)}.");

        private FileStream Open(int file, string path)
        {
            if (_openIndex == file && _open is not null) return _open;
            CloseOpen();
            // No FileStream buffer (bufferSize 1): reads are large and go straight into the caller's pooled buffer.
            // Shared read/write/delete: another program may hold the file open for writing (a client still downloading).
            // The sequential-read hint costs a system call, worth it only when there is read-ahead to gain.
            var options = _layout.GetFileLength(file) >= SequentialHintBytes ? FileOptions.SequentialScan : FileOptions.None;
            _open = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, options);
            _openIndex = file;
            return _open;
        }

        private void MarkUnreadable(int file, long from, string reason)
        {
            if (from < _readableUpTo[file]) _readableUpTo[file] = from;
            if (_errors[file] is null) _errors[file] = reason;
        }

        private static void AddRange(List<ByteRange> ranges, long offset, long length)
        {
            if (ranges.Count > 0 && ranges[ranges.Count - 1].End == offset)
            {
                var last = ranges[ranges.Count - 1];
                ranges[ranges.Count - 1] = new ByteRange(last.Offset, last.Length + length);
            }
            else
            {
                ranges.Add(new ByteRange(offset, length));
            }
        }

        private static string Describe(Exception ex) => ex switch
        {
            FileNotFoundException _ => "The file does not exist.",
            DirectoryNotFoundException _ => "The file's folder does not exist.",
            UnauthorizedAccessException _ => "Access to the file is denied: " + ex.Message,
            _ => ex.Message,
        };

        private void CloseOpen()
        {
            _open?.Dispose();
            _open = null;
            PosixFile.Close(_openFd);
            _openFd = -1;
            _openIndex = -1;
        }

        public void Dispose() => CloseOpen();
    }
}
