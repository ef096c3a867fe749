<#
.SYNOPSIS
    Runs the Pester suite against the laid-out module. build.ps1 starts this in a fresh pwsh so the freshly
    built dll is the one loaded (a loaded assembly cannot be reloaded in a process).
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [Parameter(Mandatory)] [string] $SummaryPath,
    [Parameter(Mandatory)] [string] $TestPath,
    [string] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
$ProgressPreference = 'SilentlyContinue'
Import-Module $PesterPath -Force
# Run directly or through build.ps1, the suite never multicasts on the machine's interfaces (local discovery).
if (-not $env:BITTORRENT_LSD) { $env:BITTORRENT_LSD = '0' }
# 'Import-Module BitTorrent' in the tests resolves to the build output.
$env:PSModulePath = $ModuleRoot + [IO.Path]::PathSeparator + $env:PSModulePath

$config = New-PesterConfiguration
$config.Run.Path = $TestPath -split [IO.Path]::PathSeparator
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = Join-Path (Split-Path $SummaryPath) 'pester.xml'
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag -split ',' }

$result = Invoke-Pester -Configuration $config
# Failed blocks and containers (a throwing BeforeAll, a file that does not parse) count as failures too.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
$null = New-Item -ItemType Directory -Force -Path (Split-Path $SummaryPath)
$failedNames = @(
    $result.Failed | ForEach-Object { "pester: $($_.ExpandedPath) -- $(("$($_.ErrorRecord | Select-Object -First 1)" -split "`n")[0])" }
    $result.FailedBlocks | ForEach-Object { "pester: block $($_.Path -join ' ') -- $(("$($_.ErrorRecord | Select-Object -First 1)" -split "`n")[0])" }
    $result.FailedContainers | ForEach-Object { "pester: file $($_.Item) -- $(("$($_.ErrorRecord | Select-Object -First 1)" -split "`n")[0])" }
)
[pscustomobject]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount + $result.NotRunCount; FailedNames = $failedNames } |
    ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
"Pester: $($result.PassedCount) passed, $failed failed, $($result.SkippedCount) skipped"
