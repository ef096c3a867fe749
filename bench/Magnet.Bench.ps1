<#
.SYNOPSIS
    Magnet-link benchmark on loopback: Start-TorrentDownload against aria2c and python3-libtorrent, each given only a
    magnet link, all fetching the metadata (BEP 9) and then the data from the same swarm of real seeders.

.DESCRIPTION
    1. Writes a pseudo-random payload (-SizeMiB, default 256 MiB) and a v1 torrent of it with mktorrent
       (-PieceKiB, default 256 KiB pieces, so the info dictionary spans more than one 16 KiB ut_metadata block)
       announcing to an opentracker on 127.0.0.1 (HTTP) that whitelists its info-hash.
    2. Starts opentracker and the seeders, all at once and all on 127.0.0.1 with DHT/LSD/PEX/UPnP/NAT-PMP off:
       python3-libtorrent, aria2c, transmission-daemon and qbittorrent-nox (-Seeder picks), through the interop
       harness tests/Pester/TestSupport/Interop.psm1. Every one of them serves metadata over ut_metadata
       (tests/Pester/MagnetInterop.Tests.ps1 downloads from each given only a magnet). Waits until the tracker counts
       every seeder as complete.
    3. Builds ONE magnet link: xt (the info-hash), tr (the tracker) and an x.pe per seeder; no dn, no .torrent file.
       Runs every leecher in turn, -Rounds times (the order rotates each round), each into a fresh empty folder and in
       its own process under GNU time (wall, user and system CPU, peak RSS), each handed that link:
         BitTorrent  Start-TorrentDownload <magnet> in a fresh pwsh importing the module from -ModulePath
                     (bench/support/Invoke-BenchDownload.ps1 -Magnet); reads xt, tr and x.pe. Time to metadata: the
                     engine's MetadataReceived event (its own timestamp), from -InformationVariable.
         aria2c      the link on the command line; reads xt and tr (aria2 1.36 ignores x.pe); DHT/LPD/PEX off,
                     --seed-time=0. Time to metadata: the timestamp of its log line 'Download complete:
                     [MEMORY][METADATA]…' (--log-level=notice).
         libtorrent  bench/support/lt_magnet.py: lt.parse_magnet_uri (reads xt, tr and x.pe); network features off as
                     in lt_leech.py. Time to metadata: metadata_received_alert.
         BitTorrent-baseline  (with -BaselineModulePath) the same as BitTorrent, importing another build of the module.
       Times to metadata are measured from the moment the bench launched the process (wall clock, the same for all),
       so ours includes pwsh start-up and Import-Module, as the wall time does. A run counts only when the downloaded
       file has the source's size and SHA-256 and the time to metadata was seen.
    4. Prints a table per client (median time to metadata and to completion, CPU seconds, peak RSS) and our ratios
       against each other client, to the console and to -OutputPath (markdown).
    Every wait is bounded; every process started here is stopped by PID in the finally block.

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Magnet.Bench.ps1 -ModulePath out/BitTorrent -SizeMiB 64 -Rounds 1

.EXAMPLE
    dotnet pwsh -NoProfile -Command './build.ps1 -Task Bench -BenchArgs @{ SizeMiB = 256; Rounds = 2 }'
