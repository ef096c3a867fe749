using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Metainfo;
using BitTorrent.Wire;

namespace BitTorrent.Storage
{
    /// <summary>Where a download's bytes go. Each file is written as "&lt;name&gt;.part" and renamed to its real name only
    /// once every piece it overlaps is verified, so an interrupted run never leaves a file that looks complete but
    /// is not. Paths come from <see cref="TorrentFile.SanitizedPath"/> and are checked to stay under the destination.
    /// Writes are serialized by the caller (one writer at a time); file handles are cached and bounded.</summary>
    public sealed partial class DownloadStorage : IPieceStorage
    {
        public const string PartialSuffix = TorrentParser.PartialSuffix;
        private const int MaxOpenFiles = 64;

        private readonly TorrentInfo _torrent;
        private readonly string _root;
        private readonly bool[] _selected;
        private readonly Dictionary<int, FileStream> _open = new Dictionary<int, FileStream>();
        private readonly Dictionary<int, FileStream> _readers = new Dictionary<int, FileStream>();
        private readonly object _sync = new object();

        /// <param name="destination">The folder the torrent's file (single-file) or folder (multi-file) goes into.</param>
        /// <param name="selectedFiles">Files chosen for download (null: all).</param>
        public DownloadStorage(TorrentInfo torrent, string destination, bool[]? selectedFiles = null)
        {
            _torrent = torrent ?? throw new ArgumentNullException(nameof(torrent));
            _root = Path.GetFullPath(destination ?? throw new ArgumentNullException(nameof(destination)));
            _selected = selectedFiles ?? CreateAll(torrent.Files.Count, true);
            if (_selected.Length != torrent.Files.Count) throw new ArgumentException("One flag per file is needed.", nameof(selectedFiles));
        }

        public string Root => _root;

        public bool IsSelected(int file) => _selected[file];

        /// <summary>The full path a file has once complete. Throws if the sanitized path would leave the destination
        /// (it cannot, by construction; this is the second lock on the door).</summary>
        public string FinalPath(int file)
        {
            var relative = _torrent.Files[file].SanitizedPath.Replace('/', Path.DirectorySeparatorChar);
            var full = Path.GetFullPath(Path.Combine(_root, relative));
            var rootWithSeparator = _root.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? _root : _root + Path.DirectorySeparatorChar;
            if (!full.StartsWith(rootWithSeparator, PathComparison))
                throw new InvalidDataException($"The path of file {file} resolves outside the destination; refusing to write it.");
            return full;
        }

        public string PartialPath(int file) => FinalPath(file) + PartialSuffix;

        /// <summary>Creates folders and the selected zero-length files (they are complete by definition).</summary>
        public void Prepare()
        {
            Directory.CreateDirectory(_root);
            for (int i = 0; i < _torrent.Files.Count; i++)
            {
                var f = _torrent.Files[i];
                if (f.IsPadding || !_selected[i]) continue;
                var path = FinalPath(i);
                // Folders are created here, and empty files: no link on the way (the files themselves are checked
                // when first opened for writing, so seeding data that is itself a link is still possible).
                RefuseLinks(f.Length == 0 ? path : Path.GetDirectoryName(path)!);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                if (f.Length == 0 && !File.Exists(path)) File.WriteAllBytes(path, Array.Empty<byte>());
            }
        }

        /// <summary>The file spans a piece covers: (file index, offset in file, offset in piece, length).</summary>
        public IEnumerable<(int File, long FileOffset, int PieceOffset, int Length)> Spans(int piece)
        {
            long start = (long)piece * _torrent.PieceLength;
            long end = start + _torrent.GetPieceLength(piece);
            var files = _torrent.Files;
            int i = FindFile(start);
            for (; i < files.Count && files[i].Offset < end; i++)
            {
                var f = files[i];
                if (f.Length == 0) continue;
                long from = Math.Max(start, f.Offset);
                long to = Math.Min(end, f.Offset + f.Length);
                if (to <= from) continue;
                yield return (i, from - f.Offset, (int)(from - start), (int)(to - from));
            }
        }

