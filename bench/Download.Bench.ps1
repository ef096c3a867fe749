<#
.SYNOPSIS
    Side-by-side download benchmark on loopback: Start-TorrentDownload against aria2c and python3-libtorrent,
    all fetching the same torrent from the same swarm of real seeders.

.DESCRIPTION
    1. Writes a pseudo-random payload (-SizeMiB, default 1 GiB) and a v1 torrent of it with mktorrent
       (-PieceKiB, default 1 MiB pieces) announcing to an opentracker on 127.0.0.1 (HTTP).
    2. Starts opentracker and the seeders, all at once and all on 127.0.0.1 with DHT/LSD/PEX/UPnP/NAT-PMP off:
       python3-libtorrent, aria2c, transmission-daemon and qbittorrent-nox (-Seeder picks; at least three),
       through the interop harness tests/Pester/TestSupport/Interop.psm1. Waits until the tracker counts every
       seeder as complete.
    3. Runs every leecher in turn, -Rounds times (the order rotates each round so no client always goes first),
       each into a fresh empty folder and in its own process under GNU time (wall, user and system CPU, peak RSS):
         BitTorrent  Start-TorrentDownload in a fresh pwsh that imports the module from -ModulePath; told about
                     every seeder with -Peer and about the tracker (the torrent's announce URL).
         aria2c      tracker only (aria2c has no way to be given peers); DHT/LPD/PEX off, --seed-time=0.
         libtorrent  bench/support/lt_leech.py: the tracker plus connect_peer to every seeder; libtorrent's
                     default settings apart from the network features (what a libtorrent 2.0 user gets).
         BitTorrent-baseline  (with -BaselineModulePath) the same as BitTorrent, importing another build of the
                     module: before/after measured in one run, against the same swarm and under the same load.
       A run counts only when the downloaded file has the source's size and SHA-256.
    4. Prints a table per client (median wall time over the rounds, MB/s, CPU seconds and CPU per GiB, peak RSS)
       and our ratios against the goals, to the console and to -OutputPath (markdown).
    Every wait is bounded; every process started here is stopped by PID in the finally block.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./build.ps1 -Task Bench

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Download.Bench.ps1 -ModulePath out/BitTorrent -SizeMiB 64 -Rounds 1

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Download.Bench.ps1 -ModulePath out/BitTorrent -BaselineModulePath ../baseline/BitTorrent -SizeMiB 256 -Rounds 1
#>
[CmdletBinding()]
param(
    # The built module folder (holding BitTorrent.psd1); build.ps1's Bench task passes out/BitTorrent.
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),

    # Another build of the module (e.g. from the commit before a change): adds a 'BitTorrent-baseline' leecher that
    # runs exactly like 'BitTorrent' with this module, so before and after are compared in the same run.
    [string] $BaselineModulePath,

    # Payload size in MiB (1 GiB by default; e.g. 64 for a quick run).
    [ValidateRange(1, 16384)]
    [int] $SizeMiB = 1024,

    # Piece length in KiB (a power of two).
    [ValidateSet(16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)]
    [int] $PieceKiB = 1024,

    # How many times each leecher downloads the torrent.
    [ValidateRange(1, 50)]
    [int] $Rounds = 3,

    # Which leechers to run: BitTorrent, aria2c, libtorrent (a comma-separated string works too, for pwsh -File).
    # (-BaselineModulePath adds BitTorrent-baseline.)
    [string[]] $Leecher = @('BitTorrent', 'aria2c', 'libtorrent'),

    # Which real clients seed, all at once: libtorrent, aria2c, transmission, qbittorrent (or a comma-separated string).
    [string[]] $Seeder = @('libtorrent', 'aria2c', 'transmission', 'qbittorrent'),

    # Longest one download may take before it is killed (0: 120 s + 0.5 s per MiB).
    [ValidateRange(0, 86400)]
    [int] $RunTimeoutSec = 0,

    # Where the markdown report goes.
    [string] $OutputPath = (Join-Path $PSScriptRoot '../out/bench/download.md'),

    # Keep the temporary folder (payload, torrent, logs) for inspection.
    [switch] $KeepWorkspace,

    # A command to run the Start-TorrentDownload child under, for profiling (e.g. 'strace,-c,-f,-o,/tmp/st.txt',
    # 'perf,stat,-o,/tmp/perf.txt', or "$PWD/bench/support/trace-peers.sh,/tmp/trace.txt" for a per-peer timeline);
    # its CPU and memory then count in the figures too.
    [string[]] $ProfileWrapper = @(),

    # build.ps1 -BenchArgs goes to every bench: arguments meant for another one (e.g. -DownloadMiB) end up here, unused.
    [Parameter(ValueFromRemainingArguments)]
    [object[]] $OtherBenchArguments
)

