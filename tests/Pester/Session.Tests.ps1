#Requires -Version 7.2
<#
    One TorrentSession per command, seen from PowerShell: the failure of a torrent comes out through Errors.cs with
    its stable id, category and target; engine events go to the stream their severity names (a hostile peer's ban is a
    warning, not a verbose line); and twenty torrents go through one session on one port, seeded by one
    Start-TorrentSeed and downloaded by one Start-TorrentDownload, every file SHA-256-checked.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Hostile.psm1') -Force
    $script:Workspace = New-InteropWorkspace -Name 'session'

    $script:Data = Join-Path $Workspace 'data'
    $null = New-TestPayload -Root (Join-Path $Data 'one') -Layout ([ordered]@{ 'one.bin' = 1MB + 11 }) -Seed 61
    $script:OneTorrent = (New-MkTorrent -SourcePath (Join-Path $Data 'one') -OutFile (Join-Path $Workspace 'one.torrent')).FullName
    $script:One = Get-TorrentInfo -LiteralPath $OneTorrent
}

AfterAll {
    Stop-InteropProcess
    if ($Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Failures through Errors.cs' -Tag 'Interop' {
    It 'SeedDataIncomplete is InvalidData, aimed at the torrent' {
        $bad = Join-Path $Workspace 'bad-data'
        $null = New-TestPayload -Root (Join-Path $bad 'one') -Layout ([ordered]@{ 'one.bin' = 1MB + 11 }) -Seed 999
        $result = Start-TorrentSeed -LiteralPath $OneTorrent -DataPath $bad -Duration 00:00:30 -NoTracker -ListenAddress 127.0.0.1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'SeedDataIncomplete,BitTorrent.PowerShell.Commands.StartTorrentSeedCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].TargetObject.InfoHash | Should -BeExactly $One.InfoHash
        $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
        $result.Status | Should -Be 'Failed'
    }

    It 'DestinationInvalid is InvalidArgument, aimed at the path, for <Command>' -TestCases @(
        @{ Command = 'Start-TorrentSeed'; Parameter = 'DataPath' }
        @{ Command = 'Start-TorrentDownload'; Parameter = 'DestinationPath' }
    ) {
        $file = Join-Path $Workspace "a-file-$Command.txt"
        Set-Content -LiteralPath $file -Value 'x'
        $arguments = @{ LiteralPath = $OneTorrent; NoTracker = $true; ListenAddress = '127.0.0.1'; $Parameter = $file }
        $caught = $null
        try { & $Command @arguments -ErrorAction Stop } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeExactly "DestinationInvalid,BitTorrent.PowerShell.Commands.$($Command -replace '-', '')Command"
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.TargetObject | Should -BeExactly $file
    }
}

Describe 'Engine events by severity' -Tag 'Interop' {
    BeforeAll {
        # A peer that claims every piece and sends random bytes: its pieces fail the hash check and it is banned.
        $script:Liar = Start-HostilePeer -Torrent $One -Mode Liar -LogDir $Workspace -DurationSec 300
        $dest = Join-Path $Workspace 'liar-only'
        $script:Records = @(Start-TorrentDownload -LiteralPath $OneTorrent -DestinationPath $dest -Peer $Liar.EndPoint -NoTracker -ListenAddress 127.0.0.1 `
                -TimeoutSec 5 -Verbose -WarningVariable Warnings -WarningAction SilentlyContinue `
                -ErrorVariable Failures -ErrorAction SilentlyContinue -InformationVariable Information 4>&1)
        $script:VerboseLines = @($Records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $script:Result = $Records | Where-Object { $_ -is [BitTorrent.Download.DownloadResult] }
    }

    It 'writes the ban and the hash failures as warnings that name the peer, and not as verbose lines' {
        $Result.HashFailures | Should -BeGreaterOrEqual 1 -Because 'a piece sent by one peer alone that fails its check gets that peer banned'
        $ep = [regex]::Escape($Liar.EndPoint)
        @($Warnings | Where-Object { "$_" -match "^\S+: \[PeerBanned/Banned @$ep\] " }) | Should -Not -BeNullOrEmpty -Because 'the ban names the peer'
        @($Warnings | Where-Object { "$_" -match '^\S+: \[HashFailed\] ' }) | Should -Not -BeNullOrEmpty
        foreach ($w in $Warnings) { $VerboseLines | Should -Not -Contain "$w" }
    }

    It 'writes peer comings and goings as verbose lines' {
        $ep = [regex]::Escape($Liar.EndPoint)
        @($VerboseLines | Where-Object { $_ -match "^\S+: \[PeerConnected @$ep\] " }) | Should -Not -BeNullOrEmpty
        @($VerboseLines | Where-Object { $_ -match "^\S+: \[PeerDisconnected/Banned @$ep\] " }) | Should -Not -BeNullOrEmpty
    }

    It 'writes the listening port as information tagged BitTorrent and ListenStarted' {
        $listen = @($Information | Where-Object { $_.Tags -contains 'ListenStarted' })
        $listen | Should -HaveCount 1
        $listen[0].Tags | Should -Contain 'BitTorrent'
        $listen[0].MessageData.Kind | Should -Be 'ListenStarted'
        $listen[0].MessageData.Count | Should -BeGreaterThan 0
    }

    It 'ends with NoPeersAvailable, ResourceUnavailable, aimed at the torrent' {
        $Failures | Should -HaveCount 1
        $Failures[0].FullyQualifiedErrorId | Should -BeExactly 'NoPeersAvailable,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand'
        $Failures[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $Failures[0].TargetObject.InfoHash | Should -BeExactly $One.InfoHash
        $Result.Status | Should -Be 'Failed'
    }
}

Describe 'Twenty torrents through one session' -Tag 'Interop' {
    BeforeAll {
        $script:Many = Join-Path $Workspace 'many'
        $script:ManyTorrents = Join-Path $Workspace 'many-torrents'
        $null = New-Item -ItemType Directory -Path $ManyTorrents
        foreach ($i in 1..20) {
            $name = 't{0:d2}' -f $i
            $null = New-TestPayload -Root (Join-Path $Many $name) -Layout ([ordered]@{ "$name.bin" = 40KB + 97 * $i; 'sub/x.txt' = $i }) -Seed (100 + $i)
            $null = New-Torrent -LiteralPath (Join-Path $Many $name) -OutFile (Join-Path $ManyTorrents "$name.torrent")
        }
    }

    It 'seeds them from one Start-TorrentSeed and downloads them with one Start-TorrentDownload, each on one port' {
        $port = Get-FreePort
        $job = Get-ChildItem -LiteralPath $ManyTorrents -Filter *.torrent | Start-TorrentSeed -DataPath $Many -Port $port -ListenAddress 127.0.0.1 -NoTracker -AsJob
        try {
            Wait-Until -TimeoutSec 120 -Because 'all twenty torrents to be seeding' -Condition {
                if ($job.State -ne 'Running') { throw "the seeding job is $($job.State): $($job.Error | Out-String)" }
                @($job.Information | Where-Object { $_.Tags -contains 'StateChanged' -and "$($_.MessageData.State)" -eq 'Seeding' } |
                    ForEach-Object { $_.MessageData.InfoHash } | Sort-Object -Unique).Count -eq 20
            }
            @($job.Information | Where-Object { $_.Tags -contains 'ListenStarted' }) | Should -HaveCount 1 -Because 'one session, one listener'
            @($job.Information | Where-Object { $_.Tags -contains 'ListenStarted' })[0].MessageData.Count | Should -Be $port

            $dest = Join-Path $Workspace 'many-copy'
            $results = @(Get-ChildItem -LiteralPath $ManyTorrents -Filter *.torrent |
                    Start-TorrentDownload -DestinationPath $dest -Peer "127.0.0.1:$port" -NoTracker -ListenAddress 127.0.0.1 -ThrottleLimit 8 `
                        -InformationVariable info -ErrorAction Stop)
            $results | Should -HaveCount 20
            $results.Status | Sort-Object -Unique | Should -Be 'Completed'
            @($info | Where-Object { $_.Tags -contains 'ListenStarted' }) | Should -HaveCount 1 -Because 'one session, one listener for all twenty'
            foreach ($i in 1..20) {
                $name = 't{0:d2}' -f $i
                ((Get-FileSha256Map (Join-Path $dest $name)) | ConvertTo-Json) | Should -BeExactly ((Get-FileSha256Map (Join-Path $Many $name)) | ConvertTo-Json) -Because $name
            }
            Stop-Job $job
            $summaries = @(Receive-Job $job)
            $summaries | Should -HaveCount 20
            $summaries.Status | Sort-Object -Unique | Should -Be 'Completed'
            ($summaries | Measure-Object BytesUploaded -Sum).Sum | Should -BeGreaterOrEqual ($results | Measure-Object TotalSize -Sum).Sum
        }
        finally { Remove-Job $job -Force -ErrorAction SilentlyContinue }
    }
}
