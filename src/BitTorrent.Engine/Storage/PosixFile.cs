using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;

namespace BitTorrent.Storage
{
    /// <summary>Reads files with open, pread and close on Linux, for <see cref="TorrentDataReader"/>.
    /// <para>Why: a FileStream makes six system calls for a small file — open, fstat, flock, pread, flock, close (it
    /// checks the path is not a folder and takes an advisory shared lock) — where reading needs three. Hashing a folder of
    /// 10 000 small files is mostly those calls: they made New-Torrent slower than mktorrent (which makes three) on
    /// such a folder. The reader shares files for reading and writing anyway, so the advisory lock bought nothing.</para>
    /// <para>Elsewhere (Windows, macOS, a libc that cannot be loaded) <see cref="IsSupported"/> is false and the reader
    /// uses FileStream. Errors come back as errno values, described like the FileStream messages they replace.</para></summary>
    internal static class PosixFile
    {
        /// <summary>Linux on x64 or arm64 (<see cref="LibC.IsKnownLinux"/>), with libc callable.</summary>
        public static bool IsSupported { get; } = Probe();

        /// <summary>Opens <paramref name="path"/> for reading (following links, as FileStream does); returns the
        /// descriptor, or -1 with the errno in <paramref name="error"/>. <paramref name="sequential"/> asks the kernel
        /// for more read-ahead (worth a system call only for large files).</summary>
        public static int Open(string path, bool sequential, out int error)
        {
            int fd;
            do
            {
                fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
                error = fd < 0 ? Marshal.GetLastWin32Error() : 0;
            }
            while (fd < 0 && error == LibC.EINTR);
            if (fd >= 0 && sequential) LibC.posix_fadvise(fd, 0, 0, LibC.POSIX_FADV_SEQUENTIAL);
            return fd;
        }

        /// <summary>Reads up to <paramref name="count"/> bytes at <paramref name="fileOffset"/> into the buffer;
        /// returns the count read (0 at the end of the file), or -1 with the errno in <paramref name="error"/>.</summary>
        public static unsafe int Read(int fd, byte[] buffer, int offset, int count, long fileOffset, out int error)
        {
            if (count == 0)
            {
                error = 0;
                return 0;
            }
            fixed (byte* start = &buffer[offset])
            {
                long n;
                do
                {
                    n = (long)LibC.pread(fd, (IntPtr)start, (UIntPtr)(uint)count, fileOffset);
                    error = n < 0 ? Marshal.GetLastWin32Error() : 0;
                }
                while (n < 0 && error == LibC.EINTR);
                return (int)n;
            }
        }

        public static void Close(int fd)
        {
            if (fd >= 0) LibC.close(fd);
        }

        /// <summary>What went wrong, in the words FileStream's exceptions used (the verifier shows them per file).</summary>
        public static string Describe(int error, string path)
        {
            switch (error)
            {
                case LibC.ENOENT:
                    string? folder = Path.GetDirectoryName(path);
                    return folder is null || Directory.Exists(folder) ? "The file does not exist." : "The file's folder does not exist.";
                case LibC.ENOTDIR:
                    return "The file's folder does not exist.";
                case LibC.EACCES:
                case LibC.EPERM:
                    return $"Access to the file is denied: Access to the path '{path}' is denied.";
                case LibC.EISDIR:
                    return "The path is a folder, not a file.";
                default:
                    return new Win32Exception(error).Message;
            }
        }

        private static bool Probe()
        {
            if (!LibC.IsKnownLinux) return false;
            try
            {
                // Closing no descriptor fails harmlessly (EBADF) and proves the library and entry point resolve.
                LibC.close(-1);
                return true;
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                return false;
            }
        }
    }
}
