<#
.SYNOPSIS
    Runs one Start-TorrentDownload in this (child) pwsh and writes what happened as JSON to -OutFile: the result, the
    errors, every verbose and warning line, and this process's peak resident memory (VmHWM) and CPU time — so a test can bound the
    memory of the process that downloads, without the test runner's own memory in the way.
#>
param(
    [Parameter(Mandatory)] [string] $TorrentPath,
    [Parameter(Mandatory)] [string] $DestinationPath,
    [Parameter(Mandatory)] [string] $OutFile,
    [string] $PeerList = '',   # comma-separated (pwsh -File passes no arrays)
    [int] $TimeoutSec = 60,
    [int] $MaxPeers = 50,
    [switch] $NoLocalDiscovery
)
$ErrorActionPreference = 'Stop'
Import-Module BitTorrent
$verbose = [Collections.Generic.List[string]]::new()
$warnings = [Collections.Generic.List[string]]::new()
$errors = [Collections.Generic.List[object]]::new()
$result = $null
$watch = [Diagnostics.Stopwatch]::StartNew()
$arguments = @{ LiteralPath = $TorrentPath; DestinationPath = $DestinationPath; NoTracker = $true; TimeoutSec = $TimeoutSec; MaxPeers = $MaxPeers }
if ($PeerList) { $arguments.Peer = $PeerList -split ',' }
if ($NoLocalDiscovery) { $arguments.NoLocalDiscovery = $true }
Start-TorrentDownload @arguments -Verbose -ErrorAction SilentlyContinue -ErrorVariable +err 4>&1 3>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.VerboseRecord]) { $verbose.Add($_.Message) }
    elseif ($_ -is [System.Management.Automation.WarningRecord]) { $warnings.Add($_.Message) }
    else { $result = $_ }
}
foreach ($e in @($err)) { $errors.Add([pscustomobject]@{ Id = $e.FullyQualifiedErrorId; Message = "$e" }) }
$status = Get-Content -LiteralPath '/proc/self/status' -ErrorAction SilentlyContinue
$hwm = ($status | Where-Object { $_ -like 'VmHWM:*' }) -replace '\D', ''
$process = [Diagnostics.Process]::GetCurrentProcess()
[pscustomobject]@{
    Status         = if ($result) { "$($result.Status)" } else { $null }
    Message        = if ($result) { $result.Message } else { $null }
    BytesDownloaded = if ($result) { $result.BytesDownloaded } else { 0 }
    BytesResumed   = if ($result) { $result.BytesResumed } else { 0 }
    HashFailures   = if ($result) { $result.HashFailures } else { 0 }
    PeersUsed      = if ($result) { $result.PeersUsed } else { 0 }
    Seconds        = $watch.Elapsed.TotalSeconds
    Errors         = $errors
    Verbose        = $verbose
    Warnings       = $warnings
    PeakWorkingSetBytes = [long]$hwm * 1024
    CpuSeconds     = $process.TotalProcessorTime.TotalSeconds
} | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $OutFile -Encoding utf8
