using System;

namespace BitTorrent.Bencoding
{
    /// <summary>What exactly is wrong with a bencoded input. Stable names: cmdlets and tests key on them.</summary>
    public enum BencodeError
    {
        UnexpectedEndOfInput,
        UnexpectedByte,
        InvalidInteger,
        IntegerOverflow,
        InvalidStringLength,
        StringLengthExceedsInput,
        DictionaryKeyNotString,
        DuplicateDictionaryKey,
        UnsortedDictionaryKeys,
        DepthLimitExceeded,
        TokenLimitExceeded,
        InputTooLarge,
        TrailingData,
    }

    /// <summary>Thrown when input is not valid bencode, or is valid but over a limit. Carries the byte offset.</summary>
    public sealed class BencodeException : FormatException
    {
        public BencodeException(BencodeError error, long offset, string detail)
            : base($"{detail} (at byte offset {offset}).")
        {
            Error = error;
            Offset = offset;
            Detail = detail;
        }

        public BencodeError Error { get; }
        public long Offset { get; }
        public string Detail { get; }
    }
}
