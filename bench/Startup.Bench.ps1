<#
.SYNOPSIS
    What a fresh pwsh pays before and around a first small download: pwsh alone, pwsh + Import-Module, and pwsh +
    Import-Module + a first Start-TorrentDownload of a small torrent from one local seeder (python3-libtorrent).

.DESCRIPTION
    Every case runs -Rounds times in its own process under GNU time (user + system CPU, wall, peak RSS); the table
    shows the median and the lowest CPU (the lowest is the least disturbed by other load on the machine). With
    -BaselineModulePath the same cases run with another build of the module, interleaved with ours, so before and
    after are measured side by side. The download case also reports, from inside the child, the CPU spent before
    the cmdlet (start-up + import) and during it. Network: 127.0.0.1 only; every process started is stopped by PID.

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Startup.Bench.ps1 -ModulePath out/BitTorrent -BaselineModulePath ../baseline/BitTorrent
#>
[CmdletBinding()]
param(
    # The built module folder (holding BitTorrent.psd1).
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),

    # Another build of the module to measure side by side (e.g. from the commit before a change).
    [string] $BaselineModulePath,

    # Processes per case and module.
    [ValidateRange(1, 50)] [int] $Rounds = 5,

    # Size of the first download (small: it is the fixed cost that is measured, not the transfer).
    [ValidateRange(1, 1024)] [int] $DownloadMiB = 4,

    [string] $OutputPath = (Join-Path $PSScriptRoot '../out/bench/startup.md'),

    # build.ps1 -BenchArgs goes to every bench: arguments meant for another one (e.g. -SizeMiB) end up here, unused.
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
if ($IsWindows) { throw 'This benchmark needs Linux (GNU time, python3-libtorrent).' }

Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestSupport/Interop.psm1') -Force
$Pwsh = Get-PwshCommand
$ChildScript = Join-Path $PSScriptRoot 'support/Invoke-BenchDownload.ps1'
$modules = [ordered]@{ BitTorrent = (Resolve-Path -LiteralPath $ModulePath).ProviderPath }
if ($BaselineModulePath) { $modules['BitTorrent-baseline'] = (Resolve-Path -LiteralPath $BaselineModulePath).ProviderPath }

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $mid = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$mid] } else { ($sorted[$mid - 1] + $sorted[$mid]) / 2 }
}

function Invoke-Timed([string] $Tag, [string[]] $Arguments, [string] $Workspace) {
    $timeFile = Join-Path $Workspace "$Tag.time"
    $process = Start-InteropProcess -FilePath '/usr/bin/time' -ArgumentList (@('-f', '%e %U %S %M', '-o', $timeFile, 'timeout', '-k', '5', '120', $Pwsh.FilePath) + $Pwsh.Arguments + $Arguments) -LogDir $Workspace -Name $Tag
    if (-not $process.WaitForExit(150000)) { Stop-InteropProcess -Process $process; throw "$Tag did not finish." }
    $exit = $process.ExitCode
    Stop-InteropProcess -Process $process
    $fields = (Get-Content -LiteralPath $timeFile | Where-Object { $_ -match '^[\d.]+ [\d.]+ [\d.]+ \d+$' } | Select-Object -Last 1) -split ' '
    if ($exit -ne 0 -or $fields.Count -ne 4) { throw "$Tag failed (exit $exit): $(Read-InteropLog $process -StdErr)" }
    [pscustomobject]@{ Wall = [double]$fields[0]; Cpu = [double]$fields[1] + [double]$fields[2]; RssMB = [double]$fields[3] * 1024 / 1e6 }
}