$ErrorActionPreference = 'Stop'
# Benchmarks run on loopback only: no local discovery (multicast) or DHT on the machine's interfaces.
$env:BITTORRENT_LSD = '0'
$env:BITTORRENT_DHT = '0'
Set-StrictMode -Version 3.0
if ($PSVersionTable.PSVersion.Major -ge 7) { $PSStyle.OutputRendering = 'PlainText' }
$ProgressPreference = 'SilentlyContinue'

if ($IsWindows) { throw 'This benchmark needs Linux (GNU time, Debian clients).' }
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
if (-not (Test-Path -LiteralPath (Join-Path $ModulePath 'BitTorrent.psd1'))) {
    throw "No BitTorrent.psd1 in '$ModulePath': build first (dotnet pwsh -NoProfile -File ./build.ps1 -Task Build)."
}
if ($BaselineModulePath) {
    $BaselineModulePath = (Resolve-Path -LiteralPath $BaselineModulePath).ProviderPath
    if (-not (Test-Path -LiteralPath (Join-Path $BaselineModulePath 'BitTorrent.psd1'))) { throw "No BitTorrent.psd1 in '$BaselineModulePath'." }
}
# pwsh -File hands an array parameter one string: accept 'a,b,c' as well as an array.
$Leecher = @($Leecher -split ',' | ForEach-Object Trim | Where-Object { $_ } | Select-Object -Unique)
$Seeder = @($Seeder -split ',' | ForEach-Object Trim | Where-Object { $_ } | Select-Object -Unique)
foreach ($name in $Leecher) { if ($name -notin 'BitTorrent', 'aria2c', 'libtorrent') { throw "Unknown leecher '$name' (BitTorrent, aria2c, libtorrent)." } }
# The baseline runs right after ours in every round's rotation, so both see the same neighbours.
if ($BaselineModulePath) {
    $at = [Array]::IndexOf($Leecher, 'BitTorrent')
    $Leecher = @(if ($at -lt 0) { $Leecher + 'BitTorrent-baseline' } else { $Leecher[0..$at] + 'BitTorrent-baseline' + $(if ($at + 1 -lt $Leecher.Count) { $Leecher[($at + 1)..($Leecher.Count - 1)] }) })
}
function Test-OurLeecher([string] $Name) { $Name -in 'BitTorrent', 'BitTorrent-baseline' }
function Get-LeecherModulePath([string] $Name) { if ($Name -eq 'BitTorrent-baseline') { $BaselineModulePath } else { $ModulePath } }
foreach ($name in $Seeder) { if ($name -notin 'libtorrent', 'aria2c', 'transmission', 'qbittorrent') { throw "Unknown seeder '$name' (libtorrent, aria2c, transmission, qbittorrent)." } }
if ($Leecher.Count -eq 0 -or $Seeder.Count -eq 0) { throw 'Give at least one leecher and one seeder.' }
if ($Seeder.Count -lt 3) { Write-Warning "Only $($Seeder.Count) seeder(s): the benchmark is meant for at least three different clients." }
$needed = @('opentracker', 'mktorrent', 'timeout', 'sha256sum', 'sync') +
    @(switch ($Seeder) { 'aria2c' { 'aria2c' } 'transmission' { 'transmission-daemon', 'transmission-remote' } 'qbittorrent' { 'qbittorrent-nox', 'curl' } }) +
    @(if ($Leecher -contains 'aria2c') { 'aria2c' })
