using System;
using System.Collections.Specialized;
using System.IO;
using System.Management.Automation;
using BitTorrent.Bencoding;
using BitTorrent.PowerShell.Bencoding;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Decodes bencode (from files, bytes or a Latin-1 string) into PowerShell objects.</summary>
    [Cmdlet(VerbsData.ConvertFrom, "Bencode", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(OrderedDictionary), typeof(object[]), typeof(long), typeof(BencodeString))]
    public sealed class ConvertFromBencodeCommand : PSCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const string InputObjectSet = "InputObject";

        /// <summary>Single bytes piped one at a time (Get-Content -AsByteStream without -Raw) are one document.</summary>
        private MemoryStream? _pendingBytes;

        /// <summary>Files to decode; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Files to decode, used exactly as typed.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>Bencoded data: a byte[], single bytes, a string (one character per byte) or a file object.</summary>
        [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
        [AllowNull]
        [AllowEmptyString]
        public object? InputObject { get; set; }

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case PathSet:
                case LiteralPathSet:
                    bool literal = ParameterSetName == LiteralPathSet;
                    foreach (var file in FileSystemPathResolver.Resolve(this, literal ? LiteralPath : Path, literal))
                        DecodeFile(file);
                    break;
                default:
                    ProcessInputObject(InputObject is PSObject pso ? pso.BaseObject : InputObject);
                    break;
            }
        }

        protected override void EndProcessing() => FlushPendingBytes();

        private void ProcessInputObject(object? input)
        {
            if (input is byte single)
            {
                _pendingBytes ??= new MemoryStream();
                // Past the limit the bytes are only counted, so the error can say how much came.
                if (_pendingBytes.Length <= BencodeLimits.Default.MaxInputBytes) _pendingBytes.WriteByte(single);
                else _pendingBytes.SetLength(_pendingBytes.Length + 1);
                return;
            }

            FlushPendingBytes();
            switch (input)
            {
                case byte[] bytes:
                    Decode(bytes, bytes, null);
                    break;
                case string text:
                    if (TryLatin1(text, out var latin1, out var error)) Decode(latin1, text, null);
                    else WriteError(error!);
                    break;
                case FileInfo file:
                    DecodeFile(file.FullName);
                    break;
                case DirectoryInfo folder:
                    WriteError(Errors.FileNotFound(folder.FullName, true));
                    break;
                default:
                    WriteError(Errors.UnsupportedBencodeInput(input));
                    break;
            }
        }

        private void FlushPendingBytes()
        {
            if (_pendingBytes is null) return;
            var pending = _pendingBytes;
            _pendingBytes = null;
            if (pending.Length > BencodeLimits.Default.MaxInputBytes)
            {
                WriteError(Errors.InvalidBencode(TooLarge(pending.Length), "piped bytes", null));
                return;
            }
            var bytes = pending.ToArray();
            Decode(bytes, bytes, null);
        }

        private void DecodeFile(string path)
        {
            byte[] data;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
                // Refused before reading: a huge file costs nothing.
                if (stream.Length > BencodeLimits.Default.MaxInputBytes)
                {
                    WriteError(Errors.InvalidBencode(TooLarge(stream.Length), path, path));
                    return;
                }
                data = new byte[stream.Length];
                int read = 0;
                while (read < data.Length)
                {
                    int n = stream.Read(data, read, data.Length - read);
                    if (n == 0) break;
                    read += n;
                }
                if (read != data.Length) Array.Resize(ref data, read);
            }
            catch (FileNotFoundException)
            {
                WriteError(Errors.FileNotFound(path, false));
                return;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(ex, Errors.TorrentFileReadFailedId, ErrorCategory.ReadError, path));
                return;
            }
            Decode(data, path, path);
        }

        private void Decode(byte[] data, object target, string? path)
        {
            BValue root;
            try
            {
                root = BencodeDecoder.Decode(data, BencodeLimits.Default);
            }
            catch (BencodeException ex)
            {
                WriteError(Errors.InvalidBencode(ex, target, path));
                return;
            }
            var result = BencodeObjectReader.ToObject(root, out bool unsorted);
            if (unsorted)
                WriteWarning($"{(path is null ? "The input" : $"'{path}'")} has dictionary keys out of canonical (raw byte) order; " +
                    "ConvertTo-Bencode writes them sorted, so re-encoding changes the bytes (and an info-hash).");
            // One object per document, a root list included: a list is one value, as in the file.
            WriteObject(result, false);
        }

        private static BencodeException TooLarge(long length) => new BencodeException(BencodeError.InputTooLarge,
            BencodeLimits.Default.MaxInputBytes, $"input is {length} bytes, more than the limit of {BencodeLimits.Default.MaxInputBytes}");

        /// <summary>A string is read as Latin-1: character U+00XX is byte 0xXX. This is the one mapping that keeps
        /// every byte (what ConvertTo-Bencode -AsString writes); a character above U+00FF cannot be a byte.</summary>
        private static bool TryLatin1(string text, out byte[] bytes, out ErrorRecord? error)
        {
            bytes = new byte[text.Length];
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c > '\u00FF')
                {
                    var ex = new BencodeException(BencodeError.UnexpectedByte, i,
                        $"character U+{(int)c:X4} at index {i} is not a byte: a string is read as Latin-1 (one character per byte, U+0000 to U+00FF); " +
                        "pass the bytes instead (Get-Content -AsByteStream -Raw, or [Text.Encoding]::UTF8.GetBytes(...))");
                    error = Errors.InvalidBencode(ex, text, null);
                    bytes = Array.Empty<byte>();
                    return false;
                }
                bytes[i] = (byte)c;
            }
            error = null;
            return true;
        }
    }
}