#>
[CmdletBinding()]
param(
    # The built module folder (holding BitTorrent.psd1); build.ps1's Bench task passes out/BitTorrent.
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),

    # Another build of the module: adds a 'BitTorrent-baseline' leecher that runs exactly like 'BitTorrent'.
    [string] $BaselineModulePath,

    # Payload size in MiB (256 by default; e.g. 64 for a quick run).
    [ValidateRange(1, 16384)]
    [int] $SizeMiB = 256,

    # Piece length in KiB (a power of two). 256 KiB: 1,024 pieces for 256 MiB, a 20 KiB info dictionary (two blocks).
    [ValidateSet(16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)]
    [int] $PieceKiB = 256,

    # How many times each leecher downloads the torrent.
    [ValidateRange(1, 50)]
    [int] $Rounds = 3,

    # Which leechers to run: BitTorrent, aria2c, libtorrent (a comma-separated string works too, for pwsh -File).
    [string[]] $Leecher = @('BitTorrent', 'aria2c', 'libtorrent'),

    # Which real clients seed (and serve the metadata), all at once: libtorrent, aria2c, transmission, qbittorrent.
    [string[]] $Seeder = @('libtorrent', 'aria2c', 'transmission', 'qbittorrent'),

    # Longest one download may take before it is killed (0: 120 s + 0.5 s per MiB).
    [ValidateRange(0, 86400)]
    [int] $RunTimeoutSec = 0,

    # Where the markdown report goes.
    [string] $OutputPath = (Join-Path $PSScriptRoot '../out/bench/magnet.md'),

    # Keep the temporary folder (payload, torrent, logs) for inspection.
    [switch] $KeepWorkspace,

    # build.ps1 -BenchArgs goes to every bench: arguments meant for another one end up here, unused.
    [Parameter(ValueFromRemainingArguments)]
    [object[]] $OtherBenchArguments
)

$ErrorActionPreference = 'Stop'
# Benchmarks run on loopback only: no local discovery (multicast) or DHT on the machine's interfaces. The children
# (our pwsh, and everything the interop harness starts) inherit these.
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
$Leecher = @($Leecher -split ',' | ForEach-Object Trim | Where-Object { $_ } | Select-Object -Unique)
$Seeder = @($Seeder -split ',' | ForEach-Object Trim | Where-Object { $_ } | Select-Object -Unique)
foreach ($name in $Leecher) { if ($name -notin 'BitTorrent', 'aria2c', 'libtorrent') { throw "Unknown leecher '$name' (BitTorrent, aria2c, libtorrent)." } }
if ($BaselineModulePath) {
    $at = [Array]::IndexOf($Leecher, 'BitTorrent')
    $Leecher = @(if ($at -lt 0) { $Leecher + 'BitTorrent-baseline' } else { $Leecher[0..$at] + 'BitTorrent-baseline' + $(if ($at + 1 -lt $Leecher.Count) { $Leecher[($at + 1)..($Leecher.Count - 1)] }) })
}
function Test-OurLeecher([string] $Name) { $Name -in 'BitTorrent', 'BitTorrent-baseline' }
function Get-LeecherModulePath([string] $Name) { if ($Name -eq 'BitTorrent-baseline') { $BaselineModulePath } else { $ModulePath } }
foreach ($name in $Seeder) { if ($name -notin 'libtorrent', 'aria2c', 'transmission', 'qbittorrent') { throw "Unknown seeder '$name' (libtorrent, aria2c, transmission, qbittorrent)." } }
if ($Leecher.Count -eq 0 -or $Seeder.Count -eq 0) { throw 'Give at least one leecher and one seeder.' }
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
$LtMagnetScript = Join-Path $PSScriptRoot 'support/lt_magnet.py'
$Pwsh = Get-PwshCommand
if ($RunTimeoutSec -eq 0) { $RunTimeoutSec = 120 + [int][Math]::Ceiling($SizeMiB * 0.5) }
$SizeBytes = [long]$SizeMiB * 1MB

function Get-ToolVersion([string] $Name) {
    if (-not (Test-OurLeecher $Name)) { return Get-ExternalToolVersion $Name }
    "BitTorrent $((Import-PowerShellDataFile (Join-Path (Get-LeecherModulePath $Name) 'BitTorrent.psd1')).ModuleVersion) (pwsh $($PSVersionTable.PSVersion), .NET $([Environment]::Version))$(if ($Name -eq 'BitTorrent-baseline') { ' from ' + $BaselineModulePath })"
}