        /// <summary>Writes a verified piece at its offsets (padding files are skipped: they are zeros by definition).</summary>
        public async Task WritePieceAsync(int piece, ArraySegment<byte> data, CancellationToken cancellationToken)
        {
            foreach (var span in Spans(piece))
            {
                if (_torrent.Files[span.File].IsPadding) continue;
                var stream = OpenForWrite(span.File);
                int offset = data.Offset + span.PieceOffset;
                int length = span.Length;
                long fileOffset = span.FileOffset;
                // The aligned bulk of the span bypasses the page cache (see DirectFileWriter); the unaligned tail, if
                // any, and everything on platforms or filesystems without direct I/O, goes through the stream.
                int direct = fileOffset % DirectFileWriter.Alignment == 0 ? length - length % DirectFileWriter.Alignment : 0;
                if (direct > 0 && TryWriteDirect(span.File, stream, fileOffset, data.Array!, offset, direct))
                {
                    offset += direct;
                    fileOffset += direct;
                    length -= direct;
                }
                if (length == 0) continue;
                stream.Position = fileOffset;
                await stream.WriteAsync(data.Array!, offset, length, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Whether direct writes are still worth trying for this download (off after the first refusal).</summary>
        private bool _directEnabled = DirectFileWriter.IsPlatformSupported && !DirectWritesDisabled;
        private DirectFileWriter.AlignedBuffer? _directBuffer;
        private readonly Dictionary<int, DirectFileWriter> _direct = new Dictionary<int, DirectFileWriter>();

        /// <summary>BITTORRENT_DIRECT_IO=0 turns direct writes off (everything then goes through the page cache, as on
        /// other platforms): for a disk so slow that the page cache's write-behind matters more than the CPU it costs.</summary>
        private static readonly bool DirectWritesDisabled = Environment.GetEnvironmentVariable("BITTORRENT_DIRECT_IO") == "0";

        private bool TryWriteDirect(int file, FileStream stream, long fileOffset, byte[] source, int sourceOffset, int count)
        {
            if (!_directEnabled) return false;
            DirectFileWriter? writer;
            lock (_sync)
            {
                if (!_direct.TryGetValue(file, out writer))
                {
                    writer = DirectFileWriter.TryOpen(stream);
                    if (writer is null) { _directEnabled = false; return false; }
                    _direct.Add(file, writer);
                }
                _directBuffer ??= new DirectFileWriter.AlignedBuffer(1024 * 1024);
            }
            if (writer.TryWrite(fileOffset, source, sourceOffset, count, _directBuffer)) return true;
            _directEnabled = false;
            return false;
        }

        /// <summary>Closes the direct descriptor of a file whose stream is being closed (under _sync).</summary>
        private void CloseDirect(int file)
        {
            if (_direct.TryGetValue(file, out var writer)) { writer.Dispose(); _direct.Remove(file); }
        }

        /// <summary>Reads one block of a verified piece for upload into <paramref name="destination"/> (its length is
        /// the block's); false when the data cannot be read (a file was removed under us). Thread-safe.</summary>
        public bool TryReadBlock(int piece, int offset, byte[] destination, int length)
        {
            long blockStart = (long)piece * _torrent.PieceLength + offset;
            long blockEnd = blockStart + length;
            foreach (var span in Spans(piece))
            {
                var f = _torrent.Files[span.File];
                long spanStart = f.Offset + span.FileOffset;
                long spanEnd = spanStart + span.Length;
                long from = Math.Max(spanStart, blockStart), to = Math.Min(spanEnd, blockEnd);
                if (to <= from) continue;
                int into = (int)(from - blockStart);
                int count = (int)(to - from);
                if (f.IsPadding) { Array.Clear(destination, into, count); continue; }
                lock (_sync)
                {
                    var stream = OpenForRead(span.File);
                    if (stream is null) return false;
                    stream.Position = from - f.Offset;
                    int read = 0;
                    while (read < count)
                    {
                        int n = stream.Read(destination, into + read, count - read);
                        if (n == 0) return false;
                        read += n;
                    }
                }
            }
            return true;
        }

        private FileStream? OpenForRead(int file)
        {
            if (_readers.TryGetValue(file, out var s))
            {
                ReadHandlePool.Touch(this, file);
                return s;
            }
            if (_open.TryGetValue(file, out var writer)) writer.Flush();
            var path = ExistingPath(file);
            if (path is null) return null;
            if (_readers.Count >= MaxOpenFiles) CloseReadersLocked();
            s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.RandomAccess);
            _readers.Add(file, s);
            ReadHandlePool.Touch(this, file);
            return s;
        }

        /// <summary>This storage's lock (the process-wide <see cref="ReadHandlePool"/> takes it to close a reader).</summary>
        internal object SyncRoot => _sync;

        /// <summary>Closes the reader of one file, if open (caller holds the lock).</summary>
        internal void CloseReaderLocked(int file)
        {
            if (_readers.TryGetValue(file, out var r))
            {
                r.Dispose();
                _readers.Remove(file);
            }
            ReadHandlePool.Forget(this, file);
        }

        private void CloseReadersLocked()
        {
            foreach (var file in new List<int>(_readers.Keys)) CloseReaderLocked(file);
        }

        /// <summary>True when every byte of the piece could be on disk (files exist and are long enough): a cheap
        /// sanity check of a resume record's claim.</summary>
        public bool PieceDataPresent(int piece)
        {
            foreach (var span in Spans(piece))
            {
                if (_torrent.Files[span.File].IsPadding) continue;
                var path = ExistingPath(span.File);
                if (path is null) return false;
                if (new FileInfo(path).Length < span.FileOffset + span.Length) return false;
            }
            return true;
        }

        /// <summary>Size and last-write time of every file as it is on disk now (null where there is none), for the
        /// resume record. Call with writes flushed.</summary>
        public FileStamp?[] Stamps()
        {
            var stamps = new FileStamp?[_torrent.Files.Count];
            for (int i = 0; i < stamps.Length; i++)
            {
                if (_torrent.Files[i].IsPadding) continue;
                var path = ExistingPath(i);
                if (path is null) continue;
                var info = new FileInfo(path);
                stamps[i] = new FileStamp(info.Length, info.LastWriteTimeUtc.Ticks);
            }
            return stamps;
        }

        /// <summary>The final file if it exists, else the .part file if it exists, else null.</summary>
        public string? ExistingPath(int file)
        {
            var final = FinalPath(file);
            if (File.Exists(final)) return final;
            var part = final + PartialSuffix;
            return File.Exists(part) ? part : null;
        }

        /// <summary>Renames each selected file whose pieces are all verified from .part to its real name, and sets its
        /// length exactly (a .part file may be short if its tail was never written… it cannot be once all pieces are
        /// in, but the check is cheap). Returns the files finished by this call.</summary>
        public IReadOnlyList<int> FinishCompletedFiles(Bitfield have, IEnumerable<int> candidates)
        {
            var done = new List<int>();
            foreach (int i in candidates)
            {
                var f = _torrent.Files[i];
                if (f.IsPadding || f.Length == 0 || !_selected[i]) continue;
                bool complete = true;
                for (int p = f.FirstPiece; p <= f.LastPiece && complete; p++) complete = have[p];
                if (!complete) continue;
                var final = FinalPath(i);
                var part = final + PartialSuffix;
                lock (_sync)
                {
                    CloseDirect(i);
                    if (_open.TryGetValue(i, out var s)) { s.Flush(); s.Dispose(); _open.Remove(i); }
                    CloseReaderLocked(i);
                }
                // Already under its real name: the verified data was read from that file (ExistingPath prefers it), and
                // writes would have moved it back to its working name first. A .part beside it is not ours to use:
                // renaming it over the complete file destroyed the file (a seed folder holding "x" and "x.part").
                if (File.Exists(final) || !File.Exists(part)) continue;
                using (var fs = new FileStream(part, FileMode.Open, FileAccess.Write, FileShare.None))
                    if (fs.Length != f.Length) fs.SetLength(f.Length);
                if (File.Exists(final)) File.Delete(final);
                File.Move(part, final);
                done.Add(i);
            }
            return done;
        }

        /// <summary>Files touching a piece (to re-check completion after it is verified).</summary>
        public IEnumerable<int> FilesOf(int piece)
        {
            foreach (var s in Spans(piece)) yield return s.File;
        }

        /// <summary>Pushes buffered bytes to the operating system (survives the process being killed).</summary>
        public void Flush()
        {
            lock (_sync)
                foreach (var s in _open.Values) s.Flush();
        }

        public void Dispose()
        {
            lock (_sync)
            {
                foreach (var s in _open.Values)
                {
                    try { s.Flush(); } catch (IOException) { }
                    s.Dispose();
                }
                _open.Clear();
                foreach (var d in _direct.Values) d.Dispose();
                _direct.Clear();
                _directBuffer?.Dispose();
                _directBuffer = null;
                CloseReadersLocked();
            }
        }

        private FileStream OpenForWrite(int file)
        {
            lock (_sync)
            {
                if (_open.TryGetValue(file, out var s)) return s;
                if (_open.Count >= MaxOpenFiles)
                {
                    foreach (var o in _open.Values) { o.Flush(); o.Dispose(); }
                    _open.Clear();
                    foreach (var d in _direct.Values) d.Dispose();
                    _direct.Clear();
                }
                var final = FinalPath(file);
                var part = final + PartialSuffix;
                RefuseLinks(final);
                RefuseLinks(part);
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                // A file under its real name counts as complete; one being written is not, so it goes back to its
                // working name first, with every verified byte in it. (Writing a re-fetched piece into a new, empty
                // .part and renaming that over the real file at the end left a "complete" file of zeros and one piece.)
                if (File.Exists(final))
                {
                    CloseReaderLocked(file);
                    if (File.Exists(part)) File.Delete(part);
                    File.Move(final, part);
                }
                // Unbuffered (bufferSize 1): a piece is written in large spans anyway, and once WritePieceAsync returns
                // its bytes are in the operating system's hands, so killing the process cannot lose a verified piece.
                s = new FileStream(part, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete,
                    1, FileOptions.None);
                _open.Add(file, s);
                return s;
            }
        }

        /// <summary>Throws when the entry at <paramref name="path"/>, or a folder between it and the destination, is a
        /// symbolic link or junction. Paths are checked to stay under the destination by name, but a link planted in
        /// the destination (a shared folder, an earlier download of a crafted archive) would carry writes anywhere
        /// the link points: "dest/t" -> "/etc" and a torrent named "t". The destination itself may be a link: the admin
        /// chose it.</summary>
        private void RefuseLinks(string path)
        {
            for (string? p = path; p != null && p.Length > _root.Length; p = Path.GetDirectoryName(p))
            {
                FileSystemInfo entry = Directory.Exists(p) ? new DirectoryInfo(p) : new FileInfo(p);
                if (FileSystemLinks.IsLink(entry))
                    throw new IOException($"'{p}' is a symbolic link or junction inside the destination; a download does not write through links (one could lead outside the destination).");
            }
        }

        private int FindFile(long offset)
        {
            var files = _torrent.Files;
            int lo = 0, hi = files.Count - 1, result = 0;
            while (lo <= hi)
            {
                int mid = (lo + hi) / 2;
                if (files[mid].Offset <= offset) { result = mid; lo = mid + 1; }
                else hi = mid - 1;
            }
            // Step back over zero-length files sharing the offset so none is skipped.
            while (result > 0 && files[result - 1].Offset == files[result].Offset) result--;
            return result;
        }

        private static bool[] CreateAll(int n, bool value)
        {
            var a = new bool[n];
            for (int i = 0; i < n; i++) a[i] = value;
            return a;
        }

        private static StringComparison PathComparison =>
            Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
    }
}
