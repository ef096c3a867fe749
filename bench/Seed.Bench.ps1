<#
.SYNOPSIS
    Our seeder against libtorrent's and aria2c's, each feeding the same leechers the same payload on loopback.

.DESCRIPTION
    Makes one random payload (-SizeMiB, default 1 GiB) and one torrent (-PieceKiB pieces) announced to an opentracker on
    127.0.0.1. Then, for each seeder in turn (Start-TorrentSeed in a child pwsh, python3-libtorrent, aria2c), with a
    fresh opentracker so no stale peer is listed: starts the seeder, waits until the tracker lists it, and runs each
    leecher (aria2c, python3-libtorrent) into an empty folder, one at a time. For every run it records the leecher's
    wall time (start to exit, under GNU time), its CPU seconds and peak RSS, the seeder's CPU seconds spent during the
    run, and whether the copy's sha256 matches. Prints the runs and, per leecher, our throughput and CPU relative to
    each other seeder.

    Opt-in only (not part of the Test task): dotnet pwsh -NoProfile -File ./build.ps1 -Task Bench, or directly
    dotnet pwsh -NoProfile -File bench/Seed.Bench.ps1 -ModulePath out/BitTorrent -SizeMiB 256
    Everything stays on 127.0.0.1 with DHT, LSD, PEX, UPnP and NAT-PMP off; processes are stopped by PID; the work
    folder is removed at the end.
#>
[CmdletBinding()]
param(
    # The laid-out module (build.ps1 passes out/BitTorrent).
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),
    [ValidateRange(1, 16384)] [int] $SizeMiB = 1024,
    [ValidateSet(256, 512, 1024, 2048, 4096)] [int] $PieceKiB = 1024,
    [ValidateRange(1, 10)] [int] $Rounds = 1,
    [ValidateSet('ours', 'libtorrent', 'aria2')] [string[]] $Seeder = @('ours', 'libtorrent', 'aria2'),
    [ValidateSet('aria2', 'libtorrent')] [string[]] $Leecher = @('aria2', 'libtorrent'),
    [ValidateRange(30, 3600)] [int] $RunTimeoutSec = 600
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$manifest = (Resolve-Path -LiteralPath (Join-Path $ModulePath 'BitTorrent.psd1')).ProviderPath
Import-Module $manifest
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestSupport/Interop.psm1') -Force
$python = '/usr/bin/python3'
$ltPeer = Join-Path $PSScriptRoot '../tests/Pester/TestSupport/lt_peer.py'

function Get-CpuSeconds {
    <# User + system CPU seconds of a running process (from /proc, so it also works for a process we did not wrap). #>
    param([int] $ProcessId)
    $fields = ((Get-Content -LiteralPath "/proc/$ProcessId/stat" -Raw) -replace '^.*\) ', '') -split ' '
    # After the command name: field 14 (utime) and 15 (stime) of stat are at 11 and 12 here; clock ticks of 1/100 s.
    ([double]$fields[11] + [double]$fields[12]) / 100
}

