using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Creation;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.Storage;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Makes a .torrent file from a file or a folder: the engine lists the files (<see cref="SourceScanner"/>)
    /// and hashes them on every core (<see cref="TorrentBuilder"/>); this binds the parameters, decides where the
    /// file goes, asks ShouldProcess, shows progress and writes the file. Emits the new torrent's TorrentInfo.</summary>
    [Cmdlet(VerbsCommon.New, "Torrent", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
    [OutputType(typeof(TorrentInfo))]
    public sealed class NewTorrentCommand : PSCmdlet, IDisposable
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";
        private const int ProgressActivityId = 3;

        /// <summary>Files or folders to make torrents of; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Files or folders, used exactly as typed.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>The .torrent file to write, or an existing folder to write "&lt;name&gt;.torrent" into. Default:
        /// "&lt;name&gt;.torrent" in the current folder.</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? OutFile { get; set; }

        /// <summary>The torrent's name (default: the file's or folder's own name).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>Tracker URLs; each element is one tier (BEP 12), and several URLs separated by commas form one tier.</summary>
        [Parameter]
        [Alias("Announce")]
        [ValidateNotNullOrEmpty]
        public string[]? Tracker { get; set; }

        /// <summary>Web seed URLs (BEP 19).</summary>
        [Parameter]
        [Alias("UrlList")]
        [ValidateNotNullOrEmpty]
        public string[]? WebSeed { get; set; }

        /// <summary>Bytes per piece: Auto, or a power of two from 16 KiB to 256 MiB (a number, or with a KB/MB suffix).</summary>
        [Parameter]
        [Alias("PieceLength")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(PieceSizeCompleter))]
        public string PieceSize { get; set; } = "Auto";

        /// <summary>BEP 27: only the trackers give peers (no DHT, PEX, LSD).</summary>
        [Parameter]
        public SwitchParameter Private { get; set; }

        [Parameter]
        public string? Comment { get; set; }

        /// <summary>The info dictionary's "source" (private trackers use it to make the info-hash theirs).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Source { get; set; }

        /// <summary>The "created by" text; an empty string leaves it out.</summary>
        [Parameter]
        [AllowEmptyString]
        public string CreatedBy { get; set; } = ClientIdentity.ClientName;

        /// <summary>Leave out "creation date", so the same input gives byte-identical files.</summary>
        [Parameter]
        public SwitchParameter NoCreationDate { get; set; }

        /// <summary>Leave out hidden entries (names starting with '.', Hidden or System attribute).</summary>
        [Parameter]
        public SwitchParameter ExcludeHidden { get; set; }

        /// <summary>Follow symbolic links and junctions inside the folder.</summary>
        [Parameter]
        public SwitchParameter FollowSymlink { get; set; }

        /// <summary>Hashing threads (default: one per processor).</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; }

        /// <summary>Overwrite an existing .torrent file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly HashSet<string> _written = new HashSet<string>(StringComparer.Ordinal);
        private List<IList<string>> _tiers = new List<IList<string>>();
        private int _pieceLength;

        protected override void BeginProcessing()
        {
            _pieceLength = ParsePieceSize(PieceSize);
            foreach (var element in Tracker ?? Array.Empty<string>())
            {
                var tier = element.Split(',').Select(u => u.Trim()).Where(u => u.Length > 0).ToList();
                foreach (var url in tier)
                {
                    if (!TorrentBuilder.IsValidTrackerUrl(url))
                        ThrowTerminatingError(BadParameter(Errors.InvalidTrackerUrlId, url,
                            $"'{url}' is not a tracker URL: an absolute http, https, udp, ws or wss URL with a host is needed."));
                }
                if (tier.Count > 0) _tiers.Add(tier);
            }
            foreach (var url in WebSeed ?? Array.Empty<string>())
            {
                if (!TorrentBuilder.IsValidWebSeedUrl(url))
                    ThrowTerminatingError(BadParameter(Errors.InvalidWebSeedUrlId, url,
                        $"'{url}' is not a web seed URL: an absolute http, https or ftp URL with a host is needed."));
            }
        }

        protected override void ProcessRecord()
        {
            foreach (var source in ResolveSources())
            {
                if (_cancel.IsCancellationRequested) return;
                Create(source);
            }
        }

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose()
        {
            // Workers may still be winding down after a Ctrl+C; cancel them and leave the token source to the GC.
            _cancel.Cancel();
            GC.SuppressFinalize(this);
        }

        private void Create(string source)
        {
            string name = Name ?? System.IO.Path.GetFileName(StoragePaths.NormalizeRoot(source));
            if (string.IsNullOrEmpty(name)) name = "_";
            string? outFile = ResolveOutFile(name);
            if (outFile is null) return;

            if (_written.Contains(outFile))
            {
                WriteError(new ErrorRecord(new IOException($"'{outFile}' was already written by this command for another source."),
                    Errors.OutFileConflictId, ErrorCategory.ResourceExists, outFile));
                return;
            }
            if (string.Equals(outFile, StoragePaths.NormalizeRoot(source), StringComparison.Ordinal))
            {
                WriteError(new ErrorRecord(new IOException($"The torrent file '{outFile}' would replace its own source."),
                    Errors.OutFileConflictId, ErrorCategory.InvalidArgument, outFile));
                return;
            }
            if (File.Exists(outFile) && !Force)
            {
                WriteError(Errors.OutFileExists(outFile));
                return;
            }
            string? outFolder = System.IO.Path.GetDirectoryName(outFile);
            if (outFolder is null || !Directory.Exists(outFolder))
            {
                WriteError(new ErrorRecord(new DirectoryNotFoundException($"The folder of '{outFile}' does not exist."),
                    Errors.OutFileWriteFailedId, ErrorCategory.ObjectNotFound, outFile));
                return;
            }

            TorrentBuilder builder;
            try
            {
                var options = new SourceScanOptions { IncludeHidden = !ExcludeHidden, FollowSymbolicLinks = FollowSymlink };
                // A .torrent written into the folder it describes must not describe itself (from an earlier run).
                options.ExcludedFiles.Add(outFile);
                var scan = SourceScanner.Scan(source, options, _cancel.Token);
                foreach (var skipped in scan.Skipped) WriteVerbose($"Left out {skipped}.");
                foreach (var warning in scan.Warnings) WriteWarning(warning);
                builder = new TorrentBuilder(scan)
                {
                    Name = Name,
                    PieceLength = _pieceLength,
                    IsPrivate = Private,
                    Comment = Comment,
                    SourceTag = Source,
                    CreatedBy = CreatedBy,
                    CreationDate = NoCreationDate ? (DateTimeOffset?)null : DateTimeOffset.UtcNow,
                    ThreadCount = ThrottleLimit,
                };
                foreach (var tier in _tiers) builder.TrackerTiers.Add(tier);
                foreach (var url in WebSeed ?? Array.Empty<string>()) builder.WebSeeds.Add(url);
                builder.Validate();
            }
            catch (TorrentCreationException ex)
            {
                WriteError(Errors.CreationFailed(ex, source));
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var files = builder.Source.Files;
            string what = $"Create the torrent '{name}' of '{source}' ({files.Count} file(s), {Units.FormatBytes(builder.Source.TotalLength)}, " +
                $"{Units.FormatBytes(builder.EffectivePieceLength)} pieces)";
            if (!ShouldProcess(outFile, what)) return;

            WriteVerbose($"Hashing {files.Count} file(s), {builder.Source.TotalLength} bytes in pieces of {builder.EffectivePieceLength} bytes.");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TorrentBuildResult result;
            try
            {
                result = new HashProgressReporter().Run(this, _cancel.Token, (progress, token) => builder.BuildAsync(progress, token),
                    ProgressActivityId, $"Creating torrent '{name}'",
                    i => i < files.Count ? files[i].FullPath : null);
            }
            catch (TorrentCreationException ex)
            {
                WriteError(Errors.CreationFailed(ex, source));
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            double seconds = Math.Max(0.001, clock.Elapsed.TotalSeconds);
            WriteVerbose($"Hashed in {seconds.ToString("0.00", CultureInfo.InvariantCulture)} s ({Units.FormatRate(builder.Source.TotalLength / seconds)}).");

            if (!WriteTorrentFile(outFile, result.Bytes)) return;
            _written.Add(outFile);
            WriteObject(TorrentParser.Parse(result.Bytes, outFile));
        }

        /// <summary>Writes through a temporary file in the same folder, then renames, so a half-written .torrent never
        /// replaces a good one.</summary>
        private bool WriteTorrentFile(string outFile, byte[] bytes)
        {
            string temp = outFile + ".tmp-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            try
            {
                File.WriteAllBytes(temp, bytes);
                if (File.Exists(outFile)) File.Replace(temp, outFile, null, ignoreMetadataErrors: true);
                else File.Move(temp, outFile);
                return true;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                try { if (File.Exists(temp)) File.Delete(temp); }
                catch (Exception cleanup) when (cleanup is IOException || cleanup is UnauthorizedAccessException) { }
                WriteError(new ErrorRecord(ex, Errors.OutFileWriteFailedId, ErrorCategory.WriteError, outFile));
                return false;
            }
        }

        /// <summary>The full path of the .torrent for a source named <paramref name="name"/>, or null after an error.</summary>
        private string? ResolveOutFile(string name)
        {
            string fileName = (PathSanitizer.SanitizeElement(name) ?? "_") + ".torrent";
            if (OutFile is null)
                return System.IO.Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, fileName);
            try
            {
                string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile, out var provider, out _);
                if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{OutFile}' is on the {provider.Name} provider; only file-system paths are supported."),
                        Errors.NotFileSystemPathId, ErrorCategory.InvalidArgument, OutFile));
                    return null;
                }
                return Directory.Exists(path) ? System.IO.Path.Combine(path, fileName) : System.IO.Path.GetFullPath(path);
            }
            catch (Exception ex) when (ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException)
            {
                WriteError(new ErrorRecord(ex, Errors.InvalidPathId, ErrorCategory.InvalidArgument, OutFile));
                return null;
            }
        }

        /// <summary>-Path/-LiteralPath as file-system paths of files or folders; problems become non-terminating errors.</summary>
        private IEnumerable<string> ResolveSources()
        {
            bool literal = ParameterSetName == LiteralPathSet;
            foreach (var input in literal ? LiteralPath : Path)
            {
                var resolved = new List<string>();
                try
                {
                    ProviderInfo provider;
                    if (literal)
                    {
                        string p = SessionState.Path.GetUnresolvedProviderPathFromPSPath(input, out provider, out _);
                        if (IsFileSystem(provider, input))
                        {
                            if (File.Exists(p) || Directory.Exists(p)) resolved.Add(p);
                            else WriteError(SourceNotFound(p));
                        }
                    }
                    else
                    {
                        var paths = GetResolvedProviderPathFromPSPath(input, out provider);
                        if (IsFileSystem(provider, input)) resolved.AddRange(paths);
                    }
                }
                catch (ItemNotFoundException)
                {
                    WriteError(SourceNotFound(input));
                }
                catch (Exception ex) when (ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException)
                {
                    WriteError(new ErrorRecord(ex, Errors.InvalidPathId, ErrorCategory.InvalidArgument, input));
                }
                foreach (var p in resolved) yield return p;
            }
        }

        private static ErrorRecord SourceNotFound(string path) => Errors.CreationFailed(
            new TorrentCreationException(TorrentCreationError.SourceNotFound, $"Cannot find the file or folder '{path}'."), path);

        private bool IsFileSystem(ProviderInfo provider, string input)
        {
            if (provider.ImplementingType == typeof(Microsoft.PowerShell.Commands.FileSystemProvider)) return true;
            WriteError(new ErrorRecord(
                new ArgumentException($"The path '{input}' is on the {provider.Name} provider; only file-system paths are supported."),
                Errors.NotFileSystemPathId, ErrorCategory.InvalidArgument, input));
            return false;
        }

        /// <summary>"Auto", a number of bytes, or a number with a KB/KiB/MB/MiB suffix (binary, as PowerShell's own).</summary>
        private int ParsePieceSize(string text)
        {
            string t = text.Trim();
            if (string.Equals(t, "Auto", StringComparison.OrdinalIgnoreCase)) return 0;
            long multiplier = 1;
            foreach (var (suffix, factor) in new[] { ("KiB", 1024L), ("MiB", 1024L * 1024), ("KB", 1024L), ("MB", 1024L * 1024), ("K", 1024L), ("M", 1024L * 1024) })
            {
                if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    t = t.Substring(0, t.Length - suffix.Length).Trim();
                    multiplier = factor;
                    break;
                }
            }
            if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long value) &&
                value <= long.MaxValue / multiplier && PieceSizeChooser.IsValid(value * multiplier))
                return (int)(value * multiplier);
            ThrowTerminatingError(BadParameter(Errors.InvalidPieceSizeId, text,
                $"'{text}' is not a piece size: use Auto, or a power of two from 16 KiB to 256 MiB (for example 262144, 256KB or 1MB)."));
            return 0;
        }

        private static ErrorRecord BadParameter(string id, string value, string message) =>
            new ErrorRecord(new ArgumentException(message), id, ErrorCategory.InvalidArgument, value);
    }
}
