<#
    Faults during a download, on loopback with real seeders (python3-libtorrent, aria2c), each download in a child
    pwsh (TestSupport/Hostile.psm1):

      - a seeder killed mid-download while another finishes it;
      - every peer gone, then back on the same port: the download waits and resumes within -TimeoutSec;
      - the destination on a small tmpfs that fills up: DestinationWriteFailed; after the tmpfs grows, a rerun resumes;
      - a read-only destination (a tmpfs remounted read-only: chmod does not stop root): DestinationWriteFailed at once;
      - the downloading pwsh killed (SIGKILL) at ten random moments (seeded), restarted each time: the final data is
        right, and the resume record never claims a piece that is not on disk, nor loses one it claimed.

    The file systems are mounted by the test, so it must run as root (CI does); otherwise it fails, loudly.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Hostile.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'faults'
    $script:Mounts = [Collections.Generic.List[string]]::new()
    $script:IsRoot = (& id -u) -eq '0'

    $script:Source = Join-Path $Workspace 'source'
    # 16 MiB in 256 KiB pieces (64 pieces); 4 MiB for the small file systems; 32 MiB for the kill test.
    function New-Case([string] $Name, [long] $Size, [int] $Seed) {
        $file = Join-Path $Source $Name
        $null = New-RandomFile -Path $file -SizeBytes $Size -Seed $Seed
        $torrent = (New-MkTorrent -SourcePath $file -OutFile (Join-Path $Workspace "$Name.torrent")).FullName
        [pscustomobject]@{ Name = $Name; File = $file; Torrent = $torrent; Info = (Get-TorrentInfo -LiteralPath $torrent); Sha = (Get-FileHash -LiteralPath $file).Hash }
    }
    $script:Big = New-Case 'big.bin' 16MB 1
    $script:Small = New-Case 'small.bin' (4MB + 1234) 2
    $script:Long = New-Case 'long.bin' 32MB 3

    function New-Destination([string] $Name) {
        $path = Join-Path $Workspace ("dl-$Name-" + [Guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory -Path $path
        $path
    }

    # The pieces a destination's resume record claims (read with the engine's own loader).
    function Get-ClaimedPieces([string] $Destination, $Case) {
        $record = [BitTorrent.Storage.ResumeRecord]::TryLoad($Destination, $Case.Info)
        if ($null -eq $record) { return @() }
        @(0..($Case.Info.PieceCount - 1) | Where-Object { $record.Pieces.Get($_) })
    }

    # Pieces (of those given) whose bytes on disk differ from the source: checked here, independently of the engine.
    function Get-WrongPieces([string] $Destination, $Case, [int[]] $Pieces) {
        $final = Join-Path $Destination $Case.Name
        $path = if (Test-Path -LiteralPath $final) { $final } else { "$final.part" }
        if (-not (Test-Path -LiteralPath $path)) { return $Pieces }
        $src = [IO.File]::OpenRead($Case.File)
        $dst = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
        try {
            foreach ($p in $Pieces) {
                $length = $Case.Info.GetPieceLength($p)
                $a = [byte[]]::new($length); $b = [byte[]]::new($length)
                $src.Position = [long]$p * $Case.Info.PieceLength; $dst.Position = $src.Position
                $null = $src.ReadAtLeast($a, $length, $false); $null = $dst.ReadAtLeast($b, $length, $false)
                if (-not [Linq.Enumerable]::SequenceEqual($a, $b)) { $p }
            }
        }
        finally { $src.Dispose(); $dst.Dispose() }
    }

    function Mount-Tmpfs([string] $Path, [string] $Size) {
        if (-not $IsRoot) { throw "This test mounts a tmpfs and must run as root (CI does); it is running as uid $(& id -u)." }
        $null = New-Item -ItemType Directory -Force -Path $Path
        $out = & mount -t tmpfs -o "size=$Size,mode=0755" tmpfs $Path 2>&1
        if ($LASTEXITCODE -ne 0) { throw "mount tmpfs on $Path failed: $out" }
        $Mounts.Add($Path)
    }

    function Set-Mount([string] $Path, [string] $Options) {
        $out = & mount -o "remount,$Options" $Path 2>&1
        if ($LASTEXITCODE -ne 0) { throw "remount $Options of $Path failed: $out" }
    }

    # Waits (bounded) until the resume record claims at least Count pieces, or the child has exited.
    function Wait-Claimed([string] $Destination, $Case, [int] $Count, $Child, [int] $TimeoutSec = 60) {
        Wait-Until -TimeoutSec $TimeoutSec -IntervalMs 200 -Because "$Count pieces of $($Case.Name) to be claimed" -Condition {
            if ($Child.HasExited) { throw "the download exited: $(Read-InteropLog $Child) $(Read-InteropLog $Child -StdErr)" }
            (Get-ClaimedPieces $Destination $Case).Count -ge $Count
        }
    }
}

AfterAll {
    Stop-InteropProcess
    foreach ($m in $Mounts) {
        & umount $m 2>$null
        if ($LASTEXITCODE -ne 0) { & umount -l $m 2>$null }
    }
}

Describe 'A seeder killed mid-download' -Tag 'Interop' {
    It 'is replaced by the other seeder, and the download completes with the right data' {
        $lt = Start-LibtorrentPeer -Mode Seed -TorrentPath $Big.Torrent -SavePath $Source -NoTracker -LogDir $Workspace -UploadLimit 1MB
        $aria = Start-Aria2Seeder -TorrentPath $Big.Torrent -DataDir $Source -LogDir $Workspace -UploadLimit 1MB
        $dest = New-Destination 'killed-seeder'
        $child = Start-DownloadChild -TorrentPath $Big.Torrent -DestinationPath $dest -LogDir $Workspace -Peer $lt.EndPoint, $aria.EndPoint -TimeoutSec 60 -Name 'killed-seeder'
        Wait-Claimed $dest $Big 12 $child
        $lt.Kill()   # SIGKILL: no goodbye
        $report = Wait-DownloadChild $child -WaitSec 120
        $report.Status | Should -Be 'Completed' -Because "$($report.Message) $($report.StdErr)"
        (Get-FileHash -LiteralPath (Join-Path $dest $Big.Name)).Hash | Should -BeExactly $Big.Sha
        @($report.Verbose -match "^\S+: \[PeerDisconnected/[^ \]]+ @$([regex]::Escape($lt.EndPoint))\] ").Count | Should -BeGreaterThan 0 -Because 'the killed seeder was in use'
        Stop-InteropProcess -Process $aria
    }
}

Describe 'Every peer gone, then back' -Tag 'Interop' {
    It 'waits, reconnects when the seeder returns on its port, and completes within -TimeoutSec' {
        $port = Get-FreePort
        $lt = Start-LibtorrentPeer -Mode Seed -TorrentPath $Big.Torrent -SavePath $Source -NoTracker -LogDir $Workspace -UploadLimit 2MB -Port $port
        $dest = New-Destination 'gone-back'
        $child = Start-DownloadChild -TorrentPath $Big.Torrent -DestinationPath $dest -LogDir $Workspace -Peer $lt.EndPoint -TimeoutSec 30 -Name 'gone-back'
        Wait-Claimed $dest $Big 10 $child
        $lt.Kill()
        Start-Sleep -Seconds 3   # the last resume save after the kill
        $before = (Get-ClaimedPieces $dest $Big).Count
        Start-Sleep -Seconds 8
        $child.HasExited | Should -BeFalse -Because 'it waits for peers up to -TimeoutSec'
        (Get-ClaimedPieces $dest $Big).Count | Should -Be $before -Because 'nobody serves it meanwhile'
        $null = Start-LibtorrentPeer -Mode Seed -TorrentPath $Big.Torrent -SavePath $Source -NoTracker -LogDir $Workspace -Port $port
        $report = Wait-DownloadChild $child -WaitSec 90
        $report.Status | Should -Be 'Completed' -Because "$($report.Message) $($report.StdErr)"
        (Get-FileHash -LiteralPath (Join-Path $dest $Big.Name)).Hash | Should -BeExactly $Big.Sha
        @($report.Verbose -match "^\S+: \[PeerConnectFailed @$([regex]::Escape($lt.EndPoint))\] ").Count | Should -BeGreaterThan 0 -Because 'it kept trying while the seeder was gone'
    }
}

Describe 'A destination that fills up' -Tag 'Interop' {
    BeforeAll {
        $script:FullSeeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $Small.Torrent -SavePath $Source -NoTracker -LogDir $Workspace
        $script:FullDir = Join-Path $Workspace 'tmpfs-full'
        Mount-Tmpfs $FullDir '2m'
    }

    It 'fails with DestinationWriteFailed and says the disk is full' {
        $script:FullFirst = Invoke-DownloadChild -TorrentPath $Small.Torrent -DestinationPath $FullDir -LogDir $Workspace -Peer $FullSeeder.EndPoint -TimeoutSec 30 -WaitSec 90 -Name 'full-1'
        $FullFirst.Killed | Should -BeFalse
        @($FullFirst.Errors.Id) | Should -Be @('DestinationWriteFailed,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand')
        $FullFirst.Errors[0].Message | Should -Match 'No space left on device'
        $FullFirst.Status | Should -Be 'Failed'
        Test-Path -LiteralPath (Join-Path $FullDir $Small.Name) | Should -BeFalse -Because 'an incomplete file never has its real name'
    }

    It 'resumes after space is freed, keeping the pieces that were written' {
        $onDisk = @(0..($Small.Info.PieceCount - 1))
        $good = $onDisk.Count - @(Get-WrongPieces $FullDir $Small $onDisk).Count
        $good | Should -BeGreaterThan 0 -Because 'pieces were written before the disk filled'
        Set-Mount $FullDir 'size=16m'
        $again = Invoke-DownloadChild -TorrentPath $Small.Torrent -DestinationPath $FullDir -LogDir $Workspace -Peer $FullSeeder.EndPoint -TimeoutSec 30 -WaitSec 90 -Name 'full-2'
        $again.Status | Should -Be 'Completed' -Because "$($again.Message) $($again.StdErr)"
        $again.BytesResumed | Should -BeGreaterOrEqual ($good * $Small.Info.PieceLength - $Small.Info.PieceLength)
        (Get-FileHash -LiteralPath (Join-Path $FullDir $Small.Name)).Hash | Should -BeExactly $Small.Sha
    }
}

Describe 'A read-only destination' -Tag 'Interop' {
    It 'fails at once with DestinationWriteFailed, before any peer is needed' {
        $dir = Join-Path $Workspace 'tmpfs-ro'
        Mount-Tmpfs $dir '4m'
        Set-Mount $dir 'ro'
        # No peer at all: the error must come from the destination, not after -TimeoutSec as NoPeersAvailable.
        $report = Invoke-DownloadChild -TorrentPath $Small.Torrent -DestinationPath $dir -LogDir $Workspace -TimeoutSec 30 -WaitSec 60 -Name 'read-only'
        @($report.Errors.Id) | Should -Be @('DestinationWriteFailed,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand')
        $report.Errors[0].Message | Should -Match 'Read-only file system'
        $report.Seconds | Should -BeLessThan 10
        @(Get-ChildItem -LiteralPath $dir -Force).Count | Should -Be 0
    }
}

Describe 'The downloading pwsh killed ten times' -Tag 'Interop' {
    It 'ends with the right data; the resume record only ever claims pieces that are on disk, and never loses one' {
        $lt = Start-LibtorrentPeer -Mode Seed -TorrentPath $Long.Torrent -SavePath $Source -NoTracker -LogDir $Workspace -UploadLimit 1MB
        $dest = New-Destination 'killed-ten'
        $random = [Random]::new(8)
        $claimedBefore = 0
        $history = [Collections.Generic.List[string]]::new()
        for ($i = 1; $i -le 10; $i++) {
            $child = Start-DownloadChild -TorrentPath $Long.Torrent -DestinationPath $dest -LogDir $Workspace -Peer $lt.EndPoint -TimeoutSec 60 -Name "killed-$i"
            $delay = 1500 + $random.Next(3000)
            Start-Sleep -Milliseconds $delay
            $finished = $child.HasExited
            if (-not $finished) { $child.Kill(); $null = $child.WaitForExit(10000) }
            $claimed = Get-ClaimedPieces $dest $Long
            $history.Add("run $i killed after $delay ms: $($claimed.Count) pieces claimed")
            @(Get-WrongPieces $dest $Long $claimed) | Should -BeNullOrEmpty -Because "after run $i every claimed piece is on disk ($($history -join '; '))"
            $claimed.Count | Should -BeGreaterOrEqual $claimedBefore -Because "a restart keeps what was claimed ($($history -join '; '))"
            $final = Join-Path $dest $Long.Name
            if (Test-Path -LiteralPath $final) { (Get-FileHash -LiteralPath $final).Hash | Should -BeExactly $Long.Sha -Because 'a file with its real name is complete' }
            $claimedBefore = $claimed.Count
            if ($finished) { break }
        }
        Write-Host ($history -join [Environment]::NewLine)
        $claimedBefore | Should -BeGreaterThan 0
        $claimedBefore | Should -BeLessThan $Long.Info.PieceCount -Because "the kills came before the end ($($history -join '; '))"
        $last = Invoke-DownloadChild -TorrentPath $Long.Torrent -DestinationPath $dest -LogDir $Workspace -Peer $lt.EndPoint -TimeoutSec 60 -WaitSec 120 -Name 'killed-final'
        $last.Status | Should -Be 'Completed' -Because "$($last.Message) $($last.StdErr)"
        $last.BytesResumed | Should -BeGreaterOrEqual ([long]$claimedBefore * $Long.Info.PieceLength - $Long.Info.PieceLength)
        (Get-FileHash -LiteralPath (Join-Path $dest $Long.Name)).Hash | Should -BeExactly $Long.Sha
    }
}
