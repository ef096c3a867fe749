using System;

namespace BitTorrent.PowerShell.Bencoding
{
    /// <summary>A value ConvertTo-Bencode cannot write, with where it sits in the input (for example
    /// <c>info.files[2].length</c>) so the user can find it in a large object.</summary>
    public sealed class BencodeValueException : ArgumentException
    {
        public BencodeValueException(string location, string detail)
            : base(location.Length == 0 ? detail : $"{detail} (at {Shorten(location)})")
        {
            Location = location;
            Detail = detail;
        }

        /// <summary>A location 100 levels deep is unreadable in a message: keep its start and its end.</summary>
        private static string Shorten(string location) =>
            location.Length <= 160 ? location : location.Substring(0, 70) + " … " + location.Substring(location.Length - 70);

        /// <summary>Where the value is: dictionary keys separated by dots, list indexes in brackets; empty for the root.</summary>
        public string Location { get; }

        /// <summary>What is wrong, without the location.</summary>
        public string Detail { get; }
    }
}
