using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Resolves -Path (wildcards) and -LiteralPath arguments to file-system paths the way Get-FileHash does.
    /// Problems are written as non-terminating errors on the calling cmdlet and the path is skipped, so one bad path
    /// does not stop a batch. Shared by every cmdlet that reads files.</summary>
    internal static class FileSystemPathResolver
    {
        public static IEnumerable<string> Resolve(PSCmdlet cmdlet, IEnumerable<string> inputs, bool literal)
        {
            foreach (var input in inputs)
            {
                var resolved = new List<string>();
                try
                {
                    ProviderInfo provider;
                    if (literal)
                    {
                        string p = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(input, out provider, out _);
                        if (!IsFileSystem(cmdlet, provider, input)) continue;
                        if (!File.Exists(p))
                        {
                            cmdlet.WriteError(Errors.FileNotFound(p, Directory.Exists(p)));
                            continue;
                        }
                        resolved.Add(p);
                    }
                    else
                    {
                        var paths = cmdlet.GetResolvedProviderPathFromPSPath(input, out provider);
                        if (!IsFileSystem(cmdlet, provider, input)) continue;
                        foreach (var p in paths)
                        {
                            if (Directory.Exists(p)) { cmdlet.WriteError(Errors.FileNotFound(p, true)); continue; }
                            resolved.Add(p);
                        }
                    }
                }
                catch (ItemNotFoundException ex)
                {
                    cmdlet.WriteError(new ErrorRecord(ex, Errors.TorrentFileNotFoundId, ErrorCategory.ObjectNotFound, input));
                    continue;
                }
                catch (Exception ex) when (ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException)
                {
                    cmdlet.WriteError(new ErrorRecord(ex, Errors.InvalidPathId, ErrorCategory.InvalidArgument, input));
                    continue;
                }
                foreach (var p in resolved) yield return p;
            }
        }

        private static bool IsFileSystem(PSCmdlet cmdlet, ProviderInfo provider, string input)
        {
            if (provider.ImplementingType == typeof(Microsoft.PowerShell.Commands.FileSystemProvider)) return true;
            cmdlet.WriteError(new ErrorRecord(
                new ArgumentException($"The path '{input}' is on the {provider.Name} provider; only file-system paths are supported."),
                Errors.NotFileSystemPathId, ErrorCategory.InvalidArgument, input));
            return false;
        }
    }
}