function Start-OurSeeder {
    param([string] $TorrentPath, [string] $DataPath, [string] $Workspace)
    $port = Get-FreePort
    $pwsh = Get-PwshCommand
    $command = "Import-Module '$manifest'; Start-TorrentSeed -LiteralPath '$TorrentPath' -DataPath '$DataPath' -Port $port -ListenAddress 127.0.0.1 -Duration 01:00:00 | Out-Null"
    $p = Start-InteropProcess -FilePath $pwsh.FilePath -ArgumentList ($pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-Command', $command)) `
        -LogDir $Workspace -Name "ours-seed-$port"
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $port -PassThru
}

function Invoke-Leecher {
    <# Runs one leecher to completion under GNU time; returns wall, cpu, rss. #>
    param([string] $Kind, [string] $TorrentPath, [string] $Destination, [string] $Workspace)
    $timeFile = Join-Path $Workspace 'time.txt'
    $port = Get-FreePort
    $command = switch ($Kind) {
        'aria2' {
            @('aria2c', '-q', '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
                '--seed-time=0', '--file-allocation=none', "--listen-port=$port", "--dir=$Destination", '--console-log-level=error',
                '--summary-interval=0', "--bt-stop-timeout=$RunTimeoutSec", $TorrentPath)
        }
        'libtorrent' { @($python, $ltPeer, 'leech', $TorrentPath, $Destination, $port, '--timeout', $RunTimeoutSec) }
    }
    $p = Start-InteropProcess -FilePath '/usr/bin/time' -ArgumentList (@('-f', '%e %U %S %M', '-o', $timeFile) + $command) `
        -LogDir $Workspace -Name "leech-$Kind-$port"
    if (-not $p.WaitForExit(($RunTimeoutSec + 30) * 1000)) { Stop-InteropProcess -Process $p; throw "$Kind did not finish in $RunTimeoutSec s." }
    Stop-InteropProcess -Process $p
    $wall, $user, $system, $rssKiB = (Get-Content -LiteralPath $timeFile | Select-Object -Last 1) -split ' '
    [pscustomobject]@{ Wall = [double]$wall; Cpu = [double]$user + [double]$system; RssMiB = [double]$rssKiB / 1024 }
}

$work = New-InteropWorkspace -Name 'seed-bench'
$rows = [System.Collections.Generic.List[object]]::new()
try {
    Write-Host "Seed bench: $SizeMiB MiB, $PieceKiB KiB pieces, $Rounds round(s), seeders $($Seeder -join ', '), leechers $($Leecher -join ', '). Work folder $work."
    $source = Join-Path $work 'source'
    $null = New-RandomFile -Path (Join-Path $source 'payload.bin') -SizeBytes ([long]$SizeMiB * 1MB) -Seed 11
    $want = (Get-FileHash -LiteralPath (Join-Path $source 'payload.bin') -Algorithm SHA256).Hash
    $trackerPort = Get-FreePort -Udp
    $torrentPath = (New-MkTorrent -SourcePath (Join-Path $source 'payload.bin') -OutFile (Join-Path $work 'payload.torrent') `
            -PieceSizeLog2 ([Math]::Log($PieceKiB * 1024, 2)) -Announce "http://127.0.0.1:$trackerPort/announce").FullName
    $infoHash = Get-ReferenceInfoHash $torrentPath

    for ($round = 1; $round -le $Rounds; $round++) {
        foreach ($s in $Seeder) {
            $tracker = Start-OpenTracker -Workspace $work -InfoHash $infoHash -Port $trackerPort
            $seed = switch ($s) {
                'ours' { Start-OurSeeder -TorrentPath $torrentPath -DataPath $source -Workspace $work }
                'libtorrent' { Start-LibtorrentPeer -Mode Seed -TorrentPath $torrentPath -SavePath $source -TimeoutSec 3600 -LogDir $work }
                'aria2' { Start-Aria2Seeder -TorrentPath $torrentPath -DataDir $source -SeedMinutes 60 -LogDir $work }
            }
            try {
                Wait-Until -TimeoutSec 180 -IntervalMs 500 -Because "the $s seeder to check its data and announce" -Condition {
                    if ($seed.HasExited) { throw "the $s seeder exited: $(Read-InteropLog $seed -StdErr)" }
                    @(Get-TorrentPeer -LiteralPath $torrentPath -ErrorAction SilentlyContinue | Where-Object { $_.EndPoint -eq "127.0.0.1:$($seed.Port)" }).Count -gt 0
                }
                foreach ($l in $Leecher) {
                    $dest = Join-Path $work 'download'
                    if (Test-Path -LiteralPath $dest) { Remove-Item -LiteralPath $dest -Recurse -Force }
                    $null = New-Item -ItemType Directory -Path $dest
                    & sync
                    $seedCpuBefore = Get-CpuSeconds $seed.Id
                    $run = Invoke-Leecher -Kind $l -TorrentPath $torrentPath -Destination $dest -Workspace $work
                    $seedCpu = (Get-CpuSeconds $seed.Id) - $seedCpuBefore
                    $file = Join-Path $dest 'payload.bin'
                    $ok = (Test-Path -LiteralPath $file) -and (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash -eq $want
                    $row = [pscustomobject]@{
                        Round      = $round
                        Seeder     = $s
                        Leecher    = $l
                        Seconds    = [Math]::Round($run.Wall, 2)
                        'MB/s'     = [Math]::Round($SizeMiB * 1.048576 / $run.Wall, 1)
                        SeederCpu  = [Math]::Round($seedCpu, 2)
                        LeecherCpu = [Math]::Round($run.Cpu, 2)
                        LeecherRssMiB = [Math]::Round($run.RssMiB)
                        Sha256     = if ($ok) { 'ok' } else { 'BAD' }
                    }
                    $rows.Add($row)
                    Write-Host ("  round {0}  {1,-10} -> {2,-10} {3,7:N2} s {4,7:N1} MB/s  seeder CPU {5,6:N2} s  leecher CPU {6,6:N2} s  {7}" -f `
                            $round, $s, $l, $row.Seconds, $row.'MB/s', $row.SeederCpu, $row.LeecherCpu, $row.Sha256)
                    Remove-Item -LiteralPath $dest -Recurse -Force
                }
            }
            finally {
                Stop-InteropProcess -Process $seed, $tracker.Process
            }
        }
    }

    Write-Host ''
    Write-Host 'Runs:'
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

    # Per leecher: our best-of-rounds throughput and CPU against each other seeder's.
    $summary = foreach ($l in $Leecher) {
        $ours = @($rows | Where-Object { $_.Seeder -eq 'ours' -and $_.Leecher -eq $l })
        if ($ours.Count -eq 0) { continue }
        foreach ($other in $Seeder | Where-Object { $_ -ne 'ours' }) {
            $theirs = @($rows | Where-Object { $_.Seeder -eq $other -and $_.Leecher -eq $l })
            if ($theirs.Count -eq 0) { continue }
            $ourRate = ($ours | Measure-Object 'MB/s' -Maximum).Maximum
            $theirRate = ($theirs | Measure-Object 'MB/s' -Maximum).Maximum
            $ourCpu = ($ours | Measure-Object SeederCpu -Average).Average
            $theirCpu = ($theirs | Measure-Object SeederCpu -Average).Average
            [pscustomobject]@{
                Leecher              = $l
                'Ours vs'            = $other
                'Our MB/s'           = $ourRate
                'Their MB/s'         = $theirRate
                'Throughput ratio'   = [Math]::Round($ourRate / [Math]::Max(0.001, $theirRate), 2)
                'Our seeder CPU s'   = [Math]::Round($ourCpu, 2)
                'Their seeder CPU s' = [Math]::Round($theirCpu, 2)
                'CPU ratio'          = [Math]::Round($ourCpu / [Math]::Max(0.001, $theirCpu), 2)
            }
        }
    }
    if ($summary) {
        Write-Host 'Our seeder relative to the others (throughput: best round; CPU: mean seeder CPU seconds per run; >1 = more):'
        $summary | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    }
    if (@($rows | Where-Object Sha256 -NE 'ok').Count -gt 0) { throw 'A leecher got a copy whose sha256 does not match.' }
}
finally {
    Stop-InteropProcess
    if (Test-Path -LiteralPath $work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}
