<#
.SYNOPSIS
    Scale run: one Start-TorrentSeed seeds -SeedCount torrents (1,000 by default) and one Start-TorrentDownload
    downloads -DownloadCount of them (200 by default) piped from Get-ChildItem, each through one TorrentSession, on
    127.0.0.1; prints what each process held at its peak: resident memory, file descriptors (sockets and files),
    threads, and the time taken.

.DESCRIPTION
    1. Writes -SeedCount small payloads (one file of -FileKiB KiB each, pseudo-random, a few hundred bytes apart in
       size) and a torrent for each with New-Torrent.
    2. Starts the seeder: a child pwsh running
         Get-ChildItem *.torrent | Start-TorrentSeed -DataPath ... -Port P -ListenAddress 127.0.0.1 -NoTracker -AsJob
       and waits (bounded) until the job's information stream says every torrent is seeding (StateChanged events).
    3. Starts the downloader: a child pwsh running
         Get-ChildItem <first -DownloadCount torrents> | Start-TorrentDownload -Peer 127.0.0.1:P -NoTracker
       and waits for it to end; then checks every downloaded file's SHA-256 against its source.
    4. Stops the seeder through a stop file (it reports its summary), and prints, for each process, peak RSS
       (VmHWM), peak and final open descriptors (/proc/PID/fd) and threads (/proc/PID/status), sampled every
       -SampleMs, plus the wall time of each phase. Every wait is bounded; every process started here is stopped
       by PID in the finally block.

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Scale.Bench.ps1 -ModulePath out/BitTorrent

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Scale.Bench.ps1 -SeedCount 100 -DownloadCount 20
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),
    [ValidateRange(1, 5000)] [int] $SeedCount = 1000,
    [ValidateRange(1, 5000)] [int] $DownloadCount = 200,
    [ValidateRange(1, 65536)] [int] $FileKiB = 32,
    [ValidateRange(1, 64)] [int] $ThrottleLimit = 8,
    [ValidateRange(50, 5000)] [int] $SampleMs = 250,
    [ValidateRange(10, 7200)] [int] $TimeoutSec = 1200,
    [string] $WorkPath = (Join-Path ([IO.Path]::GetTempPath()) "bt-scale-$PID"),
    [string] $OutputPath
)
$ErrorActionPreference = 'Stop'
if ($DownloadCount -gt $SeedCount) { throw '-DownloadCount cannot exceed -SeedCount: the downloads come from the seeder.' }
$ModulePath = (Resolve-Path $ModulePath).Path
$manifest = if (Test-Path (Join-Path $ModulePath 'BitTorrent.psd1')) { Join-Path $ModulePath 'BitTorrent.psd1' } else { $ModulePath }
Import-Module $manifest -Force
$env:BITTORRENT_DHT = '0'
$env:BITTORRENT_LSD = '0'

function Get-ProcessSample([int] $ProcessId) {
    # One look at a process: resident set now and at its peak, threads, open descriptors.
    $status = Get-Content -LiteralPath "/proc/$ProcessId/status" -ErrorAction SilentlyContinue
    if (-not $status) { return $null }
    $value = { param($key) [long](@($status | Where-Object { $_ -like "${key}:*" })[0] -replace '\D', '') }
    $fds = @(Get-ChildItem -LiteralPath "/proc/$ProcessId/fd" -ErrorAction SilentlyContinue)
    $sockets = @($fds | Where-Object { $_.LinkTarget -like 'socket:*' }).Count
    [pscustomobject]@{ RssKiB = & $value 'VmRSS'; HwmKiB = & $value 'VmHWM'; Threads = & $value 'Threads'; Fds = $fds.Count; Sockets = $sockets }
}

