using System;
using System.Collections.Generic;

namespace BitTorrent.Metainfo
{
    /// <summary>A parsed .torrent file (BEP 3 metainfo, v1 or the v1 part of a hybrid). Immutable.</summary>
    public sealed class TorrentInfo
    {
        internal TorrentInfo() { }

        /// <summary>The torrent's name as given in the file (untrusted; for display).</summary>
        public string Name { get; internal set; } = string.Empty;

        /// <summary>SHA-1 of the exact bytes of the <c>info</c> dictionary, 40 lower-case hex digits.</summary>
        public string InfoHash { get; internal set; } = string.Empty;

        /// <summary>The 20-byte info-hash.</summary>
        public byte[] InfoHashBytes { get; internal set; } = Array.Empty<byte>();

        public long TotalSize { get; internal set; }
        public int PieceLength { get; internal set; }
        public int PieceCount { get; internal set; }

        /// <summary>Size of the last piece (the only one that may be shorter than <see cref="PieceLength"/>).</summary>
        public int LastPieceLength => PieceCount == 0 ? 0 : (int)(TotalSize - (long)(PieceCount - 1) * PieceLength);

        /// <summary>True for a torrent with a <c>files</c> list (content goes into a folder named after the torrent).</summary>
        public bool IsMultiFile { get; internal set; }

        /// <summary>Files in torrent order, with their offsets in the torrent's byte stream.</summary>
        public IReadOnlyList<TorrentFile> Files { get; internal set; } = Array.Empty<TorrentFile>();

        public bool IsPrivate { get; internal set; }

        /// <summary>Every tracker URL, tier by tier, without duplicates (announce-list, or announce alone).</summary>
        public IReadOnlyList<string> Trackers { get; internal set; } = Array.Empty<string>();

        /// <summary>Tracker tiers as BEP 12 defines them: try tiers in order, trackers within a tier in any order.</summary>
        public IReadOnlyList<IReadOnlyList<string>> TrackerTiers { get; internal set; } = Array.Empty<IReadOnlyList<string>>();

        /// <summary>BEP 19 web seeds (<c>url-list</c>).</summary>
        public IReadOnlyList<string> WebSeeds { get; internal set; } = Array.Empty<string>();

        public string? Comment { get; internal set; }
        public string? CreatedBy { get; internal set; }
        public DateTimeOffset? CreationDate { get; internal set; }

        /// <summary>The info dictionary's <c>source</c> key (private trackers set it to make info-hashes unique).</summary>
        public string? SourceTag { get; internal set; }

        /// <summary>A magnet link: info-hash, name, trackers (BEP 9).</summary>
        public string MagnetUri { get; internal set; } = string.Empty;

        /// <summary>Where the torrent was read from, when it came from a file.</summary>
        public string? Source { get; internal set; }

        /// <summary>Things that were accepted but are worth knowing (non-canonical keys, renamed paths).</summary>
        public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();

        /// <summary>The exact bytes of the <c>info</c> dictionary (what peers exchange as metadata, BEP 9).</summary>
        public ReadOnlyMemory<byte> RawInfo { get; internal set; }

        internal byte[] PieceHashes { get; set; } = Array.Empty<byte>();

        /// <summary>The expected SHA-1 of piece <paramref name="index"/>.</summary>
        public ReadOnlySpan<byte> GetPieceHash(int index)
        {
            if ((uint)index >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(index));
            return new ReadOnlySpan<byte>(PieceHashes, index * 20, 20);
        }

        /// <summary>Length of piece <paramref name="index"/> in bytes.</summary>
        public int GetPieceLength(int index)
        {
            if ((uint)index >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(index));
            return index == PieceCount - 1 ? LastPieceLength : PieceLength;
        }

        public override string ToString() => $"{Name} ({InfoHash})";
    }

    /// <summary>One file of a torrent.</summary>
    public sealed class TorrentFile
    {
        internal TorrentFile() { }

        /// <summary>Position in the torrent's file list.</summary>
        public int Index { get; internal set; }

        /// <summary>The path as the torrent gives it, joined with '/'. Untrusted: for display only.</summary>
        public string Path { get; internal set; } = string.Empty;

        /// <summary>The path elements as the torrent gives them (untrusted).</summary>
        public IReadOnlyList<string> PathSegments { get; internal set; } = Array.Empty<string>();

        /// <summary>A safe path relative to the download folder, with '/' separators: the torrent's folder (multi-file)
        /// then the sanitized elements. Never absolute, never with '..', drive letters, reserved names or control
        /// characters; unique (case-insensitively) within the torrent. This is what storage writes to.</summary>
        public string SanitizedPath { get; internal set; } = string.Empty;

        public long Length { get; internal set; }

        /// <summary>Offset of the file's first byte in the torrent's concatenated byte stream.</summary>
        public long Offset { get; internal set; }

        /// <summary>BEP 47 padding file: its bytes are zeros and are never written to disk.</summary>
        public bool IsPadding { get; internal set; }

        /// <summary>First piece holding bytes of this file (-1 for an empty file).</summary>
        public int FirstPiece { get; internal set; }

        /// <summary>Last piece holding bytes of this file (-1 for an empty file).</summary>
        public int LastPiece { get; internal set; }

        public override string ToString() => Path;
    }
}
