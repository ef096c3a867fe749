<#
    A download among hostile peers (TestSupport/HostilePeer.ps1, one child pwsh each) and two honest, slow seeders
    (python3-libtorrent and aria2c, 512 KiB/s each, so the download lasts long enough for the hostile ones to act).
    The download runs in a child pwsh (TestSupport/Invoke-DownloadChild.ps1) that reports its peak resident memory.

    It must complete with the right data, ban the liars (and only them), drop the peers that break the protocol,
    ignore what nobody asked for, stay within a memory bound, and never hang. With only hostile peers it must give up
    with NoPeersAvailable in bounded time.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Hostile.psm1') -Force

    # The child pwsh that downloads may use at most this much memory (peak resident set, VmHWM). pwsh itself takes
    # about 100 MB; the engine's bounds add at most 32 MiB of pieces in flight, 8 MiB awaiting their check and a
    # 64 KiB receive buffer per peer.
    $script:MemoryBoundBytes = 300MB

    $script:Workspace = New-InteropWorkspace -Name 'hostile-peers'
    $source = Join-Path $Workspace 'source'
    $script:DataFile = Join-Path $source 'payload.bin'
    # 129 pieces of 64 KiB (4 blocks each): not a multiple of 8, so a bitfield has spare bits.
    $null = New-RandomFile -Path $DataFile -SizeBytes (8MB + 20000) -Seed 81
    $script:TorrentPath = (New-MkTorrent -SourcePath $DataFile -OutFile (Join-Path $Workspace 'payload.torrent') -PieceSizeLog2 16).FullName
    $script:Info = Get-TorrentInfo -LiteralPath $TorrentPath
    $script:SourceHash = (Get-FileHash -LiteralPath $DataFile -Algorithm SHA256).Hash

    $script:Honest = @(
        Start-LibtorrentPeer -Mode Seed -TorrentPath $TorrentPath -SavePath $source -NoTracker -LogDir $Workspace -UploadLimit 512KB
        Start-Aria2Seeder -TorrentPath $TorrentPath -DataDir $source -LogDir $Workspace -UploadLimit 512KB
    )
    $script:Hostile = [ordered]@{}
    foreach ($mode in 'Liar', 'MixedLiar', 'Injector', 'Oversized', 'OutOfRange', 'Flood', 'Slowloris', 'Disconnect') {
        $Hostile[$mode] = Start-HostilePeer -Torrent $Info -Mode $mode -LogDir $Workspace -DataPath $DataFile -DurationSec 900
    }

    $destination = Join-Path $Workspace 'dl-mixed'
    $peers = @($Hostile.Values.EndPoint) + @($Honest.EndPoint)
    $script:Report = Invoke-DownloadChild -TorrentPath $TorrentPath -DestinationPath $destination -LogDir $Workspace -Peer $peers `
        -TimeoutSec 60 -WaitSec 240 -Name 'download-mixed'
    $script:DownloadedFile = Join-Path $destination 'payload.bin'
    # What the download said: bans and hash failures are warnings, the rest verbose.
    $script:Lines = @($Report.Verbose) + @($Report.Warnings)

    # Lines written from engine events read "payload.bin: [Kind/Reason:ProtocolError @peer] sentence": the bracket is
    # made of the event's enum names and its Peer field, so tests match on it and never on the sentence.
    # -Tag is a regex for what precedes " @peer]" (escape '[' yourself); -EndPoint limits to one peer (exact).
    # Always an array (a single line returned bare would make '.Count' and '-match' misbehave).
    function Get-TaggedLines([string] $Tag, [string] $EndPoint) {
        $peer = if ($EndPoint) { ' @' + [regex]::Escape($EndPoint) } else { '(?: @[^\]]+)?' }
        , @($Lines -match "^payload\.bin: \[$Tag$peer\] ")
    }
    function Get-HostileLog([string] $Mode) { Read-InteropLog $Hostile[$Mode] }
}

AfterAll {
    Stop-InteropProcess
}

Describe 'Start-TorrentDownload among hostile peers' -Tag 'Interop' {
    It 'completes from the honest peers with the right data, within the timeout' {
        $Report.Killed | Should -BeFalse -Because 'the download ends by itself'
        $Report.Errors | ForEach-Object { "$($_.Id): $($_.Message)" } | Should -BeNullOrEmpty
        $Report.Status | Should -Be 'Completed' -Because "$($Report.Message) $($Report.StdErr)"
        (Get-FileHash -LiteralPath $DownloadedFile -Algorithm SHA256).Hash | Should -BeExactly $SourceHash
        $Report.Seconds | Should -BeLessThan 90
    }

    It "keeps the downloading process's memory under the bound (peak resident set)" {
        $Report.PeakWorkingSetBytes | Should -BeGreaterThan 0
        $Report.PeakWorkingSetBytes | Should -BeLessThan $MemoryBoundBytes -Because "peak was $([int]($Report.PeakWorkingSetBytes / 1MB)) MiB"
    }

    It 'bans the liar, counts the hash failure, and bans no honest peer' {
        $Report.HashFailures | Should -BeGreaterOrEqual 1
        (Get-TaggedLines 'PeerBanned/(?:Banned|SmartBanned)' $Hostile.Liar.EndPoint) | Should -Not -BeNullOrEmpty
        (Get-TaggedLines 'HashFailed') | Should -Not -BeNullOrEmpty
        (Get-HostileLog Liar) | Should -Match 'bad block'
        foreach ($h in $Honest) { (Get-TaggedLines 'PeerBanned/[A-Za-z]+' $h.EndPoint) | Should -BeNullOrEmpty -Because "$($h.EndPoint) is honest" }
    }

    It 'tells a liar that shares pieces with honest peers apart from them (smart ban)' {
        # SmartBanned: a piece it shared with other peers failed, and its block differed from the piece once verified
        # (a piece that failed with several senders is a HashFailed too; smart ban needs one to act).
        (Get-TaggedLines 'HashFailed') | Should -Not -BeNullOrEmpty
        (Get-TaggedLines 'PeerBanned/SmartBanned' $Hostile.MixedLiar.EndPoint) | Should -Not -BeNullOrEmpty
        foreach ($h in $Honest) { (Get-TaggedLines 'PeerBanned/[A-Za-z]+' $h.EndPoint) | Should -BeNullOrEmpty -Because "$($h.EndPoint) is honest" }
    }

    It 'ignores blocks nobody asked for, and hangs up on a peer that keeps sending them' {
        (Get-TaggedLines 'PeerDisconnected/UnrequestedBlocks' $Hostile.Injector.EndPoint) | Should -Not -BeNullOrEmpty
        (Get-TaggedLines 'PeerBanned/[A-Za-z]+' $Hostile.Injector.EndPoint) | Should -BeNullOrEmpty -Because 'its blocks never reached a piece, so they never failed one'
    }

    It 'drops a peer that announces an oversized message, before reading it' {
        # One connection announces a piece message 1 byte over a block, the next a 2^31-byte message: both are
        # MessageTooLarge, so at least two such disconnects.
        (Get-TaggedLines 'PeerDisconnected/ProtocolViolation:MessageTooLarge' $Hostile.Oversized.EndPoint).Count | Should -BeGreaterOrEqual 2
    }

    It 'drops a peer that names pieces out of range or sends a malformed bitfield' {
        # Its connections take turns: a 'have', a 'piece' and a 'request' past the last piece (three
        # PieceIndexOutOfRange), a bitfield one byte too long (MessageTooLarge), one with spare bits set.
        $ep = $Hostile.OutOfRange.EndPoint
        (Get-TaggedLines 'PeerDisconnected/ProtocolViolation:PieceIndexOutOfRange' $ep).Count | Should -BeGreaterOrEqual 3
        (Get-TaggedLines 'PeerDisconnected/ProtocolViolation:MessageTooLarge' $ep) | Should -Not -BeNullOrEmpty
        (Get-TaggedLines 'PeerDisconnected/ProtocolViolation:BitfieldSpareBitsSet' $ep) | Should -Not -BeNullOrEmpty
        (Get-TaggedLines 'PeerBanned/[A-Za-z]+' $ep) | Should -BeNullOrEmpty -Because 'it never sent a block to blame'
    }

    It 'takes a flood of 200 000 haves and 1 000 000 keep-alives without harm' {
        $log = Get-HostileLog Flood
        $log | Should -Match '200000 have messages sent'
        $log | Should -Match '1000000 keep-alives sent'
        $Report.CpuSeconds | Should -BeLessThan 60
    }

    It 'does not wait for a peer that sends a byte a second' {
        (Get-HostileLog Slowloris) | Should -Match 'at 1 byte per second'
        $Report.Status | Should -Be 'Completed'
    }

    It 'recovers when a peer hangs up in the middle of a block' {
        (Get-HostileLog Disconnect) | Should -Match 'cut block \d+/\d+ after 8192 of 16384 bytes'
        (Get-TaggedLines 'PeerDisconnected/ProtocolViolation:TruncatedFrame' $Hostile.Disconnect.EndPoint) | Should -Not -BeNullOrEmpty
    }
}

Describe 'Start-TorrentDownload with only hostile peers' -Tag 'Interop' {
    BeforeAll {
        $destination = Join-Path $Workspace 'dl-hostile-only'
        $script:OnlyHostile = Invoke-DownloadChild -TorrentPath $TorrentPath -DestinationPath $destination -LogDir $Workspace `
            -Peer @($Hostile.Values.EndPoint) -TimeoutSec 10 -WaitSec 120 -Name 'download-hostile-only'
        $script:OnlyHostileFile = Join-Path $destination 'payload.bin'
    }

    It 'gives up with NoPeersAvailable in bounded time, with no file that looks complete' {
        $OnlyHostile.Killed | Should -BeFalse
        @($OnlyHostile.Errors.Id) | Should -Be @('NoPeersAvailable,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand')
        $OnlyHostile.Status | Should -Be 'Failed'
        # No data for 10 s with peers connected (the flood and the slowloris keep theirs open) ends it at 2 x 10 s.
        $OnlyHostile.Seconds | Should -BeLessThan 45
        Test-Path -LiteralPath $OnlyHostileFile | Should -BeFalse
        $OnlyHostile.PeakWorkingSetBytes | Should -BeLessThan $MemoryBoundBytes
    }
}
