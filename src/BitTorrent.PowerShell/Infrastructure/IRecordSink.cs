using System.Management.Automation;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Where long-running work reports: the cmdlet itself (on the pipeline thread) or a job's streams.
    /// Implementations are called from one thread only: the one running the work loop.</summary>
    internal interface IRecordSink
    {
        void WriteObject(object value);
        void WriteError(ErrorRecord record);
        void WriteProgress(ProgressRecord record);
        void WriteVerbose(string text);
        void WriteWarning(string text);
        void WriteInformation(InformationRecord record);
    }

    /// <summary>A cmdlet as a sink. Only valid on the pipeline thread, inside ProcessRecord/EndProcessing.</summary>
    internal sealed class CmdletSink : IRecordSink
    {
        // Progress goes through ICommandRuntime.WriteProgress(sourceId, record), which (unlike Cmdlet.WriteProgress)
        // still works while the pipeline is stopping: after Ctrl+C the Completed records can still close the bars.
        // The source id only has to be unique per cmdlet instance; PowerShell numbers its own from 1 upwards.
        private static long s_lastSourceId = 0x4254_0000_0000_0000L;
        private readonly Cmdlet _cmdlet;
        private readonly long _sourceId = System.Threading.Interlocked.Increment(ref s_lastSourceId);
        public CmdletSink(Cmdlet cmdlet) => _cmdlet = cmdlet;
        public void WriteObject(object value) => _cmdlet.WriteObject(value);
        public void WriteError(ErrorRecord record) => _cmdlet.WriteError(record);
        public void WriteProgress(ProgressRecord record) => _cmdlet.CommandRuntime.WriteProgress(_sourceId, record);
        public void WriteVerbose(string text) => _cmdlet.WriteVerbose(text);
        public void WriteWarning(string text) => _cmdlet.WriteWarning(text);
        public void WriteInformation(InformationRecord record) => _cmdlet.WriteInformation(record);
    }
}
