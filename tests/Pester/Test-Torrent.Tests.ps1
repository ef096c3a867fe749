<#
    Test-Torrent end to end. Torrents and content come from elsewhere: webtorrent-fixtures (real .torrent files with
    their content) and mktorrent; the expected damaged pieces are computed from the byte offsets libtorrent reports
    for the files, and compared with libtorrent's own check of the same data (lt_hash.py check), so a wrong answer
    cannot agree with itself.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Fixtures = Join-Path $PSScriptRoot '../node/node_modules/webtorrent-fixtures/fixtures'
    if (-not (Test-Path -LiteralPath (Join-Path $Fixtures 'alice.torrent'))) {
        throw "webtorrent-fixtures are not installed: run 'npm install --no-audit --no-fund' in tests/node."
    }
    $script:Fixtures = (Resolve-Path -LiteralPath $Fixtures).ProviderPath
    $script:Work = New-InteropWorkspace -Name 'test-torrent'
    $script:Id = 'BitTorrent.PowerShell.Commands.TestTorrentCommand'

    # A multi-file payload whose 32 KiB pieces straddle file boundaries; the torrent is mktorrent's.
    $script:Source = New-TestPayload -Root (Join-Path $Work 'master/set') -Seed 30 -Layout ([ordered]@{
            'a.bin'     = 100000
            'b/c.bin'   = 40000
            'd.bin'     = 70001
            'e.bin'     = 200000
            'empty.txt' = 0
        })
    $script:SetTorrent = (New-MkTorrent -SourcePath $Source -OutFile (Join-Path $Work 'set.torrent') -PieceSizeLog2 15).FullName
    $script:SetInfo = Invoke-LibtorrentTool info $SetTorrent
    $offset = [long]0
    $script:FileOffsets = @{}
    foreach ($f in $SetInfo.files) { $FileOffsets[$f.path.Substring('set/'.Length)] = $offset; $offset += $f.size }

    function New-DataCopy([string] $Name) {
        # A fresh copy of the payload under <Work>/<Name>/set, returned as the data path (the folder containing 'set').
        $dest = Join-Path $Work $Name
        $null = New-Item -ItemType Directory -Path $dest
        Copy-Item -LiteralPath $Source -Destination $dest -Recurse
        $dest
    }
    function Get-Piece([string] $File, [long] $Offset) { [int][math]::Floor(($FileOffsets[$File] + $Offset) / $SetInfo.piece_length) }
    function Get-FilePieces([string] $File, [long] $From = 0) {
        $size = ($SetInfo.files | Where-Object path -EQ "set/$File").size
        (Get-Piece $File $From)..(Get-Piece $File ($size - 1))
    }
    function Set-FlippedByte([string] $Path, [long] $Offset) {
        $fs = [IO.File]::Open($Path, 'Open', 'ReadWrite')
        try { $fs.Position = $Offset; $b = $fs.ReadByte(); $fs.Position = $Offset; $fs.WriteByte($b -bxor 0x5A) }
        finally { $fs.Dispose() }
    }
    function Get-ValidIndexes($Result) { @(for ($i = 0; $i -lt $Result.PieceCount; $i++) { if ($Result.Pieces[$i] -eq 'Valid') { $i } }) }
    function Get-LibtorrentValidIndexes([string] $Torrent, [string] $DataPath) {
        $lt = Invoke-LibtorrentTool check $Torrent, $DataPath, '--timeout', 120
        $lt.checked | Should -BeTrue -Because 'libtorrent must finish its check'
        @(for ($i = 0; $i -lt $lt.pieces.Length; $i++) { if ($lt.pieces[$i] -eq '1') { $i } })
    }
}

AfterAll {
    if ($Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force }
}

