<#
.SYNOPSIS
    Side-by-side hashing benchmark: New-Torrent and Test-Torrent against mktorrent, python3-libtorrent and sha1sum
    on the same data, in one run.

.DESCRIPTION
    Two data sets, written once into a temporary folder and read from the page cache by every tool (each set is
    read once before the timed runs):
      file     one file of -SizeMiB (1 GiB by default) of pseudo-random bytes;
      folder   -FileCount files (10 000 by default) in 100 sub-folders, -FolderMiB in all, sizes spread from a few
               bytes to twice the average.
    The piece length is New-Torrent's automatic one for the set's size (512 KiB for 1 GiB; at least 32 KiB, the
    smallest mktorrent takes), given to every tool.

    Creating a torrent:
      New-Torrent     in this process (the module from -ModulePath), all cores; wall time by stopwatch, CPU time
                      from this process's counters.
      mktorrent -t N  N = processor count; under GNU time.
      libtorrent      python3-libtorrent 2.0 create_torrent + set_piece_hashes, v1 only, files in the same order
                      (tests/Pester/TestSupport/lt_hash.py); wall and CPU time of set_piece_hashes alone.
      sha1sum         one SHA-1 over all the bytes; under GNU time. Over the large file it is the single-core
                      ceiling of a plain SHA-1, and every row's "vs sha1sum/core" (the folder's too) is against it.
                      Over the folder (its files concatenated in torrent order by xargs cat) it is shown for
                      reference only: the pipe, not SHA-1, bounds it.
    Verifying the data:
      Test-Torrent    in this process, against the New-Torrent torrent.
      libtorrent      add_torrent with the data in place and wait for its own check to end (torrent_checked_alert),
                      hashing_threads = processor count; wall and CPU time from add to the alert.
    Every tool runs -Rounds times (order rotated each round); the table keeps each tool's fastest round. Every
    torrent must give the same info-hash, and both checks must find every piece valid, or the run fails.

    The table gives wall seconds, MB/s (10^6 bytes per second), CPU seconds, MB per CPU second, and the ratios: our
    speed over each tool's, and MB per CPU second against sha1sum's (the issue's goal: at least 0.9 x the sha1sum
    rate per core used). The markdown goes to the console and to -OutputPath.

    Only 2 cores are shared by several engineers on the build machines: run it once, near the end, not in tests.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./build.ps1 -Task Bench

.EXAMPLE
    dotnet pwsh -NoProfile -File bench/Hash.Bench.ps1 -ModulePath out/BitTorrent -SizeMiB 128 -FileCount 1000 -FolderMiB 64 -Rounds 1
