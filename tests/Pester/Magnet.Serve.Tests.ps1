#Requires -Version 7.2
<#
    Real clients download a torrent from our seeder given ONLY a magnet link: no .torrent file reaches them, so they
    must fetch the info dictionary from Start-TorrentSeed (BEP 9 ut_metadata over BEP 10) before a byte of payload,
    and every file's SHA-256 must match the source. All on 127.0.0.1.

    How each client finds our seeder from the link:
    - python3-libtorrent: x.pe (the seeder's address in the link), no tracker.
    - qBittorrent (libtorrent inside): x.pe, no tracker.
    - aria2c 1.36: tr (opentracker, which our seeder announces to); aria2 ignores x.pe.
    - Transmission 3.00: it ignores x.pe, and never dials loopback peers a tracker gives it ("martian" addresses), so a
      second Start-TorrentSeed dials it (-Peer); Transmission then asks that connection for the metadata.
    - webtorrent 3 (Node, tests/node/webtorrent-leech.mjs): x.pe, no tracker; with protocol encryption off, since by
      default it dials only with MSE, which we do not speak yet.
#>

Describe 'Magnet links: real clients fetch the metadata from our seeder' -Tag Interop {
    BeforeAll {
        Import-Module BitTorrent
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
        $script:Workspace = New-InteropWorkspace -Name 'magnet-serve'

        # 4 MiB in three files with odd sizes (pieces span files); mktorrent's piece size.
        $script:SourceRoot = Join-Path $Workspace 'source'
        $null = New-TestPayload -Root (Join-Path $SourceRoot 'payload') -Layout ([ordered]@{ 'a.bin' = 3MB + 123; 'sub/b.bin' = 1MB - 77; 'sub/c.txt' = 1000 }) -Seed 12
        $script:SourceHashes = Get-FileSha256Map -Root (Join-Path $SourceRoot 'payload')
        $trackerPort = Get-FreePort -Udp
        $script:TorrentPath = (New-MkTorrent -SourcePath (Join-Path $SourceRoot 'payload') -OutFile (Join-Path $Workspace 'payload.torrent') `
                -Announce "http://127.0.0.1:$trackerPort/announce").FullName
        $script:Torrent = Get-TorrentInfo -LiteralPath $TorrentPath
        $Torrent.InfoHash | Should -BeExactly (Get-ReferenceInfoHash $TorrentPath)
        $script:Tracker = Start-OpenTracker -Workspace $Workspace -InfoHash $Torrent.InfoHash -Port $trackerPort

        # The origin: Start-TorrentSeed in a child pwsh, announcing to opentracker.
        $script:Origin = Start-ModuleSeeder -TorrentPath $TorrentPath -DataPath $SourceRoot -LogDir $Workspace -UseTracker -Name 'magnet-origin'
        Wait-Until -TimeoutSec 30 -Because 'the seeder to be registered with opentracker' -Condition {
            @(Get-TorrentPeer -LiteralPath $TorrentPath -ErrorAction SilentlyContinue | Where-Object { $_.EndPoint -eq $Origin.EndPoint }).Count -gt 0
        }

        # Only the info-hash and a name, plus one way to find the seeder: its address (x.pe) or the tracker (tr).
        $script:PeerMagnet = "magnet:?xt=urn:btih:$($Torrent.InfoHash)&dn=payload&x.pe=127.0.0.1:$($Origin.Port)"
        $script:TrackerMagnet = "magnet:?xt=urn:btih:$($Torrent.InfoHash)&dn=payload&tr=$([uri]::EscapeDataString($Tracker.AnnounceUrl))"

        function script:Assert-SameContent {
            param([string] $Root, [string] $Because)
            Test-Path -LiteralPath $Root | Should -BeTrue -Because "$Because (nothing was written at $Root)"
            $copy = Get-FileSha256Map -Root $Root
            ($copy | ConvertTo-Json) | Should -BeExactly ($SourceHashes | ConvertTo-Json) -Because $Because
        }
    }

    AfterAll {
        Stop-InteropProcess
        if ($Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'python3-libtorrent downloads from a magnet link with only x.pe' {
        $dest = Join-Path $Workspace 'libtorrent'
        $null = New-Item -ItemType Directory -Path $dest
        $lt = Start-LibtorrentPeer -Mode Leech -TorrentPath $PeerMagnet -SavePath $dest -NoTracker -TimeoutSec 120 -LogDir $Workspace
        $lt.WaitForExit(150000) | Should -BeTrue
        # Its output reaches the log through event handlers that may run a moment after the exit: wait for the line.
        Wait-Until -TimeoutSec 15 -Because 'libtorrent''s result line to reach its log' -Condition { (Read-InteropLog $lt) -match '"seeding"' }
        $status = (Read-InteropLog $lt).Trim() | ConvertFrom-Json
        $status.seeding | Should -BeTrue -Because "libtorrent reports the torrent complete: $(Read-InteropLog $lt -StdErr)"
        Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'libtorrent fetched the metadata and the data from our seeder'
    }

    It 'qBittorrent downloads from a magnet link with only x.pe' {
        $dest = Join-Path $Workspace 'qbittorrent'
        $null = New-Item -ItemType Directory -Path $dest
        $qb = Start-QBittorrentLeecher -TorrentPath $PeerMagnet -DataDir $dest -Workspace $Workspace -TimeoutSec 120
        Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'qBittorrent fetched the metadata and the data from our seeder'
        Stop-InteropProcess -Process $qb
    }

    It 'aria2c downloads from a magnet link with only a tracker (tr)' {
        $dest = Join-Path $Workspace 'aria2'
        $null = New-Item -ItemType Directory -Path $dest
        $aria2 = Start-InteropProcess -FilePath 'aria2c' -LogDir $Workspace -Name 'aria2-magnet' -ArgumentList @(
            "--dir=$dest", '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
            '--seed-time=0', '--file-allocation=none', '--console-log-level=warn', '--summary-interval=0', '--bt-stop-timeout=120',
            '--bt-save-metadata=false', "--listen-port=$(Get-FreePort)", $TrackerMagnet)
        $aria2.WaitForExit(150000) | Should -BeTrue -Because 'aria2c exits once it has the metadata and the whole torrent'
        $aria2.ExitCode | Should -Be 0 -Because (Read-InteropLog $aria2)
        Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'aria2c fetched the metadata and the data from our seeder'
    }

    It 'Transmission downloads from a magnet link when our seeder dials it' {
        # Transmission 3.00 reads neither x.pe nor loopback peers from a tracker: a second seeder connects to it, and
        # Transmission fetches the metadata over that connection.
        $dest = Join-Path $Workspace 'transmission'
        $null = New-Item -ItemType Directory -Path $dest
        $tr = Start-TransmissionLeecher -TorrentPath $PeerMagnet -DataDir $dest -Workspace $Workspace
        $dialer = Start-ModuleSeeder -TorrentPath $TorrentPath -DataPath $SourceRoot -LogDir $Workspace -Peer $tr.EndPoint -Name 'magnet-dialer'
        Wait-TransmissionComplete -Process $tr -TimeoutSec 120 -Because "Transmission to fetch the metadata and the data: $(Read-InteropLog $dialer)"
        Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'Transmission fetched the metadata and the data from our seeder'
        Stop-InteropProcess -Process $tr, $dialer
    }

    It 'webtorrent downloads from a magnet link with only x.pe' {
        $dest = Join-Path $Workspace 'webtorrent'
        $null = New-Item -ItemType Directory -Path $dest
        $node = (Get-Command node -CommandType Application | Select-Object -First 1).Source
        $wt = Start-InteropProcess -FilePath $node -LogDir $Workspace -Name 'webtorrent-magnet' -ArgumentList @(
            (Join-Path $PSScriptRoot '../node/webtorrent-leech.mjs'), $PeerMagnet, $dest, (Get-FreePort), '--seconds', 120)
        $wt.WaitForExit(150000) | Should -BeTrue -Because 'webtorrent exits once it has the whole torrent (or fails after 120 s)'
        Wait-Until -TimeoutSec 15 -Because 'webtorrent''s result line to reach its log' -Condition { $wt.ExitCode -ne 0 -or (Read-InteropLog $wt) -match '(?m)^done ' }
        $wt.ExitCode | Should -Be 0 -Because "webtorrent reports the torrent complete: $(Read-InteropLog $wt -StdErr)"
        (Read-InteropLog $wt) | Should -Match '(?m)^metadata ' -Because 'it fetched the metadata first (it had only the link)'
        Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'webtorrent fetched the metadata and the data from our seeder'
    }
}