Describe 'Test-Torrent: webtorrent-fixtures content is complete' {
    It '<Torrent> is complete against its content' -ForEach @(
        @{ Torrent = 'alice.torrent'; Files = 1 }
        @{ Torrent = 'folder.torrent'; Files = 1 }
        @{ Torrent = 'numbers.torrent'; Files = 3 }
        @{ Torrent = 'lots-of-numbers.torrent'; Files = 6 }
        @{ Torrent = 'leaves.torrent'; Files = 1 }
    ) {
        $r = Test-Torrent -LiteralPath (Join-Path $Fixtures $Torrent) -DataPath $Fixtures
        $r.IsComplete | Should -BeTrue
        $r.ValidPieces | Should -Be $r.PieceCount
        $r.CorruptPieces + $r.MissingPieces | Should -Be 0
        $r.BytesValid | Should -Be $r.TotalSize
        @($r.Files).Count | Should -Be $Files
        @($r.Files | Where-Object Status -NE 'Complete') | Should -BeNullOrEmpty
        $r.TorrentPath | Should -Be (Join-Path $Fixtures $Torrent)
    }

    It 'takes a pipeline of Get-ChildItem output, and reports torrents without content as missing' {
        $results = Get-ChildItem -LiteralPath $Fixtures -Filter '*.torrent' | Where-Object Name -NE 'corrupt.torrent' |
            Test-Torrent -DataPath $Fixtures
        $byName = @{}
        foreach ($r in $results) { $byName[[IO.Path]::GetFileName($r.TorrentPath)] = $r }
        $byName['alice.torrent'].IsComplete | Should -BeTrue
        $byName['numbers.torrent'].IsComplete | Should -BeTrue
        # The fixtures ship no content for Sintel and Big Buck Bunny: every piece is missing, nothing is an error.
        $byName['sintel.torrent'].IsComplete | Should -BeFalse
        $byName['sintel.torrent'].MissingPieces | Should -Be $byName['sintel.torrent'].PieceCount
        @($byName['sintel.torrent'].Files.Status | Select-Object -Unique) | Should -Be @('Missing')
    }

    It 'takes TorrentInfo objects and paths from the pipeline, and -Quiet gives Booleans' {
        @(Get-TorrentInfo -LiteralPath (Join-Path $Fixtures 'numbers.torrent') | Test-Torrent -DataPath $Fixtures -Quiet) | Should -Be @($true)
        @((Join-Path $Fixtures 'alice.torrent'), (Join-Path $Fixtures 'sintel.torrent') | Test-Torrent -DataPath $Fixtures -Quiet) |
            Should -Be @($true, $false)
    }

    It 'agrees with libtorrent on complete data' {
        $ours = Test-Torrent -LiteralPath (Join-Path $Fixtures 'leaves.torrent') -DataPath $Fixtures
        Get-LibtorrentValidIndexes (Join-Path $Fixtures 'leaves.torrent') $Fixtures | Should -Be (Get-ValidIndexes $ours)
    }
}

