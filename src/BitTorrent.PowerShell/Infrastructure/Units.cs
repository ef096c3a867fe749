using System.Globalization;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Human units for format views and progress text (binary prefixes, as BitTorrent clients show them).</summary>
    public static class Units
    {
        private static readonly string[] Suffixes = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

        public static string FormatBytes(long bytes)
        {
            if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
            double value = bytes;
            int i = 0;
            while (value >= 1024 && i < Suffixes.Length - 1) { value /= 1024; i++; }
            return value.ToString(value >= 100 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + " " + Suffixes[i];
        }

        public static string FormatRate(double bytesPerSecond) =>
            FormatBytes((long)bytesPerSecond) + "/s";
    }
}
