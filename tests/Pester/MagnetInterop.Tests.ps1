<#
    Start-TorrentDownload from a magnet link alone, against each real client as the only seeder: python3-libtorrent,
    qbittorrent-nox, transmission-daemon, aria2c and webtorrent (Node; tests/node/webtorrent-seed.mjs). Each seeds its
    own payload (its own info-hash, torrents made by mktorrent) and announces to one opentracker on 127.0.0.1 that whitelists them all, so a link
    reaches exactly one client:

      x.pe   magnet:?xt=urn:btih:<hash>&x.pe=<client>   -NoTracker: the metadata and the data from that peer only
      tr     magnet:?xt=urn:btih:<hash>&tr=<opentracker>  no peer named: the tracker says who has it

    The metadata (BEP 9 ut_metadata) comes from the client, is checked against the info-hash, and every file's sha256
    is compared with the source. DHT, LSD, PEX, UPnP and NAT-PMP are off in every client; traffic stays on 127.0.0.1.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'magnet-interop'
    $script:TrackerPort = Get-FreePort -Udp
    $script:Http = "http://127.0.0.1:$TrackerPort/announce"
    $torrents = Join-Path $Workspace 'torrents'
    $null = New-Item -ItemType Directory -Path $torrents
    $script:Source = Join-Path $Workspace 'source'

    # One payload per client: a folder with two files, sizes that do not fill their last 64 KiB piece.
    $script:Cases = [ordered]@{}
    $seed = 100
    foreach ($client in 'libtorrent', 'qbittorrent', 'transmission', 'aria2', 'webtorrent') {
        $leaf = "$client-set"
        $null = New-TestPayload -Root $Source -Layout ([ordered]@{ "$leaf/first.bin" = 300001; "$leaf/sub/second.bin" = 900007 }) -Seed ($seed += 10)
        $t = New-MkTorrent -SourcePath (Join-Path $Source $leaf) -OutFile (Join-Path $torrents "$leaf.torrent") -Announce $Http -PieceSizeLog2 16
        $Cases[$client] = [pscustomobject]@{
            Client = $client; Leaf = $leaf; Sha = Get-FileSha256Map -Root (Join-Path $Source $leaf)
            Torrent = $t.FullName; InfoHash = Get-ReferenceInfoHash $t.FullName; EndPoint = $null
        }
    }

    $null = Start-OpenTracker -Workspace $Workspace -InfoHash @($Cases.Values.InfoHash) -Port $TrackerPort
    # webtorrent checks the data against mktorrent's torrent, then seeds it and announces to its tracker.
    $wtPort = Get-FreePort
    $node = (Get-Command node -CommandType Application | Select-Object -First 1).Source
    $script:WebTorrent = Start-InteropProcess -FilePath $node -LogDir $Workspace -Name "webtorrent-$wtPort" -ArgumentList @(
        (Join-Path $PSScriptRoot '../node/webtorrent-seed.mjs'), $Source, $wtPort, '--torrent', $Cases.webtorrent.Torrent, '--seconds', 900)
    Wait-Until -TimeoutSec 60 -Because 'webtorrent to check the data and seed' -Condition {
        if ($WebTorrent.HasExited) { throw "webtorrent-seed.mjs exited: $(Read-InteropLog $WebTorrent -StdErr)" }
        (Read-InteropLog $WebTorrent) -match '(?m)^ready '
    }
    $ready = ((Read-InteropLog $WebTorrent) -split "`n" | Where-Object { $_ -like 'ready *' } | Select-Object -First 1).Substring(6) | ConvertFrom-Json
    if ($ready.infoHash -ne $Cases.webtorrent.InfoHash) { throw "webtorrent seeds $($ready.infoHash), not $($Cases.webtorrent.InfoHash)" }
    $Cases.webtorrent.EndPoint = "127.0.0.1:$wtPort"
    $Cases.libtorrent.EndPoint = (Start-LibtorrentPeer -Mode Seed -TorrentPath $Cases.libtorrent.Torrent -SavePath $Source -TimeoutSec 900 -LogDir $Workspace).EndPoint
    $Cases.qbittorrent.EndPoint = (Start-QBittorrentSeeder -TorrentPath $Cases.qbittorrent.Torrent -DataDir $Source -Workspace $Workspace).EndPoint
    $Cases.transmission.EndPoint = (Start-TransmissionSeeder -TorrentPath $Cases.transmission.Torrent -DataDir $Source -Workspace $Workspace).EndPoint
    $Cases.aria2.EndPoint = (Start-Aria2Seeder -TorrentPath $Cases.aria2.Torrent -DataDir $Source -LogDir $Workspace).EndPoint

    # Every client announced (opentracker's scrape, read with a plain HttpClient, not our code).
    $script:RawHttp = [System.Net.Http.HttpClient]::new()
    $RawHttp.Timeout = [TimeSpan]::FromSeconds(5)
    $RawHttp.DefaultRequestHeaders.ConnectionClose = $true
    function Get-SeederCount([string] $InfoHash) {
        $escaped = -join ($InfoHash -split '(..)' | Where-Object { $_ } | ForEach-Object { "%$_" })
        $text = [System.Text.Encoding]::Latin1.GetString($RawHttp.GetByteArrayAsync("http://127.0.0.1:$TrackerPort/scrape?info_hash=$escaped").GetAwaiter().GetResult())
        if ($text -match 'completei(\d+)e') { [int]$Matches[1] } else { 0 }
    }
    Wait-Until -TimeoutSec 90 -Because 'every seeder to announce' -Condition {
        @($Cases.Values | Where-Object { (Get-SeederCount $_.InfoHash) -lt 1 }).Count -eq 0
    }

    function New-Destination([string] $Name) {
        $path = Join-Path $Workspace ("dl-$Name-" + [Guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory -Path $path
        $path
    }

    function Assert-Downloaded([string] $Destination, $Case) {
        $got = Get-FileSha256Map -Root (Join-Path $Destination $Case.Leaf)
        $got.Keys.Count | Should -Be $Case.Sha.Keys.Count -Because "every file of $($Case.Leaf) is there"
        foreach ($key in $Case.Sha.Keys) { $got[$key] | Should -BeExactly $Case.Sha[$key] -Because "$($Case.Client): $key" }
    }
}

AfterAll {
    Stop-InteropProcess
    if ($script:RawHttp) { $RawHttp.Dispose() }
    if ($script:Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force }
}

Describe 'Start-TorrentDownload from a magnet link, with one real client as the only seeder' -Tag 'Interop' {
    It 'gets the metadata and the data from <Client> named only in x.pe' -TestCases @(
        @{ Client = 'libtorrent' }, @{ Client = 'qbittorrent' }, @{ Client = 'transmission' }, @{ Client = 'aria2' }, @{ Client = 'webtorrent' }
    ) {
        $case = $Cases[$Client]
        $dest = New-Destination "$Client-xpe"
        $link = "magnet:?xt=urn:btih:$($case.InfoHash)&x.pe=$($case.EndPoint)"
        $r = Start-TorrentDownload $link -DestinationPath $dest -NoTracker -TimeoutSec 60 -InformationVariable events -ErrorAction Stop
        $r.Status | Should -Be 'Completed'
        Assert-Downloaded $dest $case
        @($events | Where-Object { $_.Tags -contains 'MetadataReceived' }).Count | Should -Be 1
        Get-ReferenceInfoHash (Join-Path $dest ".bittorrent/$($case.InfoHash).torrent") | Should -Be $case.InfoHash
    }

    It 'finds <Client> through the link''s tracker only (tr), and downloads from it' -TestCases @(
        @{ Client = 'libtorrent' }, @{ Client = 'qbittorrent' }, @{ Client = 'transmission' }, @{ Client = 'aria2' }, @{ Client = 'webtorrent' }
    ) {
        $case = $Cases[$Client]
        $dest = New-Destination "$Client-tr"
        $link = "magnet:?xt=urn:btih:$($case.InfoHash)&tr=$([Uri]::EscapeDataString($Http))"
        $r = Start-TorrentDownload $link -DestinationPath $dest -TimeoutSec 60 -ErrorAction Stop
        $r.Status | Should -Be 'Completed'
        Assert-Downloaded $dest $case
    }
}