Describe 'Test-Torrent: finds exactly the damaged pieces' -Tag 'Interop' {
    It 'flipped bytes make exactly their pieces corrupt' {
        $data = New-DataCopy 'flipped'
        Set-FlippedByte (Join-Path $data 'set/a.bin') 5
        Set-FlippedByte (Join-Path $data 'set/a.bin') 99999
        Set-FlippedByte (Join-Path $data 'set/e.bin') 123456
        $expected = @((Get-Piece 'a.bin' 5), (Get-Piece 'a.bin' 99999), (Get-Piece 'e.bin' 123456)) | Sort-Object -Unique

        $r = Test-Torrent -LiteralPath $SetTorrent -DataPath $data
        $r.IsComplete | Should -BeFalse
        @($r.CorruptPieceIndexes) | Should -Be $expected
        @($r.MissingPieceIndexes) | Should -BeNullOrEmpty
        ($r.Files | Where-Object Path -EQ 'a.bin').Status | Should -Be 'Partial'
        ($r.Files | Where-Object Path -EQ 'e.bin').Status | Should -Be 'Partial'
        ($r.Files | Where-Object Path -EQ 'empty.txt').Status | Should -Be 'Complete'
        $r.BytesValid | Should -Be ($r.TotalSize - (@($expected | ForEach-Object { if ($_ -eq $r.PieceCount - 1) { $r.TotalSize % $r.PieceLength } else { $r.PieceLength } }) | Measure-Object -Sum).Sum)
        Get-LibtorrentValidIndexes $SetTorrent $data | Should -Be (Get-ValidIndexes $r)
    }

    It 'a truncated file makes the pieces after the cut missing and the file WrongSize' {
        $data = New-DataCopy 'truncated'
        $fs = [IO.File]::Open((Join-Path $data 'set/e.bin'), 'Open', 'ReadWrite'); $fs.SetLength(1000); $fs.Dispose()
        $expected = @(Get-FilePieces 'e.bin' 1000)

        $r = Test-Torrent -LiteralPath $SetTorrent -DataPath $data
        @($r.MissingPieceIndexes) | Should -Be $expected
        @($r.CorruptPieceIndexes) | Should -BeNullOrEmpty
        $e = $r.Files | Where-Object Path -EQ 'e.bin'
        $e.Status | Should -Be 'WrongSize'
        $e.ActualLength | Should -Be 1000
        $e.Length | Should -Be 200000
        ($r.Files | Where-Object Path -EQ 'a.bin').Status | Should -Be 'Complete'
        Get-LibtorrentValidIndexes $SetTorrent $data | Should -Be (Get-ValidIndexes $r)
    }

    It 'a deleted file is Missing, its pieces missing, and files sharing them Partial' {
        $data = New-DataCopy 'deleted'
        Remove-Item -LiteralPath (Join-Path $data 'set/b/c.bin')
        $expected = @(Get-FilePieces 'b/c.bin')

        $r = Test-Torrent -LiteralPath $SetTorrent -DataPath $data
        @($r.MissingPieceIndexes) | Should -Be $expected
        @($r.CorruptPieceIndexes) | Should -BeNullOrEmpty
        $c = $r.Files | Where-Object Path -EQ 'b/c.bin'
        $c.Status | Should -Be 'Missing'
        $c.ActualLength | Should -BeNullOrEmpty
        $c.Problem | Should -Not -BeNullOrEmpty
        ($r.Files | Where-Object Path -EQ 'a.bin').Status | Should -Be 'Partial'   # its last piece holds c.bin's first bytes
        ($r.Files | Where-Object Path -EQ 'd.bin').Status | Should -Be 'Partial'
        Get-LibtorrentValidIndexes $SetTorrent $data | Should -Be (Get-ValidIndexes $r)
    }

    It 'all three at once, on a webtorrent fixture and on the set' {
        $data = Join-Path $Work 'leaves'
        $null = New-Item -ItemType Directory -Path $data
        $epub = 'Leaves of Grass by Walt Whitman.epub'
        Copy-Item -LiteralPath (Join-Path $Fixtures $epub) -Destination $data
        $leaves = Get-TorrentInfo -LiteralPath (Join-Path $Fixtures 'leaves.torrent')
        Set-FlippedByte (Join-Path $data $epub) (5 * $leaves.PieceLength + 7)
        Set-FlippedByte (Join-Path $data $epub) ($leaves.TotalSize - 1)
        $r = Test-Torrent -Torrent $leaves -DataPath $data
        @($r.CorruptPieceIndexes) | Should -Be @(5, ($leaves.PieceCount - 1))
        $r.ValidPieces | Should -Be ($leaves.PieceCount - 2)

        $set = New-DataCopy 'everything'
        Set-FlippedByte (Join-Path $set 'set/d.bin') 3
        $fs = [IO.File]::Open((Join-Path $set 'set/e.bin'), 'Open', 'ReadWrite'); $fs.SetLength(150000); $fs.Dispose()
        Remove-Item -LiteralPath (Join-Path $set 'set/empty.txt')
        $r = Test-Torrent -LiteralPath $SetTorrent -DataPath $set
        @($r.CorruptPieceIndexes) | Should -Be @(Get-Piece 'd.bin' 3)
        @($r.MissingPieceIndexes) | Should -Be @(Get-FilePieces 'e.bin' 150000)
        ($r.Files | Where-Object Path -EQ 'empty.txt').Status | Should -Be 'Missing'
        $r.IsComplete | Should -BeFalse
        Get-LibtorrentValidIndexes $SetTorrent $set | Should -Be (Get-ValidIndexes $r)
    }
}

