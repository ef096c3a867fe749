using System;
using System.Collections.Generic;

namespace BitTorrent.Bencoding
{
    /// <summary>Strict bencode decoder. Iterative (an explicit stack, never recursion), so no input can overflow
    /// the call stack; every length is checked against the bytes that remain before anything is allocated.</summary>
    public static class BencodeDecoder
    {
        /// <summary>Decodes exactly one value that fills the whole input.</summary>
        public static BValue Decode(ReadOnlySpan<byte> input, BencodeLimits? limits = null)
        {
            limits ??= BencodeLimits.Default;
            var value = DecodePrefix(input, out int consumed, limits);
            if (consumed != input.Length && limits.RejectTrailingData)
                throw new BencodeException(BencodeError.TrailingData, consumed,
                    $"{input.Length - consumed} byte(s) follow the end of the bencoded value");
            return value;
        }

        /// <summary>Decodes one value from the start of the input and reports how many bytes it used; bytes after it
        /// are left to the caller (BEP 9 metadata messages carry raw data after a dictionary).</summary>
        public static BValue DecodePrefix(ReadOnlySpan<byte> input, out int consumed, BencodeLimits? limits = null)
        {
            limits ??= BencodeLimits.Default;
            if (input.Length > limits.MaxInputBytes)
                throw new BencodeException(BencodeError.InputTooLarge, limits.MaxInputBytes,
                    $"input is {input.Length} bytes, more than the limit of {limits.MaxInputBytes}");
            if (input.IsEmpty)
                throw new BencodeException(BencodeError.UnexpectedEndOfInput, 0, "input is empty");

            var stack = new Stack<Frame>();
            int pos = 0;
            int tokens = 0;

            while (true)
            {
                if (pos >= input.Length)
                    throw new BencodeException(BencodeError.UnexpectedEndOfInput, pos,
                        stack.Count > 0 ? $"input ends inside a {(stack.Peek().Container is BList ? "list" : "dictionary")} opened at offset {stack.Peek().Start}" : "input ends before a value");

                byte b = input[pos];
                BValue? completed;

                if (b == (byte)'e')
                {
                    if (stack.Count == 0)
                        throw new BencodeException(BencodeError.UnexpectedByte, pos, "'e' with no open list or dictionary");
                    var top = stack.Peek();
                    if (top.PendingKey is not null)
                        throw new BencodeException(BencodeError.UnexpectedByte, pos,
                            $"dictionary key '{top.PendingKey.ToDisplayString()}' has no value");
                    stack.Pop();
                    pos++;
                    completed = top.Container;
                    completed.SourceOffset = top.Start;
                    completed.SourceLength = pos - top.Start;
                }
                else
                {
                    if (++tokens > limits.MaxTokens)
                        throw new BencodeException(BencodeError.TokenLimitExceeded, pos,
                            $"more than {limits.MaxTokens} values");

                    if (b == (byte)'l' || b == (byte)'d')
                    {
                        if (stack.Count >= limits.MaxDepth)
                            throw new BencodeException(BencodeError.DepthLimitExceeded, pos,
                                $"nesting deeper than {limits.MaxDepth} levels");
                        if (stack.Count > 0 && stack.Peek().Container is BDictionary && stack.Peek().PendingKey is null)
                            throw new BencodeException(BencodeError.DictionaryKeyNotString, pos,
                                "dictionary key is not a byte string");
                        stack.Push(new Frame(b == (byte)'l' ? new BList() : new BDictionary(), pos));
                        pos++;
                        continue;
                    }
                    else if (b == (byte)'i')
                    {
                        completed = ReadInteger(input, ref pos);
                    }
                    else if (b >= (byte)'0' && b <= (byte)'9')
                    {
                        completed = ReadString(input, ref pos);
                    }
                    else
                    {
                        throw new BencodeException(BencodeError.UnexpectedByte, pos,
                            $"byte 0x{b:x2} cannot start a value (expected i, l, d, e or a digit)");
                    }
                }

                if (stack.Count == 0)
                {
                    consumed = pos;
                    return completed;
                }

                var parent = stack.Peek();
                if (parent.Container is BList list)
                {
                    list.Add(completed);
                }
                else
                {
                    var dict = (BDictionary)parent.Container;
                    if (parent.PendingKey is null)
                    {
                        if (completed is not BString key)
                            throw new BencodeException(BencodeError.DictionaryKeyNotString, completed.SourceOffset,
                                "dictionary key is not a byte string");
                        if (parent.LastKey is not null)
                        {
                            int order = parent.LastKey.CompareTo(key);
                            if (order == 0)
                                throw new BencodeException(BencodeError.DuplicateDictionaryKey, key.SourceOffset,
                                    $"dictionary key '{key.ToDisplayString()}' appears twice");
                            if (order > 0)
                            {
                                if (limits.RejectUnsortedKeys)
                                    throw new BencodeException(BencodeError.UnsortedDictionaryKeys, key.SourceOffset,
                                        $"dictionary key '{key.ToDisplayString()}' is out of order");
                                dict.HadUnsortedKeys = true;
                            }
                        }
                        parent.PendingKey = key;
                    }
                    else
                    {
                        if (!dict.TryAddDecoded(parent.PendingKey, completed))
                            throw new BencodeException(BencodeError.DuplicateDictionaryKey, parent.PendingKey.SourceOffset,
                                $"dictionary key '{parent.PendingKey.ToDisplayString()}' appears twice");
                        parent.LastKey = parent.PendingKey;
                        parent.PendingKey = null;
                    }
                }
            }
        }

