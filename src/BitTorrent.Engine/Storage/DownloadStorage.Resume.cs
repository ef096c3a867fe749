using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Hashing;
using BitTorrent.Wire;

namespace BitTorrent.Storage
{
    /// <summary>The parts of <see cref="IPieceStorage"/> that concern the resume record and start-up checks.</summary>
    public sealed partial class DownloadStorage
    {
        /// <summary>Writes and deletes a probe file beside the resume record: a read-only, full or forbidden destination
        /// fails here, at start, rather than when the first piece arrives.</summary>
        public void ProbeWritable()
        {
            string probe = Path.Combine(_root, ResumeRecord.FolderName, _torrent.InfoHash + "-" + Guid.NewGuid().ToString("N") + ".probe");
            Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
            using var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            stream.WriteByte(0);
            stream.Flush();
        }

        /// <summary>Pieces claimed by the resume record are trusted while every file they touch has the size and
        /// last-write time the record saved; a piece in a file changed since (or written after the last save, before
        /// a crash) is left to the hash check, so data someone else modified is never trusted.</summary>
        public Bitfield? TrustedResumePieces()
        {
            var record = ResumeRecord.TryLoad(_root, _torrent);
            if (record is null) return null;
            var current = Stamps();
            var unchanged = new bool[current.Length];
            for (int f = 0; f < current.Length; f++)
                unchanged[f] = current[f] is FileStamp now && record.Files[f] is FileStamp then && now.Equals(then);
            var trusted = new Bitfield(_torrent.PieceCount);
            for (int p = 0; p < _torrent.PieceCount; p++)
            {
                if (!record.Pieces[p]) continue;
                bool trust = true;
                foreach (var span in Spans(p))
                    if (!_torrent.Files[span.File].IsPadding && !unchanged[span.File]) { trust = false; break; }
                if (trust) trusted.Set(p);
            }
            return trusted;
        }

        /// <summary>The same check as Test-Torrent, on the files as they are now (final or .part names).</summary>
        public async Task<IReadOnlyList<int>> VerifyPiecesAsync(IReadOnlyList<int> pieces, CancellationToken cancellationToken)
        {
            var paths = Enumerable.Range(0, _torrent.Files.Count).Select(ExistingPath).ToArray();
            var location = TorrentDataLocation.FromPaths(_torrent, _root, paths);
            var check = await PieceVerifier.VerifyAsync(_torrent, location, new VerificationOptions { Pieces = pieces.ToList() }, null, cancellationToken).ConfigureAwait(false);
            return pieces.Where(p => check.Pieces[p] == PieceState.Valid).ToList();
        }

        public void SaveResume(Bitfield verified) => ResumeRecord.Save(_root, _torrent, verified, Stamps());

        public IReadOnlyList<string> SelectedFilePaths()
        {
            var list = new List<string>();
            foreach (var f in _torrent.Files)
            {
                if (f.IsPadding || !IsSelected(f.Index)) continue;
                list.Add(ExistingPath(f.Index) ?? FinalPath(f.Index));
            }
            return list;
        }
    }
}