Describe 'Test-Torrent: the data path convention' {
    It 'reads <DataPath>/<name>/... for a multi-file torrent, and accepts the torrent folder itself' {
        (Test-Torrent -LiteralPath $SetTorrent -DataPath (Split-Path $Source)).IsComplete | Should -BeTrue
        $own = Test-Torrent -LiteralPath $SetTorrent -DataPath $Source
        $own.IsComplete | Should -BeTrue
        $own.DataPath | Should -Be (Split-Path $Source)
    }

    It 'reads <DataPath>/<name> for a single file, or the data file given directly' {
        $copy = Join-Path $Work 'renamed'
        $null = New-Item -ItemType Directory -Path $copy
        Copy-Item -LiteralPath (Join-Path $Fixtures 'alice.txt') -Destination (Join-Path $copy 'my-copy.txt')
        (Test-Torrent -LiteralPath (Join-Path $Fixtures 'alice.torrent') -DataPath $copy -Quiet) | Should -BeFalse
        $direct = Test-Torrent -LiteralPath (Join-Path $Fixtures 'alice.torrent') -DataPath (Join-Path $copy 'my-copy.txt')
        $direct.IsComplete | Should -BeTrue
        $direct.Files[0].FullPath | Should -Be (Join-Path $copy 'my-copy.txt')
    }

    It 'uses the sanitized paths the download engine writes to' -Skip:$IsWindows {
        # 'what?' is a fine name on Linux but not a portable one: a download saves it as 'what_'.
        $odd = Join-Path $Work 'odd/what?'
        $null = New-RandomFile -Path (Join-Path $odd 'f.bin') -SizeBytes 50000 -Seed 4
        $t = New-Torrent -LiteralPath $odd -OutFile (Join-Path $Work 'odd.torrent') -WarningAction SilentlyContinue
        $t.Files[0].SanitizedPath | Should -BeExactly 'what_/f.bin'
        $asGiven = Test-Torrent -Torrent $t -DataPath (Join-Path $Work 'odd')
        $asGiven.Files[0].Status | Should -Be 'Missing'
        $asGiven.Files[0].FullPath | Should -Be (Join-Path $Work 'odd/what_/f.bin')
        Copy-Item -LiteralPath $odd -Destination (Join-Path $Work 'odd/what_') -Recurse
        (Test-Torrent -Torrent $t -DataPath (Join-Path $Work 'odd')).IsComplete | Should -BeTrue
    }

    It 'uses the current folder when no -DataPath is given' {
        Push-Location $Fixtures
        try { (Test-Torrent ./numbers.torrent).IsComplete | Should -BeTrue }
        finally { Pop-Location }
    }

    It 'does not read through a symbolic link unless -FollowSymlink' -Skip:$IsWindows {
        $data = Join-Path $Work 'linked'
        $null = New-Item -ItemType Directory -Path $data
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $data 'alice.txt') -Target (Join-Path $Fixtures 'alice.txt')
        $plain = Test-Torrent -LiteralPath (Join-Path $Fixtures 'alice.torrent') -DataPath $data
        $plain.Files[0].Status | Should -Be 'Missing'
        $plain.Files[0].Problem | Should -Match 'symbolic link'
        (Test-Torrent -LiteralPath (Join-Path $Fixtures 'alice.torrent') -DataPath $data -FollowSymlink).IsComplete | Should -BeTrue
    }

    It 'has table and list views' {
        $r = Test-Torrent -LiteralPath (Join-Path $Fixtures 'numbers.torrent') -DataPath $Fixtures
        ($r | Format-Table | Out-String -Width 200) | Should -Match 'Complete\s+Pieces\s+Corrupt\s+Missing'
        ($r | Format-List | Out-String -Width 200) | Should -Match 'Pieces\s+: 1 of 1 valid, 0 corrupt, 0 missing'
        ($r.Files | Format-Table | Out-String -Width 200) | Should -Match 'Complete\s+.*1/1\s+1.txt'
    }
}

Describe 'Test-Torrent: checks what Start-TorrentDownload -DestinationPath wrote' -Tag 'Interop' {
    BeforeAll {
        # python3-libtorrent seeds the set and the Leaves fixture; our downloader fetches both into one destination.
        $script:SetSeeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $SetTorrent -SavePath (Split-Path $Source) -NoTracker -TimeoutSec 300
        $script:LeavesTorrent = Join-Path $Fixtures 'leaves.torrent'
        $script:LeavesSeeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $LeavesTorrent -SavePath $Fixtures -NoTracker -TimeoutSec 300
        $script:Downloads = Join-Path $Work 'downloads'
        $null = Start-TorrentDownload -LiteralPath $SetTorrent -DestinationPath $Downloads -Peer $SetSeeder.EndPoint -NoTracker -TimeoutSec 60 -ErrorAction Stop
        $null = Start-TorrentDownload -LiteralPath $LeavesTorrent -DestinationPath $Downloads -Peer $LeavesSeeder.EndPoint -NoTracker -TimeoutSec 60 -ErrorAction Stop
    }
    AfterAll { Stop-InteropProcess -Process $SetSeeder, $LeavesSeeder }

    It 'the same -DataPath as -DestinationPath finds both torrents complete' {
        $results = @($SetTorrent, $LeavesTorrent | Test-Torrent -DataPath $Downloads)
        $results.Count | Should -Be 2
        $results.IsComplete | Should -Be @($true, $true)
        $results[0].Files.FullPath | Should -Contain (Join-Path $Downloads 'set/b/c.bin')
        $results[1].Files[0].FullPath | Should -Be (Join-Path $Downloads 'Leaves of Grass by Walt Whitman.epub')
    }

    It 'and a byte flipped in the download afterwards is exactly one corrupt piece' {
        Set-FlippedByte (Join-Path $Downloads 'set/d.bin') 70000
        $r = Test-Torrent -LiteralPath $SetTorrent -DataPath $Downloads
        @($r.CorruptPieceIndexes) | Should -Be @(Get-Piece 'd.bin' 70000)
        $r.ValidPieces | Should -Be ($r.PieceCount - 1)
    }
}

