using System.Security.Cryptography;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Wire;

namespace BitTorrent.Tests.Download.Harness;

/// <summary>A disk in memory for one torrent: the bytes, which pieces were (even partly) written, a version that
/// changes with every write (the "last-write time" a resume record compares), and the resume record. Every write and
/// every record save is kept as a <see cref="Snapshot"/>, so a test can restart from the state a crash at that point
/// would have left. A write can be torn (only its first half lands) to model a crash in the middle of it.</summary>
internal sealed class MemoryDisk
{
    private readonly object _sync = new();

    public MemoryDisk(TorrentInfo torrent)
    {
        Torrent = torrent;
        Data = new byte[torrent.TotalSize];
        Written = new bool[torrent.PieceCount];
    }

    private MemoryDisk(MemoryDisk from)
    {
        Torrent = from.Torrent;
        Data = (byte[])from.Data.Clone();
        Written = (bool[])from.Written.Clone();
        Version = from.Version;
        Record = from.Record is null ? null : (from.Record.Value.Pieces.ToArray(), from.Record.Value.Version);
    }

    public TorrentInfo Torrent { get; }
    public byte[] Data { get; }
    public bool[] Written { get; }
    public long Version { get; private set; }
    /// <summary>The resume record: verified pieces and the disk version when saved.</summary>
    public (bool[] Pieces, long Version)? Record { get; private set; }

    /// <summary>The state after each write and each record save, in order.</summary>
    public List<MemoryDisk> Snapshots { get; } = new();

    public bool TakeSnapshots { get; set; }
    /// <summary>Writes fail with an IOException (a full or failing disk).</summary>
    public bool FailWrites { get; set; }
    public int Writes { get; private set; }
    public int Saves { get; private set; }

    public MemoryDisk Copy()
    {
        lock (_sync) return new MemoryDisk(this);
    }

    public void Write(int piece, ReadOnlySpan<byte> data, bool torn = false)
    {
        if (FailWrites) throw new IOException("No space left on the memory disk.");
        lock (_sync)
        {
            var length = torn ? data.Length / 2 : data.Length;
            data[..length].CopyTo(Data.AsSpan((int)((long)piece * Torrent.PieceLength)));
            Written[piece] = true;
            Version++;
            Writes++;
            if (TakeSnapshots) Snapshots.Add(new MemoryDisk(this));
        }
    }

    public void SaveRecord(Bitfield verified)
    {
        lock (_sync)
        {
            var pieces = new bool[Torrent.PieceCount];
            for (int p = 0; p < pieces.Length; p++) pieces[p] = verified[p];
            Record = (pieces, Version);
            Saves++;
            if (TakeSnapshots) Snapshots.Add(new MemoryDisk(this));
        }
    }

    /// <summary>Someone else changed the data (a byte of a piece flipped) after the record was saved.</summary>
    public void Tamper(int piece)
    {
        lock (_sync)
        {
            Data[(long)piece * Torrent.PieceLength] ^= 0xFF;
            Version++;
        }
    }

    public ReadOnlySpan<byte> Piece(int piece) => Data.AsSpan((int)((long)piece * Torrent.PieceLength), Torrent.GetPieceLength(piece));

    /// <summary>Pieces whose bytes on this disk hash right.</summary>
    public int ValidPieces()
    {
        int valid = 0;
        for (int p = 0; p < Torrent.PieceCount; p++)
            if (SHA1.HashData(Piece(p)).AsSpan().SequenceEqual(Torrent.GetPieceHash(p))) valid++;
        return valid;
    }

    public IPieceStorage Open() => new MemoryPieceStorage(this);
}

/// <summary><see cref="IPieceStorage"/> over a <see cref="MemoryDisk"/>.</summary>
internal sealed class MemoryPieceStorage : IPieceStorage
{
    private readonly MemoryDisk _disk;

    public MemoryPieceStorage(MemoryDisk disk) => _disk = disk;

    public void Prepare() { }
    public void ProbeWritable() { }
    public bool PieceDataPresent(int piece) => _disk.Written[piece];

    public Bitfield? TrustedResumePieces()
    {
        if (_disk.Record is not (bool[] pieces, long version)) return null;
        var trusted = new Bitfield(pieces.Length);
        if (version != _disk.Version) return trusted;      // changed since it was saved: trust nothing
        for (int p = 0; p < pieces.Length; p++) if (pieces[p]) trusted.Set(p);
        return trusted;
    }

    public Task<IReadOnlyList<int>> VerifyPiecesAsync(IReadOnlyList<int> pieces, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<int>>(pieces.Where(p => SHA1.HashData(_disk.Piece(p)).AsSpan().SequenceEqual(_disk.Torrent.GetPieceHash(p))).ToList());

    public Task WritePieceAsync(int piece, ArraySegment<byte> data, CancellationToken cancellationToken)
    {
        _disk.Write(piece, data);
        return Task.CompletedTask;
    }

    public bool TryReadBlock(int piece, int offset, byte[] destination, int length)
    {
        if (!_disk.Written[piece]) return false;
        _disk.Data.AsSpan((int)((long)piece * _disk.Torrent.PieceLength + offset), length).CopyTo(destination);
        return true;
    }

    public IReadOnlyList<int> FinishCompletedFiles(Bitfield have, IEnumerable<int> candidates) => Array.Empty<int>();
    public IEnumerable<int> FilesOf(int piece) => new[] { 0 };
    public void Flush() { }
    public void SaveResume(Bitfield verified) => _disk.SaveRecord(verified);
    public IReadOnlyList<string> SelectedFilePaths() => new[] { _disk.Torrent.Name };
    public void Dispose() { }
}
