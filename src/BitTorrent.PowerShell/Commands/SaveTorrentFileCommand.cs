using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Saves torrents as .torrent files: a magnet link's (or info-hash's) metadata fetched from its swarm, or a
    /// TorrentInfo (from Get-TorrentInfo, a .torrent path) written back. The info dictionary is written byte for
    /// byte, so the file has the torrent's info-hash. -OutFile is a folder (the file is named after the torrent) or a
    /// file, as with New-Torrent; the file is written through a temporary file and a rename.</summary>
    [Cmdlet(VerbsData.Save, "TorrentFile", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class SaveTorrentFileCommand : MetadataFetchCmdlet
    {
        private const string TorrentSet = "Torrent";
        private readonly HashSet<string> _written = new HashSet<string>(StringComparer.Ordinal);
        private string _outFolder = string.Empty;
        private string? _outFileExact;

        /// <summary>Torrents from Get-TorrentInfo, by value or by property name.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TorrentSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("InputObject")]
        [ValidateNotNull]
        public TorrentInfo[] Torrent { get; set; } = Array.Empty<TorrentInfo>();

        /// <summary>Where to write: a folder (each torrent as '&lt;name&gt;.torrent' in it) or a file path. Default: the
        /// current location.</summary>
        [Parameter(Position = 1)]
        [Alias("DestinationPath")]
        [ValidateNotNullOrEmpty]
        public string? OutFile { get; set; }

        /// <summary>Replace a file that exists.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            string target = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            try
            {
                ProviderInfo? provider = null;
                if (OutFile is not null) target = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile, out provider, out _);
                if (provider is not null && provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{OutFile}' is on the {provider.Name} provider; only file-system paths are supported."),
                        Errors.NotFileSystemPathId, ErrorCategory.InvalidArgument, OutFile));
            }
            catch (Exception ex) when (ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, Errors.InvalidPathId, ErrorCategory.InvalidArgument, OutFile));
                return;
            }
            if (Directory.Exists(target))
            {
                _outFolder = target;
                return;
            }
            // A path that is not a folder names the file itself; its folder must exist.
            _outFileExact = System.IO.Path.GetFullPath(target);
            _outFolder = System.IO.Path.GetDirectoryName(_outFileExact) ?? string.Empty;
            if (!Directory.Exists(_outFolder))
                ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException($"The folder of '{_outFileExact}' does not exist."),
                    Errors.OutFileWriteFailedId, ErrorCategory.ObjectNotFound, _outFileExact));
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == TorrentSet)
            {
                foreach (var torrent in Torrent) Save(torrent, FileFor(torrent.Name, torrent.InfoHash));
                return;
            }
            foreach (var source in ResolveInputs())
            {
                if (source.Magnet is null)
                {
                    if (ReadTorrent(source.Path!) is TorrentInfo read) Save(read, FileFor(read.Name, read.InfoHash));
                    continue;
                }
                // Asked before the fetch: with -WhatIf (or a 'no') no peer is contacted and nothing is written. The file
                // name comes from the metadata's name, so the question names the folder unless -OutFile is a file.
                var magnet = source.Magnet;
                if (_outFileExact is not null && !Force && File.Exists(_outFileExact))
                {
                    Save(null, _outFileExact);   // the OutFileExists error, before any peer is asked
                    continue;
                }
                string target = _outFileExact ?? System.IO.Path.Combine(_outFolder, "<name>.torrent");
                if (!ShouldProcess(target, $"Fetch the metadata of '{TorrentInput.DisplayName(magnet)}' ({magnet.InfoHash}) from its peers and save it as a .torrent file"))
                    continue;
                var fetched = Fetch(magnet);
                if (fetched is not null) Save(fetched, FileFor(fetched.Name, fetched.InfoHash), asked: true);
            }
        }

        /// <summary>-OutFile when it names a file, else '&lt;sanitized name&gt;.torrent' in the folder.</summary>
        private string FileFor(string name, string infoHash) =>
            _outFileExact ?? System.IO.Path.Combine(_outFolder, (PathSanitizer.SanitizeElement(name) ?? infoHash) + ".torrent");

        private void Save(TorrentInfo? torrent, string outFile, bool asked = false)
        {
            if (_written.Contains(outFile))
            {
                WriteError(new ErrorRecord(new IOException($"'{outFile}' was already written by this command for another torrent."),
                    Errors.OutFileConflictId, ErrorCategory.ResourceExists, outFile));
                return;
            }
            if (File.Exists(outFile) && !Force)
            {
                WriteError(Errors.OutFileExists(outFile));
                return;
            }
            if (torrent is null) return;
            if (!asked && !ShouldProcess(outFile, $"Save '{torrent.Name}' ({torrent.InfoHash}) as a .torrent file")) return;
            byte[] bytes;
            try
            {
                bytes = TorrentWriter.ToBytes(torrent);
            }
            catch (ArgumentException ex)
            {
                WriteError(new ErrorRecord(ex, Errors.OutFileWriteFailedId, ErrorCategory.InvalidData, torrent));
                return;
            }
            string temp = outFile + ".tmp-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            try
            {
                File.WriteAllBytes(temp, bytes);
                if (File.Exists(outFile)) File.Replace(temp, outFile, null, ignoreMetadataErrors: true);
                else File.Move(temp, outFile);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                try { if (File.Exists(temp)) File.Delete(temp); }
                catch (Exception cleanup) when (cleanup is IOException || cleanup is UnauthorizedAccessException) { }
                WriteError(new ErrorRecord(ex, Errors.OutFileWriteFailedId, ErrorCategory.WriteError, outFile));
                return;
            }
            _written.Add(outFile);
            WriteObject(new FileInfo(outFile));
        }
    }
}