Describe 'Test-Torrent: bad input gives errors with stable ids' {
    It 'a data path that does not exist: DataPathNotFound, or $false with -Quiet' {
        $r = Test-Torrent -LiteralPath $SetTorrent -DataPath (Join-Path $Work 'nowhere') -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly "DataPathNotFound,$Id"
        Test-Torrent -LiteralPath $SetTorrent -DataPath (Join-Path $Work 'nowhere') -Quiet -ErrorVariable err2 | Should -BeFalse
        $err2.Count | Should -Be 0
    }

    It 'a file as the data path of a multi-file torrent: DataPathIsFile' {
        Test-Torrent -LiteralPath $SetTorrent -DataPath (Join-Path $Source 'a.bin') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly "DataPathIsFile,$Id"
    }

    It 'an unusable torrent is an error and the next torrent is still checked' {
        $r = Test-Torrent -LiteralPath (Join-Path $Fixtures 'corrupt.torrent'), (Join-Path $Fixtures 'alice.torrent') -DataPath $Fixtures -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidTorrentFile,$Id"
        @($r).Count | Should -Be 1
        $r.IsComplete | Should -BeTrue
    }

    It 'a missing .torrent file: TorrentFileNotFound' {
        Test-Torrent -LiteralPath (Join-Path $Work 'none.torrent') -DataPath $Work -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly "TorrentFileNotFound,$Id"
    }
}

Describe 'Test-Torrent: progress and stopping' {
    BeforeAll {
        # 8 GiB of zeros (a sparse file) and its torrent, written by hand: every 64 KiB piece has the same hash.
        $script:Zeros = Join-Path $Work 'zeros/zeros.bin'
        $null = New-Item -ItemType Directory -Path (Split-Path $Zeros) -Force
        $fs = [IO.File]::Create($Zeros); $fs.SetLength(8GB); $fs.Dispose()
        $pieceLength = 65536
        $count = [int](8GB / $pieceLength)
        $sha = [Security.Cryptography.SHA1]::Create()
        $hash = $sha.ComputeHash([byte[]]::new($pieceLength)); $sha.Dispose()
        $ascii = [Text.Encoding]::ASCII
        $stream = [IO.MemoryStream]::new()
        $head = $ascii.GetBytes("d4:infod6:lengthi$(8GB)e4:name9:zeros.bin12:piece lengthi$($pieceLength)e6:pieces$($count * 20):")
        $stream.Write($head, 0, $head.Length)
        for ($i = 0; $i -lt $count; $i++) { $stream.Write($hash, 0, 20) }
        $tail = $ascii.GetBytes('ee')
        $stream.Write($tail, 0, 2)
        $script:ZerosTorrent = Join-Path $Work 'zeros.torrent'
        [IO.File]::WriteAllBytes($ZerosTorrent, $stream.ToArray())
    }

    It 'writes progress records from start to a Completed record' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript("Import-Module BitTorrent; Test-Torrent -LiteralPath '$SetTorrent' -DataPath '$(Split-Path $Source)'")
            $output = $ps.Invoke()
            $output[0].IsComplete | Should -BeTrue
            $progress = @($ps.Streams.Progress)
            $progress.Count | Should -BeGreaterOrEqual 2
            $progress[0].Activity | Should -BeExactly "Verifying 'set'"
            $progress[-1].RecordType | Should -Be 'Completed'
            @($progress | Select-Object -ExpandProperty ActivityId -Unique) | Should -Be @(4)
        }
        finally { $ps.Dispose() }
    }

    It 'reports bytes, rate and the current file while hashing, and stops on Ctrl+C' {
        $run = Stop-WhileHashing "Test-Torrent -LiteralPath '$ZerosTorrent' -DataPath '$(Split-Path $Zeros)' -ThrottleLimit 1"
        $run.EndedBeforeStop | Should -BeFalse -Because '8 GiB on one thread takes longer than the first progress record'
        $run.Running.StatusDescription | Should -Match 'of 8\.00 GiB hashed \(.+/s\); piece \d+ of 131072'
        $run.Running.CurrentOperation | Should -BeExactly $Zeros
        $run.State | Should -Be 'Stopped'
        $run.Errors | Should -BeNullOrEmpty
    }
}
