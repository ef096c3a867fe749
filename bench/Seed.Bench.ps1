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
    The parameters match bench/Download.Bench.ps1's where they mean the same, so one -BenchArgs serves both.
    Everything stays on 127.0.0.1 with DHT, LSD, PEX, UPnP and NAT-PMP off; processes are stopped by PID; the work
    folder is removed at the end.
#>
[CmdletBinding()]
param(
    # The laid-out module (build.ps1 passes out/BitTorrent).
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),

    # Payload size in MiB (1 GiB by default; e.g. 256 for a quick run).
    [ValidateRange(1, 16384)] [int] $SizeMiB = 1024,

    # Piece length in KiB (a power of two).
    [ValidateSet(16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)] [int] $PieceKiB = 1024,

    # How many times each seeder feeds each leecher.
    [ValidateRange(1, 50)] [int] $Rounds = 1,

    # Seeders compared, one at a time: BitTorrent (ours), libtorrent, aria2c (a comma-separated string works too).
    [string[]] $Seeder = @('BitTorrent', 'libtorrent', 'aria2c'),

    # Leechers each seeder feeds: aria2c, libtorrent, and optionally BitTorrent (our downloader).
    [string[]] $Leecher = @('aria2c', 'libtorrent'),

    # Longest one download may take before it is killed (0: 120 s + 0.5 s per MiB).
    [ValidateRange(0, 86400)] [int] $RunTimeoutSec = 0,

    # Where the markdown report goes.
    [string] $OutputPath = (Join-Path $PSScriptRoot '../out/bench/seed.md'),

    # Keep the temporary folder (payload, torrent, logs) for inspection.
    [switch] $KeepWorkspace,

    # A command (comma-separated) to run our seeder child under, for profiling; the seeder's CPU is summed over its
    # process tree, so the wrapper's own CPU counts too.
    [string[]] $ProfileWrapper = @(),

    # build.ps1 -BenchArgs goes to every bench: arguments meant for another one end up here, unused.
    [Parameter(ValueFromRemainingArguments)]
    [object[]] $OtherBenchArguments
)

