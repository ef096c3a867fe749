using BitTorrent.Storage;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Download
{
    public sealed class ResumeRecordTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "bt-resume-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }

        private static TestTorrent Torrent(int seed = 1) => TestTorrent.Create("r.bin", 16384, new[] { ("r.bin", 100_000) }, multi: false, seed: seed);

        private static FileStamp?[] Stamps(params FileStamp?[] stamps) => stamps;

        [Fact]
        public void Round_trips_the_verified_pieces()
        {
            var t = Torrent();
            var bits = new Bitfield(t.Info.PieceCount);
            bits.Set(0); bits.Set(3); bits.Set(t.Info.PieceCount - 1);
            ResumeRecord.Save(_root, t.Info, bits, Stamps(new FileStamp(100_000, 638_000_000_000_000_000L)));
            Assert.True(File.Exists(Path.Combine(_root, ".bittorrent", t.Info.InfoHash + ".resume")));
            Assert.False(File.Exists(ResumeRecord.PathFor(_root, t.Info) + ".tmp"));
            var loaded = ResumeRecord.TryLoad(_root, t.Info);
            Assert.NotNull(loaded);
            Assert.Equal(bits.Bytes.ToArray(), loaded!.Pieces.Bytes.ToArray());
            Assert.Equal(new FileStamp(100_000, 638_000_000_000_000_000L), Assert.Single(loaded.Files));

            // A missing file round-trips as null.
            ResumeRecord.Save(_root, t.Info, bits, Stamps((FileStamp?)null));
            Assert.Null(Assert.Single(ResumeRecord.TryLoad(_root, t.Info)!.Files));
        }

        [Fact]
        public void Another_torrents_record_is_ignored()
        {
            var a = Torrent(1);
            var b = Torrent(2);
            var bits = new Bitfield(a.Info.PieceCount);
            bits.SetAll();
            ResumeRecord.Save(_root, a.Info, bits, Stamps((FileStamp?)null));
            // Same destination, another info-hash: a different file name, so nothing to load.
            Assert.Null(ResumeRecord.TryLoad(_root, b.Info));
            // And a record copied over another torrent's name is refused by its info-hash.
            File.Copy(ResumeRecord.PathFor(_root, a.Info), ResumeRecord.PathFor(_root, b.Info));
            Assert.Null(ResumeRecord.TryLoad(_root, b.Info));
        }

        [Theory]
        [InlineData("")]
        [InlineData("not bencode at all")]
        [InlineData("d7:versioni1ee")]
        [InlineData("d7:versioni99e9:info-hash20:aaaaaaaaaaaaaaaaaaaa11:piece-counti7e6:pieces1:\u00ffe")]
        [InlineData("d7:versioni1e6:pieces1:xe")]
        public void A_corrupt_or_foreign_record_means_no_record(string content)
        {
            var t = Torrent();
            Directory.CreateDirectory(Path.Combine(_root, ".bittorrent"));
            File.WriteAllText(ResumeRecord.PathFor(_root, t.Info), content);
            Assert.Null(ResumeRecord.TryLoad(_root, t.Info));
        }

        [Fact]
        public void A_huge_record_is_not_read()
        {
            var t = Torrent();
            Directory.CreateDirectory(Path.Combine(_root, ".bittorrent"));
            File.WriteAllBytes(ResumeRecord.PathFor(_root, t.Info), new byte[1 << 20]);
            Assert.Null(ResumeRecord.TryLoad(_root, t.Info));
        }
    }
}