function Watch-Process {
    # Samples the process until the condition holds or it exits; returns peaks and the last sample.
    param([System.Diagnostics.Process] $Process, [scriptblock] $Until, [int] $TimeoutSec, [string] $What)
    $peak = [ordered]@{ HwmKiB = 0; Threads = 0; Fds = 0; Sockets = 0 }
    $last = $null
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $sample = Get-ProcessSample $Process.Id
        if ($sample) {
            $last = $sample
            foreach ($k in @($peak.Keys)) { if ($sample.$k -gt $peak[$k]) { $peak[$k] = $sample.$k } }
        }
        if (& $Until) { break }
        if ($Process.HasExited) { break }
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSec s waiting for $What." }
        Start-Sleep -Milliseconds $SampleMs
    }
    [pscustomobject]@{ Peak = [pscustomobject]$peak; Last = $last }
}

# Another PowerShell like this one, started directly (under 'dotnet pwsh' the process is dotnet and pwsh.dll its
# first argument), so the process sampled is the one that runs the cmdlet, not a launcher.
$pwshPath = [Environment]::ProcessPath
$pwshArgs = @()
if ([IO.Path]::GetFileNameWithoutExtension($pwshPath) -eq 'dotnet') { $pwshArgs = @([System.Reflection.Assembly]::GetEntryAssembly().Location) }
$started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
function Start-Child([string] $Script, [string[]] $Arguments, [string] $Name) {
    $info = [System.Diagnostics.ProcessStartInfo]::new($pwshPath)
    foreach ($a in $pwshArgs + @('-NoProfile', '-NonInteractive', '-File', $Script) + $Arguments) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($info)
    $null = $p.StandardOutput.ReadToEndAsync()
    $script:ErrTasks[$Name] = $p.StandardError.ReadToEndAsync()
    $started.Add($p)
    $p
}
$script:ErrTasks = @{}

try {
    # ---- 1. payloads and torrents ------------------------------------------------------------------------------
    $data = Join-Path $WorkPath 'data'
    $torrents = Join-Path $WorkPath 'torrents'
    $null = New-Item -ItemType Directory -Force -Path $data, $torrents
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $random = [Random]::new(1000)
    foreach ($i in 1..$SeedCount) {
        $name = 's{0:d5}' -f $i
        $bytes = [byte[]]::new($FileKiB * 1KB + 37 * $i)
        $random.NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $data "$name.bin"), $bytes)
        $null = New-Torrent -LiteralPath (Join-Path $data "$name.bin") -OutFile (Join-Path $torrents "$name.torrent")
    }
    Write-Host ("Made {0} payloads of ~{1} KiB and their torrents in {2:N1} s." -f $SeedCount, $FileKiB, $clock.Elapsed.TotalSeconds)

    # ---- 2. the seeder -------------------------------------------------------------------------------------------
    $port = & {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start()
        try { ([System.Net.IPEndPoint]$l.LocalEndpoint).Port } finally { $l.Stop() }
    }
    $seedFolder = Join-Path $WorkPath 'seeder'
    $null = New-Item -ItemType Directory -Force -Path $seedFolder
    $seedScript = Join-Path $WorkPath 'seed.ps1'
    Set-Content -LiteralPath $seedScript -Value @'
