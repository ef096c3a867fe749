<#
.SYNOPSIS
    The BitTorrent module's demo: a whole swarm on this machine, made of nothing but the module.

.DESCRIPTION
    1. Makes a payload (a folder of random files) and a torrent for it with New-Torrent.
    2. Starts a seeding origin with Start-TorrentSeed (a background job) on 127.0.0.1.
    3. Starts leechers with Start-TorrentDownload: all but one as background jobs, the last in the foreground so its
       progress bar shows. Every leecher is told about the origin and the other leechers (-Peer) and keeps seeding
       for a while after it completes, so they trade pieces among themselves.
    4. Verifies every copy with Test-Torrent and prints what each peer did.
    Everything stays on 127.0.0.1, in a temporary folder that is removed at the end (unless -KeepFiles).

.EXAMPLE
    dotnet pwsh -NoProfile -File ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    # The laid-out module (build.ps1 passes out/BitTorrent).
    [string] $ModulePath = (Join-Path $PSScriptRoot '..'),
    [ValidateRange(1, 4096)] [int] $SizeMiB = 64,
    [ValidateRange(1, 16)] [int] $Leechers = 3,
    [switch] $KeepFiles
)

$ErrorActionPreference = 'Stop'
# Plain text when the output goes to a file or a CI log (no ANSI colour codes in the table).
if ([Console]::IsOutputRedirected -and $PSStyle) { $PSStyle.OutputRendering = 'PlainText' }
Import-Module (Join-Path $ModulePath 'BitTorrent.psd1') -Force

# A port for a seeder or leecher to bind a moment later: taken below the kernel's ephemeral range (32768+ on Linux),
# where no outgoing connection's local port can land on it in between; never the same one twice.
$portsHandedOut = [System.Collections.Generic.HashSet[int]]::new()
function Get-FreePort {
    for ($i = 0; $i -lt 200; $i++) {
        $port = Get-Random -Minimum 20000 -Maximum 32000
        if (-not $portsHandedOut.Add($port)) { continue }
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $port)
        try { $listener.Start(); return $port } catch { continue } finally { $listener.Stop() }
    }
    throw 'No free port found on 127.0.0.1 between 20000 and 32000.'
}

