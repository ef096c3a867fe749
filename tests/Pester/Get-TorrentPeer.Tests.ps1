<#
    Get-TorrentPeer and Get-TorrentTracker against a real opentracker (HTTP and UDP on one port) with real peers
    (python3-libtorrent and aria2c) announcing to it, all on 127.0.0.1.

    Swarms:
      alpha    2 libtorrent seeders + 1 aria2c seeder; trackers http + udp in one tier
      bravo    1 libtorrent seeder; tier 1 = a closed TCP port (http) and a silent UDP port, tier 2 = live http
      charlie  2 libtorrent leechers and no seeder (they can never finish, so they stay leechers)
    The expected peers and counts come from the peers we started and from opentracker's own scrape, read with
    a plain HttpClient and a regular expression (not our code).
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'get-torrentpeer'
    $script:TrackerPort = Get-FreePort -Udp
    $script:Http = "http://127.0.0.1:$TrackerPort/announce"
    $script:Udp = "udp://127.0.0.1:$TrackerPort/announce"
    # Dead trackers: a TCP port nobody listens on (refused at once) and a UDP port nobody answers on (times out).
    # Both ports stay bound by this test for its whole run (TCP bound but not listening refuses connections; the UDP
    # socket is never read), so no client started later (an aria2c seeder picking a random port) can take them over.
    $script:DeadSocket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
    $DeadSocket.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    $script:DeadHttp = "http://127.0.0.1:$(([System.Net.IPEndPoint]$DeadSocket.LocalEndPoint).Port)/announce"
    $script:SilentSocket = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
    $script:SilentUdp = "udp://127.0.0.1:$(([System.Net.IPEndPoint]$SilentSocket.Client.LocalEndPoint).Port)/announce"

    $torrents = Join-Path $Workspace 'torrents'
    $others = Join-Path $Workspace 'others'
    $null = New-Item -ItemType Directory -Path $torrents, $others

    function New-Swarm([string] $Name, [string] $Folder, [int] $Seed, [hashtable] $TorrentArgs) {
        $data = Join-Path $Workspace "data-$Name"
        $file = New-RandomFile -Path (Join-Path $data "$Name.bin") -SizeBytes 600KB -Seed $Seed
        $torrent = New-MkTorrent -SourcePath $file.FullName -OutFile (Join-Path $Folder "$Name.torrent") @TorrentArgs
        [pscustomobject]@{ Name = $Name; Data = $data; Torrent = $torrent.FullName; InfoHash = (Get-ReferenceInfoHash $torrent.FullName) }
    }
    $script:Alpha = New-Swarm alpha $torrents 1 @{ Announce = @($Http, $Udp) }
    $script:Bravo = New-Swarm bravo $torrents 2 @{ AnnounceTier = @(, @($DeadHttp, $SilentUdp)) + @(, @($Http)) }
    $script:Charlie = New-Swarm charlie $torrents 3 @{ Announce = @($Http) }
    # Known to nobody: Debian's opentracker refuses hashes that are not on its whitelist.
    $script:Unlisted = New-Swarm unlisted $others 4 @{ Announce = @($Http) }
    $script:NoTracker = New-Swarm notracker $others 5 @{}

    $tracker = Start-OpenTracker -Workspace $Workspace -InfoHash $Alpha.InfoHash, $Bravo.InfoHash, $Charlie.InfoHash -Port $TrackerPort

    $script:Peers = @{}
    $Peers.alpha = @(
        Start-LibtorrentPeer -Mode Seed -TorrentPath $Alpha.Torrent -SavePath $Alpha.Data -TimeoutSec 600
        Start-LibtorrentPeer -Mode Seed -TorrentPath $Alpha.Torrent -SavePath $Alpha.Data -TimeoutSec 600
        Start-Aria2Seeder -TorrentPath $Alpha.Torrent -DataDir $Alpha.Data -LogDir $Workspace
    ).EndPoint
    $Peers.bravo = @((Start-LibtorrentPeer -Mode Seed -TorrentPath $Bravo.Torrent -SavePath $Bravo.Data -TimeoutSec 600).EndPoint)
    $Peers.charlie = @(
        foreach ($i in 1..2) {
            $empty = Join-Path $Workspace "leech-charlie-$i"
            $null = New-Item -ItemType Directory -Path $empty
            Start-LibtorrentPeer -Mode Leech -TorrentPath $Charlie.Torrent -SavePath $empty -TimeoutSec 600
        }
    ).EndPoint

    # opentracker's own counts, read without our code.
    $script:RawHttp = [System.Net.Http.HttpClient]::new()
    $RawHttp.Timeout = [TimeSpan]::FromSeconds(5)
    $RawHttp.DefaultRequestHeaders.ConnectionClose = $true # opentracker closes after each reply; never reuse a connection
    function Get-RawScrape([string] $InfoHash) {
        $escaped = -join ($InfoHash -split '(..)' | Where-Object { $_ } | ForEach-Object { "%$_" })
        $bytes = $RawHttp.GetByteArrayAsync("http://127.0.0.1:$TrackerPort/scrape?info_hash=$escaped").GetAwaiter().GetResult()
        $text = [System.Text.Encoding]::Latin1.GetString($bytes)
        if ($text -eq 'd5:filesdee') { return [pscustomobject]@{ Seeders = 0; Completed = 0; Leechers = 0 } } # nobody announced yet
        if ($text -notmatch 'completei(\d+)e10:downloadedi(\d+)e10:incompletei(\d+)e') { throw "Unexpected scrape reply: $text" }
        [pscustomobject]@{ Seeders = [int]$Matches[1]; Completed = [int]$Matches[2]; Leechers = [int]$Matches[3] }
    }
    Wait-Until -TimeoutSec 60 -Because 'every peer to announce to opentracker' -Condition {
        $a = Get-RawScrape $Alpha.InfoHash; $b = Get-RawScrape $Bravo.InfoHash; $c = Get-RawScrape $Charlie.InfoHash
        $a.Seeders -eq 3 -and $a.Leechers -eq 0 -and $b.Seeders -eq 1 -and $c.Leechers -eq 2 -and $c.Seeders -eq 0
    }
}