function Get-UnixNow { [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000 }

function Get-Aria2MetadataUnix([string] $LogPath) {
    <# aria2c's log (--log-level=notice) stamps each line with local time to the microsecond; the line that ends the
       metadata download is 'Download complete: [MEMORY][METADATA]<hash>' (aria2's own text, the only way it says so). #>
    if (-not (Test-Path -LiteralPath $LogPath)) { return $null }
    $line = Get-Content -LiteralPath $LogPath | Where-Object { $_ -match '\[METADATA\]' -and $_ -match 'Download complete' } | Select-Object -First 1
    if (-not $line -or $line -notmatch '^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) ') { return $null }
    $local = [DateTime]::ParseExact($Matches[1], 'yyyy-MM-dd HH:mm:ss.ffffff', [Globalization.CultureInfo]::InvariantCulture, [Globalization.DateTimeStyles]::AssumeLocal)
    [DateTimeOffset]::new($local.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000
}

function Start-MeasuredRun {
    <# Starts one leecher, given only the magnet link, under GNU time (and coreutils timeout, so it cannot outlive
       RunTimeoutSec). Returns the process and the Unix time it was launched at. #>
    param([string] $Client, [string] $Destination, [string] $Workspace, [string] $Tag, [string] $Magnet)
    $port = Get-FreePort
    $timeFile = Join-Path $Workspace "$Tag.time"
    $resultFile = Join-Path $Workspace "$Tag.json"
    $aria2Log = Join-Path $Workspace "$Tag.aria2.log"
    $command = switch ($Client) {
        { Test-OurLeecher $_ } {
            @($Pwsh.FilePath) + $Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', $ChildScript,
                '-ModulePath', (Get-LeecherModulePath $Client), '-Magnet', $Magnet, '-DestinationPath', $Destination,
                '-ResultPath', $resultFile, '-Port', $port, '-TimeoutSec', 60)
        }
        'aria2c' {
            @('aria2c', '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
                '--seed-time=0', '--file-allocation=none', "--listen-port=$port", '--interface=127.0.0.1', '--disable-ipv6=true',
                '--bt-max-peers=55', '--bt-tracker-connect-timeout=5', '--console-log-level=warn', '--summary-interval=0',
                '--quiet=true', "--log=$aria2Log", '--log-level=notice', "--dir=$Destination", $Magnet)
        }
        'libtorrent' {
            @('/usr/bin/python3', $LtMagnetScript, $Magnet, $Destination, $port, $resultFile, '--timeout', $RunTimeoutSec)
        }
    }
    $arguments = @('-f', '%e %U %S %M', '-o', $timeFile, 'timeout', '-k', '10', $RunTimeoutSec) + $command
    $launched = Get-UnixNow
    $process = Start-InteropProcess -FilePath '/usr/bin/time' -ArgumentList $arguments -LogDir $Workspace -Name $Tag
    [pscustomobject]@{ Process = $process; TimeFile = $timeFile; ResultFile = $resultFile; Aria2Log = $aria2Log; LaunchedUnix = $launched }
}

$workspace = $null
$running = $null
$runs = [System.Collections.Generic.List[object]]::new()
$seeds = @()
$exitCode = 0
try {
    $workspace = New-InteropWorkspace -Name 'bt-bench-magnet'
    $seedDir = Join-Path $workspace 'seed'
    $logDir = Join-Path $workspace 'logs'
    $null = New-Item -ItemType Directory -Path $seedDir, $logDir
    & chmod 755 $seedDir $logDir

    Write-Host "Magnet benchmark: $SizeMiB MiB, $PieceKiB KiB pieces, $Rounds round(s); leechers $($Leecher -join ', '); seeders $($Seeder -join ', ')"
    Write-Host "Workspace $workspace"
    $loadAtStart = ((Get-Content -LiteralPath /proc/loadavg) -split ' ')[0..2] -join ' '
    $payload = Join-Path $seedDir 'payload.bin'
    $null = New-RandomFile -Path $payload -SizeBytes $SizeBytes -Seed 20261207
    $wantSha = Get-Sha256 $payload

    $trackerPort = Get-FreePort -Udp
    $torrentPath = Join-Path $workspace 'payload.torrent'
    $pieceLog2 = [int][Math]::Log($PieceKiB * 1024, 2)
    $null = New-MkTorrent -SourcePath $payload -OutFile $torrentPath -PieceSizeLog2 $pieceLog2 -Announce "http://127.0.0.1:$trackerPort/announce"
    $infoHash = Get-ReferenceInfoHash -TorrentPath $torrentPath
    $tracker = Start-OpenTracker -Workspace $workspace -InfoHash $infoHash -Port $trackerPort
    # The size of the info dictionary the leechers fetch (mktorrent's file: 'd8:announce…4:info' then the dictionary).
    $torrentBytes = [IO.File]::ReadAllBytes($torrentPath)
    $infoStart = [Text.Encoding]::Latin1.GetString($torrentBytes).IndexOf('4:infod') + 6
    $metadataBytes = $torrentBytes.Length - 1 - $infoStart
    Write-Host "Torrent $infoHash (info dictionary $metadataBytes bytes); opentracker on 127.0.0.1:$trackerPort"

    $checkTimeout = 60 + [int][Math]::Ceiling($SizeMiB / 8)
    $seedMinutes = [int][Math]::Ceiling(($RunTimeoutSec * $Leecher.Count * $Rounds + 1800) / 60)
    $seeds = @(Start-BenchSeeders -Seeder $Seeder -TorrentPath $torrentPath -SeedDir $seedDir -LogDir $logDir -Tracker $tracker `
            -InfoHash $infoHash -CheckTimeoutSec $checkTimeout -SeedMinutes $seedMinutes)
    & sync

    # The one link every leecher is given: the info-hash, the tracker and every seeder's address; nothing else.
    $magnet = "magnet:?xt=urn:btih:$infoHash&tr=$([Uri]::EscapeDataString($tracker.AnnounceUrl))" +
        (-join ($seeds | ForEach-Object { "&x.pe=$($_.EndPoint)" }))
    Write-Host "  magnet: $magnet"

    $versions = [ordered]@{}
    foreach ($name in @($Leecher) + @($Seeder) | Select-Object -Unique) { $versions[$name] = Get-ToolVersion $name }

    for ($round = 1; $round -le $Rounds; $round++) {
        $order = @(for ($i = 0; $i -lt $Leecher.Count; $i++) { $Leecher[($i + $round - 1) % $Leecher.Count] })
        foreach ($client in $order) {
            foreach ($s in $seeds) { if ($s.HasExited) { throw "Seeder $($s.Client) (pid $($s.Id)) exited during the benchmark." } }
            $tag = "$client-r$round"
            $destination = Join-Path $workspace "dl-$tag"
            $null = New-Item -ItemType Directory -Path $destination
            $running = Start-MeasuredRun -Client $client -Destination $destination -Workspace $logDir -Tag $tag -Magnet $magnet
            $deadline = [DateTime]::UtcNow.AddSeconds($RunTimeoutSec + 30)
            while (-not $running.Process.WaitForExit(250) -and [DateTime]::UtcNow -lt $deadline) { }
            $timedOut = -not $running.Process.HasExited
            Stop-ProcessTree $running.Process
            $exit = if ($timedOut) { -1 } else { $running.Process.ExitCode }

            $wall = $user = $sys = $rssKiB = [double]::NaN
            if (Test-Path -LiteralPath $running.TimeFile) {
                $fields = ((Get-Content -LiteralPath $running.TimeFile | Where-Object { $_ -match '^[\d.]+ [\d.]+ [\d.]+ \d+$' } | Select-Object -Last 1) -split ' ')
                if ($fields.Count -eq 4) { $wall, $user, $sys, $rssKiB = $fields | ForEach-Object { [double]$_ } }
            }
            $file = Join-Path $destination 'payload.bin'
            $size = if (Test-Path -LiteralPath $file) { (Get-Item -LiteralPath $file).Length } else { -1 }
            $verified = $size -eq $SizeBytes -and (Get-Sha256 $file) -eq $wantSha
            $detail = if (Test-Path -LiteralPath $running.ResultFile) { Get-Content -LiteralPath $running.ResultFile -Raw | ConvertFrom-Json } else { $null }
            # When each client had the metadata, on the same wall clock as the launch.
            $metadataUnix = switch ($client) {
                { Test-OurLeecher $_ } { if ($detail) { $detail.MetadataUnix } }
                'aria2c' { Get-Aria2MetadataUnix $running.Aria2Log }
                'libtorrent' { if ($detail) { $detail.metadata_unix } }
            }
            $metadataSeconds = if ($null -ne $metadataUnix) { [double]$metadataUnix - $running.LaunchedUnix } else { [double]::NaN }
            $ok = $verified -and $exit -eq 0 -and -not [double]::IsNaN($wall) -and -not [double]::IsNaN($metadataSeconds)
            if (Test-OurLeecher $client) { $ok = $ok -and $null -ne $detail -and $detail.Status -eq 'Completed' }
            $run = [pscustomobject]@{
                Round = $round; Client = $client; Ok = $ok; ExitCode = $exit; Sha256Ok = $verified
                MetadataSeconds = $metadataSeconds; WallSeconds = $wall; MBps = $SizeBytes / 1e6 / $wall
                UserSeconds = $user; SysSeconds = $sys; CpuSeconds = $user + $sys; PeakRssMB = $rssKiB * 1024 / 1e6; Detail = $detail
            }
            $runs.Add($run)
            Write-Host ("  round {0} {1,-11} metadata {2,6:N2} s  complete {3,7:N2} s {4,7:N1} MB/s  cpu {5,6:N2} s (user {6:N2}, sys {7:N2})  rss {8,6:N1} MB  {9}" -f
                $round, $client, $metadataSeconds, $wall, $run.MBps, $run.CpuSeconds, $user, $sys, $run.PeakRssMB,
                $(if ($ok) { 'sha256 ok' } elseif ($timedOut) { 'TIMED OUT' } else { "FAILED (exit $exit, size $size, sha256 $(if ($verified) { 'ok' } else { 'bad' }), metadata $(if ([double]::IsNaN($metadataSeconds)) { 'not seen' } else { 'seen' }))" }))
            if ((Test-OurLeecher $client) -and $detail) {
                Write-Host ("      start-up + import {0:N2} s, metadata {1:N2} s after the cmdlet started, cmdlet {2:N2} s, peers {3}, hash failures {4}{5}" -f
                    $detail.StartupSeconds, $(if ($null -ne $detail.MetadataUnix) { $detail.MetadataUnix - $detail.CmdletStartUnix } else { [double]::NaN }),
                    $detail.CmdletSeconds, $detail.PeersUsed, $detail.HashFailures,
                    $(if ($detail.Errors) { "; errors: $($detail.Errors -join '; ')" } else { '' }))
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
        [pscustomobject]@{
            Client          = $client
            Version         = $versions[$client]
            Runs            = "$($good.Count)/$($all.Count)"
            MetadataSeconds = Get-Median ($good | ForEach-Object MetadataSeconds)
            WallSeconds     = $wall
            MBps            = $SizeBytes / 1e6 / $wall
            CpuSeconds      = Get-Median ($good | ForEach-Object CpuSeconds)
            UserSeconds     = Get-Median ($good | ForEach-Object UserSeconds)
            SysSeconds      = Get-Median ($good | ForEach-Object SysSeconds)
            PeakRssMB       = if ($good) { ($good | Measure-Object PeakRssMB -Maximum).Maximum } else { [double]::NaN }
        }
    }
    $given = @{
        'BitTorrent'          = 'the link: xt + tr + x.pe (reads all three)'
        'BitTorrent-baseline' = 'the link: xt + tr + x.pe (reads all three)'
        'aria2c'              = 'the link: xt + tr (x.pe in it is ignored by aria2)'
        'libtorrent'          = 'the link: xt + tr + x.pe (parse_magnet_uri reads all three)'
    }
    $fmt = { param($v, $f) if ($null -eq $v -or [double]::IsNaN([double]$v) -or [double]::IsInfinity([double]$v)) { '—' } else { ([double]$v).ToString($f, [Globalization.CultureInfo]::InvariantCulture) } }
    $cpuModel = (Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $md = [System.Collections.Generic.List[string]]::new()
    $md.Add('# Magnet benchmark')
    $md.Add('')
    $md.Add(("{0:yyyy-MM-dd HH:mm} UTC · {1} MiB payload, {2} KiB pieces ({3} pieces, info dictionary {4} bytes = {5} ut_metadata block(s)) · {6} round(s), median shown · loopback 127.0.0.1 · {7} × {8} · load average at start {9}" -f
        [DateTime]::UtcNow, $SizeMiB, $PieceKiB, [Math]::Ceiling($SizeBytes / ($PieceKiB * 1KB)), $metadataBytes, [Math]::Ceiling($metadataBytes / 16384),
        $Rounds, [Environment]::ProcessorCount, $cpuModel, $loadAtStart))
    $md.Add('')
    $md.Add("Seeders, all at once, each serving the metadata (BEP 9): $(($seeds | ForEach-Object { $versions[$_.Client] }) -join ', '); opentracker (HTTP), info-hash whitelisted.")
    $md.Add('')
    $md.Add("Every leecher is given only the magnet link ``magnet:?xt=urn:btih:<info-hash>&tr=<tracker>&x.pe=<seeder>…`` (one x.pe per seeder, no dn, no .torrent).")
    $md.Add('')
    $md.Add('| leecher | version | given | runs ok | to metadata s (median) | to complete s (median wall) | MB/s | CPU s (user+sys) | peak RSS MB |')
    $md.Add('|---|---|---|---|---|---|---|---|---|')
    foreach ($s in $summary) {
        $md.Add("| $($s.Client) | $($s.Version) | $($given[$s.Client]) | $($s.Runs) | $(& $fmt $s.MetadataSeconds 'N2') | $(& $fmt $s.WallSeconds 'N2') | $(& $fmt $s.MBps 'N1') | $(& $fmt $s.CpuSeconds 'N2') ($(& $fmt $s.UserSeconds 'N2')+$(& $fmt $s.SysSeconds 'N2')) | $(& $fmt $s.PeakRssMB 'N1') |")
    }
    $ours = $summary | Where-Object Client -eq 'BitTorrent'
    $others = @($summary | Where-Object { -not (Test-OurLeecher $_.Client) })
    if ($ours -and $others) {
        $md.Add('')
        $md.Add('Ours against each (times: theirs ÷ ours, above 1 = we are faster; CPU and RSS: ours ÷ theirs, below 1 = we use less):')
        $md.Add('')
        $md.Add("| ratio | $(($others | ForEach-Object { "vs $($_.Client)" }) -join ' | ') |")
        $md.Add("|---|$('---|' * $others.Count)")
        $md.Add("| time to metadata | $(($others | ForEach-Object { & $fmt ($_.MetadataSeconds / $ours.MetadataSeconds) 'N2' }) -join ' | ') |")
        $md.Add("| time to complete | $(($others | ForEach-Object { & $fmt ($_.WallSeconds / $ours.WallSeconds) 'N2' }) -join ' | ') |")
        # The same two without pwsh's start-up and Import-Module (what a session that is already open sees; the others
        # still count their own process start-up, which for them is small).
        $oursGood = @($runs | Where-Object { $_.Client -eq 'BitTorrent' -and $_.Ok -and $_.Detail })
        $oursMetadataInCmdlet = Get-Median ($oursGood | ForEach-Object { $_.Detail.MetadataUnix - $_.Detail.CmdletStartUnix })
        $oursCmdlet = Get-Median ($oursGood | ForEach-Object { $_.Detail.CmdletSeconds })
        $md.Add("| time to metadata, ours counted from the cmdlet's start | $(($others | ForEach-Object { & $fmt ($_.MetadataSeconds / $oursMetadataInCmdlet) 'N2' }) -join ' | ') |")
        $md.Add("| time to complete, ours counting only the cmdlet | $(($others | ForEach-Object { & $fmt ($_.WallSeconds / $oursCmdlet) 'N2' }) -join ' | ') |")
        $md.Add("| CPU seconds | $(($others | ForEach-Object { & $fmt ($ours.CpuSeconds / $_.CpuSeconds) 'N2' }) -join ' | ') |")
        $md.Add("| peak RSS | $(($others | ForEach-Object { & $fmt ($ours.PeakRssMB / $_.PeakRssMB) 'N2' }) -join ' | ') |")
    }
    $md.Add('')
    $md.Add('Every run, in the order run (times from the launch of the process; wall, CPU and peak RSS from GNU time around the whole process; MB = 10^6 bytes):')
    $md.Add('')
    $md.Add('| round | leecher | to metadata s | to complete s | MB/s | user s | sys s | peak RSS MB | verified |')
    $md.Add('|---|---|---|---|---|---|---|---|---|')
    foreach ($r in $runs) {
        $md.Add("| $($r.Round) | $($r.Client) | $(& $fmt $r.MetadataSeconds 'N2') | $(& $fmt $r.WallSeconds 'N2') | $(& $fmt $r.MBps 'N1') | $(& $fmt $r.UserSeconds 'N2') | $(& $fmt $r.SysSeconds 'N2') | $(& $fmt $r.PeakRssMB 'N1') | $(if ($r.Ok) { 'sha256 ok' } else { "FAILED (exit $($r.ExitCode))" }) |")
    }
    $oursRuns = @($runs | Where-Object { (Test-OurLeecher $_.Client) -and $_.Detail })
    if ($oursRuns) {
        $md.Add('')
        $md.Add('Inside the Start-TorrentDownload process: pwsh start-up + Import-Module, then the metadata counted from the cmdlet''s start (what a session that is already open sees), and the cmdlet''s whole time:')
        $md.Add('')
        $md.Add('| round | leecher | process s | start-up + import s | metadata s after cmdlet start | cmdlet s | peers used | hash failures |')
        $md.Add('|---|---|---|---|---|---|---|---|')
        foreach ($r in $oursRuns) {
            $d = $r.Detail
            $afterStart = if ($null -ne $d.MetadataUnix) { $d.MetadataUnix - $d.CmdletStartUnix } else { [double]::NaN }
            $md.Add("| $($r.Round) | $($r.Client) | $(& $fmt $r.WallSeconds 'N2') | $(& $fmt $d.StartupSeconds 'N2') | $(& $fmt $afterStart 'N2') | $(& $fmt $d.CmdletSeconds 'N2') | $($d.PeersUsed) | $($d.HashFailures) |")
        }
    }
    $md.Add('')
    $md.Add('Leechers: BitTorrent = `Start-TorrentDownload <magnet> -DestinationPath <fresh folder>` in a fresh `pwsh` (module from the build output; `bench/support/Invoke-BenchDownload.ps1 -Magnet`), metadata time from the engine''s MetadataReceived event; aria2c = the link on its command line, DHT/LPD/PEX off, `--file-allocation=none --seed-time=0 --bt-max-peers=55`, metadata time from its notice log (`Download complete: [MEMORY][METADATA]`); libtorrent = `bench/support/lt_magnet.py` (parse_magnet_uri, default settings, DHT/LSD/UPnP/NAT-PMP/uTP off), metadata time from metadata_received_alert. Times to metadata count from the moment the bench launched the process, so they include process start-up (pwsh + Import-Module for ours). Each run downloads into a fresh empty folder; the client order rotates each round.')

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