$work = Join-Path ([IO.Path]::GetTempPath()) ("bittorrent-demo-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
$jobs = @()
try {
    Write-Host "Demo folder: $work"
    $payload = Join-Path $work 'origin/demo-payload'
    $null = New-Item -ItemType Directory -Force -Path (Join-Path $payload 'docs')
    $rng = [System.Random]::new(42)
    $sizes = [ordered]@{ 'disk-image.bin' = [long]($SizeMiB * 1MB * 0.75); 'docs/manual.bin' = [long]($SizeMiB * 1MB * 0.25) - 12345; 'docs/empty.txt' = 0 }
    foreach ($entry in $sizes.GetEnumerator()) {
        $path = Join-Path $payload $entry.Key
        $stream = [IO.File]::Create($path)
        try {
            $buffer = [byte[]]::new(1MB)
            $left = $entry.Value
            while ($left -gt 0) { $rng.NextBytes($buffer); $n = [int][Math]::Min($buffer.Length, $left); $stream.Write($buffer, 0, $n); $left -= $n }
        }
        finally { $stream.Dispose() }
    }
    Write-Host "1. Payload: $SizeMiB MiB in $($sizes.Count) files."

    $torrentPath = Join-Path $work 'demo-payload.torrent'
    $torrent = New-Torrent -Path $payload -OutFile $torrentPath -Comment 'BitTorrent for PowerShell demo'
    Write-Host "2. Torrent: $($torrent.Name), $($torrent.PieceCount) pieces of $($torrent.PieceLength / 1KB) KiB, info-hash $($torrent.InfoHash)."

    $originPort = Get-FreePort
    $leecherPorts = @(1..$Leechers | ForEach-Object { Get-FreePort })
    $jobs += Start-TorrentSeed -Torrent $torrent -DataPath (Join-Path $work 'origin') -Port $originPort -ListenAddress 127.0.0.1 -NoTracker -AsJob
    Write-Host "3. Origin seeding on 127.0.0.1:$originPort."

    $all = @("127.0.0.1:$originPort") + ($leecherPorts | ForEach-Object { "127.0.0.1:$_" })
    $clock = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $Leechers - 1; $i++) {
        $jobs += Start-TorrentDownload -Torrent $torrent -DestinationPath (Join-Path $work "leecher$($i + 1)") -Port $leecherPorts[$i] `
            -ListenAddress 127.0.0.1 -Peer ($all | Where-Object { $_ -ne "127.0.0.1:$($leecherPorts[$i])" }) -NoTracker -SeedTime '00:00:20' -AsJob
    }
    Write-Host "4. $Leechers leechers, each told about the origin and the others; the last one runs in the foreground:"
    $last = $Leechers - 1
    $foreground = Start-TorrentDownload -Torrent $torrent -DestinationPath (Join-Path $work "leecher$Leechers") -Port $leecherPorts[$last] `
        -ListenAddress 127.0.0.1 -Peer ($all | Where-Object { $_ -ne "127.0.0.1:$($leecherPorts[$last])" }) -NoTracker -SeedTime '00:00:05'
    $results = @($foreground)
    foreach ($job in $jobs | Where-Object { $_.Name -eq 'TorrentDownload' }) {
        $null = Wait-Job $job -Timeout 120
        $results += Receive-Job $job
    }
    $elapsed = $clock.Elapsed
    $origin = $jobs | Where-Object { $_.Name -eq 'TorrentSeed' }
    Stop-Job $origin
    $originResult = Receive-Job $origin

    Write-Host "5. Verifying every copy with Test-Torrent:"
    $checks = 1..$Leechers | ForEach-Object { Test-Torrent -Torrent $torrent -DataPath (Join-Path $work "leecher$_") }
    $table = for ($i = 0; $i -lt $Leechers; $i++) {
        $r = $results | Where-Object DestinationPath -EQ (Join-Path $work "leecher$($i + 1)") | Select-Object -First 1
        [pscustomobject]@{
            Peer       = "leecher$($i + 1)"
            Status     = $r.Status
            Downloaded = '{0:N1} MiB' -f ($r.BytesDownloaded / 1MB)
            Uploaded   = '{0:N1} MiB' -f ($r.BytesUploaded / 1MB)
            Seconds    = [Math]::Round($r.Duration.TotalSeconds, 2)
            Verified   = $checks[$i].IsComplete
        }
    }
    $table += [pscustomobject]@{ Peer = 'origin'; Status = 'Seeding'; Downloaded = '0.0 MiB'; Uploaded = '{0:N1} MiB' -f ($originResult.BytesUploaded / 1MB); Seconds = [Math]::Round($originResult.Duration.TotalSeconds, 2); Verified = $true }
    $table | Format-Table -AutoSize | Out-Host
    $ratio = $originResult.BytesUploaded / [double]$torrent.TotalSize
    Write-Host ("The origin uploaded {0:N2}x the payload for {1} leechers: the rest they traded among themselves. Swarm done in {2:N1} s." -f $ratio, $Leechers, $elapsed.TotalSeconds)
    if (@($checks | Where-Object { -not $_.IsComplete }).Count -gt 0 -or @($results | Where-Object Status -NE 'Completed').Count -gt 0) {
        throw 'The demo swarm did not produce complete, verified copies.'
    }
    Write-Host 'Demo passed: every copy is complete and verified.'
}
finally {
    $jobs | Stop-Job -ErrorAction SilentlyContinue
    $jobs | Remove-Job -Force -ErrorAction SilentlyContinue
    if (-not $KeepFiles -and (Test-Path -LiteralPath $work)) { Remove-Item -LiteralPath $work -Recurse -Force }
}
