<#
.SYNOPSIS
    Builds, documents, tests and benchmarks the BitTorrent PowerShell module.

.DESCRIPTION
    Tasks (run in the order given):
      Clean   removes out/ and every bin/ and obj/ folder.
      Build   compiles the engine and cmdlets and lays out a loadable module in out/BitTorrent
              (psd1, dlls, format files, and the en-US help that the Help task makes).
      Help    turns the platyPS-schema markdown in docs/help into MAML (en-US/<Assembly>.dll-Help.xml) and
              about_*.help.txt, in the laid-out module (building it first if there is none).
      Test    Build, then the xunit engine tests and the Pester suite in a fresh child pwsh;
              prints 'Tests: N passed, N failed, N skipped' last and exits non-zero on any failure.
      Demo    Build, then runs the embedded loopback swarm demo (demo/Start-Demo.ps1).
      Bench   Build, then runs the side-by-side benchmarks in bench/ against real clients.

.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 -Task Test

.EXAMPLE
    dotnet pwsh -NoProfile -File ./build.ps1 -Task Test -TestPath tests/Pester/Get-TorrentInfo.Tests.ps1 -SkipXunit
#>
[CmdletBinding()]
param(
    [ValidateSet('Clean', 'Build', 'Help', 'Test', 'Demo', 'Bench')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester files or folders to run instead of all of tests/Pester.
    [string[]] $TestPath,

    # Pester tags to exclude (for example 'Interop' on a machine without the Debian clients).
    [string[]] $ExcludeTag,

    [switch] $SkipXunit,
    [switch] $SkipPester,

    # Do not try to install the Debian/npm programs the interop tests use.
    [switch] $SkipDependencies,

    # Extra arguments passed to the benchmark scripts (Bench task).
    [hashtable] $BenchArgs = @{}
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
if ($PSVersionTable.PSVersion.Major -ge 7) { $PSStyle.OutputRendering = 'PlainText' }

$RepoRoot = $PSScriptRoot
$OutRoot = Join-Path $RepoRoot 'out'
$ModuleOut = Join-Path $OutRoot 'BitTorrent'
$CmdletProject = Join-Path $RepoRoot 'src/BitTorrent.PowerShell/BitTorrent.PowerShell.csproj'
$EngineTests = Join-Path $RepoRoot 'tests/BitTorrent.Engine.Tests/BitTorrent.Engine.Tests.csproj'
$PwshCommand = @('dotnet', 'pwsh')

function Invoke-Native {
    # Runs a native command and throws when it fails, so a broken step never looks green.
    param([string] $FilePath, [string[]] $ArgumentList)
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-Clean {
    foreach ($dir in @($OutRoot) + (Get-ChildItem -Path (Join-Path $RepoRoot 'src'), (Join-Path $RepoRoot 'tests'), (Join-Path $RepoRoot 'tools') -Directory -Recurse -Include bin, obj -ErrorAction SilentlyContinue).FullName) {
        if ($dir -and (Test-Path -LiteralPath $dir)) { Remove-Item -LiteralPath $dir -Recurse -Force }
    }
    Write-Host 'Clean: removed out/, bin/ and obj/.'
}

function Invoke-Build {
    $publishDir = Join-Path $OutRoot 'publish'
    # Emptied first: publish does not remove a dll an earlier build left there (say, a newer version of a package
    # since downgraded), and the module is laid out from this folder.
    if (Test-Path -LiteralPath $publishDir) { Remove-Item -LiteralPath $publishDir -Recurse -Force }
    Invoke-Native dotnet @('publish', $CmdletProject, '-c', $Configuration, '-o', $publishDir, '--nologo', '-v', 'quiet') | Out-Host

    if (Test-Path -LiteralPath $ModuleOut) { Remove-Item -LiteralPath $ModuleOut -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $ModuleOut
    # An explicit allow-list: the module ships our two assemblies and the netstandard polyfills Windows
    # PowerShell 5.1 needs; never System.Management.Automation.dll (reference only).
    $ship = @('BitTorrent.PowerShell.dll', 'BitTorrent.Engine.dll', 'System.Buffers.dll', 'System.Memory.dll',
        'System.Numerics.Vectors.dll', 'System.Runtime.CompilerServices.Unsafe.dll', 'System.Threading.Channels.dll',
        'System.Threading.Tasks.Extensions.dll', 'Microsoft.Bcl.AsyncInterfaces.dll', 'Microsoft.Bcl.TimeProvider.dll')
    foreach ($name in $ship) {
        $file = Join-Path $publishDir $name
        if (Test-Path -LiteralPath $file) { Copy-Item -LiteralPath $file -Destination $ModuleOut }
        elseif ($name -like 'BitTorrent.*') { throw "Build output is missing $name." }
    }
    if (Test-Path -LiteralPath (Join-Path $publishDir 'System.Management.Automation.dll')) {
        throw 'System.Management.Automation.dll must not be in the build output (PowerShellStandard.Library must be PrivateAssets=all, ExcludeAssets=runtime).'
    }
    Copy-Item -LiteralPath (Join-Path $RepoRoot 'BitTorrent.psd1') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $RepoRoot 'LICENSE') -Destination $ModuleOut
    Get-ChildItem -Path (Join-Path $RepoRoot 'src/BitTorrent.PowerShell/Formats') -Filter '*.Format.ps1xml' |
        Copy-Item -Destination $ModuleOut
    $demo = Join-Path $RepoRoot 'demo'
    if (Test-Path -LiteralPath $demo) { Copy-Item -LiteralPath $demo -Destination (Join-Path $ModuleOut 'demo') -Recurse }
    # A module without its help is not built: 'Get-Help X -Full' right after a Build must show the real pages.
    # (About 4 s: one child pwsh that loads the module once.)
    Invoke-Help
    Write-Host "Build: module laid out in $ModuleOut"
}

function Invoke-Help {
    # In a child pwsh: the help builder loads the module to read parameter metadata, and a loaded dll
    # cannot be unloaded from this process.
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tools/Build-Help.ps1'),
        '-ModulePath', $ModuleOut, '-DocsPath', (Join-Path $RepoRoot 'docs/help'))
}

function Get-PesterModulePath {
    Invoke-Native dotnet @('restore', (Join-Path $RepoRoot 'tools/packages/ToolPackages.csproj'), '--nologo', '-v', 'quiet')
    $globalPackages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $pester = Join-Path $globalPackages.Trim() 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path -LiteralPath $pester)) { throw "Pester 5.7.1 was not restored to $pester." }
    $pester
}

