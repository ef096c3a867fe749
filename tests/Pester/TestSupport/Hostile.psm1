<#
    Helpers for the hostile-peer, fault and load tests: scripted hostile peers (HostilePeer.ps1) and downloads run in a
    child pwsh (Invoke-DownloadChild.ps1) whose peak memory can be read. Processes are started through Interop.psm1's
    Start-InteropProcess, so Stop-InteropProcess stops them by PID.
#>
Set-StrictMode -Version 3.0
# The loaded instance is reused (same path), so processes started here are in the list Stop-InteropProcess stops.
Import-Module (Join-Path $PSScriptRoot 'Interop.psm1')

function Start-HostilePeer {
    <# Starts HostilePeer.ps1 in a child pwsh for one torrent; returns the process (Port, EndPoint, Mode) once it listens. #>
    param(
        [Parameter(Mandatory)] $Torrent,        # a TorrentInfo
        [Parameter(Mandatory)] [string] $Mode,
        [Parameter(Mandatory)] [string] $LogDir,
        [string] $DataPath,
        [int] $DurationSec = 300
    )
    $port = Get-FreePort
    $pwsh = Get-PwshCommand
    $arguments = $pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'HostilePeer.ps1'),
        '-Port', $port, '-InfoHash', $Torrent.InfoHash, '-PieceCount', $Torrent.PieceCount, '-PieceLength', $Torrent.PieceLength,
        '-TotalSize', $Torrent.TotalSize, '-Mode', $Mode, '-DurationSec', $DurationSec)
    if ($DataPath) { $arguments += @('-DataPath', $DataPath) }
    $p = Start-InteropProcess -FilePath $pwsh.FilePath -ArgumentList $arguments -LogDir $LogDir -Name "hostile-$Mode-$port"
    Wait-Until -TimeoutSec 30 -Because "the $Mode peer to listen on $port" -Condition {
        if ($p.HasExited) { throw "HostilePeer.ps1 exited: $(Read-InteropLog $p -StdErr)" }
        (Read-InteropLog $p) -match 'ready'
    }
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $port -PassThru |
        Add-Member -NotePropertyName EndPoint -NotePropertyValue "127.0.0.1:$port" -PassThru |
        Add-Member -NotePropertyName Mode -NotePropertyValue $Mode -PassThru
}

function Start-DownloadChild {
    <#
        Starts Start-TorrentDownload in a child pwsh (Invoke-DownloadChild.ps1) and returns the process at once, with
        .ReportPath, where the child writes its JSON report when the download ends (a killed child writes none).
    #>
    param(
        [Parameter(Mandatory)] [string] $TorrentPath,
        [Parameter(Mandatory)] [string] $DestinationPath,
        [Parameter(Mandatory)] [string] $LogDir,
        [string[]] $Peer = @(),
        [int] $TimeoutSec = 60,
        [string] $Name = 'download'
    )
    $name = "$Name-$([Guid]::NewGuid().ToString('N').Substring(0, 6))"
    $out = Join-Path $LogDir "$name.json"
    $pwsh = Get-PwshCommand
    $arguments = $pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Invoke-DownloadChild.ps1'),
        '-TorrentPath', $TorrentPath, '-DestinationPath', $DestinationPath, '-OutFile', $out, '-TimeoutSec', $TimeoutSec)
    if ($Peer.Count -gt 0) { $arguments += @('-PeerList', ($Peer -join ',')) }
    $p = Start-InteropProcess -FilePath $pwsh.FilePath -ArgumentList $arguments -LogDir $LogDir -Name $name
    $p | Add-Member -NotePropertyName ReportPath -NotePropertyValue $out -PassThru
}

function Wait-DownloadChild {
    <#
        Waits (at most WaitSec) for a child from Start-DownloadChild and returns its report: Status, Message,
        BytesDownloaded, BytesResumed, HashFailures, Errors, Verbose, PeakWorkingSetBytes, CpuSeconds, Seconds, plus
        ExitCode and Killed (true when the wait timed out and the child was killed).
    #>
    param([Parameter(Mandatory)] $Process, [int] $WaitSec = 180)
    $killed = -not $Process.WaitForExit($WaitSec * 1000)
    if ($killed) { $Process.Kill($true); $null = $Process.WaitForExit(5000) }
    $report = if (Test-Path -LiteralPath $Process.ReportPath) { Get-Content -LiteralPath $Process.ReportPath -Raw | ConvertFrom-Json } else { [pscustomobject]@{ Status = $null; Verbose = @(); Errors = @() } }
    $report | Add-Member -NotePropertyName ExitCode -NotePropertyValue $(if ($killed) { $null } else { $Process.ExitCode }) -PassThru |
        Add-Member -NotePropertyName Killed -NotePropertyValue $killed -PassThru |
        Add-Member -NotePropertyName StdErr -NotePropertyValue (Read-InteropLog $Process -StdErr) -PassThru
}

function Invoke-DownloadChild {
    <# Start-DownloadChild, then Wait-DownloadChild: runs a download in a child pwsh and returns its report. #>
    param(
        [Parameter(Mandatory)] [string] $TorrentPath,
        [Parameter(Mandatory)] [string] $DestinationPath,
        [Parameter(Mandatory)] [string] $LogDir,
        [string[]] $Peer = @(),
        [int] $TimeoutSec = 60,
        [int] $WaitSec = 180,
        [string] $Name = 'download'
    )
    $p = Start-DownloadChild -TorrentPath $TorrentPath -DestinationPath $DestinationPath -LogDir $LogDir -Peer $Peer -TimeoutSec $TimeoutSec -Name $Name
    Wait-DownloadChild -Process $p -WaitSec $WaitSec
}

Export-ModuleMember -Function Start-HostilePeer, Start-DownloadChild, Wait-DownloadChild, Invoke-DownloadChild
