using BitTorrent.Storage;
using Xunit;

namespace BitTorrent.Tests.Session;

/// <summary>The process-wide bound on files held open to upload from: a session seeding many torrents keeps at most
/// ReadHandlePool.Capacity of them open, and a file closed to make room is opened again when it is read.</summary>
public sealed class ReadHandlePoolTests : IDisposable
{
    private readonly SessionFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Storages_serving_more_files_than_the_bound_keep_at_most_the_bound_open_and_still_read_right()
    {
        var data = _fixture.Folder("data");
        int count = ReadHandlePool.Capacity + 40;
        var storages = new List<(DownloadStorage Storage, byte[] Payload)>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var (torrent, payload) = SessionFixture.MakeTorrent($"f{i:d4}.bin", 3000 + i, 16 * 1024, 500 + i, data);
                storages.Add((new DownloadStorage(torrent, data), payload));
            }
            var block = new byte[1000];
            foreach (var (storage, payload) in storages)
            {
                Assert.True(storage.TryReadBlock(0, 100, block, block.Length));
                Assert.Equal(payload.AsSpan(100, block.Length).ToArray(), block);
                Assert.True(ReadHandlePool.OpenCount <= ReadHandlePool.Capacity, $"{ReadHandlePool.OpenCount} readers open");
            }
            // The first ones were closed to make room; reading them again opens them again.
            var (first, firstPayload) = storages[0];
            Assert.True(first.TryReadBlock(0, 0, block, block.Length));
            Assert.Equal(firstPayload.AsSpan(0, block.Length).ToArray(), block);
            Assert.True(ReadHandlePool.OpenCount <= ReadHandlePool.Capacity);
        }
        finally
        {
            foreach (var (storage, _) in storages) storage.Dispose();
        }
    }
}
