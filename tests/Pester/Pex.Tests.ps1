<#
    Peer exchange (BEP 11) with python3-libtorrent, PEX on, every peer on its own 127.0.0.x address (no tracker, no
    DHT, no LSD):

      learn   Start-TorrentDownload is given one peer only: a libtorrent leecher (127.0.0.3) that has nothing and,
              held to 2 kB/s, gets nothing while the test runs. It is connected to a libtorrent seed (127.0.0.2) that
              we are never told of and that never dials anyone. The only way to the data is to learn the seed by PEX
              from the leecher, dial it and download from it.
      tell    our seeder (Start-TorrentSeed) has two libtorrent leechers (127.0.0.4, 127.0.0.5) that were each
              given only our address; they meet because our PEX tells each about the other.

    Every download is checked file by file against the source's sha256.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'pex'
    $source = Join-Path $Workspace 'source'
    $script:Layout = [ordered]@{ 'pex-data/a.bin' = 3MB + 777; 'pex-data/sub/b.bin' = 1MB + 5; 'pex-data/c.txt' = 12345 }
    $null = New-TestPayload -Root $source -Layout $Layout -Seed 61
    $script:SourceRoot = Join-Path $source 'pex-data'
    $script:Sha = Get-FileSha256Map -Root $SourceRoot
    $script:TotalSize = ($Layout.Values | Measure-Object -Sum).Sum
    $script:TorrentPath = (New-MkTorrent -SourcePath $SourceRoot -OutFile (Join-Path $Workspace 'pex.torrent')).FullName
}

AfterAll {
    Stop-InteropProcess
    if ($script:Workspace) { Remove-Item -LiteralPath $script:Workspace -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Peer exchange (BEP 11) with libtorrent' -Tag Interop {
    It 'learns a seed only through PEX from a libtorrent peer, dials it and downloads everything from it' {
        $hiddenData = Join-Path $Workspace 'hidden'
        $null = New-Item -ItemType Directory -Path $hiddenData
        Copy-Item -LiteralPath $SourceRoot -Destination $hiddenData -Recurse
        $hidden = Start-LibtorrentPexPeer -Mode Seed -TorrentPath $TorrentPath -SavePath $hiddenData -Address 127.0.0.2 -LogDir $Workspace
        $middle = Start-LibtorrentPexPeer -Mode Leech -TorrentPath $TorrentPath -SavePath (Join-Path $Workspace 'middle') -Address 127.0.0.3 `
            -ConnectTo $hidden.EndPoint -DownloadLimit 2000 -LogDir $Workspace
        # Past the handshakes (it knows the seed's client name): else libtorrent leaves the seed out of the first list
        # it sends us, and we learn of it only from the next message, a minute later.
        Wait-Until -TimeoutSec 60 -Because 'the libtorrent leecher to be connected to the hidden seed' -Condition {
            $s = Get-LibtorrentPexStatus $middle
            $s -and @($s.peers | Where-Object { $_.ip -eq '127.0.0.2' -and $_.port -eq $hidden.Port -and $_.outgoing -and $_.client }).Count -eq 1
        }

        $destination = Join-Path $Workspace 'learn'
        # libtorrent sends its first PEX message a tick after our extended handshake (its next one a minute later):
        # -TimeoutSec bounds the wait.
        $records = @(Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $destination -Peer $middle.EndPoint -NoTracker `
                -ListenAddress 127.0.0.1 -TimeoutSec 120 -Verbose 4>&1)
        $result = @($records | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $verbose = @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)

        $result.Count | Should -Be 1
        $result[0].Status | Should -Be 'Completed'
        $result[0].PeersUsed | Should -Be 2
        $got = Get-FileSha256Map -Root (Join-Path $destination 'pex-data')
        $got.Keys | Should -Be $Sha.Keys
        foreach ($k in $Sha.Keys) { $got[$k] | Should -Be $Sha[$k] -Because "$k must be the source's bytes" }

        # Learnt from the leecher by PEX, then dialled at its listen address (the seed never dials out).
        @($verbose -match "^\S+: \[PeersExchanged @$([regex]::Escape($middle.EndPoint))\] ").Count | Should -BeGreaterThan 0
        @($verbose -match "^\S+: \[PeerConnected @$([regex]::Escape($hidden.EndPoint))\] ").Count | Should -Be 1
        # The data came from the seed: the leecher has no piece to give, and the seed sent a whole copy besides
        # the little the 2 kB/s leecher took.
        $middleNow = Get-LibtorrentPexStatus $middle
        $middleNow.pieces | Should -Be 0
        Wait-Until -TimeoutSec 10 -Because 'the hidden seed to report its upload' -Condition {
            $s = Get-LibtorrentPexStatus $hidden
            $toMiddle = ($s.peers | Where-Object { $_.ip -eq '127.0.0.3' } | Measure-Object -Property up -Sum).Sum
            $s.uploaded - $toMiddle -ge $TotalSize
        }
    }

    It 'tells libtorrent leechers about each other: they connect to each other, given only our seeder' {
        $seedData = Join-Path $Workspace 'ourseed'
        $null = New-Item -ItemType Directory -Path $seedData
        Copy-Item -LiteralPath $SourceRoot -Destination $seedData -Recurse
        $seeder = Start-ModuleSeeder -TorrentPath $TorrentPath -DataPath $seedData -LogDir $Workspace -DurationSec 300 -Name 'pex-seed'
        $x = Start-LibtorrentPexPeer -Mode Leech -TorrentPath $TorrentPath -SavePath (Join-Path $Workspace 'x') -Address 127.0.0.4 `
            -ConnectTo $seeder.EndPoint -DownloadLimit 2000 -LogDir $Workspace
        $y = Start-LibtorrentPexPeer -Mode Leech -TorrentPath $TorrentPath -SavePath (Join-Path $Workspace 'y') -Address 127.0.0.5 `
            -ConnectTo $seeder.EndPoint -DownloadLimit 2000 -LogDir $Workspace

        # Neither was told of the other: one of them dials the other at its listen address, which only our PEX said.
        Wait-Until -TimeoutSec 90 -Because 'the two libtorrent leechers to connect to each other' -Condition {
            $sx = Get-LibtorrentPexStatus $x
            $sy = Get-LibtorrentPexStatus $y
            ($sx -and @($sx.peers | Where-Object { $_.ip -eq '127.0.0.5' -and $_.port -eq $y.Port -and $_.outgoing }).Count -gt 0) -or
            ($sy -and @($sy.peers | Where-Object { $_.ip -eq '127.0.0.4' -and $_.port -eq $x.Port -and $_.outgoing }).Count -gt 0)
        }
        Stop-InteropProcess -Process $x, $y, $seeder
    }
}
