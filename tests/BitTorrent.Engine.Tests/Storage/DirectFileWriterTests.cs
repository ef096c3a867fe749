using System.Runtime.InteropServices;
using BitTorrent.Storage;
using BitTorrent.Tests.Download;
using Xunit;

namespace BitTorrent.Tests.Storage
{
    /// <summary>Direct (O_DIRECT) piece writes: the bytes on disk are exactly the piece's, whatever mix of direct and
    /// stream writes a piece's spans take (aligned bulk, unaligned head or tail, a file starting mid-piece).</summary>
    public sealed class DirectFileWriterTests : IDisposable
    {
        private readonly TempFolder _temp = new TempFolder();

        public void Dispose() => _temp.Dispose();

        [SkippableFact]
        public void Writes_aligned_blocks_straight_to_the_file_on_Linux()
        {
            string path = _temp.Combine("direct.bin");
            var data = HandMadeTorrent.Random(3 * DirectFileWriter.Alignment + 100, 7);
            using (var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1))
            using (var buffer = new DirectFileWriter.AlignedBuffer(1024 * 1024))
            {
                using var writer = DirectFileWriter.TryOpen(stream);
                if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || !DirectFileWriter.IsPlatformSupported)
                {
                    Assert.Null(writer);
                    throw new SkipException("O_DIRECT writes exist on Linux only (TryOpen returned null, as it must)");
                }
                // A filesystem without O_DIRECT (an older tmpfs) may refuse: then null, and nothing else to check.
                Skip.If(writer is null, "the temporary folder's filesystem refuses O_DIRECT");
                Assert.Equal(0, (long)buffer.Pointer % DirectFileWriter.Alignment);
                // The second and third blocks, from an odd offset in the source array (the copy aligns them).
                Assert.True(writer.TryWrite(DirectFileWriter.Alignment, data, 1, 2 * DirectFileWriter.Alignment, buffer));
                Assert.Throws<ArgumentException>(() => writer.TryWrite(100, data, 0, DirectFileWriter.Alignment, buffer));
                Assert.Throws<ArgumentException>(() => writer.TryWrite(0, data, 0, 100, buffer));
            }
            var onDisk = File.ReadAllBytes(path);
            Assert.Equal(3 * DirectFileWriter.Alignment, onDisk.Length);
            Assert.True(onDisk.AsSpan(0, DirectFileWriter.Alignment).ToArray().All(b => b == 0));
            Assert.True(onDisk.AsSpan(DirectFileWriter.Alignment).SequenceEqual(data.AsSpan(1, 2 * DirectFileWriter.Alignment)));
        }

        [Theory]
        [InlineData(1)]   // the piece lengths and file sizes below are not multiples of 4 KiB: heads and tails go by stream
        [InlineData(2)]
        public async Task Pieces_written_in_any_order_read_back_exactly(int seed)
        {
            // 64 KiB pieces; files start mid-piece and mid-block; the last piece is short and unaligned.
            var t = TestTorrent.Create("set", 64 * 1024, new[] { ("a.bin", 150_001), ("b.bin", 70_000), ("c.bin", 4096) });
            string root = _temp.Combine("dl" + seed);
            using (var storage = new DownloadStorage(t.Info, root))
            {
                storage.Prepare();
                var rng = new Random(seed);
                var order = Enumerable.Range(0, t.Info.PieceCount).OrderBy(_ => rng.Next()).ToList();
                foreach (int p in order)
                {
                    var piece = t.Piece(p);
                    // From an array longer than the piece, at an offset, as pooled piece buffers are.
                    var pooled = new byte[piece.Length + 3];
                    piece.CopyTo(pooled, 3);
                    await storage.WritePieceAsync(p, new ArraySegment<byte>(pooled, 3, piece.Length), CancellationToken.None);
                }
                storage.Flush();
            }
            var all = t.Payload;
            long offset = 0;
            foreach (var f in t.Info.Files)
            {
                var path = Path.Combine(root, f.SanitizedPath.Replace('/', Path.DirectorySeparatorChar)) + DownloadStorage.PartialSuffix;
                var onDisk = File.ReadAllBytes(path);
                Assert.Equal(f.Length, onDisk.Length);
                Assert.True(onDisk.AsSpan().SequenceEqual(all.AsSpan((int)offset, (int)f.Length)), $"{f.Path} differs");
                offset += f.Length;
            }
        }
    }
}