        private static BInteger ReadInteger(ReadOnlySpan<byte> input, ref int pos)
        {
            int start = pos;
            pos++; // 'i'
            bool negative = false;
            if (pos < input.Length && input[pos] == (byte)'-') { negative = true; pos++; }
            int digitsStart = pos;
            ulong magnitude = 0;
            // long.MinValue's magnitude is one more than long.MaxValue.
            ulong max = negative ? (ulong)long.MaxValue + 1 : long.MaxValue;
            while (pos < input.Length && input[pos] >= (byte)'0' && input[pos] <= (byte)'9')
            {
                ulong digit = (ulong)(input[pos] - '0');
                if (magnitude > (max - digit) / 10)
                    throw new BencodeException(BencodeError.IntegerOverflow, start, "integer does not fit in 64 bits");
                magnitude = magnitude * 10 + digit;
                pos++;
            }
            int digitCount = pos - digitsStart;
            if (pos >= input.Length)
                throw new BencodeException(BencodeError.UnexpectedEndOfInput, pos, $"integer at offset {start} is not terminated");
            if (input[pos] != (byte)'e')
                throw new BencodeException(BencodeError.InvalidInteger, pos, $"unexpected byte 0x{input[pos]:x2} in integer");
            if (digitCount == 0)
                throw new BencodeException(BencodeError.InvalidInteger, start, "integer has no digits");
            if (digitCount > 1 && input[digitsStart] == (byte)'0')
                throw new BencodeException(BencodeError.InvalidInteger, start, "integer has a leading zero");
            if (negative && magnitude == 0)
                throw new BencodeException(BencodeError.InvalidInteger, start, "negative zero is not a valid integer");
            pos++; // 'e'
            long value = negative ? (long)(0 - magnitude) : (long)magnitude;
            return new BInteger(value) { SourceOffset = start, SourceLength = pos - start };
        }

        private static BString ReadString(ReadOnlySpan<byte> input, ref int pos)
        {
            int start = pos;
            long length = 0;
            while (pos < input.Length && input[pos] >= (byte)'0' && input[pos] <= (byte)'9')
            {
                length = length * 10 + (input[pos] - '0');
                if (length > int.MaxValue)
                    throw new BencodeException(BencodeError.InvalidStringLength, start, "string length prefix is too large");
                pos++;
            }
            if (pos >= input.Length)
                throw new BencodeException(BencodeError.UnexpectedEndOfInput, pos, $"string length at offset {start} is not followed by ':'");
            if (input[pos] != (byte)':')
                throw new BencodeException(BencodeError.InvalidStringLength, pos, $"unexpected byte 0x{input[pos]:x2} in string length");
            if (pos - start > 1 && input[start] == (byte)'0')
                throw new BencodeException(BencodeError.InvalidStringLength, start, "string length has a leading zero");
            pos++; // ':'
            // Checked before allocating: a hostile "99999999999:" costs nothing.
            if (length > input.Length - pos)
                throw new BencodeException(BencodeError.StringLengthExceedsInput, start,
                    $"string claims {length} bytes but only {input.Length - pos} remain");
            var bytes = input.Slice(pos, (int)length).ToArray();
            pos += (int)length;
            return new BString(bytes) { SourceOffset = start, SourceLength = pos - start };
        }

        private sealed class Frame
        {
            public Frame(BValue container, int start) { Container = container; Start = start; }
            public BValue Container { get; }
            public int Start { get; }
            public BString? PendingKey { get; set; }
            public BString? LastKey { get; set; }
        }
    }
}