function Invoke-XunitTests {
    $resultsDir = Join-Path $OutRoot 'TestResults'
    $trx = Join-Path $resultsDir 'engine.trx'
    if (Test-Path -LiteralPath $trx) { Remove-Item -LiteralPath $trx }
    # Always Debug: the engine's concurrency checks (TorrentLock.AssertHeld/AssertNotHeld) exist only in DEBUG builds,
    # and every download test is meant to run with them armed. The module itself is built with -Configuration.
    & dotnet test $EngineTests -c Debug --nologo --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' | Out-Host
    $exit = $LASTEXITCODE
    if (-not (Test-Path -LiteralPath $trx)) {
        # The project did not build or the runner died: count it as a failure, never as zero tests.
        Write-Host "xunit: no results file (exit code $exit)."
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; FailedNames = @("xunit: the test run wrote no results file (exit code $exit)") }
    }
    [xml] $doc = Get-Content -LiteralPath $trx -Raw
    $c = $doc.TestRun.ResultSummary.Counters
    $failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
    if ($exit -ne 0 -and $failed -eq 0) { $failed = 1 }
    # Named again at the very end of the run: a CI log that keeps only its tail still says what failed and why.
    $names = @($doc.TestRun.Results.UnitTestResult | Where-Object outcome -ne 'Passed' | Where-Object outcome -ne 'NotExecuted' |
        ForEach-Object { "xunit: $($_.testName) -- $((($_.Output.ErrorInfo.Message) -split "`n")[0])" })
    # The trx counters leave xunit's skipped tests out of notExecuted (total - executed); count their results instead.
    $skipped = @($doc.TestRun.Results.UnitTestResult | Where-Object outcome -eq 'NotExecuted').Count
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = $failed; Skipped = $skipped; FailedNames = $names }
}

function Invoke-PesterTests {
    $pester = Get-PesterModulePath
    $summary = Join-Path $OutRoot 'TestResults/pester-summary.json'
    if (Test-Path -LiteralPath $summary) { Remove-Item -LiteralPath $summary }
    $paths = if ($TestPath) { $TestPath | ForEach-Object { (Resolve-Path -LiteralPath $_).ProviderPath } } else { @(Join-Path $RepoRoot 'tests/Pester') }
    $runnerArgs = @('pwsh', '-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tests/Invoke-PesterRun.ps1'),
        '-PesterPath', $pester, '-ModuleRoot', $OutRoot, '-SummaryPath', $summary, '-TestPath', ($paths -join [IO.Path]::PathSeparator))
    if ($ExcludeTag) { $runnerArgs += @('-ExcludeTag', ($ExcludeTag -join ',')) }
    & dotnet @runnerArgs | Out-Host
    $exit = $LASTEXITCODE
    # A child that crashed (an unhandled exception on another thread ends the process, exit 134) writes no summary:
    # count the crash as a failure, never as zero tests.
    $crash = "pester: the child pwsh ended with exit code $exit and wrote no summary (it crashed; the tests it had not run yet did not run)"
    if (-not (Test-Path -LiteralPath $summary)) {
        Write-Host "Pester: the child pwsh wrote no summary (exit code $exit)."
        return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; FailedNames = @($crash) }
    }
    $read = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
    $result = [pscustomobject]@{
        Passed = [int](Get-OptionalProperty $read 'Passed' 0)
        Failed = [int](Get-OptionalProperty $read 'Failed' 0)
        Skipped = [int](Get-OptionalProperty $read 'Skipped' 0)
        FailedNames = @(Get-OptionalProperty $read 'FailedNames' @())
    }
    if ($exit -ne 0 -and $result.Failed -eq 0) {
        $result.Failed = 1
        $result.FailedNames = @("pester: the child pwsh ended with exit code $exit after writing a summary with no failure")
    }
    $result
}

# A property of a result object, or the default when it has none (Set-StrictMode refuses a missing property).
function Get-OptionalProperty($Object, [string] $Name, $Default) {
    if ($null -ne $Object -and $Object.PSObject.Properties[$Name]) { $Object.$Name } else { $Default }
}

function Invoke-Test {
    if (-not $SkipDependencies) {
        & bash (Join-Path $RepoRoot 'tools/install-test-dependencies.sh') | Out-Host
        if ($LASTEXITCODE -ne 0) { Write-Warning 'Some interop dependencies could not be installed; the tests that need them will fail.' }
    }
    # The tests must not multicast on this machine's real interfaces (BEP 14, later the DHT): off for every child
    # process; the tests that run inside their own network namespaces turn it on for their own children only.
    $env:BITTORRENT_LSD = '0'
    $env:BITTORRENT_DHT = '0'
    $results = @()
    # Whatever one runner does (a crash, a summary that does not read), the closing line is printed and counts it.
    foreach ($runner in @(if (-not $SkipXunit) { 'Invoke-XunitTests' }; if (-not $SkipPester) { 'Invoke-PesterTests' })) {
        try { $results += & $runner }
        catch {
            Write-Host "${runner}: $_"
            $results += [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0; FailedNames = @("${runner}: $_") }
        }
    }
    foreach ($name in @($results | ForEach-Object { Get-OptionalProperty $_ 'FailedNames' @() } | Where-Object { $_ })) { Write-Host "FAILED $name" }
    $passed = [int]($results | ForEach-Object { Get-OptionalProperty $_ 'Passed' 0 } | Measure-Object -Sum).Sum
    $failed = [int]($results | ForEach-Object { Get-OptionalProperty $_ 'Failed' 1 } | Measure-Object -Sum).Sum
    $skipped = [int]($results | ForEach-Object { Get-OptionalProperty $_ 'Skipped' 0 } | Measure-Object -Sum).Sum
    if (($passed + $failed) -eq 0) { $failed = 1 }   # ran no test: that is a failure, not a pass
    Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0) { exit 1 }
}

Push-Location $RepoRoot
try {
    foreach ($t in $Task) {
        switch ($t) {
            'Clean' { Invoke-Clean }
            'Build' { Invoke-Build }
            # Build already made the help; Help on its own remakes it in the laid-out module (after a docs edit).
            'Help' { if (-not (Test-Path -LiteralPath (Join-Path $ModuleOut 'BitTorrent.psd1'))) { Invoke-Build } elseif ($Task -notcontains 'Build') { Invoke-Help } }
            'Test' { Invoke-Build; Invoke-Test }
            'Demo' {
                Invoke-Build
                Invoke-Native dotnet @('pwsh', '-NoProfile', '-File', (Join-Path $RepoRoot 'demo/Start-Demo.ps1'), '-ModulePath', $ModuleOut)
            }
            'Bench' {
                Invoke-Build
                # Only *.Bench.ps1: bench/support holds the helpers the benchmarks start.
                foreach ($script in Get-ChildItem -Path (Join-Path $RepoRoot 'bench') -Filter '*.Bench.ps1' | Sort-Object Name) {
                    Write-Host "Bench: $($script.Name)"
                    & dotnet pwsh -NoProfile -File $script.FullName -ModulePath $ModuleOut @BenchArgs
                    if ($LASTEXITCODE -ne 0) { throw "Bench $($script.Name) failed with exit code $LASTEXITCODE." }
                }
            }
        }
    }
}
finally {
    Pop-Location
}
