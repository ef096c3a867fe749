# Not part of the suite (the counterpart of StopBatchCrash.ps1; needs the module built into out/). The harness's
# pattern now (Interop.psm1's Start-/Stop-BackgroundCommand): one script per [powershell] in a runspace with the
# module imported, Stop(), then EndInvoke (bounded, PipelineStoppedException swallowed) before disposing the
# [powershell] and its runspace.
#   dotnet pwsh -NoProfile -File tests/Harness/StopBackgroundCommand.ps1
param([int] $Rounds = 100, [string] $Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath)
$env:PSModulePath = (Join-Path $Repo 'out') + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module (Join-Path $Repo 'tests/Pester/TestSupport/Interop.psm1')
for ($i = 0; $i -lt $Rounds; $i++) {
    $bg = Start-BackgroundCommand -Script { param($Ms) Start-Sleep -Milliseconds $Ms; Start-Sleep -Seconds 5 } -Arguments @{ Ms = (Get-Random -Maximum 20) }
    Start-Sleep -Milliseconds (Get-Random -Maximum 25)
    $ended = Stop-BackgroundCommand $bg -Stop
    if ($ended.State -ne 'Stopped') { throw "round ${i}: state $($ended.State)" }
}
"survived $Rounds rounds"
