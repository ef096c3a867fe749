<#
    What the side-by-side benches (Download.Bench.ps1, Magnet.Bench.ps1) share: real seeders started through the interop
    harness (tests/Pester/TestSupport/Interop.psm1, imported by the bench first) and counted by the tracker, medians,
    sha256sum, and stopping a measured run's whole process tree.
#>

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $mid = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$mid] } else { ($sorted[$mid - 1] + $sorted[$mid]) / 2 }
}

function Get-Sha256([string] $Path) {
    # sha256sum (C, no managed buffers) so verifying never competes with anything for long.
    $line = & sha256sum -- $Path
    if ($LASTEXITCODE -ne 0) { throw "sha256sum $Path failed." }
    ("$line" -split '\s+')[0]
}

function Get-TrackerSeedCount([string] $ScrapeUrl, [string] $InfoHashHex) {
    # opentracker's scrape: d5:filesd20:<hash>d8:completei<N>e... — 'complete' is the number of seeders.
    $escaped = -join ($InfoHashHex -split '(..)' | Where-Object { $_ } | ForEach-Object { '%' + $_ })
    try {
        $response = Invoke-WebRequest -Uri "$ScrapeUrl`?info_hash=$escaped" -TimeoutSec 3 -UseBasicParsing
        $text = [Text.Encoding]::Latin1.GetString($response.RawContentStream.ToArray())
        if ($text -match '8:completei(\d+)e') { return [int]$Matches[1] }
    }
    catch { }
    0
}

function Start-BenchSeeders {
    <# Starts each named seeder (libtorrent, aria2c, transmission, qbittorrent) on the torrent's data and waits
       (bounded) until the tracker counts every one of them as complete. Returns them, each with a Client property. #>
    param(
        [Parameter(Mandatory)] [string[]] $Seeder,
        [Parameter(Mandatory)] [string] $TorrentPath,
        [Parameter(Mandatory)] [string] $SeedDir,
        [Parameter(Mandatory)] [string] $LogDir,
        [Parameter(Mandatory)] $Tracker,
        [Parameter(Mandatory)] [string] $InfoHash,
        # Seeders check the data they are given (except libtorrent's seed_mode): the caller gives them time in proportion.
        [Parameter(Mandatory)] [int] $CheckTimeoutSec,
        [Parameter(Mandatory)] [int] $SeedMinutes
    )
    $seeds = @()
    foreach ($name in $Seeder) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $seed = switch ($name) {
            'libtorrent' { Start-LibtorrentPeer -Mode Seed -TorrentPath $TorrentPath -SavePath $SeedDir -LogDir $LogDir -TimeoutSec ($SeedMinutes * 60) }
            'aria2c' { Start-Aria2Seeder -TorrentPath $TorrentPath -DataDir $SeedDir -LogDir $LogDir -SeedMinutes $SeedMinutes }
            'transmission' { Start-TransmissionSeeder -TorrentPath $TorrentPath -DataDir $SeedDir -Workspace $LogDir -TimeoutSec $CheckTimeoutSec }
            'qbittorrent' { Start-QBittorrentSeeder -TorrentPath $TorrentPath -DataDir $SeedDir -Workspace $LogDir -TimeoutSec $CheckTimeoutSec }
        }
        $seed | Add-Member -NotePropertyName Client -NotePropertyValue $name
        $seeds += $seed
        Write-Host ("  seeder {0,-13} 127.0.0.1:{1} (pid {2}, ready in {3:N1} s)" -f $name, $seed.Port, $seed.Id, $watch.Elapsed.TotalSeconds)
    }
    # Ready means announced to the tracker as complete (aria2c announces once its -V check is done).
    Wait-Until -TimeoutSec $CheckTimeoutSec -IntervalMs 500 -Because "the tracker to count $($seeds.Count) seeders" -Condition {
        foreach ($s in $seeds) { if ($s.HasExited) { throw "Seeder $($s.Client) exited: $(Read-InteropLog $s) $(Read-InteropLog $s -StdErr)" } }
        (Get-TrackerSeedCount -ScrapeUrl $Tracker.ScrapeUrl -InfoHashHex $InfoHash) -ge $seeds.Count
    }
    Write-Host "  the tracker counts $($seeds.Count) seeders"
    $seeds
}

function Get-ExternalToolVersion([string] $Name) {
    <# The version line of a client that is not ours, for the report. #>
    try {
        switch ($Name) {
            'aria2c' { ((& aria2c --version 2>$null) | Select-Object -First 1) -replace '^aria2 version ', 'aria2c ' }
            'libtorrent' { 'libtorrent ' + (& /usr/bin/python3 -c 'import libtorrent; print(libtorrent.__version__)' 2>$null) }
            'transmission' { "$((& transmission-daemon -V 2>&1) | Select-Object -First 1)".Trim() }
            'qbittorrent' { "$((& qbittorrent-nox -v 2>$null) | Select-Object -First 1)".Trim() }
            default { $Name }
        }
    }
    catch { $Name }
}

function Stop-ProcessTree([System.Diagnostics.Process] $Process) {
    # GNU time does not pass SIGTERM on, so a run that must die is killed with its whole tree (by PID, not name).
    if ($null -eq $Process) { return }
    try { if (-not $Process.HasExited) { $Process.Kill($true); $null = $Process.WaitForExit(5000) } } catch { }
    Stop-InteropProcess -Process $Process
}

Export-ModuleMember -Function Get-Median, Get-Sha256, Get-TrackerSeedCount, Start-BenchSeeders, Get-ExternalToolVersion, Stop-ProcessTree
