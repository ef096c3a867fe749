# Not part of the suite. The pattern the Pester harness used until now (Start-TorrentDownload.Tests.ps1's
# Start-Background): a two-statement [powershell] batch, Stop() while it runs, then Dispose(). The batch's next
# statement can start on a thread-pool thread against the runspace being closed; the InvalidRunspaceStateException
# is unhandled and kills the process (exit 134), usually within 200 rounds:
#   dotnet pwsh -NoProfile -File tests/Harness/StopBatchCrash.ps1
# tests/Harness/StopBackgroundCommand.ps1 runs the harness's pattern now the same way and survives.
param([int] $Rounds = 200)
for ($i = 0; $i -lt $Rounds; $i++) {
    $ps = [powershell]::Create()
    $null = $ps.AddScript('Start-Sleep -Milliseconds (Get-Random -Maximum 20)').AddStatement().AddScript('Start-Sleep -Seconds 5')
    $handle = $ps.BeginInvoke()
    Start-Sleep -Milliseconds (Get-Random -Maximum 25)
    $ps.Stop()
    $ps.Dispose()
}
"survived $Rounds rounds"
