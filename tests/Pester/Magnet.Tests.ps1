<#
    Magnet links and bare info-hashes as input to every cmdlet that takes a torrent: how strings bind (by position,
    piped from Get-Content, as MagnetUri objects, mixed with paths), InvalidMagnetUri for malformed links, the tracker
    and handshake cmdlets with only an info-hash, trackers and x.pe, and the metadata fetched from a real swarm
    (Get-TorrentInfo, Save-TorrentFile, Start-TorrentDownload, Start-TorrentSeed), kept in .bittorrent/<hash>.torrent
    and not fetched again on a resumed run.

    The swarm: python3-libtorrent seeding two torrents made by mktorrent (not our code), announcing to an opentracker on
    127.0.0.1 that whitelists their info-hashes. Every download is checked file by file against the source's sha256.
    Whether metadata was fetched is read from the MetadataReceived engine events (information records tagged with the
    event kind), never from message text.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/StaticTracker.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'magnet'
    $script:TrackerPort = Get-FreePort -Udp
    $script:Http = "http://127.0.0.1:$TrackerPort/announce"
    $source = Join-Path $Workspace 'source'
    $script:Layout = [ordered]@{ 'set/a.bin' = 700001; 'set/b/c.bin' = 300007; 'set/z.bin' = 1MB + 3 }
    $null = New-TestPayload -Root $source -Layout $Layout -Seed 41
    $null = New-RandomFile -Path (Join-Path $source 'solo.bin') -SizeBytes (600KB + 17) -Seed 51

    function New-Case([string] $Leaf) {
        $t = New-MkTorrent -SourcePath (Join-Path $source $Leaf) -OutFile (Join-Path $Workspace "$Leaf.torrent") -Announce $Http -PieceSizeLog2 16
        $info = Get-TorrentInfo -LiteralPath $t.FullName
        [pscustomobject]@{
            Leaf = $Leaf; Torrent = $t.FullName; Info = $info; InfoHash = (Get-ReferenceInfoHash $t.FullName)
            Sha = Get-FileSha256Map -Root (Join-Path $source $Leaf)
        }
    }
    $script:Set = New-Case 'set'
    $script:Solo = New-Case 'solo.bin'
    $null = Start-OpenTracker -Workspace $Workspace -InfoHash $Set.InfoHash, $Solo.InfoHash -Port $TrackerPort
    $script:SetSeeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $Set.Torrent -SavePath $source -TimeoutSec 900 -LogDir $Workspace
    $script:SoloSeeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $Solo.Torrent -SavePath $source -TimeoutSec 900 -LogDir $Workspace

    # The links: only x.pe (no tracker), only tr (no peer), and neither.
    $script:ByPeer = "magnet:?xt=urn:btih:$($Set.InfoHash)&dn=set&x.pe=$($SetSeeder.EndPoint)"
    $script:ByTracker = "magnet:?xt=urn:btih:$($Set.InfoHash)&dn=set&tr=$([Uri]::EscapeDataString($Http))"
    $script:SoloByPeer = "magnet:?xt=urn:btih:$($Solo.InfoHash)&x.pe=$($SoloSeeder.EndPoint)"
    $script:DeadPort = Get-ClosedPort

    # Wait until opentracker lists the seeder, read with a plain HttpClient (not our code).
    $script:RawHttp = [System.Net.Http.HttpClient]::new()
    $RawHttp.Timeout = [TimeSpan]::FromSeconds(5)
    $RawHttp.DefaultRequestHeaders.ConnectionClose = $true
    Wait-Until -TimeoutSec 60 -Because 'libtorrent to announce to opentracker' -Condition {
        $escaped = -join ($Set.InfoHash -split '(..)' | Where-Object { $_ } | ForEach-Object { "%$_" })
        $text = [System.Text.Encoding]::Latin1.GetString($RawHttp.GetByteArrayAsync("http://127.0.0.1:$TrackerPort/scrape?info_hash=$escaped").GetAwaiter().GetResult())
        $text -match 'completei([1-9]\d*)e'
    }

    function New-Destination([string] $Name) {
        $path = Join-Path $Workspace ("dl-$Name-" + [Guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory -Path $path
        $path
    }

    function Assert-Downloaded([string] $Destination, $Case, [string[]] $Only) {
        $got = Get-FileSha256Map -Root (Join-Path $Destination $Case.Leaf)
        $keys = if ($Only) { $Only } else { @($Case.Sha.Keys) }
        foreach ($key in $keys) { $got[$key] | Should -BeExactly $Case.Sha[$key] -Because "$($Case.Leaf): $key" }
        if (-not $Only) { $got.Keys.Count | Should -Be $Case.Sha.Keys.Count -Because 'every file is there' }
    }

    # Information records the engine wrote for MetadataReceived events (tagged with the event kind).
    function Select-MetadataReceived($Records) { @($Records | Where-Object { $_.Tags -contains 'MetadataReceived' }) }
}

AfterAll {
    Stop-InteropProcess
    if ($script:RawHttp) { $RawHttp.Dispose() }
    if ($script:Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force }
}

Describe 'Malformed magnet links' {
    BeforeAll {
        $hex = '0123456789abcdef0123456789abcdef01234567'
        $script:BadLinks = @(
            @{ Link = 'magnet:?xt=urn:btih:zz'; Reason = 'InvalidInfoHash' }
            @{ Link = 'magnet:?dn=only-a-name&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce'; Reason = 'MissingInfoHash' }
            @{ Link = "magnet:?xt=urn:btih:$hex&dn=%ZZ"; Reason = 'InvalidPercentEncoding' }
            @{ Link = "magnet:?xt=urn:btih:$hex&xt=urn:btih:$('f' * 40)"; Reason = 'ConflictingInfoHashes' }
            @{ Link = 'magnet:'; Reason = 'NotAMagnetUri' }
            @{ Link = "magnet:?xt=urn:btmh:1220$('ab' * 32)"; Reason = 'MissingInfoHash' }   # v2 only: no v1 info-hash to use
        )
    }

    It '<Cmdlet> reports InvalidMagnetUri with the reason, for each malformed link, and writes nothing' -TestCases @(
        @{ Cmdlet = 'Start-TorrentDownload'; Type = 'StartTorrentDownloadCommand'; Run = { [CmdletBinding()] param($l, $d) Start-TorrentDownload $l -DestinationPath $d -TimeoutSec 5 } }
        @{ Cmdlet = 'Start-TorrentSeed'; Type = 'StartTorrentSeedCommand'; Run = { [CmdletBinding()] param($l, $d) Start-TorrentSeed $l -DataPath $d -Duration 00:00:05 } }
        @{ Cmdlet = 'Get-TorrentInfo'; Type = 'GetTorrentInfoCommand'; Run = { [CmdletBinding()] param($l, $d) Get-TorrentInfo $l -TimeoutSec 5 } }
        @{ Cmdlet = 'Get-TorrentPeer'; Type = 'GetTorrentPeerCommand'; Run = { [CmdletBinding()] param($l, $d) Get-TorrentPeer $l -TimeoutSec 5 } }
        @{ Cmdlet = 'Get-TorrentTracker'; Type = 'GetTorrentTrackerCommand'; Run = { [CmdletBinding()] param($l, $d) $l | Get-TorrentTracker -TimeoutSec 5 } }
        @{ Cmdlet = 'Save-TorrentFile'; Type = 'SaveTorrentFileCommand'; Run = { [CmdletBinding()] param($l, $d) Save-TorrentFile $l -OutFile $d -TimeoutSec 5 } }
        @{ Cmdlet = 'Invoke-PeerHandshake'; Type = 'InvokePeerHandshakeCommand'; Run = { [CmdletBinding()] param($l, $d) Invoke-PeerHandshake -InfoHash $l -Peer "127.0.0.1:$DeadPort" -TimeoutSec 5 } }
    ) {
        foreach ($case in $BadLinks) {
            $dest = New-Destination 'bad'
            $out = @(& $Run $case.Link $dest -ErrorVariable failed -ErrorAction SilentlyContinue)
            $out | Should -BeNullOrEmpty -Because $case.Link
            @($failed).Count | Should -Be 1 -Because "one error for $($case.Link)"
            $failed[0].FullyQualifiedErrorId | Should -Be "InvalidMagnetUri,BitTorrent.PowerShell.Commands.$Type" -Because $case.Link
            $failed[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failed[0].Exception | Should -BeOfType ([BitTorrent.Metainfo.MagnetUriException])
            "$($failed[0].Exception.Error)" | Should -Be $case.Reason -Because $case.Link
            $failed[0].TargetObject | Should -Be $case.Link
            @(Get-ChildItem -LiteralPath $dest -Force) | Should -HaveCount 0 -Because 'nothing is written for a bad link'
        }
    }

    It 'Invoke-PeerHandshake -TorrentPath with a malformed link is a terminating InvalidMagnetUri error' {
        { Invoke-PeerHandshake -TorrentPath 'magnet:?xt=urn:btih:zz' -TimeoutSec 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidMagnetUri,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
    }

    It 'one bad line in a piped list does not stop the good ones' {
        $list = Join-Path $Workspace 'mixed-links.txt'
        Set-Content -LiteralPath $list -Value 'magnet:?xt=urn:btih:zz', "magnet:?xt=urn:btih:$($Set.InfoHash)&x.pe=127.0.0.1:$DeadPort"
        $peers = @(Get-Content -LiteralPath $list | Get-TorrentPeer -ErrorVariable failed -ErrorAction SilentlyContinue)
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'InvalidMagnetUri,*'
        $peers.EndPoint | Should -Be "127.0.0.1:$DeadPort"
    }
}

Describe 'Strings that are magnet links, info-hashes or paths' {
    It 'binds links by position, piped from Get-Content, as MagnetUri objects and by -Path' {
        $link = "magnet:?xt=urn:btih:$($Set.InfoHash)&x.pe=127.0.0.1:$DeadPort"
        $list = Join-Path $Workspace 'links.txt'
        Set-Content -LiteralPath $list -Value $link
        foreach ($peers in @(
                @(Get-TorrentPeer $link)
                @(Get-Content -LiteralPath $list | Get-TorrentPeer)
                @([BitTorrent.Metainfo.MagnetUri]::Parse($link) | Get-TorrentPeer)
                @(Get-TorrentPeer -Path $link))) {
            @($peers).Count | Should -Be 1
            $peers[0].EndPoint | Should -Be "127.0.0.1:$DeadPort"
            $peers[0].InfoHash | Should -Be $Set.InfoHash
            $peers[0].Source | Should -Be 'magnet x.pe'
        }
    }

    It 'a base32 info-hash is the same torrent as its hex form' {
        $bytes = [Convert]::FromHexString($Set.InfoHash)
        $alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
        $bits = -join ($bytes | ForEach-Object { [Convert]::ToString($_, 2).PadLeft(8, '0') })
        $base32 = -join (0..31 | ForEach-Object { $alphabet[[Convert]::ToInt32($bits.Substring($_ * 5, 5), 2)] })
        $status = @(Get-TorrentTracker $base32 -Tracker $Http -TimeoutSec 10)
        $status.InfoHash | Should -Be $Set.InfoHash
        $status.Status | Should -Be 'Working'
    }

    It 'a file named like an info-hash is read as a .torrent file, not as an info-hash' {
        $folder = New-Destination 'hash-named'
        Copy-Item -LiteralPath $Solo.Torrent -Destination (Join-Path $folder $Set.InfoHash)
        Push-Location -LiteralPath $folder
        try { $t = Get-TorrentInfo $Set.InfoHash -TimeoutSec 5 -ErrorAction Stop }
        finally { Pop-Location }
        $t.InfoHash | Should -Be $Solo.InfoHash -Because 'the file (the solo torrent) was read'
    }

    It 'a path that does not exist is still a path error, and -LiteralPath never reads an info-hash' {
        $null = Get-TorrentInfo (Join-Path $Workspace 'missing.torrent') -ErrorVariable e1 -ErrorAction SilentlyContinue
        $e1[0].FullyQualifiedErrorId | Should -BeLike 'TorrentFileNotFound,*'
        Push-Location -LiteralPath $Workspace
        try { $null = Get-TorrentInfo -LiteralPath $Set.InfoHash -ErrorVariable e2 -ErrorAction SilentlyContinue }
        finally { Pop-Location }
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'TorrentFileNotFound,*'
    }

    It 'paths and links mixed in one pipeline are each what they are' {
        $infos = @($Solo.Torrent, $ByPeer | Get-TorrentInfo -NoTracker -TimeoutSec 30 -ErrorAction Stop)
        $infos.InfoHash | Should -Be @($Solo.InfoHash, $Set.InfoHash)
    }
}

Describe 'The tracker and handshake cmdlets with only a magnet link' {
    It 'Get-TorrentPeer asks the link''s trackers (tr) and finds the seeder' {
        $peers = @(Get-TorrentPeer $ByTracker -TimeoutSec 10 -ErrorAction Stop)
        $peers.EndPoint | Should -Contain $SetSeeder.EndPoint
        ($peers | Where-Object EndPoint -EQ $SetSeeder.EndPoint).Source | Should -Be $Http
        $peers.InfoHash | Sort-Object -Unique | Should -Be $Set.InfoHash
    }

    It 'Get-TorrentPeer takes a bare info-hash with -Tracker' {
        (Get-TorrentPeer $Set.InfoHash -Tracker $Http -TimeoutSec 10 -ErrorAction Stop).EndPoint | Should -Contain $SetSeeder.EndPoint
    }

    It 'Get-TorrentTracker reports the link''s tracker with its seeder; one without tr is NoTrackers' {
        $status = @(Get-TorrentTracker $ByTracker -TimeoutSec 10)
        $status.Count | Should -Be 1
        $status[0].Url | Should -Be $Http
        $status[0].Status | Should -Be 'Working'
        $status[0].InfoHash | Should -Be $Set.InfoHash
        $status[0].Seeders | Should -BeGreaterOrEqual 1
        $null = Get-TorrentTracker $Set.InfoHash -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -Be 'NoTrackers,BitTorrent.PowerShell.Commands.GetTorrentTrackerCommand'
        $failed[0].TargetObject | Should -BeOfType ([BitTorrent.Metainfo.MagnetUri])
    }

    It 'Invoke-PeerHandshake handshakes with the link''s x.pe peer, with its trackers'' peers, and with Get-TorrentPeer''s output' {
        # The tracker also lists whatever else announced this info-hash earlier in the file (our own downloads and
        # fetches, on ports that may be closed by now): those may fail to answer, each with a peer error of its own;
        # the seeder must answer, and no error may be about it.
        $trackerErrors = [System.Collections.Generic.List[object]]::new()
        $byTrackerPeers = @(Invoke-PeerHandshake -TorrentPath $ByTracker -TimeoutSec 10 -ErrorAction SilentlyContinue -ErrorVariable +trackerErrors)
        $piped = @(Get-TorrentPeer $ByTracker -TimeoutSec 10 -ErrorAction Stop | Invoke-PeerHandshake -TimeoutSec 10 -ErrorAction SilentlyContinue -ErrorVariable +trackerErrors)
        foreach ($e in $trackerErrors) {
            $e.FullyQualifiedErrorId | Should -Match '^(Peer|Handshake)' -Because "only other listed peers may fail: $e"
            $e.TargetObject | Should -Not -Be $SetSeeder.EndPoint -Because "the seeder answers: $e"
        }
        $sets = [ordered]@{
            'x.pe'              = @(Invoke-PeerHandshake -TorrentPath $ByPeer -TimeoutSec 10 -ErrorAction Stop)
            'tr'                = $byTrackerPeers
            '-Peer'             = @(Invoke-PeerHandshake -InfoHash $ByTracker -Peer $SetSeeder.EndPoint -TimeoutSec 10 -ErrorAction Stop)
            'Get-TorrentPeer |' = $piped
        }
        foreach ($name in $sets.Keys) {
            $results = $sets[$name]
            $seeder = @($results | Where-Object EndPoint -EQ $SetSeeder.EndPoint)
            $seeder.Count | Should -Be 1 -Because "$name finds the seeder once"
            $seeder[0].InfoHash | Should -Be $Set.InfoHash
            $seeder[0].SupportsExtensionProtocol | Should -BeTrue
            $seeder[0].MetadataSize | Should -Be $Set.Info.RawInfo.Length -Because 'libtorrent offers the metadata it has'
        }
    }
}

Describe 'Get-TorrentInfo and Save-TorrentFile fetch the metadata' {
    It 'Get-TorrentInfo returns the torrent the link names, from its x.pe peer only' {
        $t = Get-TorrentInfo $ByPeer -NoTracker -TimeoutSec 30 -InformationVariable events -ErrorAction Stop
        $t | Should -BeOfType ([BitTorrent.Metainfo.TorrentInfo])
        $t.InfoHash | Should -Be $Set.InfoHash
        $t.Name | Should -Be 'set'
        $t.PieceCount | Should -Be $Set.Info.PieceCount
        ($t.Files | ForEach-Object { "$($_.Path)=$($_.Length)" }) | Should -Be ($Set.Info.Files | ForEach-Object { "$($_.Path)=$($_.Length)" })
        (Select-MetadataReceived $events).Count | Should -Be 1
        [BitTorrent.Metainfo.MagnetUri]::Parse($t.MagnetUri).InfoHash | Should -Be $Set.InfoHash -Because 'its MagnetUri round-trips'
    }

    It 'Get-TorrentInfo finds the metadata through the link''s tracker only' {
        $t = Get-TorrentInfo $ByTracker -TimeoutSec 30 -ErrorAction Stop
        $t.InfoHash | Should -Be $Set.InfoHash
        $t.Trackers | Should -Be @($Http) -Because 'the link''s trackers are the torrent''s'
    }

    It 'Save-TorrentFile writes a .torrent that libtorrent reads with the same info-hash' {
        $folder = New-Destination 'save'
        $file = Save-TorrentFile $ByTracker -OutFile $folder -TimeoutSec 30 -ErrorAction Stop
        $file | Should -BeOfType ([System.IO.FileInfo])
        $file.FullName | Should -Be (Join-Path $folder 'set.torrent')
        Get-ReferenceInfoHash $file.FullName | Should -Be $Set.InfoHash
        (Get-TorrentInfo -LiteralPath $file.FullName).Trackers | Should -Be @($Http)
        @(Get-ChildItem -LiteralPath $folder -Force).Name | Should -Be @('set.torrent') -Because 'no temporary file is left'
    }

    It 'Save-TorrentFile -WhatIf contacts no peer and writes nothing; an existing file needs -Force' {
        $folder = New-Destination 'save-whatif'
        $null = Save-TorrentFile $ByPeer -OutFile $folder -WhatIf -InformationVariable events
        @(Get-ChildItem -LiteralPath $folder -Force) | Should -HaveCount 0
        (Select-MetadataReceived $events).Count | Should -Be 0
        $target = Join-Path $folder 'mine.torrent'
        Set-Content -LiteralPath $target -Value 'not a torrent'
        $null = Save-TorrentFile $ByPeer -OutFile $target -NoTracker -ErrorVariable failed -ErrorAction SilentlyContinue -InformationVariable events
        $failed[0].FullyQualifiedErrorId | Should -Be 'OutFileExists,BitTorrent.PowerShell.Commands.SaveTorrentFileCommand'
        (Select-MetadataReceived $events).Count | Should -Be 0 -Because 'the check comes before the fetch'
        (Save-TorrentFile $ByPeer -OutFile $target -NoTracker -Force -TimeoutSec 30 -ErrorAction Stop).FullName | Should -Be $target
        Get-ReferenceInfoHash $target | Should -Be $Set.InfoHash
    }

    It 'the fetch goes through -Proxy, never around it: a dead proxy is ProxyConnectFailed' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $out = @(Get-TorrentInfo $ByPeer -NoTracker -Proxy "socks5://127.0.0.1:$DeadPort" -TimeoutSec 10 -InformationVariable events -ErrorVariable failed -ErrorAction SilentlyContinue)
        $out | Should -BeNullOrEmpty
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'ProxyConnectFailed,BitTorrent.PowerShell.Commands.GetTorrentInfoCommand'
        (Select-MetadataReceived $events).Count | Should -Be 0
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 60
        { Save-TorrentFile $ByPeer -Proxy 'ftp://127.0.0.1:1' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidProxy,BitTorrent.PowerShell.Commands.SaveTorrentFileCommand'
    }

    It 'Save-TorrentFile writes a TorrentInfo it is given' {
        $folder = New-Destination 'save-object'
        $file = $Solo.Info | Save-TorrentFile -OutFile $folder -ErrorAction Stop
        Get-ReferenceInfoHash $file.FullName | Should -Be $Solo.InfoHash
    }
}

Describe 'Start-TorrentDownload from a magnet link' {
    It 'downloads from the link''s x.pe peer alone, keeps the metadata, and a resumed run does not fetch it again' {
        $dest = New-Destination 'xpe'
        $r = Start-TorrentDownload $ByPeer -DestinationPath $dest -NoTracker -TimeoutSec 30 -InformationVariable first -ErrorAction Stop
        $r.Status | Should -Be 'Completed'
        Assert-Downloaded $dest $Set
        (Select-MetadataReceived $first).Count | Should -Be 1
        $kept = Join-Path $dest ".bittorrent/$($Set.InfoHash).torrent"
        Get-ReferenceInfoHash $kept | Should -Be $Set.InfoHash

        # Again, with the only peer a closed port: a fetch could not succeed, so completing proves the kept metadata was used.
        $again = "magnet:?xt=urn:btih:$($Set.InfoHash)&x.pe=127.0.0.1:$DeadPort"
        $r2 = Start-TorrentDownload $again -DestinationPath $dest -NoTracker -TimeoutSec 10 -InformationVariable second -ErrorAction Stop
        $r2.Status | Should -Be 'Completed'
        $r2.BytesDownloaded | Should -Be 0
        (Select-MetadataReceived $second).Count | Should -Be 0
        Assert-Downloaded $dest $Set

        # Tab completion of -Include knows the link's files from the kept metadata.
        $line = "Start-TorrentDownload '$again' -DestinationPath '$dest' -Include "
        $completions = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText)
        $completions | Should -Contain 'a.bin'
        $completions | Should -Contain 'b/c.bin'

        # Test-Torrent reads the kept metadata too, and never asks the swarm for it.
        (Test-Torrent $again -DataPath $dest -ErrorAction Stop).IsComplete | Should -BeTrue
        $null = Test-Torrent $again -DataPath (New-Destination 'empty') -ErrorVariable missing -ErrorAction SilentlyContinue
        $missing[0].FullyQualifiedErrorId | Should -Be 'MetadataNotFound,BitTorrent.PowerShell.Commands.TestTorrentCommand'
    }

    It 'downloads through the link''s tracker (tr) alone' {
        $dest = New-Destination 'tr'
        $r = Start-TorrentDownload $ByTracker -DestinationPath $dest -TimeoutSec 30 -ErrorAction Stop
        $r.Status | Should -Be 'Completed'
        Assert-Downloaded $dest $Set
    }

    It 'downloads every link piped from a text file (Get-Content), alongside a .torrent path' {
        $dest = New-Destination 'list'
        $list = Join-Path $Workspace 'download-links.txt'
        Set-Content -LiteralPath $list -Value $ByPeer, $SoloByPeer
        $results = @(Get-Content -LiteralPath $list | Start-TorrentDownload -DestinationPath $dest -NoTracker -TimeoutSec 30 -ErrorAction Stop)
        $results.Status | Should -Be @('Completed', 'Completed')
        Assert-Downloaded $dest $Set
        Assert-Downloaded $dest $Solo
    }

    It 'downloads only the files the link selects (BEP 53 so=)' {
        $dest = New-Destination 'so'
        $wanted = @($Set.Info.Files[0], $Set.Info.Files[2])
        $skipped = $Set.Info.Files[1]
        $r = Start-TorrentDownload "$ByPeer&so=0,2" -DestinationPath $dest -NoTracker -TimeoutSec 30 -ErrorAction Stop
        $r.Status | Should -Be 'Completed'
        Assert-Downloaded $dest $Set -Only ($wanted | ForEach-Object { $_.Path.Substring('set/'.Length) })
        Test-Path -LiteralPath (Join-Path $dest $skipped.SanitizedPath) | Should -BeFalse -Because "$($skipped.Path) is not selected"
    }

    It 'a link that finds no peer ends with NoPeersAvailable after -TimeoutSec' {
        $dest = New-Destination 'nobody'
        $unknown = 'magnet:?xt=urn:btih:' + ('5a' * 20) + "&x.pe=127.0.0.1:$DeadPort"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $out = @(Start-TorrentDownload $unknown -DestinationPath $dest -NoTracker -TimeoutSec 3 -ErrorVariable failed -ErrorAction SilentlyContinue)
        $clock.Stop()
        $out | Should -BeNullOrEmpty
        @($failed).Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'NoPeersAvailable,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand'
        $failed[0].TargetObject | Should -BeOfType ([BitTorrent.Metainfo.MagnetUri])
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 2.5
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 60 -Because 'the timeout bounds it'
        Test-Path -LiteralPath (Join-Path $dest ".bittorrent/$('5a' * 20).torrent") | Should -BeFalse

        $null = Get-TorrentInfo $unknown -NoTracker -TimeoutSec 3 -ErrorVariable failedInfo -ErrorAction SilentlyContinue
        $failedInfo[0].FullyQualifiedErrorId | Should -Be 'NoPeersAvailable,BitTorrent.PowerShell.Commands.GetTorrentInfoCommand'
    }

    It '-WhatIf contacts no peer and writes nothing' {
        $dest = New-Destination 'whatif'
        $null = Start-TorrentDownload $ByPeer -DestinationPath $dest -NoTracker -WhatIf -InformationVariable events
        @(Get-ChildItem -LiteralPath $dest -Force) | Should -HaveCount 0
        (Select-MetadataReceived $events).Count | Should -Be 0
    }
}

Describe 'Start-TorrentSeed from a magnet link' {
    It 'seeds data on disk using the kept metadata, and a downloader gets the metadata and the data from it' {
        $data = New-Destination 'seed-data'
        $null = Start-TorrentDownload $ByPeer -DestinationPath $data -NoTracker -TimeoutSec 30 -ErrorAction Stop
        $port = Get-FreePort
        $job = Start-TorrentSeed "magnet:?xt=urn:btih:$($Set.InfoHash)" -DataPath $data -NoTracker -Port $port -ListenAddress 127.0.0.1 -Duration 00:02:00 -AsJob
        try {
            Wait-Until -TimeoutSec 60 -Because 'the magnet seed to listen' -Condition {
                if ($job.State -in 'Failed', 'Completed', 'Stopped') { throw "the seed job ended: $($job.State) $(Receive-Job $job -Keep 2>&1)" }
                Test-TcpPort -Port $port
            }
            $dest = New-Destination 'from-our-seed'
            $r = Start-TorrentDownload "magnet:?xt=urn:btih:$($Set.InfoHash)&x.pe=127.0.0.1:$port" -DestinationPath $dest -NoTracker -TimeoutSec 30 -InformationVariable events -ErrorAction Stop
            $r.Status | Should -Be 'Completed'
            Assert-Downloaded $dest $Set
            (Select-MetadataReceived $events).Count | Should -Be 1 -Because 'the metadata came from our seeder'
        }
        finally {
            $job | Stop-Job
            $job | Remove-Job -Force
        }
    }
}

Describe 'Stopping while the metadata is being fetched' {
    BeforeAll {
        # No peer will ever send it: the only one named is a closed port, and no tracker is asked.
        $script:Never = 'magnet:?xt=urn:btih:' + ('c3' * 20) + "&x.pe=127.0.0.1:$DeadPort"
    }

    It '<Cmdlet> shows a "Fetching metadata" progress record and stops promptly when the pipeline is stopped' -TestCases @(
        @{ Cmdlet = 'Get-TorrentInfo'; Script = { param($Link) Get-TorrentInfo $Link -NoTracker -TimeoutSec 300 } }
        @{ Cmdlet = 'Start-TorrentDownload'; Script = { param($Link, $Dest) Start-TorrentDownload $Link -DestinationPath $Dest -NoTracker -TimeoutSec 300 } }
    ) {
        $bg = Start-BackgroundCommand -Script $Script -Arguments @{ Link = $Never; Dest = (New-Destination 'stop') }
        try {
            Wait-Until -TimeoutSec 30 -Because 'the fetch to show its progress' -Condition {
                @($bg.PowerShell.Streams.Progress | Where-Object { $_.Activity -like 'Fetching metadata*' }).Count -gt 0
            }
            $bg.Handle.IsCompleted | Should -BeFalse
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $bg.PowerShell.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
            $bg.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $null = Stop-BackgroundCommand $bg -Stop }
    }

    It 'a download job from a link completes, and one still fetching stops on Stop-Job' {
        $dest = New-Destination 'job'
        $job = Start-TorrentDownload $ByPeer -DestinationPath $dest -NoTracker -TimeoutSec 60 -AsJob
        $stuck = Start-TorrentDownload $Never -DestinationPath (New-Destination 'job-stuck') -NoTracker -TimeoutSec 300 -AsJob
        try {
            $null = Wait-Job $job -Timeout 120
            $job.State | Should -Be 'Completed'
            (Receive-Job $job).Status | Should -Be 'Completed'
            Assert-Downloaded $dest $Set

            Wait-Until -TimeoutSec 30 -Because 'the stuck job to be fetching' -Condition {
                @($stuck.Progress | Where-Object { $_.Activity -like 'Fetching metadata*' }).Count -gt 0
            }
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $stuck | Stop-Job
            $null = Wait-Job $stuck -Timeout 30
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
            $stuck.State | Should -Be 'Stopped'
            @($stuck.Error) | Should -HaveCount 0 -Because 'a stop is not a failure'
        }
        finally { $job, $stuck | Remove-Job -Force }
    }

    It 'Suspend-TorrentJob stops a metadata fetch (its connection closes) and Resume-TorrentJob starts it again' {
        # A "peer" that accepts and never answers: the fetch waits on it, so the suspend finds it fetching.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
        $job = Start-TorrentDownload ('magnet:?xt=urn:btih:' + ('d4' * 20) + "&x.pe=127.0.0.1:$port") -DestinationPath (New-Destination 'suspend') -NoTracker -TimeoutSec 300 -AsJob
        $accepted = @()
        try {
            $first = $listener.AcceptTcpClientAsync()
            $first.Wait(30000) | Should -BeTrue -Because 'the fetch dials the x.pe peer'
            $accepted += $first.Result
            $null = Suspend-TorrentJob $job
            $job.State | Should -Be 'Suspended'
            # The suspend closes the fetch's connection: the peer reads until the end of the stream (FIN) or a reset
            # (RST: the fetch aborts its socket, and our handshake may still be unread here) — either is a close. Bounded.
            $stream = $first.Result.GetStream()
            $buffer = [byte[]]::new(4096)
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $closed = $false
            while (-not $closed -and $clock.Elapsed.TotalSeconds -lt 30) {
                $read = $stream.ReadAsync($buffer, 0, $buffer.Length)
                try { $null = $read.Wait(30000) } catch { }
                if (-not $read.IsCompleted) { break }
                $closed = $read.IsFaulted -or $read.Result -eq 0
            }
            $closed | Should -BeTrue -Because 'the connection closes after the suspend'

            $null = Resume-TorrentJob $job
            $second = $listener.AcceptTcpClientAsync()
            $second.Wait(30000) | Should -BeTrue -Because 'the resumed job fetches again'
            $accepted += $second.Result
            $job.State | Should -Be 'Running'
        }
        finally {
            $job | Stop-Job
            $job | Remove-Job -Force
            $accepted | ForEach-Object { $_.Dispose() }
            $listener.Stop()
        }
    }
}