param([string] $Manifest, [string] $Torrents, [string] $Data, [int] $Port, [string] $Folder, [int] $Count, [int] $ThrottleLimit)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
$job = Get-ChildItem -LiteralPath $Torrents -Filter *.torrent | Start-TorrentSeed -DataPath $Data -Port $Port -ListenAddress 127.0.0.1 -NoTracker -ThrottleLimit $ThrottleLimit -AsJob
$ready = $false
$deadline = [DateTime]::UtcNow.AddHours(2)
while (-not (Test-Path (Join-Path $Folder 'stop')) -and $job.State -eq 'Running' -and [DateTime]::UtcNow -lt $deadline) {
    if (-not $ready) {
        $seeding = @($job.Information | Where-Object { $_.Tags -contains 'StateChanged' -and "$($_.MessageData.State)" -eq 'Seeding' } |
            ForEach-Object { $_.MessageData.InfoHash } | Sort-Object -Unique).Count
        if ($seeding -ge $Count) { $ready = $true; Set-Content -LiteralPath (Join-Path $Folder 'ready') -Value 'ready' }
    }
    Start-Sleep -Milliseconds 200
}
Stop-Job $job
$results = @(Receive-Job $job -ErrorVariable jobErrors -ErrorAction SilentlyContinue)
[pscustomobject]@{
    Results  = $results.Count
    Completed = @($results | Where-Object Status -EQ 'Completed').Count
    Uploaded = ($results | Measure-Object BytesUploaded -Sum).Sum
    Errors   = @($jobErrors | ForEach-Object { "$_" })
    JobState = "$($job.State)"
} | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $Folder 'result.json')
'@
    $clock.Restart()
    $seeder = Start-Child $seedScript @($manifest, $torrents, $data, $port, $seedFolder, $SeedCount, $ThrottleLimit) 'seeder'
    $seedWatch = Watch-Process $seeder -TimeoutSec $TimeoutSec -What "$SeedCount torrents to seed" -Until { Test-Path (Join-Path $seedFolder 'ready') }
    if ($seeder.HasExited) { throw "The seeder exited: $($ErrTasks['seeder'].Result)" }
    $seedReady = $clock.Elapsed.TotalSeconds
    Write-Host ("Seeder: all {0} torrents seeding after {1:N1} s (checked {2} at a time), on port {3}." -f $SeedCount, $seedReady, $ThrottleLimit, $port)

    # ---- 3. the downloader ---------------------------------------------------------------------------------------
    $subset = Join-Path $WorkPath 'subset'
    $null = New-Item -ItemType Directory -Force -Path $subset
    Get-ChildItem -LiteralPath $torrents -Filter *.torrent | Sort-Object Name | Select-Object -First $DownloadCount | Copy-Item -Destination $subset
    $dest = Join-Path $WorkPath 'copy'
    $downloadScript = Join-Path $WorkPath 'download.ps1'
    Set-Content -LiteralPath $downloadScript -Value @'
