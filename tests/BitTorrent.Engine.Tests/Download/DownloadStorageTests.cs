using BitTorrent.Storage;
using BitTorrent.Wire;
using BitTorrent.Tests.Download;
using Xunit;

namespace BitTorrent.Tests.Download
{
    public sealed class DownloadStorageTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "bt-storage-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }

        // 3 pieces of 32 KiB over files that straddle piece boundaries, with an empty file in the middle.
        private static TestTorrent Spanning() => TestTorrent.Create("set", 32 * 1024, new[]
        {
            ("a.bin", 40_000), ("empty.txt", 0), ("sub/b.bin", 30_000), ("c.bin", 20_000),
        });

        [Fact]
        public async Task Never_writes_through_a_link_planted_in_the_destination()
        {
            var t = Spanning();
            string outside = _root + "-outside";
            Directory.CreateDirectory(outside);
            try
            {
                Directory.CreateDirectory(_root);
                // The torrent's folder is a link to a folder outside the destination.
                Directory.CreateSymbolicLink(Path.Combine(_root, "set"), outside);
                using (var storage = new DownloadStorage(t.Info, _root))
                {
                    var ex = Assert.Throws<IOException>(() => storage.Prepare());
                    Assert.Contains("symbolic link", ex.Message);
                    await Assert.ThrowsAsync<IOException>(() => storage.WritePieceAsync(0, new ArraySegment<byte>(t.Piece(0)), CancellationToken.None));
                }
                Assert.Empty(Directory.GetFileSystemEntries(outside));

                // A file link (and a dangling one, which would create its target) inside a real folder: refused too.
                Directory.Delete(Path.Combine(_root, "set"));
                Directory.CreateDirectory(Path.Combine(_root, "set"));
                File.CreateSymbolicLink(Path.Combine(_root, "set", "c.bin.part"), Path.Combine(outside, "c.bin"));
                using (var storage = new DownloadStorage(t.Info, _root))
                {
                    storage.Prepare();
                    await storage.WritePieceAsync(0, new ArraySegment<byte>(t.Piece(0)), CancellationToken.None);
                    await Assert.ThrowsAsync<IOException>(() => storage.WritePieceAsync(2, new ArraySegment<byte>(t.Piece(2)), CancellationToken.None));
                }
                Assert.Empty(Directory.GetFileSystemEntries(outside));
            }
            finally { Directory.Delete(outside, recursive: true); }
        }

        [Fact]
        public void Spans_cover_each_piece_exactly_once_across_files()
        {
            var t = Spanning();
            using var storage = new DownloadStorage(t.Info, _root);
            for (int p = 0; p < t.Info.PieceCount; p++)
            {
                var spans = storage.Spans(p).ToList();
                Assert.Equal(t.Info.GetPieceLength(p), spans.Sum(s => s.Length));
                int expectedOffset = 0;
                foreach (var s in spans)
                {
                    Assert.Equal(expectedOffset, s.PieceOffset);
                    Assert.NotEqual(0, t.Info.Files[s.File].Length);
                    expectedOffset += s.Length;
                }
            }
            // Piece 1 (32768..65536) runs from a.bin's tail into sub/b.bin.
            Assert.Equal(new[] { 0, 2 }, storage.Spans(1).Select(s => s.File).ToArray());
        }

        [Fact]
        public async Task Pieces_written_in_any_order_produce_the_files_and_only_complete_files_get_their_names()
        {
            var t = Spanning();
            using var storage = new DownloadStorage(t.Info, _root);
            storage.Prepare();
            Assert.True(File.Exists(Path.Combine(_root, "set", "empty.txt")));

            var have = new Bitfield(t.Info.PieceCount);
            foreach (int p in new[] { 2, 0 })
            {
                await storage.WritePieceAsync(p, new ArraySegment<byte>(t.Piece(p)), CancellationToken.None);
                have.Set(p);
                storage.FinishCompletedFiles(have, storage.FilesOf(p));
            }
            // c.bin lies in piece 2 only: finished. a.bin needs piece 1 too: still a .part file.
            Assert.Equal(t.FileBytes(3), File.ReadAllBytes(Path.Combine(_root, "set", "c.bin")));
            Assert.False(File.Exists(Path.Combine(_root, "set", "a.bin")));
            Assert.True(File.Exists(Path.Combine(_root, "set", "a.bin" + DownloadStorage.PartialSuffix)));

            await storage.WritePieceAsync(1, new ArraySegment<byte>(t.Piece(1)), CancellationToken.None);
            have.Set(1);
            var finished = storage.FinishCompletedFiles(have, storage.FilesOf(1));
            Assert.Equal(new[] { 0, 2 }, finished.OrderBy(i => i).ToArray());
            for (int f = 0; f < t.Info.Files.Count; f++)
                Assert.Equal(t.FileBytes(f), File.ReadAllBytes(storage.FinalPath(f)));
            Assert.Empty(Directory.GetFiles(_root, "*" + DownloadStorage.PartialSuffix, SearchOption.AllDirectories));
        }