#>
[CmdletBinding()]
param(
    # The built module folder (holding BitTorrent.psd1); build.ps1's Bench task passes out/BitTorrent.
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/BitTorrent'),

    # Size of the single file, in MiB.
    [ValidateRange(1, 65536)]
    [int] $SizeMiB = 1024,

    # Number of files in the folder set.
    [ValidateRange(1, 1000000)]
    [int] $FileCount = 10000,

    # Total size of the folder set, in MiB.
    [ValidateRange(1, 65536)]
    [int] $FolderMiB = 512,

    # How many times each tool runs on each set (the fastest counts).
    [ValidateRange(1, 20)]
    [int] $Rounds = 2,

    # Longest one tool may take on one set before it is killed.
    [ValidateRange(10, 86400)]
    [int] $RunTimeoutSec = 600,

    # Where the markdown report goes.
    [string] $OutputPath = (Join-Path $PSScriptRoot '../out/bench/hash.md'),

    # Where the data sets are written (default: a new folder under the system temp folder, removed at the end).
    [string] $WorkPath,

    # Keep the data sets and torrents.
    [switch] $KeepWorkspace,

    # build.ps1 -BenchArgs goes to every bench: arguments meant for another one (e.g. -PieceKiB) end up here, unused.
    [Parameter(ValueFromRemainingArguments)]
    [object[]] $OtherBenchArguments
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
if ($PSVersionTable.PSVersion.Major -ge 7) { $PSStyle.OutputRendering = 'PlainText' }
$ProgressPreference = 'SilentlyContinue'

if ($IsWindows) { throw 'This benchmark needs Linux (GNU time, mktorrent, sha1sum, python3-libtorrent).' }
if ($OtherBenchArguments) { Write-Host "Hash bench: ignoring arguments for other benches: $($OtherBenchArguments -join ' ')" }
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
Import-Module (Join-Path $ModulePath 'BitTorrent.psd1') -Force
# The engine's types (PieceSizeChooser) for this script; the same file the module loads.
Add-Type -LiteralPath (Join-Path $ModulePath 'BitTorrent.Engine.dll')
foreach ($tool in 'mktorrent', 'sha1sum', 'cat', 'bash') {
    if (-not (Get-Command $tool -CommandType Application -ErrorAction SilentlyContinue)) { throw "$tool is not installed (tools/install-test-dependencies.sh)." }
}
if (-not (Test-Path -LiteralPath '/usr/bin/time')) { throw 'GNU time (/usr/bin/time) is not installed (apt-get install time).' }
$Python = '/usr/bin/python3'
$LtTool = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../tests/Pester/TestSupport/lt_hash.py')).ProviderPath
& $Python -c 'import libtorrent' 2>$null
if ($LASTEXITCODE -ne 0) { throw 'python3-libtorrent is not importable with /usr/bin/python3.' }
$Cores = [Environment]::ProcessorCount

#region Helpers

function Invoke-Bounded {
    <# Runs a program, killing it (by its PID) after RunTimeoutSec. Returns stdout; throws on a non-zero exit. #>
    param([string] $FilePath, [string[]] $ArgumentList)
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($RunTimeoutSec * 1000)) {
            $p.Kill($true)
            throw "'$FilePath $($ArgumentList -join ' ')' did not finish within $RunTimeoutSec s."
        }
        $p.WaitForExit()
        if ($p.ExitCode -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed ($($p.ExitCode)): $($err.Result)" }
        $out.Result
    }
    finally { $p.Dispose() }
}