param([string] $Manifest, [string] $Torrents, [string] $Destination, [int] $Port, [int] $ThrottleLimit, [string] $OutFile)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
$results = @(Get-ChildItem -LiteralPath $Torrents -Filter *.torrent | Start-TorrentDownload -DestinationPath $Destination -Peer "127.0.0.1:$Port" -NoTracker -ListenAddress 127.0.0.1 -ThrottleLimit $ThrottleLimit -TimeoutSec 120 -ErrorVariable failures -ErrorAction SilentlyContinue)
[pscustomobject]@{
    Results   = $results.Count
    Completed = @($results | Where-Object Status -EQ 'Completed').Count
    Errors    = @($failures | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
} | ConvertTo-Json | Set-Content -LiteralPath $OutFile
'@
    $downloadOut = Join-Path $WorkPath 'download.json'
    $clock.Restart()
    $downloader = Start-Child $downloadScript @($manifest, $subset, $dest, $port, $ThrottleLimit, $downloadOut) 'downloader'
    # The seeder is sampled too while it serves.
    $seedServe = $null
    $downloadWatch = Watch-Process $downloader -TimeoutSec $TimeoutSec -What "$DownloadCount downloads" -Until { $downloader.HasExited }
    $downloadSeconds = $clock.Elapsed.TotalSeconds
    $seedServe = Get-ProcessSample $seeder.Id
    if (-not (Test-Path $downloadOut)) { throw "The downloader wrote no report: $($ErrTasks['downloader'].Result)" }
    $report = Get-Content -LiteralPath $downloadOut -Raw | ConvertFrom-Json
    $bad = 0
    foreach ($file in Get-ChildItem -LiteralPath $subset -Filter *.torrent) {
        $name = [IO.Path]::GetFileNameWithoutExtension($file.Name) + '.bin'
        $copy = Join-Path $dest $name
        if (-not (Test-Path $copy) -or (Get-FileHash $copy -Algorithm SHA256).Hash -ne (Get-FileHash (Join-Path $data $name) -Algorithm SHA256).Hash) { $bad++ }
    }

    # ---- 4. stop the seeder, report ------------------------------------------------------------------------------
    Set-Content -LiteralPath (Join-Path $seedFolder 'stop') -Value 'stop'
    $stopWatch = Watch-Process $seeder -TimeoutSec 180 -What 'the seeder to stop' -Until { $seeder.HasExited }
    $seedResult = Get-Content -LiteralPath (Join-Path $seedFolder 'result.json') -Raw | ConvertFrom-Json

    $rows = @(
        [pscustomobject]@{ Process = "Start-TorrentSeed ($SeedCount torrents)"; Phase = 'check + start seeding'; Seconds = [math]::Round($seedReady, 1)
            PeakRssMiB = [math]::Round($seedWatch.Peak.HwmKiB / 1KB, 1); PeakFds = $seedWatch.Peak.Fds; PeakSockets = $seedWatch.Peak.Sockets; PeakThreads = $seedWatch.Peak.Threads
            LastFds = $seedWatch.Last.Fds; LastThreads = $seedWatch.Last.Threads }
        [pscustomobject]@{ Process = "Start-TorrentSeed ($SeedCount torrents)"; Phase = "serving $DownloadCount downloads"; Seconds = [math]::Round($downloadSeconds, 1)
            PeakRssMiB = [math]::Round([math]::Max($seedServe.HwmKiB, $stopWatch.Peak.HwmKiB) / 1KB, 1); PeakFds = [math]::Max($seedServe.Fds, $stopWatch.Peak.Fds)
            PeakSockets = [math]::Max($seedServe.Sockets, $stopWatch.Peak.Sockets); PeakThreads = [math]::Max($seedServe.Threads, $stopWatch.Peak.Threads)
            LastFds = $seedServe.Fds; LastThreads = $seedServe.Threads }
        [pscustomobject]@{ Process = "Start-TorrentDownload ($DownloadCount torrents)"; Phase = 'download all'; Seconds = [math]::Round($downloadSeconds, 1)
            PeakRssMiB = [math]::Round($downloadWatch.Peak.HwmKiB / 1KB, 1); PeakFds = $downloadWatch.Peak.Fds; PeakSockets = $downloadWatch.Peak.Sockets; PeakThreads = $downloadWatch.Peak.Threads
            LastFds = $downloadWatch.Last.Fds; LastThreads = $downloadWatch.Last.Threads }
    )
    $table = $rows | Format-Table -AutoSize | Out-String -Width 200
    $summary = @"
Scale run on $([Environment]::ProcessorCount) cores, $(Get-Date -Format u)
Downloads: $($report.Completed) of $DownloadCount completed, $bad with a wrong or missing file, $(@($report.Errors).Count) error(s).
Seeder summary: $($seedResult.Completed) of $($seedResult.Results) torrents reported Completed, $($seedResult.Uploaded) bytes uploaded, $(@($seedResult.Errors).Count) error(s).
$table
"@
    Write-Host $summary
    if ($OutputPath) { Set-Content -LiteralPath $OutputPath -Value $summary }
    if ($bad -gt 0 -or $report.Completed -ne $DownloadCount) { throw "The scale run failed: $($report.Errors -join '; ')" }
}
catch {
    Write-Host $_.ScriptStackTrace
    throw
}
finally {
    foreach ($p in $started) {
        if (-not $p.HasExited) { try { $p.Kill($true) } catch { } ; $null = $p.WaitForExit(10000) }
    }
    if (Test-Path -LiteralPath $WorkPath) { Remove-Item -LiteralPath $WorkPath -Recurse -Force -ErrorAction SilentlyContinue }
}
