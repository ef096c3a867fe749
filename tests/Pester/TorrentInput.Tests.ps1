<#
    One name for the torrent input: -Torrent (alias InputObject), by value, by property name and by position, on every
    cmdlet that works on a torrent; Invoke-PeerHandshake takes a piped torrent and asks its trackers for peers; and
    Start-TorrentSeed -WhatIf writes nothing. Real files and sockets on 127.0.0.1 only (a static HTTP tracker served
    by the test, a closed port for refused connections); no other client is needed.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/TorrentFiles.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/StaticTracker.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "bt-input-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Work

    # A two-file torrent with its complete data under <Work>/data/set.
    $script:Files = [ordered]@{ 'a.bin' = [byte[]](New-TestBytes 40000 1); 'b/c.bin' = [byte[]](New-TestBytes 30000 2) }
    $script:DataPath = Join-Path $Work 'data'
    foreach ($f in $Files.GetEnumerator()) {
        $path = Join-Path $DataPath "set/$($f.Key)"
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $path)
        [IO.File]::WriteAllBytes($path, $f.Value)
    }
    $script:DeadPort = Get-ClosedPort
    $script:Tracker = Start-StaticTracker -Peer "127.0.0.1:$DeadPort"
    $script:SetPath = (New-TestTorrent -Path (Join-Path $Work 'set.torrent') -Name 'set' -Files $Files -Announce $Tracker.Url).Path
    $script:Set = Get-TorrentInfo -LiteralPath $SetPath
    $script:Lone = Get-TorrentInfo -LiteralPath (New-TestTorrent -Path (Join-Path $Work 'lone.torrent') -Name 'set' -Files $Files).Path
    $script:DeadTracker = Get-TorrentInfo -LiteralPath (New-TestTorrent -Path (Join-Path $Work 'dead.torrent') -Name 'set' -Files $Files `
            -Announce "http://127.0.0.1:$(Get-ClosedPort)/announce").Path
}

AfterAll {
    Stop-StaticTracker $Tracker
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe '-Torrent on <_>' -ForEach @('Get-TorrentPeer', 'Get-TorrentTracker', 'Test-Torrent', 'Start-TorrentDownload', 'Start-TorrentSeed', 'Invoke-PeerHandshake', 'Save-TorrentFile') {
    It 'is TorrentInfo[], alias InputObject, from the pipeline by value and by property name' {
        $p = (Get-Command $_).Parameters['Torrent']
        $p | Should -Not -BeNullOrEmpty
        $p.ParameterType | Should -Be ([BitTorrent.Metainfo.TorrentInfo[]])
        $p.Aliases | Should -Be @('InputObject')
        $set = $p.ParameterSets['Torrent']
        $set.IsMandatory | Should -BeTrue
        $set.ValueFromPipeline | Should -BeTrue
        $set.ValueFromPipelineByPropertyName | Should -BeTrue
        (Get-Command $_).Parameters.ContainsKey('InputObject') | Should -BeFalse -Because 'InputObject is an alias, not a second parameter'
    }
}

Describe 'Test-Torrent' {
    It 'takes the torrent by value, by property name, by position and as -InputObject' {
        ($Set | Test-Torrent -DataPath $DataPath).IsComplete | Should -BeTrue
        ([pscustomobject]@{ Torrent = $Set } | Test-Torrent -DataPath $DataPath).InfoHash | Should -Be $Set.InfoHash
        (Test-Torrent $Set -DataPath $DataPath).InfoHash | Should -Be $Set.InfoHash
        (Test-Torrent -InputObject $Set -DataPath $DataPath).InfoHash | Should -Be $Set.InfoHash
    }

    It "binds its own results' Torrent property" {
        Test-Torrent $Set -DataPath $DataPath | Test-Torrent -DataPath (Join-Path $Work 'nowhere') -Quiet | Should -BeFalse
    }
}

Describe 'Get-TorrentTracker and Get-TorrentPeer' {
    It 'Get-TorrentTracker: piped, positional and -InputObject torrents are queried' {
        foreach ($status in @(
                $Set | Get-TorrentTracker -TimeoutSec 10
                Get-TorrentTracker $Set -TimeoutSec 10
                Get-TorrentTracker -InputObject $Set -TimeoutSec 10)) {
            $status.InfoHash | Should -Be $Set.InfoHash
            $status.Url | Should -Be $Tracker.Url
            $status.Status | Should -Be 'Working'
            $status.PeerCount | Should -Be 1
        }
    }

    It 'Get-TorrentPeer: piped, by property name, positional and -InputObject torrents are asked for peers' {
        $peers = @(
            $Set | Get-TorrentPeer -TimeoutSec 10
            [pscustomobject]@{ Torrent = $Set } | Get-TorrentPeer -TimeoutSec 10
            Get-TorrentPeer $Set -TimeoutSec 10
            Get-TorrentPeer -InputObject $Set -TimeoutSec 10)
        $peers.Count | Should -Be 4
        $peers.EndPoint | Sort-Object -Unique | Should -Be "127.0.0.1:$DeadPort"
        $peers.InfoHash | Sort-Object -Unique | Should -Be $Set.InfoHash
    }
}

Describe 'Invoke-PeerHandshake with a torrent and no -Peer' {
    It "handshakes with the peers its trackers list (here a closed port: the handshake's own error proves the try)" {
        $out = @($Set | Invoke-PeerHandshake -TimeoutSec 5 -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out | Should -BeNullOrEmpty
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'PeerConnectionRefused,*'
        "$($failed[0].TargetObject)" | Should -Be "127.0.0.1:$DeadPort"
    }

    It 'does the same for -Torrent, -InputObject and -TorrentPath' {
        $null = Invoke-PeerHandshake -Torrent $Set -TimeoutSec 5 -ErrorVariable e1 -ErrorAction SilentlyContinue
        $null = Invoke-PeerHandshake -InputObject $Set -TimeoutSec 5 -ErrorVariable e2 -ErrorAction SilentlyContinue
        $null = Invoke-PeerHandshake -TorrentPath $SetPath -TimeoutSec 5 -ErrorVariable e3 -ErrorAction SilentlyContinue
        foreach ($failed in $e1, $e2, $e3) {
            @($failed).Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'PeerConnectionRefused,*'
            "$($failed[0].TargetObject)" | Should -Be "127.0.0.1:$DeadPort"
        }
    }

    It 'never binds a piped torrent to -Peer as text' {
        $null = $Set | Invoke-PeerHandshake -TimeoutSec 5 -ErrorVariable failed -ErrorAction SilentlyContinue
        @($failed | Where-Object { $_.FullyQualifiedErrorId -like 'InvalidPeerAddress,*' -or $_.FullyQualifiedErrorId -like 'ParameterArgument*' }) |
            Should -BeNullOrEmpty
    }

    It 'a torrent with no tracker is a NoTrackers error, and nothing is contacted' {
        $out = @($Lone | Invoke-PeerHandshake -TimeoutSec 5 -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out | Should -BeNullOrEmpty
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'NoTrackers,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].TargetObject.InfoHash | Should -Be $Lone.InfoHash
    }

    It 'trackers that all fail are errors with the tracker as the target' {
        $null = $DeadTracker | Invoke-PeerHandshake -TimeoutSec 5 -ErrorVariable failed -ErrorAction SilentlyContinue
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'TrackerAnnounceFailed,*'
        $failed[0].TargetObject | Should -Be $DeadTracker.Trackers[0]
    }

    It 'with -Peer, a piped torrent handshakes those peers only' {
        $other = Get-ClosedPort
        $null = $Lone | Invoke-PeerHandshake -Peer "127.0.0.1:$other" -TimeoutSec 5 -ErrorVariable failed -ErrorAction SilentlyContinue
        @($failed.TargetObject | ForEach-Object { "$_" }) | Should -Be @("127.0.0.1:$other")
    }

    It 'piped text and TorrentPeer objects still bind -Peer' {
        $other = Get-ClosedPort
        $null = "127.0.0.1:$other" | Invoke-PeerHandshake -Torrent $Lone -TimeoutSec 5 -ErrorVariable byText -ErrorAction SilentlyContinue
        "$($byText[0].TargetObject)" | Should -Be "127.0.0.1:$other"
        $null = Get-TorrentPeer $Set -TimeoutSec 10 | Invoke-PeerHandshake -TimeoutSec 5 -ErrorVariable byName -ErrorAction SilentlyContinue
        $byName[0].FullyQualifiedErrorId | Should -BeLike 'PeerConnectionRefused,*'
        "$($byName[0].TargetObject)" | Should -Be "127.0.0.1:$DeadPort"
    }
}

Describe 'Start-TorrentDownload and Start-TorrentSeed take the same input' {
    It 'Start-TorrentDownload: a piped torrent whose data is complete finishes from disk, without peers' {
        $dest = Join-Path $Work 'dl'
        $null = New-Item -ItemType Directory -Path $dest
        Copy-Item -LiteralPath (Join-Path $DataPath 'set') -Destination $dest -Recurse
        $r = [pscustomobject]@{ Torrent = $Lone } | Start-TorrentDownload -DestinationPath $dest -NoTracker -TimeoutSec 30
        $r.InfoHash | Should -Be $Lone.InfoHash
        "$($r.Status)" | Should -Be 'Completed'
        $r.BytesDownloaded | Should -Be 0
    }

    It 'Start-TorrentSeed: a positional torrent is checked and seeded for -Duration' {
        $r = Start-TorrentSeed $Lone -DataPath $DataPath -NoTracker -ListenAddress 127.0.0.1 -Duration 00:00:01
        $r.InfoHash | Should -Be $Lone.InfoHash
        $r.DestinationPath | Should -Be $DataPath
    }
}

Describe 'Start-TorrentSeed -WhatIf' {
    It 'says what it would seed and which resume record it would keep, and writes nothing' {
        $data = Join-Path $Work 'whatif'
        $null = New-Item -ItemType Directory -Path $data
        Copy-Item -LiteralPath (Join-Path $DataPath 'set') -Destination $data -Recurse
        $before = @(Get-ChildItem -LiteralPath $data -Recurse -Force | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" })
        # -WhatIf messages go to the host, so the command runs in a child pwsh whose output is read.
        $pwsh = Get-PwshCommand
        $script = "Import-Module BitTorrent; Start-TorrentSeed -LiteralPath '$SetPath' -DataPath '$data' -NoTracker -WhatIf; 'exit:' + `$?"
        $text = (& $pwsh.FilePath @($pwsh.Arguments) -NoProfile -NonInteractive -Command $script 2>&1) -join "`n"
        $text | Should -Match ([regex]::Escape((Join-Path $data ".bittorrent/$($Set.InfoHash).resume")))
        $text | Should -Match 'exit:True'
        Test-Path -LiteralPath (Join-Path $data '.bittorrent') | Should -BeFalse
        @(Get-ChildItem -LiteralPath $data -Recurse -Force | ForEach-Object { "$($_.FullName)|$($_.Length)|$($_.LastWriteTimeUtc.Ticks)" }) | Should -Be $before
    }

    It 'supports -WhatIf and -Confirm' {
        (Get-Command Start-TorrentSeed).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Start-TorrentSeed).Parameters.Keys | Should -Contain 'Confirm'
    }
}
