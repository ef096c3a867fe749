using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Storage;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>What happens to a piece once its last block is in: its SHA-1, fed as the blocks arrived, is finished
    /// and checked (on the thread pool, bounded by the core count), it is written by one writer at a time, and only
    /// then is it "have" (announced to peers, saved in the resume record). A failed hash goes to the <see cref="SmartBan"/>. Also restores verified pieces at
    /// start-up and saves the resume record. Hashing and I/O run outside the torrent's lock (asserted); the state they
    /// lead to changes under it.</summary>
    internal sealed class PieceCompletion
    {
        private readonly TorrentContext _ctx;
        private readonly RequestScheduler _requests;
        private readonly SmartBan _smartBan;
        private readonly Action<DownloadException> _fatal;
        private readonly Action _changed;
        private readonly SemaphoreSlim _hashSlots = new SemaphoreSlim(Math.Max(1, Environment.ProcessorCount));
        private readonly SemaphoreSlim _writeLock = new SemaphoreSlim(1, 1);
        private bool _resumeDirty;
        private TaskCompletionSource<bool>? _idle;

        /// <param name="fatal">Reports an error that ends the download (a failed write).</param>
        /// <param name="changed">Wakes the run loop (a piece verified or failed).</param>
        public PieceCompletion(TorrentContext context, RequestScheduler requests, SmartBan smartBan, Action<DownloadException> fatal, Action changed)
        {
            _ctx = context;
            _requests = requests;
            _smartBan = smartBan;
            _fatal = fatal;
            _changed = changed;
        }

        private IPieceStorage Storage => _ctx.Storage!;

        /// <summary>Verified pieces not yet in the resume record (lock).</summary>
        public bool ResumeDirty => _resumeDirty;

        /// <summary>Pieces the resume record vouches for (files unchanged since it was saved) are trusted; every other
        /// piece with data present (written after the last save, before a crash; or in a file changed since) is
        /// hash-checked, so a restart re-downloads no more than what was in flight and never trusts data someone else
        /// modified. Runs before any peer connects.</summary>
        public async Task RestoreAsync(CancellationToken token)
        {
            _ctx.Lock.AssertNotHeld();
            var torrent = _ctx.Torrent;
            var trusted = Storage.TrustedResumePieces();
            var toCheck = new List<int>();
            int trustedCount = 0;
            var verified = new List<int>();
            for (int p = 0; p < torrent.PieceCount; p++)
            {
                if (!Storage.PieceDataPresent(p)) continue;
                if (trusted is not null && trusted[p]) { verified.Add(p); trustedCount++; }
                else toCheck.Add(p);
            }
            IReadOnlyList<int> valid = toCheck.Count == 0 ? Array.Empty<int>() : await Storage.VerifyPiecesAsync(toCheck, token).ConfigureAwait(false);
            verified.AddRange(valid);
            using (_ctx.Lock.Enter())
                foreach (int p in verified) _ctx.Have.Set(p);
            if (toCheck.Count == 0)
            {
                if (trustedCount > 0) _ctx.Publish(EngineEventKind.ResumeLoaded, EventSeverity.Verbose, $"Resumed {trustedCount} verified piece(s) from the resume record.", count: trustedCount);
                return;
            }
            _ctx.Publish(EngineEventKind.ResumeChecked, EventSeverity.Verbose, $"Resume: {trustedCount} piece(s) from the resume record, {valid.Count} of {toCheck.Count} other piece(s) on disk verified by hashing.", count: trustedCount + valid.Count);
        }

        /// <summary>A piece's last block arrived (under the lock): count it as pending and verify it in the background.</summary>
        public void OnPieceComplete(PartialPiece partial)
        {
            _ctx.Lock.AssertHeld();
            _ctx.PendingVerifications++;
            _ = Task.Run(() => VerifyAndStoreAsync(partial));
        }

        private void VerificationEnded()
        {
            _ctx.Lock.AssertHeld();
            if (--_ctx.PendingVerifications == 0) _idle?.TrySetResult(true);
        }

        /// <summary>Completes when no piece is being hashed or written (shutdown waits for it, bounded).</summary>
        public Task WhenIdle()
        {
            using (_ctx.Lock.Enter())
            {
                if (_ctx.PendingVerifications == 0) return Task.CompletedTask;
                if (_idle is null || _idle.Task.IsCompleted) _idle = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                return _idle.Task;
            }
        }

        private async Task VerifyAndStoreAsync(PartialPiece partial)
        {
            _ctx.Lock.AssertNotHeld();
            bool valid;
            await _hashSlots.WaitAsync().ConfigureAwait(false);
            try
            {
                // SHA-1 was fed as the blocks came in (see BlockClaim): what is left to hash here is what arrived
                // after a gap, or by the copying path.
                valid = partial.HashMatches(_ctx.Torrent.GetPieceHash(partial.Index));
            }
            finally
            {
                _hashSlots.Release();
            }

            if (!valid)
            {
                // The piece is complete, so its blocks and senders stay as they are until MarkFailed below.
                var evidence = partial.Contributors.Count > 1 ? SmartBan.HashBlocks(partial) : null;
                using (_ctx.Lock.Enter())
                {
                    _ctx.HashFailures++;
                    int sources = _smartBan.OnPieceFailed(partial, evidence);
                    _ctx.Picker.MarkFailed(partial.Index, singleSource: sources > 1);
                    VerificationEnded();
                    _requests.FillAllRequests();
                }
                _changed();
                return;
            }

            // A piece that failed before with blocks from several peers is good now: whoever sent a block that
            // differs from the good one lied. (Compared before the write: the buffer goes back to the pool after it.)
            FailedBlock[]? evidenceOfFailure;
            using (_ctx.Lock.Enter()) evidenceOfFailure = _smartBan.TakeEvidence(partial.Index);
            if (evidenceOfFailure is not null)
            {
                var liars = SmartBan.FindLiars(partial, evidenceOfFailure);
                using (_ctx.Lock.Enter()) _smartBan.OnPiecePassed(partial.Index, liars);
            }

            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await Storage.WritePieceAsync(partial.Index, partial.Data, CancellationToken.None).ConfigureAwait(false);
                using (_ctx.Lock.Enter())
                {
                    _ctx.Picker.MarkVerified(partial.Index);
                    if (_ctx.Wanted[partial.Index]) _ctx.BytesVerified += partial.Length;
                    _resumeDirty = true;
                    foreach (var s in _ctx.Sessions)
                        if (!s.PeerHas[partial.Index]) s.Send(PeerMessage.Have(partial.Index));
                    if (_ctx.Picker.IsComplete) _requests.LoseInterestInAll();
                    else _requests.FillAllRequests(); // a slot for a new piece is free: ask now, not at the next tick or block
                }
                Storage.FinishCompletedFiles(_ctx.Have, Storage.FilesOf(partial.Index));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _fatal(new DownloadException(DownloadError.DestinationWriteFailed,
                    $"Writing piece {partial.Index} to '{_ctx.Destination}' failed: {ex.Message}", ex));
            }
            finally
            {
                _writeLock.Release();
                using (_ctx.Lock.Enter()) VerificationEnded();
                _changed();
            }
        }

        /// <summary>Reads a block we have from storage to upload it (called by a session's send loop, no lock).</summary>
        public PooledBuffer? ReadBlockForUpload(BlockRequest block)
        {
            var storage = _ctx.Storage;
            if (storage is null) return null;
            var buffer = new PooledBuffer(block.Length);
            try
            {
                if (storage.TryReadBlock(block.Piece, block.Offset, buffer.Array, block.Length)) return buffer;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException)
            {
                _ctx.Publish(EngineEventKind.UploadReadFailed, EventSeverity.Warning, $"Could not read piece {block.Piece} to upload it: {ex.Message}", piece: block.Piece, exception: ex);
            }
            buffer.Dispose();
            return null;
        }

        /// <summary>Flushes written pieces and records them in the resume record (a failure to save is a warning:
        /// the pieces are re-checked by hashing at the next start).</summary>
        public async Task SaveResumeAsync(CancellationToken token)
        {
            _ctx.Lock.AssertNotHeld();
            await _writeLock.WaitAsync(token).ConfigureAwait(false);
            try
            {
                Storage.Flush();
                Bitfield snapshot;
                using (_ctx.Lock.Enter())
                {
                    snapshot = Bitfield.FromWire(_ctx.Have.Bytes, _ctx.Have.Length);
                    _resumeDirty = false;
                }
                Storage.SaveResume(snapshot);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _ctx.Publish(EngineEventKind.ResumeSaveFailed, EventSeverity.Warning, "Could not save the resume record: " + ex.Message, exception: ex);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        /// <summary>The last save at shutdown (pieces being verified have finished or were given up): flush, release
        /// partial buffers, save the record, close the storage.</summary>
        public async Task CloseAsync()
        {
            _ctx.Lock.AssertNotHeld();
            var storage = _ctx.Storage;
            if (storage is null) return;
            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                storage.Flush();
                Bitfield snapshot;
                using (_ctx.Lock.Enter())
                {
                    if (_ctx.Picker is not null && _ctx.PendingVerifications == 0) _ctx.Picker.ReleaseAll();
                    snapshot = Bitfield.FromWire(_ctx.Have.Bytes, _ctx.Have.Length);
                }
                storage.SaveResume(snapshot);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _ctx.Publish(EngineEventKind.ResumeSaveFailed, EventSeverity.Warning, "Could not save the resume record: " + ex.Message, exception: ex);
            }
            finally
            {
                storage.Dispose();
                _writeLock.Release();
            }
        }
    }
}
