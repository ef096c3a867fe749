#Requires -Version 7.2
<#
    Start-TorrentSeed as the only source of a torrent, on 127.0.0.1: real leechers (aria2c, python3-libtorrent,
    qBittorrent, Transmission) and our own downloader get byte-identical copies; a swarm of one origin and eight of
    our leechers in separate pwsh processes trade pieces; scripted hostile peers are rejected or disconnected while the
    seeder keeps serving; the rate limits hold. The seeder runs in a child pwsh (Start-TorrentSeed -AsJob inside it),
    stopped through a stop file so it still reports its result.
#>

Describe 'Start-TorrentSeed' -Tag Interop {
    BeforeAll {
        Import-Module BitTorrent
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
        $script:ModulePath = (Get-Module BitTorrent).Path
        $script:Workspace = New-InteropWorkspace -Name 'seed'
        $script:Pwsh = Get-PwshCommand
        $script:Seeders = [System.Collections.Generic.List[object]]::new()

        # 8 MiB in three files with odd sizes (pieces span files), 256 KiB pieces = 33 pieces, the last one short.
        $script:SourceRoot = Join-Path $Workspace 'source'
        $null = New-TestPayload -Root (Join-Path $SourceRoot 'payload') -Layout ([ordered]@{ 'a.bin' = 5MB + 123; 'sub/b.bin' = 3MB - 77; 'sub/c.txt' = 1000 })
        $script:SourceHashes = Get-FileSha256Map -Root (Join-Path $SourceRoot 'payload')
        $trackerPort = Get-FreePort -Udp
        $script:TorrentPath = (New-MkTorrent -SourcePath (Join-Path $SourceRoot 'payload') -OutFile (Join-Path $Workspace 'payload.torrent') `
                -Announce "http://127.0.0.1:$trackerPort/announce").FullName
        $script:Torrent = Get-TorrentInfo -LiteralPath $TorrentPath
        $Torrent.InfoHash | Should -BeExactly (Get-ReferenceInfoHash $TorrentPath)
        $Torrent.PieceCount | Should -Be 33      # the hostile cases below name piece 33, just past the end
        $script:Tracker = Start-OpenTracker -Workspace $Workspace -InfoHash $Torrent.InfoHash -Port $trackerPort

        # The child seeder: Start-TorrentSeed -AsJob, 'ready' once the job reports Seeding (data checked, listening,
        # announced), stopped by a stop file so Receive-Job's summary can be written out. Bounded: -Duration 10 min.
        $script:SeederScript = Join-Path $Workspace 'seeder.ps1'
        Set-Content -LiteralPath $SeederScript -Value @'
param([string] $ModulePath, [string] $TorrentPath, [string] $DataPath, [int] $Port, [string] $Folder, [string] $ExtraJson)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$extra = if ($ExtraJson) { ConvertFrom-Json $ExtraJson -AsHashtable } else { @{} }
$job = Start-TorrentSeed -LiteralPath $TorrentPath -DataPath $DataPath -Port $Port -ListenAddress 127.0.0.1 -Duration 00:10:00 -AsJob @extra
$ready = $false
$deadline = [DateTime]::UtcNow.AddMinutes(10)
while (-not (Test-Path (Join-Path $Folder 'stop')) -and $job.State -eq 'Running' -and [DateTime]::UtcNow -lt $deadline) {
    if (-not $ready -and @($job.Progress | Where-Object { $_.StatusDescription -like 'Seeding*' }).Count -gt 0) {
        $ready = $true
        Set-Content -LiteralPath (Join-Path $Folder 'ready') -Value 'ready'
    }
    Start-Sleep -Milliseconds 100
}
Stop-Job $job
$result = Receive-Job $job -ErrorVariable jobErrors -ErrorAction SilentlyContinue
$process = [System.Diagnostics.Process]::GetCurrentProcess()
[pscustomobject]@{
    Result        = $result | Select-Object Name, InfoHash, Status, BytesUploaded, PeersServed, Duration, Message
    Errors        = @($jobErrors | ForEach-Object { "$_" })
    PeakWorkingSet = $process.PeakWorkingSet64
} | ConvertTo-Json -Depth 4 -EnumsAsStrings | Set-Content -LiteralPath (Join-Path $Folder 'result.json')
'@

        function script:Start-ChildSeeder {
            <# Starts the child seeder on a free port and waits (bounded) until it seeds. Returns Port, EndPoint,
               Process, Folder. #>
            param([string] $Name, [string] $DataPath = $SourceRoot, [hashtable] $Extra = @{})
            $folder = Join-Path $Workspace $Name
            $null = New-Item -ItemType Directory -Force -Path $folder
            $port = Get-FreePort
            $arguments = $Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', $SeederScript, $ModulePath, $TorrentPath,
                $DataPath, $port, $folder, ($Extra | ConvertTo-Json -Compress))
            $process = Start-InteropProcess -FilePath $Pwsh.FilePath -ArgumentList $arguments -LogDir $folder -Name $Name
            $seeder = [pscustomobject]@{ Name = $Name; Port = $port; EndPoint = "127.0.0.1:$port"; Process = $process; Folder = $folder }
            $script:Seeders.Add($seeder)
            Wait-Until -TimeoutSec 60 -Because "seeder $Name to check its data and seed" -Condition {
                if ($process.HasExited) { throw "seeder $Name exited: $(Read-InteropLog $process -StdErr)" }
                Test-Path -LiteralPath (Join-Path $folder 'ready')
            }
            $seeder
        }

        function script:Stop-ChildSeeder {
            <# Asks the child seeder to stop, waits (bounded) for its summary and returns it. #>
            param($Seeder)
            Set-Content -LiteralPath (Join-Path $Seeder.Folder 'stop') -Value 'stop'
            $resultPath = Join-Path $Seeder.Folder 'result.json'
            Wait-Until -TimeoutSec 90 -Because "seeder $($Seeder.Name) to stop and report" -Condition {
                (Test-Path -LiteralPath $resultPath) -and $Seeder.Process.HasExited
            }
            Get-Content -LiteralPath $resultPath -Raw | ConvertFrom-Json
        }

        function script:Get-WorkingSet {
            param([int] $ProcessId)
            $p = [System.Diagnostics.Process]::GetProcessById($ProcessId)
            $p.Refresh()
            $p.WorkingSet64
        }

        function script:Assert-SameContent {
            param([string] $Root, [string] $Because)
            $copy = Get-FileSha256Map -Root $Root
            ($copy | ConvertTo-Json) | Should -BeExactly ($SourceHashes | ConvertTo-Json) -Because $Because
        }

        $script:Origin = Start-ChildSeeder -Name 'origin'
        # The leechers below find the seeder through opentracker: wait until it has announced.
        Wait-Until -TimeoutSec 30 -Because 'the seeder to be registered with opentracker' -Condition {
            @(Get-TorrentPeer -LiteralPath $TorrentPath -ErrorAction SilentlyContinue | Where-Object { $_.EndPoint -eq $Origin.EndPoint }).Count -gt 0
        }
    }

    AfterAll {
        foreach ($s in $Seeders) {
            if (-not $s.Process.HasExited) { Set-Content -LiteralPath (Join-Path $s.Folder 'stop') -Value 'stop' -ErrorAction SilentlyContinue }
        }
        foreach ($s in $Seeders) { $null = $s.Process.WaitForExit(30000) }
        Stop-InteropProcess
        if ($Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force -ErrorAction SilentlyContinue }
    }

    Context 'Real leechers download from our seeder' {
        It 'aria2c finds it through opentracker and gets an identical copy' {
            $dest = Join-Path $Workspace 'aria2'
            $null = New-Item -ItemType Directory -Path $dest
            $aria2 = Start-InteropProcess -FilePath 'aria2c' -LogDir $Workspace -Name 'aria2-leech' -ArgumentList @(
                "--dir=$dest", '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
                '--seed-time=0', '--file-allocation=none', '--console-log-level=warn', '--summary-interval=0', '--bt-stop-timeout=120',
                "--listen-port=$(Get-FreePort)", $TorrentPath)
            $aria2.WaitForExit(150000) | Should -BeTrue -Because 'aria2c exits once it has the whole torrent'
            $aria2.ExitCode | Should -Be 0 -Because (Read-InteropLog $aria2)
            Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'aria2c downloaded from our seeder only'
        }

        It 'python3-libtorrent finds it through opentracker and gets an identical copy' {
            $dest = Join-Path $Workspace 'libtorrent'
            $null = New-Item -ItemType Directory -Path $dest
            $lt = Start-LibtorrentPeer -Mode Leech -TorrentPath $TorrentPath -SavePath $dest -TimeoutSec 120 -LogDir $Workspace
            $lt.WaitForExit(150000) | Should -BeTrue
            $status = (Read-InteropLog $lt).Trim() | ConvertFrom-Json
            $status.seeding | Should -BeTrue -Because 'libtorrent reports the torrent complete'
            Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'libtorrent downloaded from our seeder only'
        }

        It 'qBittorrent finds it through opentracker and gets an identical copy' {
            $dest = Join-Path $Workspace 'qbittorrent'
            $null = New-Item -ItemType Directory -Path $dest
            $qb = Start-QBittorrentLeecher -TorrentPath $TorrentPath -DataDir $dest -Workspace $Workspace -TimeoutSec 120
            Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'qBittorrent downloaded from our seeder only'
            Stop-InteropProcess -Process $qb
        }

        It 'Transmission gets an identical copy when the seeder dials it (-Peer)' {
            # Transmission 3.00 does not dial loopback peers from a tracker, so a second seeder connects to it.
            $dest = Join-Path $Workspace 'transmission'
            $null = New-Item -ItemType Directory -Path $dest
            $tr = Start-TransmissionLeecher -TorrentPath $TorrentPath -DataDir $dest -Workspace $Workspace
            $seeder = Start-ChildSeeder -Name 'seeder-for-transmission' -Extra @{ Peer = @($tr.EndPoint); NoTracker = $true }
            Wait-TransmissionComplete -Process $tr -TimeoutSec 120
            Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'Transmission downloaded from our seeder only'
            $summary = Stop-ChildSeeder $seeder
            $summary.Result.BytesUploaded | Should -BeGreaterOrEqual $Torrent.TotalSize
            $summary.Result.PeersServed | Should -Be 1
            $summary.Result.Status | Should -Be 'Completed'
            Stop-InteropProcess -Process $tr
        }

        It 'our own downloader gets an identical copy over IPv4 and over IPv6 loopback' {
            foreach ($peer in @($Origin.EndPoint, "[::1]:$($Origin.Port)")) {
                $dest = Join-Path $Workspace ('ours-' + [Guid]::NewGuid().ToString('N').Substring(0, 6))
                $result = Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $dest -Peer $peer -NoTracker -Port 0 -ListenAddress 127.0.0.1
                $result.Status | Should -Be 'Completed' -Because "downloading from $peer"
                $result.BytesDownloaded | Should -BeGreaterOrEqual $Torrent.TotalSize
                Assert-SameContent -Root (Join-Path $dest 'payload') -Because "our downloader got it from $peer"
            }
        }
    }

    Context 'A swarm of one origin and eight of our leechers' {
        It 'every leecher completes with correct data and the origin uploads well under eight copies' {
            # A bigger payload, so that trading has time to matter: 24 MiB in 256 KiB pieces. The origin's uplink is the
            # scarce resource when an admin feeds a fleet (16 MiB/s here); on loopback an unlimited origin is as fast
            # as any leecher and would serve most requests itself.
            $swarmRoot = Join-Path $Workspace 'swarm-source'
            $null = New-TestPayload -Root (Join-Path $swarmRoot 'swarm') -Layout ([ordered]@{ 'image.bin' = 24MB + 4321 }) -Seed 99
            $swarmTorrentPath = (New-MkTorrent -SourcePath (Join-Path $swarmRoot 'swarm') -OutFile (Join-Path $Workspace 'swarm.torrent')).FullName
            $swarmTorrent = Get-TorrentInfo -LiteralPath $swarmTorrentPath
            $swarmHashes = Get-FileSha256Map -Root (Join-Path $swarmRoot 'swarm')

            $originFolder = Join-Path $Workspace 'swarm-origin'
            $null = New-Item -ItemType Directory -Path $originFolder
            $originPort = Get-FreePort
            $originProcess = Start-InteropProcess -FilePath $Pwsh.FilePath -LogDir $originFolder -Name 'swarm-origin' -ArgumentList (
                $Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', $SeederScript, $ModulePath, $swarmTorrentPath, $swarmRoot,
                    $originPort, $originFolder, (@{ NoTracker = $true; UploadRateLimit = 16MB } | ConvertTo-Json -Compress)))
            $origin = [pscustomobject]@{ Name = 'swarm-origin'; Port = $originPort; EndPoint = "127.0.0.1:$originPort"; Process = $originProcess; Folder = $originFolder }
            $script:Seeders.Add($origin)
            Wait-Until -TimeoutSec 60 -Because 'the swarm origin to seed' -Condition {
                if ($originProcess.HasExited) { throw "the origin exited: $(Read-InteropLog $originProcess -StdErr)" }
                Test-Path -LiteralPath (Join-Path $originFolder 'ready')
            }

            # Eight leechers, each a separate pwsh told about the origin and the seven others; each keeps seeding 10 s
            # after it completes, so those still downloading can trade with it.
            $ports = @(1..8 | ForEach-Object { Get-FreePort })
            $all = @($origin.EndPoint) + @($ports | ForEach-Object { "127.0.0.1:$_" })
            $leechers = for ($i = 0; $i -lt 8; $i++) {
                $dest = Join-Path $Workspace "swarm-leecher$i"
                $resultPath = Join-Path $Workspace "swarm-leecher$i.json"
                $peers = ($all | Where-Object { $_ -ne "127.0.0.1:$($ports[$i])" }) -join ','
                $command = "Import-Module '$ModulePath'; " +
                    "Start-TorrentDownload -LiteralPath '$swarmTorrentPath' -DestinationPath '$dest' -Port $($ports[$i]) -ListenAddress 127.0.0.1 " +
                    "-Peer ('$peers' -split ',') -NoTracker -SeedTime 00:00:10 -TimeoutSec 120 | " +
                    "Select-Object Status, BytesDownloaded, BytesUploaded, PeersUsed, Duration, Message | ConvertTo-Json -EnumsAsStrings | Set-Content '$resultPath'"
                $p = Start-InteropProcess -FilePath $Pwsh.FilePath -ArgumentList ($Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-Command', $command)) `
                    -LogDir $Workspace -Name "swarm-leecher$i"
                [pscustomobject]@{ Process = $p; Destination = $dest; ResultPath = $resultPath }
            }
            Wait-Until -TimeoutSec 300 -IntervalMs 500 -Because 'all eight leechers to finish' -Condition {
                @($leechers | Where-Object { -not $_.Process.HasExited }).Count -eq 0
            }
            $summary = Stop-ChildSeeder $origin

            $uploadedByLeechers = 0
            foreach ($l in $leechers) {
                Test-Path -LiteralPath $l.ResultPath | Should -BeTrue -Because "a leecher wrote no result: $(Read-InteropLog $l.Process -StdErr)"
                $r = Get-Content -LiteralPath $l.ResultPath -Raw | ConvertFrom-Json
                $r.Status | Should -Be 'Completed' -Because $r.Message
                $copy = Get-FileSha256Map -Root (Join-Path $l.Destination 'swarm')
                ($copy | ConvertTo-Json) | Should -BeExactly ($swarmHashes | ConvertTo-Json)
                $uploadedByLeechers += $r.BytesUploaded
            }
            $ratio = $summary.Result.BytesUploaded / [double]$swarmTorrent.TotalSize
            Write-Host ("    Swarm: the origin uploaded {0:N0} bytes = {1:N2} x the payload for 8 leechers; the leechers uploaded {2:N2} x the payload to each other." -f `
                    $summary.Result.BytesUploaded, $ratio, ($uploadedByLeechers / [double]$swarmTorrent.TotalSize))
            $summary.Result.BytesUploaded | Should -BeGreaterOrEqual $swarmTorrent.TotalSize -Because 'every piece came from the origin at least once'
            $ratio | Should -BeLessThan 8 -Because 'the leechers trade pieces instead of each taking a full copy from the origin'
            $uploadedByLeechers | Should -BeGreaterThan 0
        }
    }

    Context 'Hostile peers' {
        BeforeAll {
            $script:InfoHashBytes = [Convert]::FromHexString($Torrent.InfoHash)

            function script:Connect-RawPeer {
                <# A scripted peer: TCP to the seeder, our handshake (BEP 6 bit optional), its handshake read back. #>
                param([int] $Port, [switch] $Fast, [int] $ReceiveBuffer = 0)
                $client = [System.Net.Sockets.TcpClient]::new([System.Net.Sockets.AddressFamily]::InterNetwork)
                if ($ReceiveBuffer -gt 0) { $client.ReceiveBufferSize = $ReceiveBuffer }
                $client.Connect([System.Net.IPAddress]::Loopback, $Port)
                $stream = $client.GetStream()
                $stream.ReadTimeout = 15000
                $reserved = [byte[]]::new(8)
                if ($Fast) { $reserved[7] = 0x04 }
                [byte[]] $hs = @(19) + [Text.Encoding]::ASCII.GetBytes('BitTorrent protocol') + $reserved + $InfoHashBytes + [Text.Encoding]::ASCII.GetBytes('-XX0001-hostilepeer0')
                $stream.Write($hs, 0, $hs.Length)
                $theirs = Read-Exactly $stream 68
                if ($null -eq $theirs) { throw 'The seeder closed the connection during the handshake.' }
                [pscustomobject]@{ Client = $client; Stream = $stream }
            }

            function script:Read-Exactly {
                param($Stream, [int] $Count)
                $buffer = [byte[]]::new($Count)
                $got = 0
                try {
                    while ($got -lt $Count) {
                        $n = $Stream.Read($buffer, $got, $Count - $got)
                        if ($n -le 0) { return $null }
                        $got += $n
                    }
                }
                catch [System.IO.IOException] { return $null }
                , $buffer
            }

            function script:ConvertTo-BigEndian { param([int] $Value) [byte[]]@((($Value -shr 24) -band 0xFF), (($Value -shr 16) -band 0xFF), (($Value -shr 8) -band 0xFF), ($Value -band 0xFF)) }

            function script:New-Message {
                param([byte] $Id, [int[]] $Field = @())
                [byte[]] $frame = (ConvertTo-BigEndian (1 + 4 * $Field.Count)) + @($Id)
                foreach ($f in $Field) { $frame += ConvertTo-BigEndian $f }
                , $frame
            }

            function script:Send-Message {
                param($Peer, [byte[][]] $Frame)
                $all = [System.IO.MemoryStream]::new()
                foreach ($f in $Frame) { $all.Write($f, 0, $f.Length) }
                $bytes = $all.ToArray()
                $Peer.Stream.Write($bytes, 0, $bytes.Length)
            }

            function script:Read-Message {
                <# The next message as @{ Id; Body } (Id -1: keep-alive), or $null once the seeder has closed. #>
                param($Peer)
                $prefix = Read-Exactly $Peer.Stream 4
                if ($null -eq $prefix) { return $null }
                $length = Get-Int $prefix 0
                if ($length -eq 0) { return @{ Id = -1; Body = [byte[]]@() } }
                if ($length -gt 1MB) { throw "The seeder sent a $length-byte message." }
                $frame = Read-Exactly $Peer.Stream $length
                if ($null -eq $frame) { return $null }
                $body = [byte[]]::new($length - 1)
                [Array]::Copy($frame, 1, $body, 0, $length - 1)
                @{ Id = [int]$frame[0]; Body = $body }
            }

            function script:Read-Until {
                <# Reads until a message with one of the ids (returned) or the close ($null); at most 100000 messages. #>
                param($Peer, [int[]] $Id, [System.Collections.Generic.List[int]] $Seen)
                for ($i = 0; $i -lt 100000; $i++) {
                    $m = Read-Message $Peer
                    if ($null -eq $m -or $Id -contains $m.Id) { return $m }
                    if ($Seen) { $Seen.Add($m.Id) }
                }
                throw 'Too many messages.'
            }

            function script:Get-Int { param([byte[]] $Body, [int] $Offset) ([int]$Body[$Offset] -shl 24) -bor ([int]$Body[$Offset + 1] -shl 16) -bor ([int]$Body[$Offset + 2] -shl 8) -bor [int]$Body[$Offset + 3] }

            $script:Hostile = Start-ChildSeeder -Name 'hostile-target' -Extra @{ NoTracker = $true }
        }

        It 'answers a request while choked with a reject (BEP 6) and never with data' {
            $peer = Connect-RawPeer -Port $Hostile.Port -Fast
            try {
                (Read-Message $peer).Id | Should -Be 14 -Because 'a BEP 6 seed starts with have-all'
                $allowed = @(for ($i = 0; $i -lt 10; $i++) { $m = Read-Message $peer; $m.Id | Should -Be 17; Get-Int $m.Body 0 })
                $piece = @(0..($Torrent.PieceCount - 1) | Where-Object { $allowed -notcontains $_ })[0]
                Send-Message $peer (New-Message 6 @($piece, 16384, 16384))
                $reply = Read-Until $peer @(7, 16)
                $reply.Id | Should -Be 16
                @((Get-Int $reply.Body 0), (Get-Int $reply.Body 4), (Get-Int $reply.Body 8)) | Should -Be @($piece, 16384, 16384)
            }
            finally { $peer.Client.Dispose() }
        }

        It 'disconnects a peer that asks for <What>' -ForEach @(
            @{ What = 'a piece index outside the torrent'; Index = 33; Begin = 0; Length = 16384 }
            @{ What = 'a 1 MiB block'; Index = 0; Begin = 0; Length = 1MB }
            @{ What = 'bytes past the end of the piece'; Index = 0; Begin = 256KB - 1000; Length = 16384 }
        ) {
            $peer = Connect-RawPeer -Port $Hostile.Port -Fast
            try {
                Send-Message $peer (New-Message 2)                                  # interested: a slot is free
                (Read-Until $peer @(1)).Id | Should -Be 1
                Send-Message $peer (New-Message 6 @($Index, $Begin, $Length))
                Read-Until $peer @(7) | Should -BeNullOrEmpty -Because "the seeder closes the connection, sending no data for $What"
            }
            finally { $peer.Client.Dispose() }
        }

        It 'ignores requests while choked from a peer without BEP 6, then disconnects it when it keeps on' {
            $peer = Connect-RawPeer -Port $Hostile.Port
            try {
                (Read-Message $peer).Id | Should -Be 5 -Because 'without BEP 6 a seed sends a bitfield'
                Send-Message $peer @(0..1099 | ForEach-Object { New-Message 6 @(($_ % 32), 0, 16384) })
                $seen = [System.Collections.Generic.List[int]]::new()
                Read-Until $peer @(7) $seen | Should -BeNullOrEmpty -Because 'no block is sent to a choked peer and the connection ends'
                $seen | Should -Not -Contain 16 -Because 'a peer without BEP 6 gets no reject messages'
            }
            finally { $peer.Client.Dispose() }
        }

        It 'keeps its memory bounded with peers that never read, and serves an honest leecher meanwhile' {
            $before = Get-WorkingSet $Hostile.Process.Id
            # Six peers take upload slots and ask for 2000 blocks each (the queue the seeder advertises; 188 MiB in
            # all), reading nothing.
            $requests = [byte[]] (0..1999 | ForEach-Object { New-Message 6 @(($_ % 32), (16384 * ($_ % 16)), 16384) } | ForEach-Object { $_ })
            $stalled = @(1..6 | ForEach-Object {
                    $p = Connect-RawPeer -Port $Hostile.Port -ReceiveBuffer 4096
                    Send-Message $p (New-Message 2)
                    $p.Stream.Write($requests, 0, $requests.Length)
                    $p
                })
            try {
                $peak = $before
                $dest = Join-Path $Workspace 'honest'
                $job = Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $dest -Peer $Hostile.EndPoint -NoTracker -ListenAddress 127.0.0.1 -TimeoutSec 60 -AsJob
                try {
                    Wait-Until -TimeoutSec 120 -IntervalMs 200 -Because 'the honest download to finish' -Condition {
                        $peak = [Math]::Max($peak, (Get-WorkingSet $Hostile.Process.Id))
                        $job.State -ne 'Running'
                    }
                    $result = Receive-Job $job
                }
                finally { Remove-Job $job -Force }
                foreach ($i in 1..10) { $peak = [Math]::Max($peak, (Get-WorkingSet $Hostile.Process.Id)); Start-Sleep -Milliseconds 100 }
                $result.Status | Should -Be 'Completed'
                Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'the honest leecher is served while the stalled peers hang on'
                $growth = $peak - $before
                Write-Host ("    Seeder working set: {0:N1} MiB before, peak {1:N1} MiB with 6 non-reading peers owed 188 MiB." -f ($before / 1MB), ($peak / 1MB))
                $growth | Should -BeLessThan 32MB -Because 'queued requests are markers; a block is read from disk only when the socket takes it'
                $Hostile.Process.HasExited | Should -BeFalse
            }
            finally { foreach ($p in $stalled) { $p.Client.Dispose() } }
        }
    }

    Context 'Rate limits' {
        It '-UploadRateLimit keeps a seeder near its limit' {
            $limit = 2MB
            $seeder = Start-ChildSeeder -Name 'upload-limited' -Extra @{ NoTracker = $true; UploadRateLimit = $limit }
            $dest = Join-Path $Workspace 'upload-limited-copy'
            $result = Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $dest -Peer $seeder.EndPoint -NoTracker -ListenAddress 127.0.0.1
            $result.Status | Should -Be 'Completed'
            Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'a limited seed still serves correct data'
            $rate = $Torrent.TotalSize / $result.Duration.TotalSeconds
            Write-Host ("    Upload limit {0:N1} MiB/s: the leecher got {1:N2} MiB/s." -f ($limit / 1MB), ($rate / 1MB))
            $rate | Should -BeLessThan (2 * $limit) -Because 'the token bucket caps the upload (a quarter-second burst aside)'
            $null = Stop-ChildSeeder $seeder
        }

        It '-DownloadRateLimit keeps our downloader near its limit against an unlimited seeder' {
            $limit = 2MB
            $dest = Join-Path $Workspace 'download-limited-copy'
            $result = Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $dest -Peer $Origin.EndPoint -NoTracker -ListenAddress 127.0.0.1 -DownloadRateLimit $limit
            $result.Status | Should -Be 'Completed'
            Assert-SameContent -Root (Join-Path $dest 'payload') -Because 'a limited download is still correct'
            $rate = $Torrent.TotalSize / $result.Duration.TotalSeconds
            Write-Host ("    Download limit {0:N1} MiB/s: got {1:N2} MiB/s." -f ($limit / 1MB), ($rate / 1MB))
            $rate | Should -BeLessThan (2 * $limit) -Because 'reading is held back by the token bucket'
        }
    }

    Context 'The cmdlet' {
        BeforeAll {
            # Two small torrents in one data folder, for a piped batch on one port.
            $script:BatchRoot = Join-Path $Workspace 'batch'
            $null = New-TestPayload -Root (Join-Path $BatchRoot 'one') -Layout ([ordered]@{ 'one.bin' = 1MB + 11 }) -Seed 21
            $null = New-TestPayload -Root (Join-Path $BatchRoot 'two') -Layout ([ordered]@{ 'x/two.bin' = 700KB; 'y.txt' = 3 }) -Seed 22
            $script:BatchTorrents = Join-Path $Workspace 'batch-torrents'
            $null = New-Item -ItemType Directory -Path $BatchTorrents
            $null = New-MkTorrent -SourcePath (Join-Path $BatchRoot 'one') -OutFile (Join-Path $BatchTorrents 'one.torrent')
            $null = New-MkTorrent -SourcePath (Join-Path $BatchRoot 'two') -OutFile (Join-Path $BatchTorrents 'two.torrent')
        }

        It 'seeds torrents piped from Get-ChildItem on one port, as a job, and reports each when stopped' {
            $port = Get-FreePort
            $job = Get-ChildItem -LiteralPath $BatchTorrents -Filter *.torrent | Start-TorrentSeed -DataPath $BatchRoot -Port $port -ListenAddress 127.0.0.1 -NoTracker -AsJob
            try {
                $job | Should -BeOfType ([BitTorrent.PowerShell.Jobs.TorrentJob])
                Wait-Until -TimeoutSec 60 -Because 'both torrents to be seeding' -Condition {
                    @($job.Progress | Where-Object { $_.StatusDescription -like 'Seeding*' } | Select-Object -ExpandProperty Activity -Unique).Count -ge 2
                }
                $dest = Join-Path $Workspace 'batch-copy'
                $results = Get-ChildItem -LiteralPath $BatchTorrents -Filter *.torrent | Start-TorrentDownload -DestinationPath $dest -Peer "127.0.0.1:$port" -NoTracker -ListenAddress 127.0.0.1
                @($results | Where-Object Status -EQ 'Completed').Count | Should -Be 2
                foreach ($name in 'one', 'two') {
                    ((Get-FileSha256Map (Join-Path $dest $name)) | ConvertTo-Json) | Should -BeExactly ((Get-FileSha256Map (Join-Path $BatchRoot $name)) | ConvertTo-Json)
                }
                Stop-Job $job
                $summaries = @(Receive-Job $job)
                $summaries.Count | Should -Be 2
                foreach ($summary in $summaries) {
                    $summary | Should -BeOfType ([BitTorrent.Download.DownloadResult])
                    $summary.Status | Should -Be 'Completed' -Because 'stopping a complete seed is its normal end'
                    $summary.BytesUploaded | Should -BeGreaterOrEqual $summary.TotalSize
                    $summary.PeersServed | Should -Be 1
                }
            }
            finally { Remove-Job $job -Force -ErrorAction SilentlyContinue }
        }

        It 'stops by itself after -Duration and returns its summary' {
            $result = Start-TorrentSeed -LiteralPath (Join-Path $BatchTorrents 'one.torrent') -DataPath $BatchRoot -Duration 00:00:01 -NoTracker -ListenAddress 127.0.0.1
            $result.Status | Should -Be 'Completed'
            $result.BytesUploaded | Should -Be 0
            $result.Duration | Should -BeGreaterOrEqual ([TimeSpan]::FromSeconds(1))
        }

        It 'refuses data that does not match the torrent with SeedDataIncomplete' {
            $bad = Join-Path $Workspace 'bad-data'
            $null = New-TestPayload -Root (Join-Path $bad 'one') -Layout ([ordered]@{ 'one.bin' = 1MB + 11 }) -Seed 999
            $result = Start-TorrentSeed -LiteralPath (Join-Path $BatchTorrents 'one.torrent') -DataPath $bad -Duration 00:00:30 -NoTracker -ListenAddress 127.0.0.1 -ErrorVariable err -ErrorAction SilentlyContinue
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'SeedDataIncomplete,BitTorrent.PowerShell.Commands.StartTorrentSeedCommand'
            "$($err[0])" | Should -BeLike "Seeding 'one' failed:*0 of 5 pieces*"
            $result.Status | Should -Be 'Failed'
        }

        It 'gives ListenFailed when it cannot listen on the address' {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            try {
                $busy = ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
                $null = Start-TorrentSeed -LiteralPath (Join-Path $BatchTorrents 'one.torrent') -DataPath $BatchRoot -Port $busy -ListenAddress 127.0.0.1 -Duration 00:00:05 -NoTracker -ErrorVariable err -ErrorAction SilentlyContinue
                $err.Count | Should -Be 1
                $err[0].FullyQualifiedErrorId | Should -BeExactly 'ListenFailed,BitTorrent.PowerShell.Commands.StartTorrentSeedCommand'
            }
            finally { $listener.Stop() }
        }

        It 'rejects a negative rate limit before starting' {
            { Start-TorrentSeed -LiteralPath (Join-Path $BatchTorrents 'one.torrent') -DataPath $BatchRoot -UploadRateLimit -1 } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,BitTorrent.PowerShell.Commands.StartTorrentSeedCommand'
        }
    }

    Context 'Origin summary' {
        It 'reports what it uploaded to the peers it served' {
            $summary = Stop-ChildSeeder $Origin
            $summary.Errors | Should -BeNullOrEmpty
            $summary.Result.Status | Should -Be 'Completed'
            $summary.Result.InfoHash | Should -BeExactly $Torrent.InfoHash
            # aria2c, libtorrent, qBittorrent, our downloader twice and the download-limited one took full copies.
            $summary.Result.BytesUploaded | Should -BeGreaterOrEqual (6 * $Torrent.TotalSize)
            $summary.Result.PeersServed | Should -BeGreaterOrEqual 6
            Write-Host ("    Origin: {0:N0} bytes to {1} peers in {2:N0} s; peak working set {3:N0} MiB." -f `
                    $summary.Result.BytesUploaded, $summary.Result.PeersServed, $summary.Result.Duration.TotalSeconds, ($summary.PeakWorkingSet / 1MB))
        }
    }
}