$workspace = New-InteropWorkspace -Name 'bt-startup'
try {
    $seedDir = Join-Path $workspace 'seed'
    $null = New-Item -ItemType Directory -Path $seedDir
    $payload = Join-Path $seedDir 'payload.bin'
    $null = New-RandomFile -Path $payload -SizeBytes ([long]$DownloadMiB * 1MB) -Seed 7
    $torrent = Join-Path $workspace 'payload.torrent'
    $null = New-MkTorrent -SourcePath $payload -OutFile $torrent -PieceSizeLog2 18 -Announce 'http://127.0.0.1:1/announce'
    $seed = Start-LibtorrentPeer -Mode Seed -TorrentPath $torrent -SavePath $seedDir -LogDir $workspace -NoTracker -TimeoutSec 1800
    Write-Host "Seeder python3-libtorrent on $($seed.EndPoint); $DownloadMiB MiB, $Rounds round(s)"

    $cases = [ordered]@{
        'pwsh alone'                      = { param($m) @('-NoProfile', '-NonInteractive', '-Command', 'exit 0') }
        'pwsh + Import-Module'            = { param($m) @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$m/BitTorrent.psd1'; exit 0") }
        'pwsh + Import-Module + download' = $null
    }
    $rows = [System.Collections.Generic.List[object]]::new()
    for ($round = 1; $round -le $Rounds; $round++) {
        foreach ($case in $cases.Keys) {
            foreach ($name in $modules.Keys) {
                if ($case -eq 'pwsh alone' -and $name -ne 'BitTorrent') { continue }
                $module = $modules[$name]
                $tag = "r$round-$($rows.Count)"
                $detail = $null
                if ($null -eq $cases[$case]) {
                    $destination = Join-Path $workspace "dl-$tag"
                    $null = New-Item -ItemType Directory -Path $destination
                    $result = Join-Path $workspace "$tag.json"
                    $arguments = @('-NoProfile', '-NonInteractive', '-File', $ChildScript, '-ModulePath', $module, '-TorrentPath', $torrent,
                        '-DestinationPath', $destination, '-ResultPath', $result, '-Peer', $seed.EndPoint, '-NoTracker', '-TimeoutSec', 60)
                    $run = Invoke-Timed $tag $arguments $workspace
                    $detail = Get-Content -LiteralPath $result -Raw | ConvertFrom-Json
                    Remove-Item -LiteralPath $destination -Recurse -Force
                }
                else {
                    $run = Invoke-Timed $tag (& $cases[$case] $module) $workspace
                }
                $rows.Add([pscustomobject]@{ Case = $case; Module = $(if ($case -eq 'pwsh alone') { '—' } else { $name }); Run = $run; Detail = $detail })
                Write-Host ("  round {0} {1,-32} {2,-20} cpu {3,5:N2} s  wall {4,5:N2} s  rss {5,5:N0} MB{6}" -f $round, $case, $rows[-1].Module, $run.Cpu, $run.Wall, $run.RssMB,
                    $(if ($detail) { "  (before the cmdlet {0:N2} CPU s, cmdlet {1:N2} CPU s)" -f $detail.StartupCpuSeconds, $detail.DownloadCpuSeconds }))
            }
        }
    }

    $md = [System.Collections.Generic.List[string]]::new()
    $md.Add('# Start-up benchmark')
    $md.Add('')
    $md.Add(("{0:yyyy-MM-dd HH:mm} UTC · {1} round(s) · a {2} MiB first download from one python3-libtorrent seeder on 127.0.0.1 · load average {3}" -f
        [DateTime]::UtcNow, $Rounds, $DownloadMiB, (((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' ')))
    $md.Add('')
    $md.Add('| case | module | CPU s (median) | CPU s (lowest) | wall s (median) | peak RSS MB | CPU before the cmdlet (median) | cmdlet CPU s (median) |')
    $md.Add('|---|---|---|---|---|---|---|---|')
    foreach ($group in $rows | Group-Object Case, Module) {
        $first = $group.Group[0]
        $details = @($group.Group | Where-Object Detail | ForEach-Object Detail)
        $md.Add(("| {0} | {1} | {2:N2} | {3:N2} | {4:N2} | {5:N0} | {6} | {7} |" -f $first.Case, $first.Module,
            (Get-Median ($group.Group | ForEach-Object { $_.Run.Cpu })), ($group.Group | ForEach-Object { $_.Run.Cpu } | Measure-Object -Minimum).Minimum,
            (Get-Median ($group.Group | ForEach-Object { $_.Run.Wall })), ($group.Group | ForEach-Object { $_.Run.RssMB } | Measure-Object -Maximum).Maximum,
            $(if ($details) { (Get-Median ($details | ForEach-Object StartupCpuSeconds)).ToString('N2') } else { '—' }),
            $(if ($details) { (Get-Median ($details | ForEach-Object DownloadCpuSeconds)).ToString('N2') } else { '—' })))
    }
    $text = $md -join [Environment]::NewLine
    $outDir = Split-Path -Parent $OutputPath
    if ($outDir -and -not (Test-Path -LiteralPath $outDir)) { $null = New-Item -ItemType Directory -Path $outDir -Force }
    Set-Content -LiteralPath $OutputPath -Value $text -Encoding utf8
    Write-Host ''
    Write-Host $text
}
finally {
    Stop-InteropProcess
    Remove-Item -LiteralPath $workspace -Recurse -Force -ErrorAction SilentlyContinue
}
