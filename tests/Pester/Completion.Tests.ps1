<#
    Tab completion, through TabExpansion2 as the console calls it: -PieceSize, -Include/-Exclude and -Tracker from the
    torrent bound on the command line (-Path, -LiteralPath, -Torrent), and -Peer from the session's last
    Get-TorrentPeer (a tracker on 127.0.0.1 that this file serves itself).
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/TorrentFiles.psm1') -Force
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "bt-completion-$PID"
    $null = New-Item -ItemType Directory -Force -Path $Work
    $script:Files = [ordered]@{
        'disc 1/track one.flac' = [byte[]](1..50)
        'disc 1/cover[1].jpg'   = [byte[]](1..20)
        "it's.txt"              = [byte[]](1..10)
        'train/a.bin'           = [byte[]](1..30)
        'readme.txt'            = [byte[]](1..5)
        "evil`e[31mred.txt"     = [byte[]](1..5)
    }
    $script:Torrent = New-TestTorrent -Path (Join-Path $Work 'album.torrent') -Name 'album' -Files $Files `
        -AnnounceList @(@('udp://127.0.0.1:1/announce', 'http://127.0.0.1:2/announce?a=1&b=2'), @('https://127.0.0.1:3/announce'))
    # Relative paths on the completed command lines resolve against the current location, as in a console.
    $script:PreviousLocation = Get-Location
    Set-Location -LiteralPath $Work

    function script:Complete([string] $Line) {
        # What the console offers at the end of $Line: the completion texts, in order.
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
    }
}

AfterAll {
    Set-Location -LiteralPath $PreviousLocation
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'New-Torrent -PieceSize' {
    It 'offers Auto and every power of two New-Torrent accepts, each of which New-Torrent takes' {
        $offered = Complete 'New-Torrent -PieceSize '
        $offered | Should -Be @('Auto', '16KB', '32KB', '64KB', '128KB', '256KB', '512KB', '1MB', '2MB', '4MB', '8MB', '16MB', '32MB', '64MB', '128MB', '256MB')
        $source = Join-Path $Work 'piece.bin'
        [IO.File]::WriteAllBytes($source, [byte[]]::new(40000))
        foreach ($size in '16KB', '1MB', '256MB') {
            $t = New-Torrent -LiteralPath $source -OutFile (Join-Path $Work "piece-$size.torrent") -PieceSize $size -Force
            $t.PieceLength | Should -Be ([long](Invoke-Expression $size))
        }
    }

    It 'narrows to what was typed, case-insensitively' {
        Complete 'New-Torrent -PieceSize 1' | Should -Be @('16KB', '128KB', '1MB', '16MB', '128MB')
        Complete 'New-Torrent -PieceSize au' | Should -Be @('Auto')
    }
}

Describe 'Start-TorrentDownload -Include and -Exclude' {
    It 'offers the paths and folders of the torrent given by -Path, quoted and wildcard-escaped' {
        $offered = Complete 'Start-TorrentDownload ./album.torrent -Include '
        $offered | Should -Contain "'disc 1/*'"
        $offered | Should -Contain 'train/*'
        $offered | Should -Contain "'disc 1/track one.flac'"
        $offered | Should -Contain "'disc 1/cover``[1``].jpg'"
        $offered | Should -Contain "'it''s.txt'"
        $offered | Should -Contain 'readme.txt'
    }

    It 'never offers a name with control characters' {
        @(Complete 'Start-TorrentDownload ./album.torrent -Include ' | Where-Object { $_ -match 'evil|\p{Cc}' }) | Should -BeNullOrEmpty
    }

    It 'narrows by what was typed, from -LiteralPath, and for -Exclude too' {
        Complete 'Start-TorrentDownload -LiteralPath ./album.torrent -Include tr' | Should -Be @('train/*', 'train/a.bin')
        Complete "Start-TorrentDownload -LiteralPath $Work/album.torrent -Exclude 'disc 1/c" | Should -Be @("'disc 1/cover``[1``].jpg'")
    }

    It 'matches a typed wildcard pattern against the paths' {
        Complete 'Start-TorrentDownload ./album.torrent -Include *.txt' | Should -Be @("'it''s.txt'", 'readme.txt')
    }

    It 'reads the torrent from a -Torrent variable' {
        $global:CompletionTorrent = Get-TorrentInfo -LiteralPath $Torrent.Path
        try { Complete 'Start-TorrentDownload -Torrent $CompletionTorrent -Include read' | Should -Be @('readme.txt') }
        finally { Remove-Variable -Name CompletionTorrent -Scope Global }
    }

    It 'a completed path selects exactly that file' {
        $pattern = @(Complete "Start-TorrentDownload ./album.torrent -Include 'disc 1/co")[0]
        $value = Invoke-Expression $pattern
        $info = Get-TorrentInfo -LiteralPath $Torrent.Path
        @($info.Files | Where-Object { $_.Path -like $value }).Path | Should -Be @('disc 1/cover[1].jpg')
    }

    It 'offers nothing, and throws nothing, without a readable torrent' {
        Complete 'Start-TorrentDownload ./missing.torrent -Include ' | Should -BeNullOrEmpty
        [IO.File]::WriteAllText((Join-Path $Work 'broken.torrent'), 'd4:info')
        Complete 'Start-TorrentDownload ./broken.torrent -Include ' | Should -BeNullOrEmpty
    }
}

Describe '-Tracker' {
    It "offers the bound torrent's trackers in tier order, quoted where needed, on <_>" -ForEach @('Get-TorrentPeer', 'Get-TorrentTracker', 'Start-TorrentDownload', 'Start-TorrentSeed') {
        Complete "$_ ./album.torrent -Tracker " |
            Should -Be @('udp://127.0.0.1:1/announce', "'http://127.0.0.1:2/announce?a=1&b=2'", 'https://127.0.0.1:3/announce')
        Complete "$_ -LiteralPath ./album.torrent -Tracker http" |
            Should -Be @("'http://127.0.0.1:2/announce?a=1&b=2'", 'https://127.0.0.1:3/announce')
    }
}

Describe '-Peer' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/StaticTracker.psm1') -Force
        $script:Tracker = Start-StaticTracker -Peer '127.0.0.1:6881', '127.0.0.2:6882'
        $script:SwarmTorrent = New-TestTorrent -Path (Join-Path $Work 'swarm.torrent') -Name 'swarm' -SingleFile `
            -Files ([ordered]@{ 'swarm.bin' = [byte[]](1..100) }) -Announce $Tracker.Url
    }

    AfterAll {
        Stop-StaticTracker $Tracker
    }

    It 'offers the peers the last Get-TorrentPeer found, on Invoke-PeerHandshake, Start-TorrentDownload and Start-TorrentSeed' {
        $found = @(Get-TorrentPeer -LiteralPath $SwarmTorrent.Path -TimeoutSec 10)
        @($found.EndPoint | Sort-Object) | Should -Be @('127.0.0.1:6881', '127.0.0.2:6882')
        # Newest first: other test files of the same run may have found peers before, and those come after.
        foreach ($line in 'Invoke-PeerHandshake -InfoHash 00 -Peer ', 'Start-TorrentDownload ./swarm.torrent -Peer ', 'Start-TorrentSeed ./swarm.torrent -Peer ') {
            @(Complete $line | Select-Object -First 2 | Sort-Object) | Should -Be @('127.0.0.1:6881', '127.0.0.2:6882') -Because $line
        }
        @(Complete 'Invoke-PeerHandshake -InfoHash 00 -Peer 127.0.0.2:68')[0] | Should -Be '127.0.0.2:6882'
        Complete 'Invoke-PeerHandshake -InfoHash 00 -Peer 127.0.0.2:69' | Should -BeNullOrEmpty
    }
}