foreach ($tool in $needed | Select-Object -Unique) {
    if (-not (Get-Command $tool -CommandType Application -ErrorAction SilentlyContinue)) {
        throw "'$tool' is not installed (apt-get install opentracker aria2 transmission-daemon transmission-cli qbittorrent-nox python3-libtorrent mktorrent time)."
    }
}
foreach ($file in '/usr/bin/time', '/usr/bin/python3') {
    if (-not (Test-Path -LiteralPath $file)) { throw "$file is missing (apt-get install time python3-libtorrent)." }
}

Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestSupport/Interop.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'support/BenchSwarm.psm1') -Force
$ChildScript = Join-Path $PSScriptRoot 'support/Invoke-BenchDownload.ps1'
$LtLeechScript = Join-Path $PSScriptRoot 'support/lt_leech.py'
$Pwsh = Get-PwshCommand
if ($RunTimeoutSec -eq 0) { $RunTimeoutSec = 120 + [int][Math]::Ceiling($SizeMiB * 0.5) }
$SizeBytes = [long]$SizeMiB * 1MB
$GiB = $SizeBytes / 1GB

function Get-ToolVersion([string] $Name) {
    if (-not (Test-OurLeecher $Name)) { return Get-ExternalToolVersion $Name }
    "BitTorrent $((Import-PowerShellDataFile (Join-Path (Get-LeecherModulePath $Name) 'BitTorrent.psd1')).ModuleVersion) (pwsh $($PSVersionTable.PSVersion), .NET $([Environment]::Version))$(if ($Name -eq 'BitTorrent-baseline') { ' from ' + $BaselineModulePath })"
}

function Start-MeasuredRun {
    <# Starts one leecher under GNU time (and coreutils timeout, so it cannot outlive RunTimeoutSec). #>
    param([string] $Client, [string] $Destination, [string] $Workspace, [string] $Tag, [object[]] $Seeds, [string] $TorrentPath)
    $port = Get-FreePort
    $timeFile = Join-Path $Workspace "$Tag.time"
    $resultFile = Join-Path $Workspace "$Tag.json"
    $peerList = @($Seeds | ForEach-Object { $_.EndPoint })
    $command = switch ($Client) {
        { Test-OurLeecher $_ } {
            @($ProfileWrapper -split ',' | Where-Object { $_ }) + @($Pwsh.FilePath) + $Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', $ChildScript,
                '-ModulePath', (Get-LeecherModulePath $Client), '-TorrentPath', $TorrentPath, '-DestinationPath', $Destination,
                '-ResultPath', $resultFile, '-Peer', ($peerList -join ','), '-Port', $port, '-TimeoutSec', 60)
        }
        'aria2c' {
            @('aria2c', '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
                '--seed-time=0', '--file-allocation=none', "--listen-port=$port", '--interface=127.0.0.1', '--disable-ipv6=true',
                '--bt-max-peers=55', '--bt-tracker-connect-timeout=5', '--console-log-level=warn', '--summary-interval=0',
                '--quiet=true', "--dir=$Destination", $TorrentPath)
        }
        'libtorrent' {
            @('/usr/bin/python3', $LtLeechScript, $TorrentPath, $Destination, $port, $resultFile, '--timeout', $RunTimeoutSec) +
                @($peerList | ForEach-Object { '--peer'; $_ })
        }
    }
    $arguments = @('-f', '%e %U %S %M', '-o', $timeFile, 'timeout', '-k', '10', $RunTimeoutSec) + $command
    $process = Start-InteropProcess -FilePath '/usr/bin/time' -ArgumentList $arguments -LogDir $Workspace -Name $Tag
    [pscustomobject]@{ Process = $process; TimeFile = $timeFile; ResultFile = $resultFile; Port = $port }
}

