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
    }

    /// <summary>A cmdlet as a sink. Only valid on the pipeline thread, inside ProcessRecord/EndProcessing.</summary>
    internal sealed class CmdletSink : IRecordSink
    {
        private readonly Cmdlet _cmdlet;
        public CmdletSink(Cmdlet cmdlet) => _cmdlet = cmdlet;
        public void WriteObject(object value) => _cmdlet.WriteObject(value);
        public void WriteError(ErrorRecord record) => _cmdlet.WriteError(record);
        public void WriteProgress(ProgressRecord record) => _cmdlet.WriteProgress(record);
        public void WriteVerbose(string text) => _cmdlet.WriteVerbose(text);
        public void WriteWarning(string text) => _cmdlet.WriteWarning(text);
    }
}
