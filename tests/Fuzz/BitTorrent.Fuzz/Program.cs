using System;
using System.IO;
using System.Linq;
using SharpFuzz;

namespace BitTorrent.Fuzz
{
    /// <summary>
    /// <c>BitTorrent.Fuzz &lt;target&gt;</c>: the AFL++ entry (run under afl-fuzz against an engine dll instrumented
    /// with sharpfuzz; tools/fuzz.sh does both). <c>BitTorrent.Fuzz &lt;target&gt; &lt;file-or-folder&gt;...</c>: replays
    /// inputs in this process and prints the ones that crash, to reproduce a finding. Targets: bencode, metainfo,
    /// wire, tracker-http, tracker-udp, magnet, ut_metadata, ut_pex, lsd, krpc.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
            {
                Console.Error.WriteLine($"Usage: BitTorrent.Fuzz <{string.Join("|", FuzzTargets.Names)}> [input file or folder...]");
                return 2;
            }
            string target = args[0];
            if (args.Length > 1) return Replay(target, args.Skip(1).ToArray());

            // Out of process: a stack overflow or a FailFast in the target kills the child, and AFL still
            // gets a crash report from the parent instead of a dead fork server.
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                FuzzTargets.Run(target, buffer.GetBuffer().AsSpan(0, (int)Math.Min(buffer.Length, FuzzTargets.MaxInputBytes)));
            });
            return 0;
        }

        private static int Replay(string target, string[] paths)
        {
            var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p, "*", SearchOption.AllDirectories) : new[] { p })
                .OrderBy(p => p, StringComparer.Ordinal).ToList();
            int failed = 0;
            foreach (var file in files)
            {
                try
                {
                    var rejection = FuzzTargets.Run(target, File.ReadAllBytes(file));
                    Console.WriteLine(rejection is null ? $"ok       {file}" : $"rejected {file}: {rejection.GetType().Name}: {rejection.Message}");
                }
                catch (Exception ex)
                {
                    failed++;
                    Console.WriteLine($"CRASH {file}: {ex.GetType().FullName}: {ex.Message}");
                    Console.WriteLine(ex.StackTrace);
                }
            }
            Console.WriteLine($"{files.Count} inputs, {failed} crashed.");
            return failed == 0 ? 0 : 1;
        }
    }
}
