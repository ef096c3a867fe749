using System;
using System.IO;

namespace BitTorrent.Storage
{
    /// <summary>Why a torrent's data cannot be located.</summary>
    public enum StorageError
    {
        /// <summary>The data path does not exist.</summary>
        DataPathNotFound,

        /// <summary>The data path is a file, but the torrent has many files and needs a folder.</summary>
        DataPathIsFile,

        /// <summary>A file's path would leave the data folder.</summary>
        PathOutsideDataFolder,
    }

    /// <summary>A torrent's data cannot be located; <see cref="Error"/> says why.</summary>
    public sealed class StorageException : IOException
    {
        public StorageException(StorageError error, string path, string message) : base(message)
        {
            Error = error;
            Path = path;
        }

        public StorageError Error { get; }

        /// <summary>The path concerned.</summary>
        public string Path { get; }
    }
}
