#Requires -Version 7.2
<#
    Invoke-PeerHandshake against real clients on 127.0.0.1 (libtorrent, qBittorrent, Transmission, aria2 — all with
    DHT, LSD, PEX, UPnP and NAT-PMP off), a partial libtorrent peer, an opentracker swarm, and scripted sockets for
    the failure cases.
#>

Describe 'Invoke-PeerHandshake' -Tag Interop {
    BeforeAll {
        Import-Module BitTorrent
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
        $script:Workspace = New-InteropWorkspace -Name 'peer-handshake'
        $script:Listeners = [System.Collections.Generic.List[System.Net.Sockets.TcpListener]]::new()
        $script:Jobs = [System.Collections.Generic.List[object]]::new()

        # 4 MiB in 64 KiB pieces = 64 pieces; c.bin (the last 16 pieces) is what the partial peer lacks. This torrent
        # names no tracker, so the four seeders never meet: Transmission turns away an incoming handshake while another
        # one from the same address is in progress, and every client here is 127.0.0.1.
        $seedDir = Join-Path $Workspace 'seed'
        $null = New-TestPayload -Root (Join-Path $seedDir 'payload') -Layout ([ordered]@{ 'a.bin' = 1MB; 'b.bin' = 2MB; 'c.bin' = 1MB })
        $script:TorrentPath = (New-MkTorrent -SourcePath (Join-Path $seedDir 'payload') -OutFile (Join-Path $Workspace 'payload.torrent') -PieceSizeLog2 16).FullName
        $script:Torrent = Get-TorrentInfo -LiteralPath $TorrentPath
        $Torrent.InfoHash | Should -BeExactly (Get-ReferenceInfoHash $TorrentPath)
        $Torrent.PieceCount | Should -Be 64

        $script:Libtorrent = Start-LibtorrentPeer -Mode Seed -TorrentPath $TorrentPath -SavePath $seedDir -NoTracker -LogDir $Workspace
        $script:Aria2 = Start-Aria2Seeder -TorrentPath $TorrentPath -DataDir $seedDir -LogDir $Workspace
        $script:Transmission = Start-TransmissionSeeder -TorrentPath $TorrentPath -DataDir $seedDir -Workspace $Workspace
        $script:QBittorrent = Start-QBittorrentSeeder -TorrentPath $TorrentPath -DataDir $seedDir -Workspace $Workspace

        # The swarm: a second torrent announced to opentracker, seeded by libtorrent and aria2.
        $swarmDir = Join-Path $Workspace 'swarm'
        $null = New-RandomFile -Path (Join-Path $swarmDir 'swarm.bin') -SizeBytes (1MB + 17) -Seed 7
        $trackerPort = Get-FreePort -Udp
        $script:SwarmTorrentPath = (New-MkTorrent -SourcePath (Join-Path $swarmDir 'swarm.bin') -OutFile (Join-Path $Workspace 'swarm.torrent') `
                -PieceSizeLog2 16 -Announce "http://127.0.0.1:$trackerPort/announce").FullName
        $script:SwarmTorrent = Get-TorrentInfo -LiteralPath $SwarmTorrentPath
        $script:Tracker = Start-OpenTracker -Workspace $Workspace -InfoHash $SwarmTorrent.InfoHash -Port $trackerPort
        $script:SwarmSeeders = @(
            Start-LibtorrentPeer -Mode Seed -TorrentPath $SwarmTorrentPath -SavePath $swarmDir -LogDir $Workspace
            Start-Aria2Seeder -TorrentPath $SwarmTorrentPath -DataDir $swarmDir -LogDir $Workspace
        )

        # A partial peer: a.bin and b.bin only; libtorrent checks them and has pieces 0–47.
        $partialDir = Join-Path $Workspace 'partial'
        $null = New-Item -ItemType Directory -Path (Join-Path $partialDir 'payload')
        Copy-Item -LiteralPath (Join-Path $seedDir 'payload/a.bin'), (Join-Path $seedDir 'payload/b.bin') -Destination (Join-Path $partialDir 'payload')
        $script:Partial = Start-LibtorrentPeer -Mode Check -TorrentPath $TorrentPath -SavePath $partialDir -NoTracker -LogDir $Workspace

        function script:Start-ScriptedPeer {
            <# A socket on 127.0.0.1 that accepts one connection, reads our 68-byte handshake, writes $Reply and
               holds the connection until we close it (at most 15 s). Runs in a thread job; returns "127.0.0.1:port". #>
            param([byte[]] $Reply)
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            $script:Listeners.Add($listener)
            $script:Jobs.Add((Start-ThreadJob -ArgumentList $listener, $Reply -ScriptBlock {
                        param($listener, $reply)
                        $accept = $listener.AcceptTcpClientAsync()
                        if (-not $accept.Wait(15000)) { return }
                        $client = $accept.Result
                        try {
                            $stream = $client.GetStream()
                            $stream.ReadTimeout = 15000
                            $buffer = [byte[]]::new(68)
                            $got = 0
                            while ($got -lt 68) { $n = $stream.Read($buffer, $got, 68 - $got); if ($n -le 0) { return }; $got += $n }
                            $stream.Write($reply, 0, $reply.Length)
                            try { while ($stream.Read($buffer, 0, 68) -gt 0) { } } catch { }
                        }
                        finally { $client.Dispose() }
                    }))
            "127.0.0.1:$(([System.Net.IPEndPoint]$listener.LocalEndpoint).Port)"
        }

        function script:New-RawHandshake {
            param([byte[]] $InfoHash, [string] $PeerId = '-XX0001-scriptedpeer')
            [byte[]] (@(19) + [Text.Encoding]::ASCII.GetBytes('BitTorrent protocol') + @(0, 0, 0, 0, 0, 0x10, 0, 0x04) + $InfoHash + [Text.Encoding]::ASCII.GetBytes($PeerId))
        }

        function script:ConvertFrom-HexString([string] $Hex) {
            [byte[]] (0..($Hex.Length / 2 - 1) | ForEach-Object { [Convert]::ToByte($Hex.Substring(2 * $_, 2), 16) })
        }
    }

    AfterAll {
        foreach ($l in $script:Listeners) { $l.Stop() }
        foreach ($j in $script:Jobs) { $null = Wait-Job $j -Timeout 20; Remove-Job $j -Force }
        Stop-InteropProcess
        if ($script:Workspace -and (Test-Path -LiteralPath $script:Workspace)) { Remove-Item -LiteralPath $script:Workspace -Recurse -Force }
    }

    Context 'Seeding clients' {
        It 'libtorrent (python3-libtorrent 2.0) is libtorrent (Rasterbar), with BEP 10, BEP 6 and every piece' {
            $r = Invoke-PeerHandshake -Peer $Libtorrent.EndPoint -Torrent $Torrent -ErrorAction Stop
            $r | Should -HaveCount 1
            $r.EndPoint | Should -BeExactly $Libtorrent.EndPoint
            $r.Client | Should -Match '^libtorrent \(Rasterbar\) 2\.0\.\d+$'
            $r.PeerIdText | Should -BeLike '-LT20*'
            $r.ClientVersion | Should -BeLike 'libtorrent/2.0.*'
            $r.SupportsExtensionProtocol | Should -BeTrue
            $r.SupportsFastExtension | Should -BeTrue
            $r.Extensions | Should -Contain 'ut_metadata'
            $r.MetadataSize | Should -Be $Torrent.RawInfo.Length
            $r.YourIp | Should -BeExactly '127.0.0.1'
            $r.HasAll | Should -BeTrue
            $r.PiecesHave | Should -Be 64
            $r.PieceCount | Should -Be 64
            $r.PercentComplete | Should -Be 100
            $r.InfoHash | Should -BeExactly $Torrent.InfoHash
        }

        It 'qbittorrent-nox is qBittorrent (libtorrent inside), with extensions and every piece' {
            $r = Invoke-PeerHandshake -Peer $QBittorrent.EndPoint -Torrent $Torrent -ErrorAction Stop
            $r.Client | Should -Match '^qBittorrent \d+\.\d+\.\d+$'
            $r.ClientVersion | Should -BeLike 'qBittorrent/*'
            $r.SupportsExtensionProtocol | Should -BeTrue
            $r.SupportsFastExtension | Should -BeTrue
            $r.Extensions | Should -Contain 'ut_metadata'
            $r.Extensions | Should -Not -Contain 'ut_pex'    # PeX is off in its profile
            $r.PercentComplete | Should -Be 100
            $r.PiecesHave | Should -Be 64
        }

        It 'transmission-daemon is Transmission, with its listen port and every piece' {
            $r = Invoke-PeerHandshake -Peer $Transmission.EndPoint -Torrent $Torrent -ErrorAction Stop
            $r.Client | Should -Match '^Transmission \d+\.\d+'
            $r.ClientVersion | Should -BeLike 'Transmission *'
            $r.SupportsExtensionProtocol | Should -BeTrue
            $r.SupportsFastExtension | Should -BeTrue
            $r.SupportsDht | Should -BeFalse                  # DHT is off in its settings
            $r.Extensions | Should -Contain 'ut_metadata'
            $r.ListenPort | Should -Be $Transmission.Port
            $r.PercentComplete | Should -Be 100
        }

        It 'aria2c is aria2, with extensions and every piece' {
            $r = Invoke-PeerHandshake -Peer $Aria2.EndPoint -Torrent $Torrent -ErrorAction Stop
            $r.Client | Should -Match '^aria2 1\.\d+\.\d+$'
            $r.PeerIdText | Should -BeLike 'A2-1-*'
            $r.ClientVersion | Should -BeLike 'aria2/*'
            $r.SupportsExtensionProtocol | Should -BeTrue
            $r.Extensions | Should -Contain 'ut_metadata'
            $r.ListenPort | Should -Be $Aria2.Port
            $r.PercentComplete | Should -Be 100
            $r.PiecesHave | Should -Be 64
        }

        It 'handshakes with all four at once under a throttle, as strings from the pipeline' {
            $all = $Libtorrent.EndPoint, $QBittorrent.EndPoint, $Transmission.EndPoint, $Aria2.EndPoint
            $results = $all | Invoke-PeerHandshake -TorrentPath $TorrentPath -ThrottleLimit 2 -ErrorVariable failed
            $failed | Should -BeNullOrEmpty
            $results | Should -HaveCount 4
            ($results.EndPoint | Sort-Object) | Should -Be ($all | Sort-Object)
            $results | ForEach-Object { $_.PercentComplete | Should -Be 100 }
            ($results.Client | ForEach-Object { ($_ -split ' ')[0] } | Sort-Object) | Should -Be @('aria2', 'libtorrent', 'qBittorrent', 'Transmission')
        }

        It 'with only -InfoHash, still names the client and sees have-all, without a piece count' {
            $r = Invoke-PeerHandshake -Peer $Libtorrent.EndPoint -InfoHash $Torrent.InfoHash.ToUpperInvariant() -ErrorAction Stop
            $r.Client | Should -BeLike 'libtorrent (Rasterbar) *'
            $r.PieceCount | Should -BeNullOrEmpty
            $r.HasAll | Should -BeTrue
            $r.PercentComplete | Should -Be 100
        }

        It 'shows results in the table view' {
            $text = Invoke-PeerHandshake -Peer $Transmission.EndPoint -Torrent $Torrent | Format-Table | Out-String -Width 200
            $text | Should -Match 'EndPoint\s+Client\s+Have'
            $text | Should -Match ([regex]::Escape($Transmission.EndPoint) + '\s+Transmission \S+\s+100 %')
        }
    }

    Context 'A partial peer' {
        It 'reports the share libtorrent itself counts (48 of 64 pieces, 75 %)' {
            $Partial.Status.pieces | Should -Be 48       # libtorrent's own count after checking the data
            $r = Invoke-PeerHandshake -Peer $Partial.EndPoint -Torrent $Torrent -ErrorAction Stop
            $r.HasAll | Should -BeFalse
            $r.PiecesHave | Should -Be $Partial.Status.pieces
            $r.PercentComplete | Should -Be 75
            $r.MessagesReceived | Should -Contain 'Bitfield (8 bytes)'
            $r.Bitfield.FirstMissing() | Should -Be 48
            $r.Bitfield.NextSet(48) | Should -Be -1
        }
    }

    Context 'A swarm behind opentracker' {
        It 'Get-TorrentInfo | Get-TorrentPeer | Invoke-PeerHandshake reaches the seeders' {
            $seeders = $SwarmSeeders.EndPoint
            # The seeders announce on their own schedule: wait (bounded) until the tracker lists both.
            Wait-Until -TimeoutSec 30 -Because 'the tracker to list both seeders' -Condition {
                $listed = @(Get-TorrentInfo -LiteralPath $SwarmTorrentPath | Get-TorrentPeer -ErrorAction SilentlyContinue).EndPoint
                @($seeders | Where-Object { $_ -notin $listed }).Count -eq 0
            }
            $results = Get-TorrentInfo -LiteralPath $SwarmTorrentPath | Get-TorrentPeer | Invoke-PeerHandshake -ErrorVariable failed
            $failed | Should -BeNullOrEmpty
            $mine = @($results | Where-Object EndPoint -In $seeders)
            $mine | Should -HaveCount 2
            $mine | ForEach-Object { $_.HasAll | Should -BeTrue; $_.InfoHash | Should -BeExactly $SwarmTorrent.InfoHash }
            ($mine.Client | ForEach-Object { ($_ -split ' ')[0] } | Sort-Object) | Should -Be @('aria2', 'libtorrent')
        }

        It 'Get-TorrentInfo | Invoke-PeerHandshake asks the trackers itself and handshakes the seeders with the piece count known' {
            $seeders = $SwarmSeeders.EndPoint
            Wait-Until -TimeoutSec 30 -Because 'the tracker to list both seeders' -Condition {
                $listed = @(Get-TorrentInfo -LiteralPath $SwarmTorrentPath | Get-TorrentPeer -ErrorAction SilentlyContinue).EndPoint
                @($seeders | Where-Object { $_ -notin $listed }).Count -eq 0
            }
            $results = Get-TorrentInfo -LiteralPath $SwarmTorrentPath | Invoke-PeerHandshake -TimeoutSec 10 -ErrorVariable failed
            $failed | Should -BeNullOrEmpty
            $mine = @($results | Where-Object EndPoint -In $seeders)
            $mine | Should -HaveCount 2
            $mine | ForEach-Object {
                $_.InfoHash | Should -BeExactly $SwarmTorrent.InfoHash
                $_.PieceCount | Should -Be $SwarmTorrent.PieceCount
                $_.PercentComplete | Should -Be 100
            }
            ($mine.Client | ForEach-Object { ($_ -split ' ')[0] } | Sort-Object) | Should -Be @('aria2', 'libtorrent')
        }

        It 'binds EndPoint and InfoHash by property name from tracker-style objects' {
            $peers = @(
                [pscustomobject]@{ PSTypeName = 'BitTorrent.Trackers.TorrentPeer'; EndPoint = $Libtorrent.EndPoint; InfoHash = $Torrent.InfoHash }
                [pscustomobject]@{ PSTypeName = 'BitTorrent.Trackers.TorrentPeer'; EndPoint = $Aria2.EndPoint; InfoHash = $Torrent.InfoHash }
                [pscustomobject]@{ PSTypeName = 'BitTorrent.Trackers.TorrentPeer'; EndPoint = $Aria2.EndPoint; InfoHash = $Torrent.InfoHash }   # duplicate: asked once
            )
            $results = $peers | Invoke-PeerHandshake -ErrorAction Stop
            $results | Should -HaveCount 2
            ($results.Client | Sort-Object) -join ';' | Should -Match '^aria2 .*;libtorrent \(Rasterbar\) '
        }
    }

    Context 'Failures are per-peer errors with stable ids' {
        It 'a wrong info-hash: real clients hang up, which is HandshakeRejected' {
            $wrong = 'ab' * 20
            $out = Invoke-PeerHandshake -Peer $Libtorrent.EndPoint, $QBittorrent.EndPoint, $Transmission.EndPoint, $Aria2.EndPoint `
                -InfoHash $wrong -ErrorVariable err -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $err | Should -HaveCount 4
            $err | ForEach-Object {
                $_.FullyQualifiedErrorId | Should -BeExactly 'HandshakeRejected,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
                $_.CategoryInfo.Category | Should -Be 'ConnectionError'
            }
            ($err.TargetObject | Sort-Object) | Should -Be (@($Libtorrent.EndPoint, $QBittorrent.EndPoint, $Transmission.EndPoint, $Aria2.EndPoint) | Sort-Object)
        }

        It 'a peer that answers for another torrent is HandshakeInfoHashMismatch' {
            $peer = Start-ScriptedPeer -Reply (New-RawHandshake -InfoHash (ConvertFrom-HexString ('cd' * 20)))
            $out = Invoke-PeerHandshake -Peer $peer -Torrent $Torrent -ErrorVariable err -ErrorAction SilentlyContinue
            $out | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'HandshakeInfoHashMismatch,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
            $err[0].Exception.Message | Should -Match ('cd' * 20)
            $err[0].TargetObject | Should -BeExactly $peer
        }

        It 'something that is not a BitTorrent peer is ProtocolViolation' {
            $peer = Start-ScriptedPeer -Reply ([Text.Encoding]::ASCII.GetBytes("HTTP/1.1 400 Bad Request`r`n`r`n"))
            $null = Invoke-PeerHandshake -Peer $peer -Torrent $Torrent -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'ProtocolViolation,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ProtocolError'
        }

        It 'a 2 GiB length prefix after a good handshake is ProtocolViolation, not an allocation' {
            $reply = [byte[]]((New-RawHandshake -InfoHash $Torrent.InfoHashBytes) + @(0x7F, 0xFF, 0xFF, 0xFF, 7))
            $peer = Start-ScriptedPeer -Reply $reply
            $null = Invoke-PeerHandshake -Peer $peer -Torrent $Torrent -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'ProtocolViolation,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
            $err[0].Exception.ProtocolError | Should -Be 'MessageTooLarge'
        }

        It 'a closed port is PeerConnectionRefused' {
            $port = Get-FreePort
            $null = Invoke-PeerHandshake -Peer "127.0.0.1:$port" -Torrent $Torrent -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'PeerConnectionRefused,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
            $err[0].TargetObject | Should -BeExactly "127.0.0.1:$port"
        }

        It 'a listening socket that never answers is PeerTimeout, within the timeout' {
            $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $silent.Start()     # the kernel completes the TCP handshake; nobody ever reads or writes
            $script:Listeners.Add($silent)
            $peer = "127.0.0.1:$(([System.Net.IPEndPoint]$silent.LocalEndpoint).Port)"
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $null = Invoke-PeerHandshake -Peer $peer -Torrent $Torrent -TimeoutSec 2 -ErrorVariable err -ErrorAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 4
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'PeerTimeout,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        }

        It 'bad addresses and info-hashes are InvalidPeerAddress and InvalidInfoHash; good peers in the batch still answer' {
            $out = Invoke-PeerHandshake -Peer 'not a peer', '::1:6881', $Libtorrent.EndPoint -InfoHash $Torrent.InfoHash -ErrorVariable err -ErrorAction SilentlyContinue
            $out | Should -HaveCount 1
            $out.EndPoint | Should -BeExactly $Libtorrent.EndPoint
            ($err.FullyQualifiedErrorId | Sort-Object -Unique) | Should -BeExactly 'InvalidPeerAddress,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
            $err | Should -HaveCount 2

            $null = Invoke-PeerHandshake -Peer $Libtorrent.EndPoint -InfoHash 'xyz' -ErrorVariable err2 -ErrorAction SilentlyContinue
            $err2[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidInfoHash,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
        }

        It 'a .torrent that does not exist is a terminating TorrentFileNotFound' {
            { Invoke-PeerHandshake -Peer $Libtorrent.EndPoint -TorrentPath (Join-Path $Workspace 'missing.torrent') -ErrorAction Stop } |
                Should -Throw -ErrorId 'TorrentFileNotFound,BitTorrent.PowerShell.Commands.InvokePeerHandshakeCommand'
        }
    }

    Context 'Pipeline manners' {
        It 'writes progress and a Completed record from the pipeline thread' {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript('param($p, $t) Import-Module BitTorrent; Invoke-PeerHandshake -Peer $p -TorrentPath $t').
                    AddArgument(@($Libtorrent.EndPoint, $Aria2.EndPoint)).AddArgument($TorrentPath)
                $out = $ps.Invoke()
                $out | Should -HaveCount 2
                $ps.Streams.Error | Should -BeNullOrEmpty
                $progress = @($ps.Streams.Progress)
                $progress.Count | Should -BeGreaterOrEqual 3
                $progress[-1].RecordType | Should -Be 'Completed'
                ($progress | Where-Object RecordType -EQ 'Processing' | Select-Object -Last 1).PercentComplete | Should -Be 100
            }
            finally { $ps.Dispose() }
        }

        It 'Stop (Ctrl+C) cancels handshakes in flight at once' {
            $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $silent.Start()
            $script:Listeners.Add($silent)
            $peer = "127.0.0.1:$(([System.Net.IPEndPoint]$silent.LocalEndpoint).Port)"
            $bg = Start-BackgroundCommand -Script { param($p, $h) Invoke-PeerHandshake -Peer $p -InfoHash $h -TimeoutSec 120 } `
                -Arguments @{ p = $peer; h = $Torrent.InfoHash }
            try {
                Start-Sleep -Milliseconds 1500
                $bg.Handle.IsCompleted | Should -BeFalse
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $bg.PowerShell.Stop()
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
                $bg.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally { $null = Stop-BackgroundCommand $bg -Stop }
        }
    }
}
