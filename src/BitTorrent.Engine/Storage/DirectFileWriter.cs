using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BitTorrent.Storage
{
    /// <summary>Writes verified pieces to a file with O_DIRECT on Linux (x64, arm64), straight from an aligned
    /// buffer to the device, bypassing the page cache.
    /// <para>Why: a download writes every byte once and does not read it back (pieces are hashed from memory), so
    /// copying it into the page cache is pure cost: on a virtual machine whose free memory the host reclaims, filling
    /// fresh page-cache pages cost 1–2 CPU seconds per GiB of system time — more than everything else the download
    /// does. With O_DIRECT the kernel copies nothing; the bytes go to the disk when the write returns.</para>
    /// <para>Only whole 4 KiB blocks at 4 KiB-aligned file offsets are written this way (O_DIRECT's rule); the caller
    /// writes the rest (a file's unaligned start, the last partial block) through its ordinary stream. The file is
    /// reopened through /proc/self/fd of the stream's own handle, so this is the very file the stream checked and
    /// opened (no second path lookup a planted link could redirect). Anything unsupported (another OS, a filesystem
    /// without O_DIRECT, such as an older tmpfs, no /proc, an unexpected alignment rule) is reported by
    /// <see cref="TryOpen"/> returning null, or by <see cref="TryWrite"/> returning false, and the caller falls back to
    /// the stream. Not thread-safe: one writer at a time (DownloadStorage's writes are serialized by its caller).</para></summary>
    internal sealed class DirectFileWriter : IDisposable
    {
        /// <summary>Offsets and lengths of direct writes are multiples of this, and the buffer is aligned to it: 4 KiB
        /// satisfies disks with 512-byte and with 4 KiB logical blocks.</summary>
        public const int Alignment = 4096;

        /// <summary>Bytes copied to the aligned buffer per write call: bounded memory whatever the piece size.</summary>
        private const int ChunkSize = 1024 * 1024;

        private int _fd;

        private DirectFileWriter(int fd) { _fd = fd; }

        /// <summary>Whether this process may try direct writes at all (Linux on a 64-bit architecture whose O_DIRECT
        /// value is known).</summary>
        public static bool IsPlatformSupported { get; } = DirectFlag() != 0;

        /// <summary>Opens a second, O_DIRECT descriptor on the file <paramref name="stream"/> has open; null when
        /// that is not possible here (the caller keeps using the stream).</summary>
        public static DirectFileWriter? TryOpen(FileStream stream)
        {
            int direct = DirectFlag();
            if (direct == 0) return null;
            try
            {
                SafeFileHandle handle = stream.SafeFileHandle;
                int fd = (int)handle.DangerousGetHandle();
                if (fd < 0) return null;
                int reopened = LibC.open("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    LibC.O_WRONLY | LibC.O_CLOEXEC | direct, 0);
                return reopened < 0 ? null : new DirectFileWriter(reopened);
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException || ex is ObjectDisposedException)
            {
                return null;
            }
        }

        /// <summary>Writes <paramref name="count"/> bytes (a multiple of <see cref="Alignment"/>) from
        /// <paramref name="source"/> at <paramref name="fileOffset"/> (a multiple of <see cref="Alignment"/>), through
        /// <paramref name="buffer"/>. False when the write did not go through (no direct I/O for this file after all,
        /// disk full, an I/O error): nothing is lost, the caller writes the same bytes through its stream, whose error
        /// (if any) is the one the user sees.</summary>
        public bool TryWrite(long fileOffset, byte[] source, int sourceOffset, int count, AlignedBuffer buffer)
        {
            if (_fd < 0) throw new ObjectDisposedException(nameof(DirectFileWriter));
            if (fileOffset % Alignment != 0 || count % Alignment != 0) throw new ArgumentException("Direct writes must be aligned.");
            int done = 0;
            while (done < count)
            {
                int chunk = Math.Min(Math.Min(ChunkSize, buffer.Length), count - done);
                Marshal.Copy(source, sourceOffset + done, buffer.Pointer, chunk);
                int written = 0;
                while (written < chunk)
                {
                    long n = (long)LibC.pwrite(_fd, buffer.Pointer + written, (UIntPtr)(uint)(chunk - written), fileOffset + done + written);
                    if (n < 0 && Marshal.GetLastWin32Error() == LibC.EINTR) continue;
                    // Refused (EINVAL: no direct I/O here after all), disk full, I/O error, or a short write that left
                    // the rest unaligned: the caller writes the whole span again through its stream, which either
                    // succeeds or fails with the usual exception and message ("No space left on device").
                    if (n <= 0) return false;
                    written += (int)n;
                    if (written < chunk && written % Alignment != 0) return false;
                }
                done += chunk;
            }
            return true;
        }

        public void Dispose()
        {
            int fd = _fd;
            _fd = -1;
            if (fd >= 0) LibC.close(fd);
        }

        /// <summary>O_DIRECT differs between architectures; 0 where it is not known (no direct writes then).</summary>
        private static int DirectFlag()
        {
            if (!LibC.IsKnownLinux) return 0;
            switch (RuntimeInformation.ProcessArchitecture)
            {
                case Architecture.X64: return 0x4000;     // 040000
                case Architecture.Arm64: return 0x10000;  // 0200000
                default: return 0;
            }
        }

        /// <summary>A native buffer aligned to <see cref="Alignment"/> (O_DIRECT needs the memory aligned too, and a
        /// managed array's address is not). One per storage; freed on dispose.</summary>
        internal sealed class AlignedBuffer : IDisposable
        {
            private IntPtr _raw;

            public AlignedBuffer(int length)
            {
                Length = length;
                _raw = Marshal.AllocHGlobal(length + Alignment);
                long address = (long)_raw;
                Pointer = (IntPtr)((address + Alignment - 1) & ~(long)(Alignment - 1));
            }

            public IntPtr Pointer { get; }
            public int Length { get; }

            public void Dispose()
            {
                var raw = _raw;
                _raw = IntPtr.Zero;
                if (raw != IntPtr.Zero) Marshal.FreeHGlobal(raw);
            }
        }
    }
}
