using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using BitTorrent.Metainfo;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Base for cmdlets that read .torrent files: <c>-Path</c> (wildcards, pipeline) and <c>-LiteralPath</c>
    /// (aliases PSPath and LP, so Get-ChildItem output binds by property name), resolved like Get-FileHash does.</summary>
    public abstract class TorrentPathCmdlet : PSCmdlet
    {
        protected const string PathSet = "Path";
        protected const string LiteralPathSet = "LiteralPath";

        /// <summary>Paths to .torrent files; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Paths to .torrent files, used exactly as typed (no wildcards).</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>Resolves -Path/-LiteralPath to torrent sources: magnet links and bare info-hashes (InvalidMagnetUri
        /// errors for bad ones), and file-system paths. For the cmdlets that take magnet links.</summary>
        private protected IEnumerable<TorrentSource> ResolveInputs() =>
            TorrentInput.Resolve(this, ParameterSetName == LiteralPathSet ? LiteralPath : Path, ParameterSetName == LiteralPathSet);

        /// <summary>Resolves -Path/-LiteralPath to file-system paths. Problems are written as non-terminating errors
        /// and the path is skipped, so one bad path does not stop a batch.</summary>
        protected IEnumerable<string> ResolveInputPaths() =>
            FileSystemPathResolver.Resolve(this, ParameterSetName == LiteralPathSet ? LiteralPath : Path, ParameterSetName == LiteralPathSet);

        /// <summary>Reads a torrent, writing an error record (and returning null) when it cannot be used.</summary>
        protected TorrentInfo? ReadTorrent(string path)
        {
            try
            {
                return TorrentParser.ParseFile(path);
            }
            catch (TorrentFormatException ex)
            {
                WriteError(Errors.InvalidTorrent(ex, path));
            }
            catch (FileNotFoundException)
            {
                WriteError(Errors.FileNotFound(path, false));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(ex, Errors.TorrentFileReadFailedId, ErrorCategory.ReadError, path));
            }
            return null;
        }
    }
}