$workspace = $null
$running = $null
$runs = [System.Collections.Generic.List[object]]::new()
$seeds = @()
$exitCode = 0
try {
    $workspace = New-InteropWorkspace -Name 'bt-bench'
    $seedDir = Join-Path $workspace 'seed'
    $logDir = Join-Path $workspace 'logs'
    $null = New-Item -ItemType Directory -Path $seedDir, $logDir
    & chmod 755 $seedDir $logDir

    Write-Host "Download benchmark: $SizeMiB MiB, $PieceKiB KiB pieces, $Rounds round(s); leechers $($Leecher -join ', '); seeders $($Seeder -join ', ')"
    Write-Host "Workspace $workspace"
    $loadAtStart = ((Get-Content -LiteralPath /proc/loadavg) -split ' ')[0..2] -join ' '
    $payload = Join-Path $seedDir 'payload.bin'
    $null = New-RandomFile -Path $payload -SizeBytes $SizeBytes -Seed 20261125
    $wantSha = Get-Sha256 $payload

    $trackerPort = Get-FreePort -Udp
    $torrentPath = Join-Path $workspace 'payload.torrent'
    $pieceLog2 = [int][Math]::Log($PieceKiB * 1024, 2)
    $null = New-MkTorrent -SourcePath $payload -OutFile $torrentPath -PieceSizeLog2 $pieceLog2 -Announce "http://127.0.0.1:$trackerPort/announce"
    $infoHash = Get-ReferenceInfoHash -TorrentPath $torrentPath
    $tracker = Start-OpenTracker -Workspace $workspace -InfoHash $infoHash -Port $trackerPort
    Write-Host "Torrent $infoHash; opentracker on 127.0.0.1:$trackerPort"

    $checkTimeout = 60 + [int][Math]::Ceiling($SizeMiB / 8)
    $seedMinutes = [int][Math]::Ceiling(($RunTimeoutSec * $Leecher.Count * $Rounds + 1800) / 60)
    $seeds = @(Start-BenchSeeders -Seeder $Seeder -TorrentPath $torrentPath -SeedDir $seedDir -LogDir $logDir -Tracker $tracker `
            -InfoHash $infoHash -CheckTimeoutSec $checkTimeout -SeedMinutes $seedMinutes)
    & sync

    $versions = [ordered]@{}
    foreach ($name in @($Leecher) + @($Seeder) | Select-Object -Unique) { $versions[$name] = Get-ToolVersion $name }

    for ($round = 1; $round -le $Rounds; $round++) {
        $order = @(for ($i = 0; $i -lt $Leecher.Count; $i++) { $Leecher[($i + $round - 1) % $Leecher.Count] })
        foreach ($client in $order) {
            foreach ($s in $seeds) { if ($s.HasExited) { throw "Seeder $($s.Client) (pid $($s.Id)) exited during the benchmark." } }
            $tag = "$client-r$round"
            $destination = Join-Path $workspace "dl-$tag"
            $null = New-Item -ItemType Directory -Path $destination
            $running = Start-MeasuredRun -Client $client -Destination $destination -Workspace $logDir -Tag $tag -Seeds $seeds -TorrentPath $torrentPath
            $deadline = [DateTime]::UtcNow.AddSeconds($RunTimeoutSec + 30)
            while (-not $running.Process.WaitForExit(250) -and [DateTime]::UtcNow -lt $deadline) { }
            $timedOut = -not $running.Process.HasExited
            Stop-ProcessTree $running.Process
            $exit = if ($timedOut) { -1 } else { $running.Process.ExitCode }

            $wall = $user = $sys = $rssKiB = [double]::NaN
            if (Test-Path -LiteralPath $running.TimeFile) {
                # GNU time writes 'Command exited with non-zero status N' first when the command failed.
                $fields = ((Get-Content -LiteralPath $running.TimeFile | Where-Object { $_ -match '^[\d.]+ [\d.]+ [\d.]+ \d+$' } | Select-Object -Last 1) -split ' ')
                if ($fields.Count -eq 4) { $wall, $user, $sys, $rssKiB = $fields | ForEach-Object { [double]$_ } }
            }
            $file = Join-Path $destination 'payload.bin'
            $size = if (Test-Path -LiteralPath $file) { (Get-Item -LiteralPath $file).Length } else { -1 }
            $verified = $size -eq $SizeBytes -and (Get-Sha256 $file) -eq $wantSha
            $detail = if (Test-Path -LiteralPath $running.ResultFile) { Get-Content -LiteralPath $running.ResultFile -Raw | ConvertFrom-Json } else { $null }
            $ok = $verified -and $exit -eq 0 -and -not [double]::IsNaN($wall)
            if (Test-OurLeecher $client) { $ok = $ok -and $null -ne $detail -and $detail.Status -eq 'Completed' }
            $run = [pscustomobject]@{
                Round = $round; Client = $client; Ok = $ok; ExitCode = $exit; Sha256Ok = $verified
                WallSeconds = $wall; MBps = $SizeBytes / 1e6 / $wall; UserSeconds = $user; SysSeconds = $sys
                CpuSeconds = $user + $sys; PeakRssMB = $rssKiB * 1024 / 1e6; Detail = $detail
            }
            $runs.Add($run)
            Write-Host ("  round {0} {1,-11} {2,7:N2} s {3,7:N1} MB/s  cpu {4,6:N2} s (user {5:N2}, sys {6:N2})  rss {7,6:N1} MB  {8}" -f
                $round, $client, $wall, $run.MBps, $run.CpuSeconds, $user, $sys, $run.PeakRssMB,
                $(if ($ok) { 'sha256 ok' } elseif ($timedOut) { 'TIMED OUT' } else { "FAILED (exit $exit, size $size, sha256 $(if ($verified) { 'ok' } else { 'bad' }))" }))
            if ((Test-OurLeecher $client) -and $detail) {
                Write-Host ("      start-up + import {9:N2} s, cmdlet {8:N2} s, engine {0:N2} s, pwsh start-up + import {1:N2} CPU s, download {2:N2} CPU s, allocated {3:N0} MiB, GCs {4}, peers {5}, hash failures {6}{7}" -f
                    $detail.EngineSeconds, $detail.StartupCpuSeconds, $detail.DownloadCpuSeconds, $detail.AllocatedMiB,
                    ($detail.GcCollections -join '/'), $detail.PeersUsed, $detail.HashFailures,
                    $(if ($detail.Errors) { "; errors: $($detail.Errors -join '; ')" } else { '' }),
                    $detail.CmdletSeconds, $detail.StartupSeconds)
            }
            if (-not $ok) {
                $exitCode = 1
                Write-Host "      log tail: $((Read-InteropLog $running.Process) + (Read-InteropLog $running.Process -StdErr) | Select-Object -Last 1)"
            }
            $running = $null
            Remove-Item -LiteralPath $destination -Recurse -Force
            & sync
            Start-Sleep -Milliseconds 500
        }
    }

    # ---- Summary ----
    $summary = foreach ($client in $Leecher) {
        $good = @($runs | Where-Object { $_.Client -eq $client -and $_.Ok })
        $all = @($runs | Where-Object { $_.Client -eq $client })
        $wall = Get-Median ($good | ForEach-Object WallSeconds)
        $cpu = Get-Median ($good | ForEach-Object CpuSeconds)
        [pscustomobject]@{
            Client      = $client
            Version     = $versions[$client]
            Runs        = "$($good.Count)/$($all.Count)"
            WallSeconds = $wall
            MBps        = $SizeBytes / 1e6 / $wall
            CpuSeconds  = $cpu
            CpuPerGiB   = $cpu / $GiB
            UserSeconds = Get-Median ($good | ForEach-Object UserSeconds)
            SysSeconds  = Get-Median ($good | ForEach-Object SysSeconds)
            PeakRssMB   = if ($good) { ($good | Measure-Object PeakRssMB -Maximum).Maximum } else { [double]::NaN }
        }
    }
    $fmt = { param($v, $f) if ($null -eq $v -or [double]::IsNaN([double]$v) -or [double]::IsInfinity([double]$v)) { '—' } else { ([double]$v).ToString($f, [Globalization.CultureInfo]::InvariantCulture) } }
    $cpuModel = (Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $md = [System.Collections.Generic.List[string]]::new()
    $md.Add('# Download benchmark')
    $md.Add('')
    $md.Add(("{0:yyyy-MM-dd HH:mm} UTC · {1} MiB payload, {2} KiB pieces ({3} pieces) · {4} round(s), median shown · loopback 127.0.0.1 · {5} × {6} · load average at start {7}" -f
        [DateTime]::UtcNow, $SizeMiB, $PieceKiB, [Math]::Ceiling($SizeBytes / ($PieceKiB * 1KB)), $Rounds, [Environment]::ProcessorCount,
        $cpuModel, $loadAtStart))
    $md.Add('')
    $md.Add("Seeders, all at once: $(($seeds | ForEach-Object { $versions[$_.Client] }) -join ', '); opentracker (HTTP).")
    $md.Add('')
    $md.Add('| leecher | version | runs ok | wall s (median) | MB/s | CPU s (user+sys) | CPU s per GiB | peak RSS MB |')
    $md.Add('|---|---|---|---|---|---|---|---|')
    foreach ($s in $summary) {
        $md.Add("| $($s.Client) | $($s.Version) | $($s.Runs) | $(& $fmt $s.WallSeconds 'N2') | $(& $fmt $s.MBps 'N1') | $(& $fmt $s.CpuSeconds 'N2') ($(& $fmt $s.UserSeconds 'N2')+$(& $fmt $s.SysSeconds 'N2')) | $(& $fmt $s.CpuPerGiB 'N2') | $(& $fmt $s.PeakRssMB 'N1') |")
    }
    $ours = $summary | Where-Object Client -eq 'BitTorrent'
    $baseline = $summary | Where-Object Client -eq 'BitTorrent-baseline'
    if ($ours) {
        # One column per build of ours (the baseline's next to ours when -BaselineModulePath was given); the goals
        # (issue 11) apply to ours.
        $columns = @($ours) + @($baseline | Where-Object { $_ })
        $cell = { param([scriptblock] $Value, [string] $Format) ($columns | ForEach-Object { & $fmt (& $Value $_) $Format }) -join ' | ' }
        $md.Add('')
        $md.Add("| our ratio | $(($columns | ForEach-Object Client) -join ' | ') | goal | met |")
        $md.Add("|---|$('---|' * $columns.Count)---|---|")
        $others = @($summary | Where-Object { -not (Test-OurLeecher $_.Client) -and -not [double]::IsNaN($_.MBps) })
        foreach ($o in $others) {
            $md.Add("| throughput vs $($o.Client) | $(& $cell { param($c) $c.MBps / $o.MBps } 'N2') | | |")
        }
        if ($others) {
            $fastest = $others | Sort-Object MBps -Descending | Select-Object -First 1
            $ratio = $ours.MBps / $fastest.MBps
            $md.Add("| throughput vs the faster ($($fastest.Client)) | $(& $cell { param($c) $c.MBps / $fastest.MBps } 'N2') | ≥ 1.2× | $(if ($ratio -ge 1.2) { 'yes' } else { 'no' }) |")
            # The same ratio without pwsh's own start-up and module import (what a session that is already open sees).
            $cmdletRatio = {
                param($c)
                $seconds = Get-Median (@($runs | Where-Object { $_.Client -eq $c.Client -and $_.Ok -and $_.Detail }) | ForEach-Object { $_.Detail.CmdletSeconds })
                ($SizeBytes / 1e6 / $seconds) / $fastest.MBps
            }
            $ratioCmdlet = & $cmdletRatio $ours
            $md.Add("| throughput vs $($fastest.Client), counting only the cmdlet's time | $(& $cell $cmdletRatio 'N2') | (≥ 1.2×) | $(if ($ratioCmdlet -ge 1.2) { 'yes' } else { 'no' }) |")
        }
        $aria = $summary | Where-Object Client -eq 'aria2c'
        if ($aria -and -not [double]::IsNaN($aria.CpuPerGiB)) {
            $cpuRatio = $ours.CpuPerGiB / $aria.CpuPerGiB
            $md.Add("| CPU per GiB vs aria2c | $(& $cell { param($c) $c.CpuPerGiB / $aria.CpuPerGiB } 'N2') | ≤ 1.5× | $(if ($cpuRatio -le 1.5) { 'yes' } else { 'no' }) |")
        }
        $md.Add("| peak RSS of the pwsh process, MB | $(& $cell { param($c) $c.PeakRssMB } 'N1') | ≤ 200 | $(if ($ours.PeakRssMB -le 200) { 'yes' } else { 'no' }) |")
        if ($baseline) {
            $md.Add("| throughput vs the baseline | $(& $fmt ($ours.MBps / $baseline.MBps) 'N2') | — | | |")
            $md.Add("| CPU per GiB vs the baseline | $(& $fmt ($ours.CpuPerGiB / $baseline.CpuPerGiB) 'N2') | — | | |")
        }
    }
    $md.Add('')
    $md.Add('Every run, in the order run (wall, CPU and peak RSS from GNU time around the whole process; MB = 10^6 bytes):')
    $md.Add('')
    $md.Add('| round | leecher | wall s | MB/s | user s | sys s | peak RSS MB | verified |')
    $md.Add('|---|---|---|---|---|---|---|---|')
    foreach ($r in $runs) {
        $md.Add("| $($r.Round) | $($r.Client) | $(& $fmt $r.WallSeconds 'N2') | $(& $fmt $r.MBps 'N1') | $(& $fmt $r.UserSeconds 'N2') | $(& $fmt $r.SysSeconds 'N2') | $(& $fmt $r.PeakRssMB 'N1') | $(if ($r.Ok) { 'sha256 ok' } else { "FAILED (exit $($r.ExitCode))" }) |")
    }
    $oursRuns = @($runs | Where-Object { (Test-OurLeecher $_.Client) -and $_.Detail })
    if ($oursRuns) {
        $md.Add('')
        $md.Add('Inside the Start-TorrentDownload process (from the child itself): the cmdlet''s own time, CPU spent before the download (pwsh start-up + Import-Module) and during it, managed allocation and GCs (gen0/1/2):')
        $md.Add('')
        $md.Add('| round | leecher | process s | start-up + import s | cmdlet s | engine s | start-up CPU s | download CPU s (user) | allocated MiB | GCs | peers used | hash failures |')
        $md.Add('|---|---|---|---|---|---|---|---|---|---|---|---|')
        foreach ($r in $oursRuns) {
            $d = $r.Detail
            $md.Add("| $($r.Round) | $($r.Client) | $(& $fmt $r.WallSeconds 'N2') | $(& $fmt $d.StartupSeconds 'N2') | $(& $fmt $d.CmdletSeconds 'N2') | $(& $fmt $d.EngineSeconds 'N2') | $(& $fmt $d.StartupCpuSeconds 'N2') | $(& $fmt $d.DownloadCpuSeconds 'N2') ($(& $fmt $d.DownloadUserSeconds 'N2')) | $(& $fmt $d.AllocatedMiB 'N0') | $($d.GcCollections -join '/') | $($d.PeersUsed) | $($d.HashFailures) |")
        }
    }
    $md.Add('')
    $md.Add('Leechers: BitTorrent = Start-TorrentDownload in a fresh `pwsh` (module imported from the build output; -Peer with every seeder, plus the torrent''s tracker); BitTorrent-baseline = the same with the module from -BaselineModulePath; aria2c = tracker only, DHT/LPD/PEX off, `--file-allocation=none --seed-time=0 --bt-max-peers=55`; libtorrent = `bench/support/lt_leech.py` (tracker + connect_peer to every seeder, default settings, DHT/LSD/UPnP/NAT-PMP/uTP off). Each run downloads into a fresh empty folder; the client order rotates each round.')

    $text = $md -join [Environment]::NewLine
    $outDir = Split-Path -Parent $OutputPath
    if ($outDir -and -not (Test-Path -LiteralPath $outDir)) { $null = New-Item -ItemType Directory -Path $outDir -Force }
    Set-Content -LiteralPath $OutputPath -Value $text -Encoding utf8
    Write-Host ''
    Write-Host $text
    Write-Host ''
    Write-Host "Report written to $((Resolve-Path -LiteralPath $OutputPath).ProviderPath)"
}
finally {
    if ($running) { Stop-ProcessTree $running.Process }
    Stop-InteropProcess
    if ($workspace -and (Test-Path -LiteralPath $workspace)) {
        if ($KeepWorkspace) { Write-Host "Workspace kept: $workspace" }
        else { Remove-Item -LiteralPath $workspace -Recurse -Force -ErrorAction SilentlyContinue }
    }
}
exit $exitCode
