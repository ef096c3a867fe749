using System;
using System.Runtime.InteropServices;

namespace BitTorrent.Storage
{
    /// <summary>The few libc calls the storage layer makes on Linux (<see cref="PosixFile"/> for reads,
    /// <see cref="DirectFileWriter"/> for O_DIRECT writes), declared once. Flag values are those of Linux on x64 and
    /// arm64; callers check <see cref="IsKnownLinux"/> before using them.</summary>
    internal static class LibC
    {
        public const int O_RDONLY = 0;
        public const int O_WRONLY = 1;
        public const int O_CLOEXEC = 0x80000;   // 02000000 on x64 and arm64
        public const int POSIX_FADV_SEQUENTIAL = 2;

        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int EINTR = 4;
        public const int EACCES = 13;
        public const int ENOTDIR = 20;
        public const int EISDIR = 21;

        /// <summary>Linux on x64 or arm64: the platforms whose flag values are the ones declared here.</summary>
        public static bool IsKnownLinux =>
            RuntimeInformation.IsOSPlatform(OSPlatform.Linux) &&
            (RuntimeInformation.ProcessArchitecture == Architecture.X64 || RuntimeInformation.ProcessArchitecture == Architecture.Arm64);

        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags, int mode);

        [DllImport("libc", SetLastError = true)]
        public static extern IntPtr pread(int fd, IntPtr buffer, UIntPtr count, long offset);

        [DllImport("libc", SetLastError = true)]
        public static extern IntPtr pwrite(int fd, IntPtr buffer, UIntPtr count, long offset);

        [DllImport("libc", SetLastError = true)]
        public static extern int posix_fadvise(int fd, long offset, long length, int advice);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