function Invoke-GnuTimed {
    <# Runs a program under GNU time; returns wall and CPU (user + system, all threads and children) seconds. #>
    param([string] $FilePath, [string[]] $ArgumentList)
    $timeFile = Join-Path $Work ("time-{0}.txt" -f [Guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = Invoke-Bounded '/usr/bin/time' (@('-f', '%e %U %S', '-o', $timeFile, '--', $FilePath) + $ArgumentList)
    $parts = (Get-Content -LiteralPath $timeFile -Raw).Trim() -split '\s+' | Select-Object -Last 3
    Remove-Item -LiteralPath $timeFile
    [pscustomobject]@{
        Wall = [double]::Parse($parts[0], [Globalization.CultureInfo]::InvariantCulture)
        Cpu  = [double]::Parse($parts[1], [Globalization.CultureInfo]::InvariantCulture) + [double]::Parse($parts[2], [Globalization.CultureInfo]::InvariantCulture)
    }
}

function Measure-InProcess {
    <# Times a script block in this process: stopwatch wall time and this process's CPU time (all threads). #>
    param([scriptblock] $Script)
    [GC]::Collect()
    $me = [System.Diagnostics.Process]::GetCurrentProcess()
    $cpu0 = $me.TotalProcessorTime
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $result = & $Script
    $clock.Stop()
    $me.Refresh()
    [pscustomobject]@{ Wall = $clock.Elapsed.TotalSeconds; Cpu = ($me.TotalProcessorTime - $cpu0).TotalSeconds; Result = $result }
}

function New-FolderSet {
    <# FileCount files of pseudo-random bytes in 100 sub-folders, FolderMiB in all (deterministic). #>
    param([string] $Root)
    $random = [System.Random]::new(42)
    $average = [long]$FolderMiB * 1MB / $FileCount
    $buffer = [byte[]]::new([int][Math]::Max(1, 2 * $average))
    $random.NextBytes($buffer)
    for ($i = 0; $i -lt $FileCount; $i++) {
        $folder = Join-Path $Root ('d{0:D2}' -f ($i % 100))
        if ($i -lt 100) { $null = New-Item -ItemType Directory -Path $folder -Force }
        $size = $random.Next(1, $buffer.Length + 1)
        # A different slice for each file, so no two files are alike.
        $stream = [System.IO.File]::Create((Join-Path $folder ('f{0:D6}.bin' -f $i)))
        try {
            $start = $random.Next(0, $buffer.Length - $size + 1)
            $stream.Write($buffer, $start, $size)
            $stream.WriteByte([byte]($i % 251))
        }
        finally { $stream.Dispose() }
    }
}

function Format-Number([double] $Value, [string] $Format = '0.00') { $Value.ToString($Format, [Globalization.CultureInfo]::InvariantCulture) }

#endregion

$ownWork = -not $WorkPath
if ($ownWork) { $WorkPath = Join-Path ([IO.Path]::GetTempPath()) ('hash-bench-' + [Guid]::NewGuid().ToString('N').Substring(0, 8)) }
$null = New-Item -ItemType Directory -Path $WorkPath -Force
$Work = (Resolve-Path -LiteralPath $WorkPath).ProviderPath
$rows = [System.Collections.Generic.List[object]]::new()
try {
    Write-Host "Hash bench: $Cores core(s), work folder $Work"
    $fileRoot = Join-Path $Work 'file'
    $folderRoot = Join-Path $Work 'folder'
    $null = New-Item -ItemType Directory -Path $fileRoot, $folderRoot
    $bigFile = Join-Path $fileRoot 'payload.bin'
    Write-Host "Writing $SizeMiB MiB file..."
    $random = [System.Random]::new(7)
    $chunk = [byte[]]::new(4MB)
    $stream = [System.IO.File]::Create($bigFile)
    try {
        for ($left = [long]$SizeMiB * 1MB; $left -gt 0; $left -= $chunk.Length) {
            $random.NextBytes($chunk)
            $stream.Write($chunk, 0, [int][Math]::Min($chunk.Length, $left))
        }
    }
    finally { $stream.Dispose() }
    $folderSet = Join-Path $folderRoot 'tree'
    Write-Host "Writing $FileCount files ($FolderMiB MiB)..."
    New-FolderSet -Root $folderSet

    $sets = @(
        [pscustomobject]@{ Name = "file ($SizeMiB MiB)"; Key = 'file'; Source = $bigFile; DataPath = $fileRoot }
        [pscustomobject]@{ Name = "folder ($FileCount files, $FolderMiB MiB)"; Key = 'folder'; Source = $folderSet; DataPath = $folderRoot }
    )
    foreach ($set in $sets) {
        # The files in torrent order, for sha1sum over their concatenation.
        $scanTorrentList = Join-Path $Work "$($set.Key)-files.txt"
        if ($set.Key -eq 'folder') {
            # Code-point order of '/'-joined relative paths: ordinal for these ASCII names.
            $names = [System.Collections.Generic.List[string]]::new()
            foreach ($f in Get-ChildItem -LiteralPath $set.Source -File -Recurse) { $names.Add($f.FullName) }
            $names.Sort([StringComparer]::Ordinal)
            [IO.File]::WriteAllText($scanTorrentList, (($names -join "`0") + "`0"))
        }
        $bytes = if ($set.Key -eq 'file') { (Get-Item -LiteralPath $bigFile).Length } else { (Get-ChildItem -LiteralPath $set.Source -File -Recurse | Measure-Object Length -Sum).Sum }
        # mktorrent accepts 32 KiB pieces at the least.
        $piece = [Math]::Max(32KB, [BitTorrent.Creation.PieceSizeChooser]::Choose($bytes))
        $log2 = [int][Math]::Log($piece, 2)
        $set | Add-Member -NotePropertyName Bytes -NotePropertyValue $bytes
        $set | Add-Member -NotePropertyName Piece -NotePropertyValue $piece
        Write-Host ("{0}: {1:N0} bytes, {2} KiB pieces. Warming the page cache..." -f $set.Name, $bytes, ($piece / 1KB))
        if ($set.Key -eq 'file') { $null = Invoke-Bounded 'bash' @('-c', 'cat "$1" > /dev/null', 'warm', $bigFile) }
        else { $null = Invoke-Bounded 'bash' @('-c', 'xargs -0 cat < "$1" > /dev/null', 'warm', $scanTorrentList) }

        $ours = Join-Path $Work "$($set.Key)-ours.torrent"
        $mk = Join-Path $Work "$($set.Key)-mktorrent.torrent"
        $lt = Join-Path $Work "$($set.Key)-libtorrent.torrent"
        $runners = [ordered]@{
            'create|New-Torrent' = {
                $m = Measure-InProcess { New-Torrent -LiteralPath $set.Source -OutFile $ours -PieceSize $piece -NoCreationDate -Force }
                [pscustomobject]@{ Wall = $m.Wall; Cpu = $m.Cpu; InfoHash = $m.Result.InfoHash }
            }
            "create|mktorrent -t $Cores" = {
                if (Test-Path -LiteralPath $mk) { Remove-Item -LiteralPath $mk }
                $t = Invoke-GnuTimed 'mktorrent' @('-t', "$Cores", '-l', "$log2", '-o', $mk, $set.Source)
                [pscustomobject]@{ Wall = $t.Wall; Cpu = $t.Cpu; InfoHash = (Get-TorrentInfo -LiteralPath $mk).InfoHash }
            }
            'create|libtorrent create_torrent' = {
                $r = (Invoke-Bounded $Python @($LtTool, 'create', $set.Source, $lt, "$piece")) | ConvertFrom-Json
                [pscustomobject]@{ Wall = [double]$r.seconds; Cpu = [double]$r.cpu; InfoHash = $r.info_hash }
            }
            'create|sha1sum (1 core)' = {
                $t = if ($set.Key -eq 'file') { Invoke-GnuTimed 'sha1sum' @($bigFile) }
                else { Invoke-GnuTimed 'bash' @('-c', 'xargs -0 cat < "$1" | sha1sum', 'sha1', $scanTorrentList) }
                [pscustomobject]@{ Wall = $t.Wall; Cpu = $t.Cpu; InfoHash = $null }
            }
            'verify|Test-Torrent' = {
                $m = Measure-InProcess { Test-Torrent -LiteralPath $ours -DataPath $set.DataPath }
                if (-not $m.Result.IsComplete) { throw "Test-Torrent found $($set.Name) incomplete." }
                [pscustomobject]@{ Wall = $m.Wall; Cpu = $m.Cpu; InfoHash = $null }
            }
            'verify|libtorrent check' = {
                $r = (Invoke-Bounded $Python @($LtTool, 'check', $ours, $set.DataPath, '--threads', "$Cores", '--timeout', "$RunTimeoutSec")) | ConvertFrom-Json
                if (-not $r.checked -or $r.pieces.Contains('0')) { throw "libtorrent's check of $($set.Name) did not find every piece valid ($($r.valid) valid)." }
                [pscustomobject]@{ Wall = [double]$r.seconds; Cpu = [double]$r.cpu; InfoHash = $null }
            }
        }
        # The verify runs need our torrent: make it once before the timed rounds.
        $null = New-Torrent -LiteralPath $set.Source -OutFile $ours -PieceSize $piece -NoCreationDate -Force
        $best = @{}
        $hashes = @{}
        $keys = @($runners.Keys)
        for ($round = 0; $round -lt $Rounds; $round++) {
            for ($k = 0; $k -lt $keys.Count; $k++) {
                $key = $keys[($k + $round) % $keys.Count]
                Write-Host ("  round {0}: {1}" -f ($round + 1), ($key -replace '\|', ': '))
                $r = & $runners[$key]
                if ($r.InfoHash) { $hashes[$key] = $r.InfoHash }
                if (-not $best.ContainsKey($key) -or $r.Wall -lt $best[$key].Wall) { $best[$key] = $r }
            }
        }
        $distinct = @($hashes.Values | Select-Object -Unique)
        if ($distinct.Count -ne 1) { throw "The torrents of $($set.Name) differ: $(($hashes.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ', ')" }
        Write-Host "  every creator gave info-hash $($distinct[0])"

        $sha = $best['create|sha1sum (1 core)']
        # The ceiling is sha1sum over the one large file. Over the folder, 'xargs cat | sha1sum' is bound by the pipe
        # (about a sixth of SHA-1's speed), so the folder's rows are held against the large file's rate too: what
        # is left of the ratio is the cost of opening 10 000 files.
        if ($set.Key -eq 'file' -or -not $script:ShaCeiling) { $script:ShaCeiling = $set.Bytes / 1e6 / [Math]::Max(0.001, $sha.Cpu) }
        $shaPerCpu = $script:ShaCeiling
        foreach ($key in $keys) {
            $operation, $tool = $key -split '\|', 2
            $r = $best[$key]
            $oursKey = if ($operation -eq 'create') { 'create|New-Torrent' } else { 'verify|Test-Torrent' }
            $mbps = $set.Bytes / 1e6 / [Math]::Max(0.001, $r.Wall)
            $perCpu = $set.Bytes / 1e6 / [Math]::Max(0.001, $r.Cpu)
            $rows.Add([pscustomobject]@{
                    Data          = $set.Name
                    Operation     = $operation
                    Tool          = if ($tool -like 'sha1sum*' -and $set.Key -ne 'file') { 'cat + sha1sum (1 core, pipe-bound)' } else { $tool }
                    'Wall s'      = Format-Number $r.Wall '0.000'
                    'MB/s'        = Format-Number $mbps '0'
                    'CPU s'       = Format-Number $r.Cpu '0.00'
                    'MB/CPU s'    = Format-Number $perCpu '0'
                    'Ours x'      = if ($key -eq $oursKey -or $tool -like 'sha1sum*') { '' } else { Format-Number ($r.Wall / [Math]::Max(0.001, $best[$oursKey].Wall)) }
                    'vs sha1sum/core' = Format-Number ($perCpu / $shaPerCpu)
                })
        }
    }

    $columns = @('Data', 'Operation', 'Tool', 'Wall s', 'MB/s', 'CPU s', 'MB/CPU s', 'Ours x', 'vs sha1sum/core')
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add("# Hash bench ($(Get-Date -Format 'yyyy-MM-dd HH:mm'), $Cores cores, best of $Rounds round(s))")
    $lines.Add('')
    $lines.Add('| ' + ($columns -join ' | ') + ' |')
    $lines.Add('|' + (($columns | ForEach-Object { '---' }) -join '|') + '|')
    foreach ($row in $rows) { $lines.Add('| ' + (($columns | ForEach-Object { $row.$_ }) -join ' | ') + ' |') }
    $lines.Add('')
    $lines.Add('MB = 10^6 bytes. "Ours x": how many times longer the tool took than New-Torrent (create) or Test-Torrent (verify).')
    $lines.Add('"vs sha1sum/core": MB per CPU second over sha1sum''s (the goal is >= 0.9). Data read from the page cache.')
    $lines.Add("Tools: $((& mktorrent -h 2>&1 | Select-Object -First 1) -replace '\s*\(c\).*$', ''), libtorrent $(& $Python -c 'import libtorrent as lt; print(lt.__version__)'), $((& sha1sum --version | Select-Object -First 1)).")
    $report = $lines -join "`n"
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $OutputPath) -Force
    Set-Content -LiteralPath $OutputPath -Value $report
    Write-Host ''
    Write-Host $report
    Write-Host ''
    Write-Host "Report written to $OutputPath"
}
finally {
    if ($ownWork -and -not $KeepWorkspace -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force }
}
