<#
    Start-TorrentDownload against real clients on 127.0.0.1: python3-libtorrent, qbittorrent-nox, transmission-daemon
    and aria2c seed the same two torrents (made by mktorrent, not our code), and all of them announce to one
    opentracker (HTTP and UDP on one port).

      single  one file with an odd last piece (5 MiB + 12 345 bytes, 256 KiB pieces)
      multi   a folder with a unicode name and unicode file names, a zero-length file, files that share pieces
      slow    16 MiB seeded only by an aria2c capped at 2 MiB/s, so a download can be interrupted midway

    Every download is checked file by file against the source's sha256; nothing else counts as success.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'start-torrentdownload'
    $script:TrackerPort = Get-FreePort -Udp
    $script:Http = "http://127.0.0.1:$TrackerPort/announce"
    $script:Udp = "udp://127.0.0.1:$TrackerPort/announce"
    $torrents = Join-Path $Workspace 'torrents'
    $null = New-Item -ItemType Directory -Path $torrents

    $source = Join-Path $Workspace 'source'
    $null = New-RandomFile -Path (Join-Path $source 'odd.bin') -SizeBytes (5MB + 12345) -Seed 11
    $multiName = 'multi ünïcødé 日本'
    $script:MultiLayout = [ordered]@{
        "$multiName/a.bin"                = 700001
        "$multiName/empty.txt"            = 0
        "$multiName/sub/ü-データ.dat"       = 1MB + 3
        "$multiName/sub/deeper/c.bin"     = 300007
        "$multiName/z.bin"                = 2MB
    }
    $null = New-TestPayload -Root $source -Layout $MultiLayout -Seed 21
    $null = New-RandomFile -Path (Join-Path $source 'slow.bin') -SizeBytes 16MB -Seed 31

    function New-Case([string] $Name, [string] $Leaf) {
        $t = New-MkTorrent -SourcePath (Join-Path $source $Leaf) -OutFile (Join-Path $torrents "$Name.torrent") -Announce $Http
        [pscustomobject]@{
            Name = $Name; Leaf = $Leaf; Torrent = $t.FullName; InfoHash = (Get-ReferenceInfoHash $t.FullName)
            Info = Get-TorrentInfo -LiteralPath $t.FullName
            Sha = Get-FileSha256Map -Root (Join-Path $source $Leaf)
        }
    }
    $script:Single = New-Case single 'odd.bin'
    $script:Multi = New-Case multi $multiName
    $script:Slow = New-Case slow 'slow.bin'
    $script:Both = @($Single, $Multi)

    $tracker = Start-OpenTracker -Workspace $Workspace -InfoHash $Single.InfoHash, $Multi.InfoHash, $Slow.InfoHash -Port $TrackerPort

    # The slow seeder first, alone in its own aria2c (the upload cap is per process).
    $slowData = Join-Path $Workspace 'slow-seed'
    $null = New-Item -ItemType Directory -Path $slowData
    Copy-Item -LiteralPath (Join-Path $source 'slow.bin') -Destination $slowData
    $script:SlowSeeder = Start-Aria2Seeder -TorrentPath $Slow.Torrent -DataDir $slowData -LogDir $Workspace -UploadLimit 2MB

    $script:Seeders = [ordered]@{}
    $Seeders.libtorrent = @(foreach ($case in $Both) {
            (Start-LibtorrentPeer -Mode Seed -TorrentPath $case.Torrent -SavePath $source -TimeoutSec 1200 -LogDir $Workspace).EndPoint
        })
    $Seeders.qbittorrent = @((Start-QBittorrentSeeder -TorrentPath $Both.Torrent -DataDir $source -Workspace $Workspace).EndPoint)
    # Transmission turns away an incoming connection while another handshake from the same IP address is under way,
    # and on loopback every client is 127.0.0.1: with the other seeders dialling it through the tracker, our
    # connections could be refused for a whole minute. The single-client test therefore gets its own
    # transmission-daemon, given the same torrents without an announce URL (same info-hash), known to nobody else.
    $quiet = Join-Path $Workspace 'no-announce'
    $null = New-Item -ItemType Directory -Path $quiet
    $quietTorrents = foreach ($case in $Both) {
        $t = New-MkTorrent -SourcePath (Join-Path $source $case.Leaf) -OutFile (Join-Path $quiet "$($case.Name).torrent")
        if ((Get-ReferenceInfoHash $t.FullName) -ne $case.InfoHash) { throw "the torrent without announce URL has another info-hash" }
        $t.FullName
    }
    $Seeders.transmission = @((Start-TransmissionSeeder -TorrentPath $quietTorrents -DataDir $source -Workspace $Workspace).EndPoint)
    $null = Start-TransmissionSeeder -TorrentPath $Both.Torrent -DataDir $source -Workspace $Workspace  # in the swarm only
    $Seeders.aria2 = @((Start-Aria2Seeder -TorrentPath $Both.Torrent -DataDir $source -LogDir $Workspace).EndPoint)

    # Wait until every seeder has announced, read with a plain HttpClient (not our code); opentracker closes after
    # each reply, so no connection is reused.
    $script:RawHttp = [System.Net.Http.HttpClient]::new()
    $RawHttp.Timeout = [TimeSpan]::FromSeconds(5)
    $RawHttp.DefaultRequestHeaders.ConnectionClose = $true
    function Get-SeederCount([string] $InfoHash) {
        $escaped = -join ($InfoHash -split '(..)' | Where-Object { $_ } | ForEach-Object { "%$_" })
        $text = [System.Text.Encoding]::Latin1.GetString($RawHttp.GetByteArrayAsync("http://127.0.0.1:$TrackerPort/scrape?info_hash=$escaped").GetAwaiter().GetResult())
        if ($text -match 'completei(\d+)e') { [int]$Matches[1] } else { 0 }
    }
    Wait-Until -TimeoutSec 90 -Because 'the four seeders of each torrent and the slow seeder to announce' -Condition {
        (Get-SeederCount $Single.InfoHash) -ge 4 -and (Get-SeederCount $Multi.InfoHash) -ge 4 -and (Get-SeederCount $Slow.InfoHash) -ge 1
    }

    function New-Destination([string] $Name) {
        $path = Join-Path $Workspace ("dl-$Name-" + [Guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory -Path $path
        $path
    }

    # Each source file's sha256 must be found, equal, at the same relative path under the destination.
    function Assert-Downloaded([string] $Destination, [object[]] $Cases) {
        foreach ($case in $Cases) {
            $got = Get-FileSha256Map -Root (Join-Path $Destination $case.Leaf)
            $got.Keys.Count | Should -Be $case.Sha.Keys.Count -Because "every file of $($case.Name) is there"
            foreach ($key in $case.Sha.Keys) { $got[$key] | Should -BeExactly $case.Sha[$key] -Because "$($case.Name): $key" }
        }
        @(Get-ChildItem -LiteralPath $Destination -Recurse -Filter '*.part' -File) | Should -HaveCount 0 -Because 'finished files have their real names'
    }

    # Pieces a resume record claims (read by the engine's own loader, to watch progress), and whether every one of
    # them is byte-identical to the source (checked here, independently).
    function Get-ClaimedPieces([string] $Destination, $Case) {
        $record = [BitTorrent.Storage.ResumeRecord]::TryLoad($Destination, $Case.Info)
        if ($null -eq $record) { return @() }
        $bits = $record.Pieces
        @(0..($Case.Info.PieceCount - 1) | Where-Object { $bits.Get($_) })
    }
    # After an interruption: every piece the record claims is on disk as in the source, and a new run keeps them all,
    # fetches only what is missing (a few blocks of slack for endgame duplicates) and completes.
    function Assert-ResumesSlowDownload([string] $Destination) {
        $claimed = Get-ClaimedPieces $Destination $Slow
        $claimed.Count | Should -BeLessThan $Slow.Info.PieceCount -Because 'it was interrupted midway'
        Test-PiecesMatchSource $Destination $Slow $claimed | Should -BeTrue -Because 'every piece the resume record claims is on disk'
        $claimedBytes = ($claimed | ForEach-Object { $Slow.Info.GetPieceLength($_) } | Measure-Object -Sum).Sum
        $r = Start-TorrentDownload -LiteralPath $Slow.Torrent -DestinationPath $Destination -Peer $SlowSeeder.EndPoint -NoTracker -ErrorAction Stop
        $r.Status | Should -Be 'Completed'
        $r.BytesResumed | Should -BeGreaterOrEqual $claimedBytes
        $r.BytesDownloaded | Should -BeLessOrEqual ($r.TotalSize - $r.BytesResumed + 4 * 16KB)
        Assert-Downloaded $Destination @($Slow)
    }

    function Test-PiecesMatchSource([string] $Destination, $Case, [int[]] $Pieces) {
        $part = Join-Path $Destination "$($Case.Leaf).part"
        $final = Join-Path $Destination $Case.Leaf
        $path = if (Test-Path -LiteralPath $final) { $final } else { $part }
        $src = [IO.File]::OpenRead((Join-Path $source $Case.Leaf))
        $dst = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
        try {
            foreach ($p in $Pieces) {
                $length = $Case.Info.GetPieceLength($p)
                $a = [byte[]]::new($length); $b = [byte[]]::new($length)
                $src.Position = [long]$p * $Case.Info.PieceLength; $dst.Position = $src.Position
                $null = $src.ReadAtLeast($a, $length); $null = $dst.ReadAtLeast($b, $length)
                if (-not [System.Linq.Enumerable]::SequenceEqual($a, $b)) { return $false }
            }
            $true
        }
        finally { $src.Dispose(); $dst.Dispose() }
    }
}

AfterAll {
    Stop-InteropProcess
    if ($script:RawHttp) { $RawHttp.Dispose() }
    if ($script:Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force }
}

Describe 'Start-TorrentDownload' -Tag 'Interop' {
    Context 'From each real client, with -Peer and no tracker' {
        It 'downloads both torrents from <Client> alone' -TestCases @(
            @{ Client = 'libtorrent' }, @{ Client = 'qbittorrent' }, @{ Client = 'transmission' }, @{ Client = 'aria2' }
        ) {
            $dest = New-Destination $Client
            $results = @($Both.Torrent | Start-TorrentDownload -DestinationPath $dest -Peer $Seeders[$Client] -NoTracker -TimeoutSec 60 -ErrorAction Stop)
            $results | Should -HaveCount 2
            foreach ($r in $results) {
                $r | Should -BeOfType ([BitTorrent.Download.DownloadResult])
                $r.Status | Should -Be 'Completed'
                $r.HashFailures | Should -Be 0
                $r.PeersUsed | Should -BeGreaterOrEqual 1
                $r.BytesDownloaded | Should -BeGreaterOrEqual $r.TotalSize
                $r.DestinationPath | Should -BeExactly $dest
            }
            ($results | Where-Object InfoHash -EQ $Multi.InfoHash).Files | Should -HaveCount $MultiLayout.Count
            Assert-Downloaded $dest $Both
            (Get-Item -LiteralPath (Join-Path $dest "$($Multi.Leaf)/empty.txt")).Length | Should -Be 0
        }
    }

    Context 'From the whole swarm through opentracker' {
        It 'downloads from all four clients at once over <Scheme>' -TestCases @(@{ Scheme = 'HTTP' }, @{ Scheme = 'UDP' }) {
            $dest = New-Destination "swarm-$Scheme"
            $tracker = if ($Scheme -eq 'UDP') { $Udp } else { $Http }
            $results = @(Start-TorrentDownload -LiteralPath $Both.Torrent -DestinationPath $dest -Tracker $tracker -TimeoutSec 60 -ErrorAction Stop)
            $results.Status | Should -Be @('Completed', 'Completed')
            # Four seeders per torrent announced; more than one must have given data (the swarm, not one peer).
            $results | ForEach-Object { $_.PeersUsed | Should -BeGreaterOrEqual 2 }
            Assert-Downloaded $dest $Both
        }

        It 'uses the torrent''s own announce URL when no -Tracker is given' {
            $dest = New-Destination 'own-tracker'
            $r = Get-TorrentInfo -LiteralPath $Single.Torrent | Start-TorrentDownload -DestinationPath $dest -TimeoutSec 60 -ErrorAction Stop
            $r.Status | Should -Be 'Completed'
            Assert-Downloaded $dest @($Single)
        }
    }

    Context 'Interrupted downloads resume' {
        It 'stops within seconds on Ctrl+C (Stop), then a new run keeps every verified piece' {
            $dest = New-Destination 'stop'
            $bg = Start-BackgroundCommand -Script {
                param($Torrent, $Destination, $Peer)
                Start-TorrentDownload -LiteralPath $Torrent -DestinationPath $Destination -Peer $Peer -NoTracker
            } -Arguments @{ Torrent = $Slow.Torrent; Destination = $dest; Peer = $SlowSeeder.EndPoint }
            try {
                Wait-Until -TimeoutSec 60 -Because 'a third of the slow torrent to be verified' -Condition {
                    (Get-ClaimedPieces $dest $Slow).Count -ge $Slow.Info.PieceCount / 3
                }
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $bg.PowerShell.Stop()
                $watch.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'Stop cancels the download at once (a bound, not a benchmark)'
                $bg.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally { $null = Stop-BackgroundCommand $bg -Stop }
            # (A stopping pipeline refuses every Write*, progress included; the console host clears its bars when the
            # pipeline ends. The job test below sees the Completed records, since a job's streams stay open.)
            # The data is still a .part file: nothing looks complete that is not.
            Test-Path -LiteralPath (Join-Path $dest $Slow.Leaf) | Should -BeFalse
            Test-Path -LiteralPath (Join-Path $dest "$($Slow.Leaf).part") | Should -BeTrue

            Assert-ResumesSlowDownload $dest
        }

        It 'survives the pwsh process being killed, and re-uses what it had verified' {
            $dest = New-Destination 'kill'
            $pwsh = Get-PwshCommand
            # At 1 MiB/s the 16 MiB take 16 s: a third is verified (and saved, every 2 s) well before the end, so a
            # slow poll on a loaded machine cannot find the download already finished when it kills the child.
            $script = "`$ProgressPreference = 'SilentlyContinue'; Import-Module BitTorrent; " +
                "Start-TorrentDownload -LiteralPath '$($Slow.Torrent)' -DestinationPath '$dest' -Peer $($SlowSeeder.EndPoint) -NoTracker -DownloadRateLimit 1MB | Out-Null"
            $psi = [Diagnostics.ProcessStartInfo]::new($pwsh.FilePath)
            foreach ($a in $pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
            $child = [Diagnostics.Process]::Start($psi)
            try {
                Wait-Until -TimeoutSec 90 -Because 'the child to verify a third of the slow torrent' -Condition {
                    if ($child.HasExited) { throw "the child pwsh exited: $($child.StandardError.ReadToEnd())" }
                    (Get-ClaimedPieces $dest $Slow).Count -ge $Slow.Info.PieceCount / 3
                }
                $child.Kill()   # SIGKILL: no cleanup of any kind runs
                $null = $child.WaitForExit(10000)
            }
            finally { if (-not $child.HasExited) { $child.Kill() }; $child.Dispose() }

            Test-Path -LiteralPath (Join-Path $dest $Slow.Leaf) | Should -BeFalse -Because 'an incomplete file never has its real name'
            # Pieces written after the last resume save are hash-checked, not fetched again.
            Assert-ResumesSlowDownload $dest
        }
    }

    Context 'Resume never trusts changed data' {
        It 'hash-checks the pieces of a file changed since the resume record was saved' {
            $dest = New-Destination 'tamper'
            $job = Start-TorrentDownload -LiteralPath $Slow.Torrent -DestinationPath $dest -Peer $SlowSeeder.EndPoint -NoTracker -AsJob
            try {
                Wait-Until -TimeoutSec 60 -Because 'some pieces to be verified' -Condition { (Get-ClaimedPieces $dest $Slow).Count -ge 6 }
                Stop-Job -Job $job
            }
            finally { Remove-Job -Job $job -Force }
            $claimed = Get-ClaimedPieces $dest $Slow
            # Someone flips one byte inside a piece the record claims.
            $victim = $claimed[1]
            $part = Join-Path $dest "$($Slow.Leaf).part"
            $fs = [IO.File]::Open($part, 'Open', 'ReadWrite')
            try { $fs.Position = [long]$victim * $Slow.Info.PieceLength + 100; $b = $fs.ReadByte(); $fs.Position--; $fs.WriteByte(($b + 1) % 256) }
            finally { $fs.Dispose() }

            $r = Start-TorrentDownload -LiteralPath $Slow.Torrent -DestinationPath $dest -Peer $SlowSeeder.EndPoint -NoTracker -ErrorAction Stop
            $r.Status | Should -Be 'Completed'
            $r.HashFailures | Should -Be 0
            # Every claimed piece but the damaged one was kept (by hashing, since the file changed); the damaged one was fetched again.
            $r.BytesResumed | Should -Be (($claimed.Count - 1) * $Slow.Info.PieceLength)
            Assert-Downloaded $dest @($Slow)
        }
    }

    Context 'Batches and jobs' {
        It 'downloads three torrents piped from Get-ChildItem' {
            $folder = Join-Path $Workspace 'three'
            $null = New-Item -ItemType Directory -Path $folder
            Copy-Item -LiteralPath $Single.Torrent, $Multi.Torrent, $Slow.Torrent -Destination $folder
            $dest = New-Destination 'three'
            $peers = @($Seeders.qbittorrent) + @($SlowSeeder.EndPoint)
            $results = @(Get-ChildItem -Path (Join-Path $folder '*.torrent') | Start-TorrentDownload -DestinationPath $dest -Peer $peers -NoTracker -ErrorAction Stop)
            $results | Should -HaveCount 3
            $results.Status | Sort-Object -Unique | Should -Be 'Completed'
            @($results.InfoHash | Sort-Object) | Should -Be @(@($Single, $Multi, $Slow).InfoHash | Sort-Object)
            Assert-Downloaded $dest @($Single, $Multi, $Slow)
        }

        It 'takes a torrent given twice for the same destination once, with a warning' {
            $dest = New-Destination 'twice'
            $results = @(Start-TorrentDownload -LiteralPath $Single.Torrent, $Single.Torrent -DestinationPath $dest -Peer $Seeders.aria2 -NoTracker -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop)
            $results | Should -HaveCount 1
            $results[0].Status | Should -Be 'Completed'
            @($w) | Should -HaveCount 1
            "$($w[0])" | Should -BeLike '*already in this batch*'
            Assert-Downloaded $dest @($Single)
        }

        It 'runs as a job: Wait-Job, Receive-Job, progress in the job' {
            $dest = New-Destination 'job'
            $job = Start-TorrentDownload -LiteralPath $Both.Torrent -DestinationPath $dest -Peer $Seeders.aria2 -NoTracker -AsJob
            try {
                $job | Should -BeOfType ([System.Management.Automation.Job])
                $job.PSJobTypeName | Should -Be 'TorrentJob'
                $null = Wait-Job -Job $job -Timeout 120
                $job.State | Should -Be 'Completed'
                $results = @(Receive-Job -Job $job -Keep)
                $results | Should -HaveCount 2
                $results.Status | Sort-Object -Unique | Should -Be 'Completed'
                @($job.Progress | Where-Object RecordType -EQ 'Completed') | Should -Not -BeNullOrEmpty
            }
            finally { Remove-Job -Job $job -Force }
            Assert-Downloaded $dest $Both
        }

        It 'Stop-Job stops a job cleanly with a resume record' {
            $dest = New-Destination 'stopjob'
            $job = Start-TorrentDownload -LiteralPath $Slow.Torrent -DestinationPath $dest -Peer $SlowSeeder.EndPoint -NoTracker -AsJob
            try {
                Wait-Until -TimeoutSec 60 -Because 'some pieces to be verified' -Condition { (Get-ClaimedPieces $dest $Slow).Count -ge 4 }
                Stop-Job -Job $job
                $job.State | Should -Be 'Stopped'
                # Every progress activity of the job ends with a Completed record, also when stopped.
                $byActivity = @($job.Progress) | Group-Object ActivityId
                $r = @(Receive-Job -Job $job)
                $r | Should -HaveCount 1
                $r[0].Status | Should -Be 'Stopped'
                $byActivity | Should -Not -BeNullOrEmpty
                foreach ($g in $byActivity) { $g.Group[-1].RecordType | Should -Be 'Completed' -Because "activity $($g.Name)" }
            }
            finally { Remove-Job -Job $job -Force }
            Test-PiecesMatchSource $dest $Slow (Get-ClaimedPieces $dest $Slow) | Should -BeTrue
        }
    }

    Context 'Selective download' {
        It 'fetches only the files -Include/-Exclude choose, keeping boundary bytes in .part files' {
            $dest = New-Destination 'select'
            $r = Start-TorrentDownload -LiteralPath $Multi.Torrent -DestinationPath $dest -Include 'sub/*' -Exclude '*.bin' -Peer $Seeders.libtorrent -NoTracker -ErrorAction Stop
            $r.Status | Should -Be 'Completed'
            $r.Files | Should -HaveCount 1
            $r.SelectedSize | Should -Be (1MB + 3)
            $r.BytesDownloaded | Should -BeLessThan $r.TotalSize
            $root = Join-Path $dest $Multi.Leaf
            (Get-FileHash -LiteralPath (Join-Path $root 'sub/ü-データ.dat') -Algorithm SHA256).Hash |
                Should -BeExactly $Multi.Sha['sub/ü-データ.dat']
            # Unchosen files never get their real name. One that shares a piece with the chosen file keeps the boundary
            # bytes in its .part file; one that shares none is not created at all.
            $chosen = $Multi.Info.Files | Where-Object Path -EQ 'sub/ü-データ.dat'
            $others = @($Multi.Info.Files | Where-Object { $_.Path -ne $chosen.Path -and $_.Length -gt 0 })
            $sharing = @($others | Where-Object { $_.FirstPiece -le $chosen.LastPiece -and $_.LastPiece -ge $chosen.FirstPiece })
            $sharing | Should -Not -BeNullOrEmpty -Because 'the layout makes pieces span files'
            $sharing.Count | Should -BeLessThan $others.Count -Because 'some file shares no piece with the chosen one'
            foreach ($f in $others) {
                Test-Path -LiteralPath (Join-Path $root $f.Path) | Should -BeFalse -Because "$($f.Path) was not chosen"
                Test-Path -LiteralPath (Join-Path $root "$($f.Path).part") | Should -Be ($f -in $sharing) -Because "$($f.Path) boundary"
            }
        }

        It 'warns and downloads nothing when no file matches' {
            $dest = New-Destination 'nomatch'
            $r = Start-TorrentDownload -LiteralPath $Multi.Torrent -DestinationPath $dest -Include 'nothing-*' -Peer $Seeders.aria2 -NoTracker -WarningVariable w -WarningAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $w | Should -HaveCount 1
            @(Get-ChildItem -LiteralPath $dest -Force) | Should -HaveCount 0
        }
    }

    Context 'Failures and manners' {
        It 'gives NoPeersAvailable when nobody answers, within the timeout' {
            $dest = New-Destination 'nopeers'
            $closed = "127.0.0.1:$(Get-FreePort)"
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $r = Start-TorrentDownload -LiteralPath $Single.Torrent -DestinationPath $dest -Peer $closed -NoTracker -TimeoutSec 3 -ErrorVariable err -ErrorAction SilentlyContinue
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'NoPeersAvailable,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand'
            $r.Status | Should -Be 'Failed'
        }

        It 'rejects bad arguments with stable ids before starting' -TestCases @(
            @{ Arguments = @{ Peer = 'not-an-endpoint' }; Id = 'InvalidPeerAddress' }
            @{ Arguments = @{ Tracker = 'gopher://127.0.0.1/announce' }; Id = 'InvalidTrackerUrl' }
            @{ Arguments = @{ ListenAddress = 'nowhere' }; Id = 'InvalidPeerAddress' }
        ) {
            $dest = New-Destination 'bad'
            { Start-TorrentDownload -LiteralPath $Single.Torrent -DestinationPath $dest @Arguments -ErrorAction Stop } |
                Should -Throw -ErrorId "$Id,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand"
            @(Get-ChildItem -LiteralPath $dest -Force) | Should -HaveCount 0
        }

        It 'gives DestinationInvalid when the destination is a file' {
            $file = Join-Path $Workspace 'a-file.txt'
            Set-Content -LiteralPath $file -Value 'x'
            { Start-TorrentDownload -LiteralPath $Single.Torrent -DestinationPath $file -NoTracker -ErrorAction Stop } |
                Should -Throw -ErrorId 'DestinationInvalid,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand'
        }

        It 'gives DestinationWriteFailed, and writes nothing outside, when a link planted in the destination leads out' {
            $dest = New-Destination 'planted-link'
            $outside = New-Destination 'planted-link-target'
            # A single-file torrent's file name, made a link to a file outside the destination (dangling: following
            # it would create the target), and the same for its working name.
            $name = (Get-TorrentInfo -LiteralPath $Single.Torrent).Files[0].SanitizedPath
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $dest "$name.part") -Target (Join-Path $outside 'stolen')
            $r = Start-TorrentDownload -LiteralPath $Single.Torrent -DestinationPath $dest -Peer $Seeders.aria2 -NoTracker -TimeoutSec 20 -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'DestinationWriteFailed,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand'
            "$($err[0].Exception.Message)" | Should -Match 'symbolic link'
            $r.Status | Should -Be 'Failed'
            @(Get-ChildItem -LiteralPath $outside -Force) | Should -HaveCount 0
        }

        It 'gives TorrentFileNotFound for a missing .torrent and goes on with the others' {
            $dest = New-Destination 'missing'
            $r = Start-TorrentDownload -LiteralPath (Join-Path $Workspace 'missing.torrent'), $Single.Torrent -DestinationPath $dest -Peer $Seeders.aria2 -NoTracker -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TorrentFileNotFound,*'
            $r.Status | Should -Be 'Completed'
        }

        It '-WhatIf downloads nothing and creates nothing' {
            $dest = New-Destination 'whatif'
            $r = Start-TorrentDownload -LiteralPath $Both.Torrent -DestinationPath $dest -Peer $Seeders.aria2 -NoTracker -WhatIf
            $r | Should -BeNullOrEmpty
            @(Get-ChildItem -LiteralPath $dest -Force) | Should -HaveCount 0
        }

        It 'writes a parent progress record and one child per torrent, then Completed records, from the pipeline thread' {
            $dest = New-Destination 'progress'
            $bg = Start-BackgroundCommand -Script {
                param($Torrent, $Destination, $Peer)
                Start-TorrentDownload -LiteralPath $Torrent -DestinationPath $Destination -Peer $Peer -NoTracker
            } -Arguments @{ Torrent = @($Slow.Torrent, $Single.Torrent); Destination = $dest; Peer = @($SlowSeeder.EndPoint) + $Seeders.aria2 }
            $stopped = $false
            try {
                $ended = Stop-BackgroundCommand $bg -TimeoutSec 120
                $stopped = $true
                $results = $ended.Output
                $progress = $ended.Progress
                $ended.HadErrors | Should -BeFalse
            }
            finally { if (-not $stopped) { $null = Stop-BackgroundCommand $bg -Stop } }
            $results | Should -HaveCount 2
            $parent = @($progress | Where-Object ParentActivityId -EQ -1)
            $children = @($progress | Where-Object ParentActivityId -NE -1)
            $parentId = $parent[0].ActivityId
            $children | ForEach-Object { $_.ParentActivityId | Should -Be $parentId }
            @($children.ActivityId | Sort-Object -Unique) | Should -HaveCount 2
            $running = @($children | Where-Object RecordType -EQ 'Processing' | Where-Object StatusDescription -Match '^[\d.]+ \w?i?B of [\d.]+ \w?i?B · [\d.]+ \w?i?B/s · \d+ peers?$')
            $running | Should -Not -BeNullOrEmpty -Because 'the status says size done, size, rate and peers'
            foreach ($id in @($children.ActivityId | Sort-Object -Unique) + $parentId) {
                ($progress | Where-Object ActivityId -EQ $id)[-1].RecordType | Should -Be 'Completed'
            }
            # At most ~4 updates a second per activity: the slow torrent takes ~8 s.
            @($children | Where-Object { $_.Activity -like '*slow*' }).Count | Should -BeLessThan 100
        }
    }
}