        [Fact]
        public async Task Writing_into_a_file_that_has_its_real_name_keeps_its_verified_bytes()
        {
            // A finished file is damaged in one piece; the next run verifies the others from it and fetches that one
            // again. The file must end up whole, not as the one re-fetched piece in an otherwise empty file.
            var t = TestTorrent.Create("one.bin", 16 * 1024, new[] { ("one.bin", 40_000) }, multi: false);
            using (var first = new DownloadStorage(t.Info, _root))
            {
                first.Prepare();
                var all = new Bitfield(t.Info.PieceCount);
                for (int p = 0; p < t.Info.PieceCount; p++) { await first.WritePieceAsync(p, new ArraySegment<byte>(t.Piece(p)), CancellationToken.None); all.Set(p); }
                Assert.Equal(new[] { 0 }, first.FinishCompletedFiles(all, new[] { 0 }));
            }
            string final = Path.Combine(_root, "one.bin");
            var damaged = File.ReadAllBytes(final);
            damaged[16 * 1024 + 5] ^= 0xFF;
            File.WriteAllBytes(final, damaged);

            using var storage = new DownloadStorage(t.Info, _root);
            storage.Prepare();
            var have = new Bitfield(t.Info.PieceCount);
            var onDisk = File.ReadAllBytes(final);
            for (int p = 0; p < t.Info.PieceCount; p++)
                if (onDisk.AsSpan(p * t.Info.PieceLength, t.Info.GetPieceLength(p)).SequenceEqual(t.Piece(p))) have.Set(p);
            Assert.Equal(2, have.Count);
            await storage.WritePieceAsync(1, new ArraySegment<byte>(t.Piece(1)), CancellationToken.None);
            Assert.False(File.Exists(final)); // being written: not under its real name
            have.Set(1);
            Assert.Equal(new[] { 0 }, storage.FinishCompletedFiles(have, new[] { 0 }));
            Assert.Equal(t.Payload, File.ReadAllBytes(final));
        }

        [Fact]
        public void A_complete_file_is_never_replaced_by_a_part_file_beside_it()
        {
            // Seeding from a folder that holds the complete "one.bin" and an unrelated "one.bin.part" (a browser's).
            var t = TestTorrent.Create("one.bin", 16 * 1024, new[] { ("one.bin", 40_000) }, multi: false);
            Directory.CreateDirectory(_root);
            string final = Path.Combine(_root, "one.bin");
            File.WriteAllBytes(final, t.Payload);
            File.WriteAllBytes(final + DownloadStorage.PartialSuffix, new byte[] { 1, 2, 3 });
            using var storage = new DownloadStorage(t.Info, _root);
            var have = new Bitfield(t.Info.PieceCount);
            have.SetAll();
            Assert.Empty(storage.FinishCompletedFiles(have, new[] { 0 }));
            Assert.Equal(t.Payload, File.ReadAllBytes(final));
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(final + DownloadStorage.PartialSuffix));
        }

        [Fact]
        public async Task Reads_back_blocks_for_upload_across_file_boundaries()
        {
            var t = Spanning();
            using var storage = new DownloadStorage(t.Info, _root);
            storage.Prepare();
            Assert.False(storage.PieceDataPresent(1));

            await storage.WritePieceAsync(1, new ArraySegment<byte>(t.Piece(1)), CancellationToken.None);
            Assert.True(storage.PieceDataPresent(1));

            // A block that straddles the a.bin / sub/b.bin boundary inside piece 1 (a.bin ends at 40000 = 32768 + 7232).
            var block = new byte[16384];
            Assert.True(storage.TryReadBlock(1, 0, block, block.Length));
            Assert.Equal(t.Piece(1).AsSpan(0, 16384).ToArray(), block);
        }

        [Fact]
        public async Task Unselected_files_never_get_a_real_name_but_keep_boundary_bytes()
        {
            var t = Spanning();
            // Only sub/b.bin (40000..70000: pieces 1 and 2).
            var selected = new[] { false, false, true, false };
            using var storage = new DownloadStorage(t.Info, _root, selected);
            storage.Prepare();
            Assert.False(File.Exists(Path.Combine(_root, "set", "empty.txt")), "an unselected empty file is not created");
            var have = new Bitfield(t.Info.PieceCount);
            foreach (int p in new[] { 1, 2 })
            {
                await storage.WritePieceAsync(p, new ArraySegment<byte>(t.Piece(p)), CancellationToken.None);
                have.Set(p);
            }
            storage.FinishCompletedFiles(have, Enumerable.Range(0, t.Info.Files.Count));
            Assert.Equal(t.FileBytes(2), File.ReadAllBytes(Path.Combine(_root, "set", "sub", "b.bin")));
            Assert.False(File.Exists(Path.Combine(_root, "set", "a.bin")));
            Assert.False(File.Exists(Path.Combine(_root, "set", "c.bin")));
            Assert.True(File.Exists(Path.Combine(_root, "set", "c.bin" + DownloadStorage.PartialSuffix)));
        }

        [Fact]
        public async Task Stamps_change_when_a_file_is_written_and_are_null_for_missing_files()
        {
            var t = Spanning();
            using var storage = new DownloadStorage(t.Info, _root);
            storage.Prepare();
            var before = storage.Stamps();
            Assert.Null(before[0]);                              // a.bin: nothing written yet
            Assert.Equal(0, before[1]!.Value.Length);            // empty.txt exists, empty
            await storage.WritePieceAsync(0, new ArraySegment<byte>(t.Piece(0)), CancellationToken.None);
            storage.Flush();
            var after = storage.Stamps();
            Assert.Equal(32 * 1024, after[0]!.Value.Length);
            File.SetLastWriteTimeUtc(storage.ExistingPath(0)!, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            Assert.NotEqual(after[0], storage.Stamps()[0]);
        }

        [Fact]
        public void Hostile_names_are_sanitized_and_stay_inside_the_destination()
        {
            var t = TestTorrent.Create("..", 16384, new[] { ("../../escape.txt", 10), ("/etc/passwd", 10), ("ok/../../x", 10) });
            using var storage = new DownloadStorage(t.Info, _root);
            var rootWithSeparator = Path.GetFullPath(_root) + Path.DirectorySeparatorChar;
            for (int f = 0; f < t.Info.Files.Count; f++)
                Assert.StartsWith(rootWithSeparator, storage.FinalPath(f), StringComparison.Ordinal);
        }
    }
}