$ErrorActionPreference = 'Stop'
# Benchmarks run on loopback only: no local discovery (multicast) or DHT on the machine's interfaces.
$env:BITTORRENT_LSD = '0'
$env:BITTORRENT_DHT = '0'
$ProgressPreference = 'SilentlyContinue'
if ($OtherBenchArguments) { Write-Host "Seed bench: ignoring arguments for other benches: $($OtherBenchArguments -join ' ')" }
$Seeder = @($Seeder | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
$Leecher = @($Leecher | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
$ProfileWrapper = @($ProfileWrapper | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
foreach ($name in $Seeder) { if ($name -notin 'BitTorrent', 'libtorrent', 'aria2c') { throw "Unknown seeder '$name' (BitTorrent, libtorrent, aria2c)." } }
foreach ($name in $Leecher) { if ($name -notin 'BitTorrent', 'libtorrent', 'aria2c') { throw "Unknown leecher '$name' (BitTorrent, libtorrent, aria2c)." } }
if ($RunTimeoutSec -eq 0) { $RunTimeoutSec = 120 + [int]($SizeMiB / 2) }
$manifest = (Resolve-Path -LiteralPath (Join-Path $ModulePath 'BitTorrent.psd1')).ProviderPath
Import-Module $manifest
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestSupport/Interop.psm1') -Force
$python = '/usr/bin/python3'
$ltPeer = Join-Path $PSScriptRoot '../tests/Pester/TestSupport/lt_peer.py'

function Get-CpuSeconds {
    <# User + system CPU seconds of a running process and its descendants (from /proc, so it works for a process we
       did not start under GNU time). #>
    param([int] $ProcessId)
    $total = 0.0
    $pending = [System.Collections.Generic.Queue[int]]::new()
    $pending.Enqueue($ProcessId)
    while ($pending.Count -gt 0) {
        $id = $pending.Dequeue()
        try { $stat = Get-Content -LiteralPath "/proc/$id/stat" -Raw -ErrorAction Stop } catch { continue }
        $fields = ($stat -replace '^.*\) ', '') -split ' '
        # After the command name: stat fields 14 (utime) and 15 (stime) are at 11 and 12 here; ticks of 1/100 s.
        $total += ([double]$fields[11] + [double]$fields[12]) / 100
        foreach ($children in Get-ChildItem -Path "/proc/$id/task/*/children" -ErrorAction SilentlyContinue) {
            foreach ($child in ((Get-Content -LiteralPath $children.FullName -Raw -ErrorAction SilentlyContinue) -split ' ' | Where-Object { $_ })) {
                $pending.Enqueue([int]$child)
            }
        }
    }
    $total
}

function Start-OurSeeder {
    param([string] $TorrentPath, [string] $DataPath, [string] $Workspace)
    $port = Get-FreePort
    $pwsh = Get-PwshCommand
    $command = "Import-Module '$manifest'; Start-TorrentSeed -LiteralPath '$TorrentPath' -DataPath '$DataPath' -Port $port -ListenAddress 127.0.0.1 -Duration 01:00:00 | Out-Null"
    $line = @($pwsh.FilePath) + $pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-Command', $command)
    if ($ProfileWrapper.Count -gt 0) { $line = $ProfileWrapper + $line }
    $p = Start-InteropProcess -FilePath $line[0] -ArgumentList $line[1..($line.Count - 1)] -LogDir $Workspace -Name "ours-seed-$port"
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $port -PassThru
}

function Invoke-Leecher {
    <# Runs one leecher to completion under GNU time; returns wall, cpu, rss. #>
    param([string] $Kind, [string] $TorrentPath, [string] $Destination, [string] $Workspace)
    $timeFile = Join-Path $Workspace 'time.txt'
    $port = Get-FreePort
    $command = switch ($Kind) {
        'BitTorrent' {
            $pwsh = Get-PwshCommand
            @($pwsh.FilePath) + $pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$manifest'; `$r = Start-TorrentDownload -LiteralPath '$TorrentPath' -DestinationPath '$Destination' -Port $port -ListenAddress 127.0.0.1 -TimeoutSec 60; if (`$r.Status -ne 'Completed') { exit 1 }")
        }
        'aria2c' {
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
                'BitTorrent' { Start-OurSeeder -TorrentPath $torrentPath -DataPath $source -Workspace $work }
                'libtorrent' { Start-LibtorrentPeer -Mode Seed -TorrentPath $torrentPath -SavePath $source -TimeoutSec 3600 -LogDir $work }
                'aria2c' { Start-Aria2Seeder -TorrentPath $torrentPath -DataDir $source -SeedMinutes 60 -LogDir $work }
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

    # Per leecher: our best-of-rounds throughput and mean seeder CPU against each other seeder's, and against the best.
    $best = { param($list) ($list | Measure-Object 'MB/s' -Maximum).Maximum }
    $cpu = { param($list) ($list | Measure-Object SeederCpu -Average).Average }
    $summary = foreach ($l in $Leecher) {
        $ours = @($rows | Where-Object { $_.Seeder -eq 'BitTorrent' -and $_.Leecher -eq $l })
        if ($ours.Count -eq 0) { continue }
        $others = @($Seeder | Where-Object { $_ -ne 'BitTorrent' })
        foreach ($other in $others + @(if ($others.Count -gt 1) { 'best of them' })) {
            $theirs = if ($other -eq 'best of them') {
                # The fastest other seeder for this leecher.
                $fastest = $others | Sort-Object -Descending -Property { $name = $_; & $best @($rows | Where-Object { $_.Seeder -eq $name -and $_.Leecher -eq $l }) } | Select-Object -First 1
                @($rows | Where-Object { $_.Seeder -eq $fastest -and $_.Leecher -eq $l })
            }
            else { @($rows | Where-Object { $_.Seeder -eq $other -and $_.Leecher -eq $l }) }
            if ($theirs.Count -eq 0) { continue }
            $ourRate = & $best $ours
            $theirRate = & $best $theirs
            $ourCpu = & $cpu $ours
            $theirCpu = & $cpu $theirs
            [pscustomobject]@{
                Leecher              = $l
                'Ours vs'            = if ($other -eq 'best of them') { "best ($($theirs[0].Seeder))" } else { $other }
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

    # The same tables as markdown, for notes and pull requests.
    function ConvertTo-MarkdownTable {
        param([object[]] $Rows)
        if (-not $Rows) { return '' }
        $names = $Rows[0].PSObject.Properties.Name
        $lines = @(('| ' + ($names -join ' | ') + ' |'), ('|' + (($names | ForEach-Object { '---' }) -join '|') + '|'))
        foreach ($r in $Rows) { $lines += '| ' + (($names | ForEach-Object { "$($r.$_)" }) -join ' | ') + ' |' }
        $lines -join "`n"
    }
    $report = @(
        "# Seed bench: $SizeMiB MiB, $PieceKiB KiB pieces, $Rounds round(s), $(Get-Date -Format 'yyyy-MM-dd HH:mm')"
        ''
        "$([Environment]::ProcessorCount) CPU cores; every peer on 127.0.0.1. Leecher seconds are wall time from start to exit (GNU time);"
        'seeder CPU is what the seeding process (tree) used during that run.'
        ''
        (ConvertTo-MarkdownTable $rows)
        ''
        '## Our seeder relative to the others'
        ''
        (ConvertTo-MarkdownTable @($summary))
    ) -join "`n"
    $outDir = Split-Path -Parent $OutputPath
    if ($outDir -and -not (Test-Path -LiteralPath $outDir)) { $null = New-Item -ItemType Directory -Path $outDir -Force }
    Set-Content -LiteralPath $OutputPath -Value $report -Encoding utf8
    Write-Host "Report written to $((Resolve-Path -LiteralPath $OutputPath).ProviderPath)"
    if (@($rows | Where-Object Sha256 -NE 'ok').Count -gt 0) { throw 'A leecher got a copy whose sha256 does not match.' }
}
finally {
    Stop-InteropProcess
    if ($KeepWorkspace) { Write-Host "Workspace kept: $work" }
    elseif (Test-Path -LiteralPath $work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}