AfterAll {
    Stop-InteropProcess
    if ($script:RawHttp) { $RawHttp.Dispose() }
    if ($script:DeadSocket) { $DeadSocket.Dispose() }
    if ($script:SilentSocket) { $SilentSocket.Dispose() }
    if ($script:Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force }
}

Describe 'Get-TorrentPeer' -Tag 'Interop' {
    It 'returns exactly the swarm over HTTP' {
        $result = @(Get-TorrentPeer -Path $Alpha.Torrent -Tracker $Http -ErrorAction Stop -WarningAction Stop)
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
        $result | ForEach-Object {
            $_ | Should -BeOfType ([BitTorrent.Trackers.TorrentPeer])
            $_.InfoHash | Should -BeExactly $Alpha.InfoHash
            $_.Source | Should -BeExactly $Http
            $_.TorrentName | Should -BeExactly 'alpha.bin'
            $_.IPAddress | Should -Be ([System.Net.IPAddress]::Loopback)
            $_.EndPoint | Should -BeExactly "127.0.0.1:$($_.Port)"
        }
    }

    It 'returns exactly the swarm over UDP' {
        $result = @(Get-TorrentPeer -Path $Alpha.Torrent -Tracker $Udp -ErrorAction Stop -WarningAction Stop)
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
        $result.Source | Select-Object -Unique | Should -BeExactly $Udp
    }

    It 'asks both trackers of the torrent and emits each peer once, without itself' {
        # Our announce to one tracker (HTTP) is listed by the other (UDP) before our 'stopped' arrives.
        $result = @(Get-TorrentPeer -Path $Alpha.Torrent -Port 45678 -ErrorAction Stop -WarningAction Stop)
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
        $result.EndPoint | Should -Not -Contain '127.0.0.1:45678'
    }

    It 'leaves the swarm as it found it (announces stopped after started)' {
        $null = Get-TorrentPeer -Path $Alpha.Torrent -ErrorAction Stop
        $null = Get-TorrentPeer -Path $Charlie.Torrent -Tracker $Udp -ErrorAction Stop
        $a = Get-RawScrape $Alpha.InfoHash
        $c = Get-RawScrape $Charlie.InfoHash
        ($a.Seeders, $a.Leechers) | Should -Be (3, 0)
        ($c.Seeders, $c.Leechers) | Should -Be (0, 2)
    }

    It 'lists leechers too' {
        $result = @(Get-TorrentPeer -LiteralPath $Charlie.Torrent -ErrorAction Stop)
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.charlie | Sort-Object)
    }

    It 'gets peers from a live second tier when the first tier is dead, warning about the dead trackers' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $result = @(Get-TorrentPeer -Path $Bravo.Torrent -TimeoutSec 3 -ErrorVariable errors -WarningVariable warnings -WarningAction SilentlyContinue)
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 9
        @($result.EndPoint) | Should -Be $Peers.bravo
        $result[0].Source | Should -BeExactly $Http
        $errors | Should -BeNullOrEmpty
        $warnings.Count | Should -Be 2
        ($warnings | Where-Object { $_ -like "*$DeadHttp*ConnectionFailed*" }) | Should -Not -BeNullOrEmpty
        ($warnings | Where-Object { $_ -like "*$SilentUdp*Timeout*" }) | Should -Not -BeNullOrEmpty
    }

    It 'takes TorrentInfo objects from Get-TorrentInfo' {
        $result = @(Get-TorrentInfo -Path $Alpha.Torrent | Get-TorrentPeer -Tracker $Udp -ErrorAction Stop)
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
    }

    It 'takes files from Get-ChildItem, several torrents at once' {
        $result = @(Get-ChildItem -Path (Join-Path $Workspace 'torrents') -Filter *.torrent |
                Get-TorrentPeer -TimeoutSec 3 -ErrorAction Stop -WarningAction SilentlyContinue)
        $byHash = $result | Group-Object InfoHash -AsHashTable -AsString
        $byHash.Keys | Sort-Object | Should -Be (@($Alpha.InfoHash, $Bravo.InfoHash, $Charlie.InfoHash) | Sort-Object)
        @($byHash[$Alpha.InfoHash].EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
        @($byHash[$Bravo.InfoHash].EndPoint) | Should -Be $Peers.bravo
        @($byHash[$Charlie.InfoHash].EndPoint | Sort-Object) | Should -Be @($Peers.charlie | Sort-Object)
    }

    It 'takes wildcard paths' {
        $result = @(Get-TorrentPeer -Path (Join-Path $Workspace 'torrents/a*.torrent') -ErrorAction Stop)
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
    }

    It 'gives TrackerTimeout for a tracker that never answers, within -TimeoutSec' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $result = Get-TorrentPeer -Path $Alpha.Torrent -Tracker $SilentUdp -TimeoutSec 2 -ErrorVariable errors -ErrorAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 6
        $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 1.5
        $result | Should -BeNullOrEmpty
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeExactly 'TrackerTimeout,BitTorrent.PowerShell.Commands.GetTorrentPeerCommand'
        $errors[0].TargetObject | Should -BeExactly $SilentUdp
        $errors[0].Exception.Error | Should -Be 'Timeout'
        "$($errors[0])" | Should -BeLike "*$SilentUdp*"
    }

    It 'gives TrackerAnnounceFailed for a refused connection, at once' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $null = Get-TorrentPeer -Path $Alpha.Torrent -Tracker $DeadHttp -TimeoutSec 10 -ErrorVariable errors -ErrorAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $errors[0].FullyQualifiedErrorId | Should -BeExactly 'TrackerAnnounceFailed,BitTorrent.PowerShell.Commands.GetTorrentPeerCommand'
        $errors[0].Exception.Error | Should -Be 'ConnectionFailed'
    }

    It "gives TrackerAnnounceFailed with the tracker's reason when it refuses the torrent" {
        $null = Get-TorrentPeer -Path $Unlisted.Torrent -Tracker $Http, $Udp -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 2
        $errors | ForEach-Object {
            $_.FullyQualifiedErrorId | Should -BeExactly 'TrackerAnnounceFailed,BitTorrent.PowerShell.Commands.GetTorrentPeerCommand'
            $_.Exception.Error | Should -Be 'TrackerFailure'
        }
        # opentracker says so in words over HTTP, and with a header-only reply over UDP.
        ($errors | Where-Object TargetObject -EQ $Http).Exception.FailureReason | Should -BeLike '*not authorized*'
        ($errors | Where-Object TargetObject -EQ $Udp).Exception.FailureReason | Should -BeLike '*does not track this torrent*'
        @($errors.TargetObject | Sort-Object) | Should -Be @($Http, $Udp | Sort-Object)
    }

    It 'gives NoTrackers for a torrent without trackers, and goes on with the next torrent' {
        $result = @(Get-TorrentPeer -Path $NoTracker.Torrent, $Charlie.Torrent -ErrorVariable errors -ErrorAction SilentlyContinue)
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeExactly 'NoTrackers,BitTorrent.PowerShell.Commands.GetTorrentPeerCommand'
        @($result.EndPoint | Sort-Object) | Should -Be @($Peers.charlie | Sort-Object)
    }

    It 'rejects a -Tracker it cannot talk to with InvalidTrackerUrl' {
        { Get-TorrentPeer -Path $Alpha.Torrent -Tracker 'wss://tracker.example/announce' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidTrackerUrl,BitTorrent.PowerShell.Commands.GetTorrentPeerCommand'
    }

    It 'writes progress while it waits, and a Completed record at the end' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript("Import-Module BitTorrent; Get-TorrentPeer -LiteralPath '$($Alpha.Torrent)' -Tracker '$Http', '$SilentUdp' -TimeoutSec 2 -WarningAction SilentlyContinue")
            $output = $ps.Invoke()
            @($output.EndPoint | Sort-Object) | Should -Be @($Peers.alpha | Sort-Object)
            $progress = @($ps.Streams.Progress)
            $progress.Count | Should -BeGreaterThan 1
            $progress[-1].RecordType | Should -Be 'Completed'
            $running = @($progress | Where-Object RecordType -EQ 'Processing')
            $running[0].StatusDescription | Should -BeLike '1 of 2 tracker request(s) done*'
            $running[0].PercentComplete | Should -Be 50
        }
        finally { $ps.Dispose() }
    }

    It 'stops promptly when the pipeline is stopped' {
        $bg = Start-BackgroundCommand -Script { param($Torrent, $Tracker) Get-TorrentPeer -LiteralPath $Torrent -Tracker $Tracker -TimeoutSec 120 } `
            -Arguments @{ Torrent = $Alpha.Torrent; Tracker = $SilentUdp }
        try {
            Start-Sleep -Milliseconds 1500
            $bg.Handle.IsCompleted | Should -BeFalse
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $bg.PowerShell.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
            $bg.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $null = Stop-BackgroundCommand $bg -Stop }
    }
}

Describe 'Get-TorrentTracker' -Tag 'Interop' {
    It "reports opentracker's scrape counts for every tracker" {
        foreach ($swarm in @(@{ S = $Alpha; Seeders = 3; Leechers = 0; Urls = @($Http, $Udp) }, @{ S = $Charlie; Seeders = 0; Leechers = 2; Urls = @($Http) })) {
            $raw = Get-RawScrape $swarm.S.InfoHash
            $status = @(Get-TorrentTracker -Path $swarm.S.Torrent -ErrorAction Stop)
            $status.Url | Should -Be $swarm.Urls
            foreach ($s in $status) {
                $s | Should -BeOfType ([BitTorrent.Trackers.TrackerStatus])
                $s.Status | Should -Be 'Working'
                $s.Tier | Should -Be 0
                # Leechers as opentracker counts them right now: on a loaded machine an earlier query's 'stopped'
                # announce can fail (it is best effort), and that query then stays listed as a leecher.
                $s.Seeders | Should -Be $swarm.Seeders
                $s.Leechers | Should -BeGreaterOrEqual $swarm.Leechers
                $s.Seeders | Should -Be $raw.Seeders
                $s.Leechers | Should -Be $raw.Leechers
                $s.Completed | Should -Be $raw.Completed
                # The reply leaves us out, and a leftover entry on our own port looks like us.
                $listed = $raw.Seeders + $raw.Leechers
                if ($raw.Leechers -gt $swarm.Leechers) { $s.PeerCount | Should -BeIn @(($listed - 1), $listed) }
                else { $s.PeerCount | Should -Be $listed }
                $s.Interval.TotalSeconds | Should -BeGreaterThan 0
                $s.LastAnnounce | Should -Not -BeNullOrEmpty
                $s.InfoHash | Should -BeExactly $swarm.S.InfoHash
                $s.Error | Should -BeNullOrEmpty
            }
        }
    }

    It 'shows the dead first tier as Failed and the live second tier as Working, in tier order' {
        $status = @(Get-TorrentTracker -Path $Bravo.Torrent -TimeoutSec 2)
        $status.Url | Should -Be @($DeadHttp, $SilentUdp, $Http)
        $status.Tier | Should -Be @(0, 0, 1)
        $status.Status | Should -Be @('Failed', 'Failed', 'Working')
        $status[0].ErrorKind | Should -Be 'ConnectionFailed'
        $status[1].ErrorKind | Should -Be 'Timeout'
        $status[2].Seeders | Should -Be 1
        $status[2].PeerCount | Should -Be 1
    }

    It 'scrapes without announcing with -ScrapeOnly' {
        $status = @(Get-TorrentInfo $Alpha.Torrent | Get-TorrentTracker -ScrapeOnly -ErrorAction Stop)
        $status.Status | Should -Be @('Working', 'Working')
        $status.Seeders | Should -Be @(3, 3)
        $status.PeerCount | Should -Be @($null, $null)
        $status.LastAnnounce | Should -Be @($null, $null)
    }
}
