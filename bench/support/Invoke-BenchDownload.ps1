<#
.SYNOPSIS
    One Start-TorrentDownload run for bench/Download.Bench.ps1, in its own pwsh process so that its CPU time and
    peak RSS can be measured from outside (GNU time) and from inside (/proc/self/status).

.DESCRIPTION
    Imports the built module from -ModulePath, downloads -TorrentPath into -DestinationPath from -Peer (and the
    torrent's tracker unless -NoTracker), listening on 127.0.0.1 only, and writes one JSON object to -ResultPath:
    the cmdlet's result plus this process's CPU time and memory figures. Exit code 0 only when the download
    completed.
    With -Magnet instead of -TorrentPath (bench/Magnet.Bench.ps1) it is given only that link, and the JSON also
    carries the Unix time (wall clock, seconds) at which the engine raised MetadataReceived and at which the cmdlet
    started, so the caller can measure the time to metadata on the same clock as the other clients.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $TorrentPath,
    # A magnet link to download instead of -TorrentPath.
    [string] $Magnet,
    [Parameter(Mandatory)] [string] $DestinationPath,
    [Parameter(Mandatory)] [string] $ResultPath,
    # Peers as one comma-separated string: pwsh -File passes every argument as a single string.
    [string] $Peer = '',
    [switch] $NoTracker,
    [int] $Port = 0,
    [int] $TimeoutSec = 60,
    [int] $MaxPeers = 50
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'   # no TTY: progress would print nothing, but still cost CPU to render

function Get-ProcStatusKiB([string] $Key) {
    # VmHWM = peak resident set size, VmRSS = current (Linux /proc; absent elsewhere).
    $line = Get-Content -LiteralPath /proc/self/status -ErrorAction SilentlyContinue | Where-Object { $_ -like "${Key}:*" }
    if ($line) { [long](($line -split '\s+')[1]) } else { $null }
}

$self = [System.Diagnostics.Process]::GetCurrentProcess()
Import-Module (Join-Path $ModulePath 'BitTorrent.psd1')
$self.Refresh()
$beforeCpu = $self.TotalProcessorTime
$beforeUser = $self.UserProcessorTime
$beforeAlloc = [GC]::GetTotalAllocatedBytes($false)
$beforeGcs = 0..[GC]::MaxGeneration | ForEach-Object { [GC]::CollectionCount($_) }

if ([string]::IsNullOrEmpty($TorrentPath) -eq [string]::IsNullOrEmpty($Magnet)) { throw 'Give -TorrentPath or -Magnet (one of them).' }
$arguments = @{
    DestinationPath = $DestinationPath
    ListenAddress   = '127.0.0.1'
    Port            = $Port
    TimeoutSec      = $TimeoutSec
    MaxPeers        = $MaxPeers
}
if ($Magnet) { $arguments.Path = $Magnet } else { $arguments.LiteralPath = $TorrentPath }
$peers = @($Peer -split ',' | Where-Object { $_ })
if ($peers.Count -gt 0) { $arguments.Peer = $peers }
if ($NoTracker) { $arguments.NoTracker = $true }

$sinceStart = [DateTime]::Now - $self.StartTime   # pwsh start-up + Import-Module, in wall time
$watch = [System.Diagnostics.Stopwatch]::StartNew()
$errors = @()
$result = $null
$engineEvents = $null
$cmdletStartUnix = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
# The engine's events (Information records) are only kept for a magnet: MetadataReceived carries the engine's time.
if ($Magnet) { $arguments.InformationVariable = 'engineEvents' }
try { $result = Start-TorrentDownload @arguments -ErrorVariable +errors -ErrorAction Continue | Select-Object -Last 1 }
catch { $errors += $_ }
$watch.Stop()

$self.Refresh()
$afterGcs = 0..[GC]::MaxGeneration | ForEach-Object { [GC]::CollectionCount($_) }
# (Piped, so the collected list is enumerated: the first record tagged MetadataReceived.)
$metadataEvent = $engineEvents | Where-Object { $_ -is [System.Management.Automation.InformationRecord] -and $_.Tags -contains 'MetadataReceived' } | Select-Object -First 1
[ordered]@{
    Status            = if ($result) { "$($result.Status)" } else { 'NoResult' }
    Message           = if ($result) { $result.Message } else { $null }
    BytesDownloaded   = if ($result) { $result.BytesDownloaded } else { 0 }
    CmdletSeconds     = [Math]::Round($watch.Elapsed.TotalSeconds, 3)
    EngineSeconds     = if ($result) { [Math]::Round($result.Duration.TotalSeconds, 3) } else { $null }
    AverageRate       = if ($result) { $result.AverageRate } else { 0 }
    PeersUsed         = if ($result) { $result.PeersUsed } else { 0 }
    HashFailures      = if ($result) { $result.HashFailures } else { 0 }
    StartupSeconds    = [Math]::Round($sinceStart.TotalSeconds, 3)
    StartupCpuSeconds = [Math]::Round($beforeCpu.TotalSeconds, 3)
    DownloadCpuSeconds = [Math]::Round(($self.TotalProcessorTime - $beforeCpu).TotalSeconds, 3)
    DownloadUserSeconds = [Math]::Round(($self.UserProcessorTime - $beforeUser).TotalSeconds, 3)
    AllocatedMiB      = [Math]::Round(([GC]::GetTotalAllocatedBytes($false) - $beforeAlloc) / 1MB, 1)
    GcCollections     = @(for ($g = 0; $g -lt $afterGcs.Count; $g++) { $afterGcs[$g] - $beforeGcs[$g] })
    ManagedHeapMiB    = [Math]::Round([GC]::GetTotalMemory($false) / 1MB, 1)
    PeakRssKiB        = Get-ProcStatusKiB 'VmHWM'
    Threads           = $self.Threads.Count
    CmdletStartUnix   = $cmdletStartUnix
    MetadataUnix      = if ($metadataEvent) { $metadataEvent.MessageData.Time.ToUnixTimeMilliseconds() / 1000 } else { $null }
    Errors            = @($errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" })
} | ConvertTo-Json -Compress | Set-Content -LiteralPath $ResultPath
if (-not $result -or "$($result.Status)" -ne 'Completed') { exit 1 }
exit 0
