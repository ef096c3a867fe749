using System.Management.Automation;
using BitTorrent.Bencoding;
using BitTorrent.PowerShell.Bencoding;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Encodes PowerShell objects as canonical bencode.</summary>
    [Cmdlet(VerbsData.ConvertTo, "Bencode")]
    [OutputType(typeof(byte[]), typeof(string))]
    public sealed class ConvertToBencodeCommand : PSCmdlet
    {
        /// <summary>The value to encode; each pipeline object is encoded on its own.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [AllowNull]
        [AllowEmptyString]
        [AllowEmptyCollection]
        public object? InputObject { get; set; }

        /// <summary>Emit a Latin-1 string (one character per byte) instead of a byte[].</summary>
        [Parameter]
        public SwitchParameter AsString { get; set; }

        protected override void ProcessRecord()
        {
            BValue value;
            try
            {
                // The same bounds the decoder applies: what we write, we (and libtorrent) can read back.
                value = new BencodeObjectWriter(BencodeLimits.Default.MaxDepth, BencodeLimits.Default.MaxTokens).Convert(InputObject);
            }
            catch (BencodeValueException ex)
            {
                WriteError(Errors.UnsupportedBencodeValue(ex, InputObject));
                return;
            }
            var bytes = BencodeEncoder.Encode(value);
            if (AsString)
            {
                var chars = new char[bytes.Length];
                for (int i = 0; i < bytes.Length; i++) chars[i] = (char)bytes[i];
                WriteObject(new string(chars));
            }
            else
            {
                // One byte[] object, not a stream of bytes.
                WriteObject(bytes, false);
            }
        }
    }
}
