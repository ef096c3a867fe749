<#
    Get-TorrentInfo end to end: path binding like Get-FileHash, every TorrentInfo property, error records for bad
    paths and malformed files (processing goes on), the default view; and (tag Interop) agreement with libtorrent
    and parse-torrent on every webtorrent-fixtures torrent and on torrents made by mktorrent and libtorrent.
#>

BeforeDiscovery {
    $fixtureDir = Join-Path $PSScriptRoot '../node/node_modules/webtorrent-fixtures/fixtures'
    # corrupt.torrent has no name: it belongs to the malformed-file tests, not the comparison.
    $script:FixtureCases = @(Get-ChildItem -Path $fixtureDir -Filter *.torrent -ErrorAction SilentlyContinue |
            Where-Object Name -NE 'corrupt.torrent' | ForEach-Object { @{ Case = "fixture $($_.Name)" } })
    $script:MadeCases = @(
        'mktorrent single', 'mktorrent multi', 'mktorrent unicode tiers private web seed',
        'libtorrent v1 single', 'libtorrent v1 multi', 'libtorrent hybrid with padding'
    ) | ForEach-Object { @{ Case = $_ } }
}

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/TorrentFiles.psm1') -Force
    $script:Cmd = 'BitTorrent.PowerShell.Commands.GetTorrentInfoCommand'
}

Describe 'Get-TorrentInfo' {
    BeforeAll {
        $script:Dir = Join-Path $TestDrive 'torrents'
        $script:Single = New-TestTorrent -Path (Join-Path $Dir 'single.torrent') -Name 'alice.txt' -SingleFile `
            -Files ([ordered]@{ 'alice.txt' = (New-TestBytes 40000 1) }) -PieceLength 16384 `
            -Announce 'http://ignored.example/announce' -AnnounceList @(@('http://a.example/announce', 'udp://b.example:6969/announce'), @('http://c.example/announce')) `
            -UrlList 'http://seed.example/alice.txt' -Private -Comment 'a comment' -CreatedBy 'hand made' -CreationDate 1700000000
        $script:Multi = New-TestTorrent -Path (Join-Path $Dir 'multi.torrent') -Name 'My Folder' -PieceLength 32768 -Files ([ordered]@{
                'a.bin'              = (New-TestBytes 50000 2)
                'empty.txt'          = [byte[]]@()
                'sub/deeper/b.bin'   = (New-TestBytes 20000 3)
                'sub/ünïcødé ✓.txt' = (New-TestBytes 100 4)
            })
        $script:Bracket = New-TestTorrent -Path (Join-Path $Dir 'brackets[1].torrent') -Name 'bracketed' -SingleFile `
            -Files ([ordered]@{ x = (New-TestBytes 10 5) })
        # A decoy that the wildcard 'brackets[1].torrent' does match ('[1]' is the character class {1}).
        $script:Decoy = New-TestTorrent -Path (Join-Path $Dir 'brackets1.torrent') -Name 'decoy' -SingleFile `
            -Files ([ordered]@{ y = (New-TestBytes 10 6) })
        # Case-sensitive keys: 'CON.txt' and 'con.TXT' are two files in the torrent.
        $hostileFiles = [System.Collections.Specialized.OrderedDictionary]::new([StringComparer]::Ordinal)
        $hostileFiles['../../etc/passwd'] = New-TestBytes 5 7
        $hostileFiles['C:/Windows/x'] = New-TestBytes 5 8
        $hostileFiles['CON.txt'] = New-TestBytes 5 9
        $hostileFiles['con.TXT'] = New-TestBytes 5 10
        $script:Hostile = New-TestTorrent -Path (Join-Path $TestDrive 'hostile/hostile.torrent') -Name '..' -Files $hostileFiles
    }

    Context 'paths and the pipeline' {
        It '-Path expands wildcards' {
            $result = Get-TorrentInfo -Path (Join-Path $Dir '*.torrent')
            @($result).Count | Should -Be 4
            $result.Name | Sort-Object | Should -Be @('alice.txt', 'bracketed', 'decoy', 'My Folder')
        }

        It 'takes the path by position and from the pipeline by value' {
            (Get-TorrentInfo $Single.Path).InfoHash | Should -Be $Single.InfoHash
            ($Single.Path, $Multi.Path | Get-TorrentInfo).InfoHash | Should -Be @($Single.InfoHash, $Multi.InfoHash)
        }

        It '-LiteralPath reads a name with [brackets] that -Path treats as a wildcard' {
            (Get-TorrentInfo -LiteralPath $Bracket.Path).Name | Should -Be 'bracketed'
            (Get-TorrentInfo -LP $Bracket.Path).Name | Should -Be 'bracketed'
            (Get-TorrentInfo -Path $Bracket.Path).Name | Should -Be 'decoy'
        }

        It 'binds Get-ChildItem output through PSPath, brackets included' {
            $result = Get-ChildItem -LiteralPath $Dir -Filter *.torrent | Get-TorrentInfo
            $result.Name | Sort-Object | Should -Be @('alice.txt', 'bracketed', 'decoy', 'My Folder')
            ($result | Where-Object Name -EQ 'bracketed').Source | Should -Be $Bracket.Path
        }

        It 'binds objects with a Path property' {
            ([pscustomobject]@{ Path = $Multi.Path } | Get-TorrentInfo).Name | Should -Be 'My Folder'
        }

        It 'resolves relative paths against the PowerShell location' {
            Push-Location $Dir
            try { (Get-TorrentInfo ./multi.torrent).Source | Should -Be $Multi.Path }
            finally { Pop-Location }
        }

        It 'rejects a path on another provider with NotFileSystemPath' {
            $r = Get-TorrentInfo -Path Env:PATH -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeExactly "NotFileSystemPath,$Cmd"
            $err[0].Exception.Message | Should -Match 'Environment'

            Get-TorrentInfo -LiteralPath Env:PATH -ErrorVariable err2 -ErrorAction SilentlyContinue
            $err2[0].FullyQualifiedErrorId | Should -BeExactly "NotFileSystemPath,$Cmd"
        }

        It 'reports a missing file with TorrentFileNotFound (-Path and -LiteralPath) and a folder too' {
            $missing = Join-Path $TestDrive 'nope.torrent'
            Get-TorrentInfo -Path $missing -ErrorVariable e1 -ErrorAction SilentlyContinue
            $e1[0].FullyQualifiedErrorId | Should -BeExactly "TorrentFileNotFound,$Cmd"
            Get-TorrentInfo -LiteralPath $missing -ErrorVariable e2 -ErrorAction SilentlyContinue
            $e2[0].FullyQualifiedErrorId | Should -BeExactly "TorrentFileNotFound,$Cmd"
            $e2[0].TargetObject | Should -Be $missing
            Get-TorrentInfo -LiteralPath $Dir -ErrorVariable e3 -ErrorAction SilentlyContinue
            $e3[0].FullyQualifiedErrorId | Should -BeExactly "TorrentFileNotFound,$Cmd"
            $e3[0].Exception.Message | Should -Match 'folder'
        }

        It 'goes on with the next path after a bad one' {
            $r = Get-TorrentInfo -LiteralPath (Join-Path $TestDrive 'nope.torrent'), $Single.Path -ErrorVariable err -ErrorAction SilentlyContinue
            $r.Name | Should -Be 'alice.txt'
            $err.Count | Should -Be 1
        }
    }

    Context 'what a torrent says' {
        It 'single-file: every property' {
            $t = Get-TorrentInfo $Single.Path
            $t | Should -BeOfType BitTorrent.Metainfo.TorrentInfo
            $t.Name | Should -BeExactly 'alice.txt'
            $t.InfoHash | Should -BeExactly $Single.InfoHash
            [Convert]::ToHexString($t.InfoHashBytes).ToLowerInvariant() | Should -Be $Single.InfoHash
            $t.TotalSize | Should -Be 40000
            $t.PieceLength | Should -Be 16384
            $t.PieceCount | Should -Be 3
            $t.LastPieceLength | Should -Be (40000 - 2 * 16384)
            $t.IsMultiFile | Should -BeFalse
            $t.IsPrivate | Should -BeTrue
            $t.Trackers | Should -Be @('http://a.example/announce', 'udp://b.example:6969/announce', 'http://c.example/announce')
            $t.TrackerTiers.Count | Should -Be 2
            $t.TrackerTiers[1] | Should -Be @('http://c.example/announce')
            $t.WebSeeds | Should -Be @('http://seed.example/alice.txt')
            $t.Comment | Should -BeExactly 'a comment'
            $t.CreatedBy | Should -BeExactly 'hand made'
            $t.CreationDate | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000000))
            $t.MagnetUri | Should -BeLike "magnet:?xt=urn:btih:$($Single.InfoHash)&dn=alice.txt&tr=http%3A%2F%2Fa.example%2Fannounce*"
            $t.Source | Should -Be $Single.Path
            $f = @($t.Files)
            $f.Count | Should -Be 1
            $f[0].Path | Should -Be 'alice.txt'
            $f[0].SanitizedPath | Should -Be 'alice.txt'
            $f[0].Length | Should -Be 40000
        }

        It 'multi-file: files with path segments, offsets, pieces and safe paths' {
            $t = Get-TorrentInfo $Multi.Path
            $t.InfoHash | Should -BeExactly $Multi.InfoHash
            $t.IsMultiFile | Should -BeTrue
            $t.IsPrivate | Should -BeFalse
            $t.TotalSize | Should -Be 70100
            $t.PieceCount | Should -Be 3
            $t.Trackers | Should -BeNullOrEmpty
            $t.CreationDate | Should -BeNullOrEmpty
            $t.Files.Path | Should -Be @('a.bin', 'empty.txt', 'sub/deeper/b.bin', 'sub/ünïcødé ✓.txt')
            $t.Files[2].PathSegments | Should -Be @('sub', 'deeper', 'b.bin')
            $t.Files.Offset | Should -Be @(0, 50000, 50000, 70000)
            ($t.Files | ForEach-Object Length) | Should -Be @(50000, 0, 20000, 100)
            $t.Files.FirstPiece | Should -Be @(0, -1, 1, 2)
            $t.Files.LastPiece | Should -Be @(1, -1, 2, 2)
            $t.Files.SanitizedPath | Should -Be @('My Folder/a.bin', 'My Folder/empty.txt', 'My Folder/sub/deeper/b.bin', 'My Folder/sub/ünïcødé ✓.txt')
        }

        It 'keeps hostile names for display and gives safe, unique paths for writing' {
            $t = Get-TorrentInfo $Hostile.Path
            $t.Files.Path | Should -Be @('../../etc/passwd', 'C:/Windows/x', 'CON.txt', 'con.TXT')
            $t.Files.SanitizedPath | Should -Be @('_/etc/passwd', '_/C_/Windows/x', '_/_CON.txt', '_/_con.1.TXT')
            $t.Warnings | Should -Not -BeNullOrEmpty
        }
    }

    Context 'malformed files' {
        BeforeAll {
            $script:Bad = Join-Path $TestDrive 'bad'
            $null = New-Item -ItemType Directory -Path $Bad
            $latin1 = [Text.Encoding]::Latin1
            function Write-Bad([string] $Name, [byte[]] $Bytes) { [IO.File]::WriteAllBytes((Join-Path $Bad $Name), $Bytes); Join-Path $Bad $Name }
            $good = $Single.Bytes
            $script:Cases = @{
                truncated     = Write-Bad 'truncated.torrent' $good[0..($good.Length - 30)]
                badInteger    = Write-Bad 'bad-integer.torrent' $latin1.GetBytes('d4:infod6:lengthi01e4:name1:xee')
                hugeLength    = Write-Bad 'huge-length.torrent' $latin1.GetBytes('d4:info99999999999:xe')
                hugeString    = Write-Bad 'huge-string.torrent' $latin1.GetBytes('d4:info2000000000:xe')
                nested        = Write-Bad 'nested.torrent' $latin1.GetBytes(('l' * 100000) + ('e' * 100000))
                notDictionary = Write-Bad 'list.torrent' $latin1.GetBytes('l4:infoe')
                missingInfo   = Write-Bad 'no-info.torrent' $latin1.GetBytes('d8:announce9:http://x/e')
                pieces21      = Write-Bad 'pieces21.torrent' $latin1.GetBytes('d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces21:' + ('a' * 21) + 'ee')
                empty         = Write-Bad 'empty.torrent' ([byte[]]@())
            }
        }

        It '<Label>: InvalidTorrentFile with reason <Reason>' -ForEach @(
            @{ Label = 'truncated'; Reason = 'InvalidBencoding'; Offset = $true }
            @{ Label = 'badInteger'; Reason = 'InvalidBencoding'; Offset = $true; Detail = 'leading zero' }
            @{ Label = 'hugeLength'; Reason = 'InvalidBencoding'; Offset = $true; Detail = 'too large' }
            @{ Label = 'hugeString'; Reason = 'InvalidBencoding'; Offset = $true; Detail = 'claims 2000000000 bytes' }
            @{ Label = 'nested'; Reason = 'InvalidBencoding'; Offset = $true; Detail = 'deeper than 100' }
            @{ Label = 'notDictionary'; Reason = 'NotADictionary' }
            @{ Label = 'missingInfo'; Reason = 'MissingInfo' }
            @{ Label = 'pieces21'; Reason = 'InvalidPiecesLength'; Detail = 'not a multiple of 20' }
            @{ Label = 'empty'; Reason = 'InvalidBencoding'; Offset = $true }
        ) {
            $path = $Cases[$Label]
            $r = Get-TorrentInfo -LiteralPath $path -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidTorrentFile,$Cmd"
            $err[0].TargetObject | Should -Be $path
            $err[0].Exception.Error | Should -Be $Reason
            $err[0].ErrorDetails.Message | Should -BeLike "*$path*"
            if ($Offset) { $err[0].ErrorDetails.Message | Should -Match 'at byte offset \d+' }
            if ($Detail) { $err[0].ErrorDetails.Message | Should -BeLike "*$Detail*" }
        }

        It 'the offset is where the problem is' {
            Get-TorrentInfo -LiteralPath $Cases.badInteger -ErrorVariable err -ErrorAction SilentlyContinue
            # d 4:info d 6:length i01e: the 'i' is byte 16.
            $err[0].Exception.InnerException.Offset | Should -Be 16
            $err[0].ErrorDetails.Message | Should -BeLike '*at byte offset 16*'
        }

        It "webtorrent-fixtures' corrupt.torrent is refused" -Tag Interop {
            $corrupt = Join-Path $PSScriptRoot '../node/node_modules/webtorrent-fixtures/fixtures/corrupt.torrent'
            Get-TorrentInfo -LiteralPath $corrupt -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidTorrentFile,$Cmd"
            $err[0].Exception.Error | Should -Be 'MissingName'
        }

        It 'a whole folder of bad files gives one error each and the good file still comes out' {
            Copy-Item -LiteralPath $Single.Path -Destination (Join-Path $Bad 'zz-good.torrent')
            $r = Get-ChildItem -LiteralPath $Bad | Get-TorrentInfo -ErrorVariable err -ErrorAction SilentlyContinue
            @($r).Count | Should -Be 1
            $r.InfoHash | Should -Be $Single.InfoHash
            $err.Count | Should -Be $Cases.Count
            $err | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeExactly "InvalidTorrentFile,$Cmd" }
        }
    }

    Context 'default view' {
        It 'shows size, files, pieces, the full 40-digit info-hash and the name' {
            $text = Get-TorrentInfo $Single.Path, $Multi.Path | Out-String -Width 200
            $text | Should -Match 'Size\s+Files\s+Pieces\s+InfoHash\s+Name'
            $text | Should -Match "39.06 KiB\s+1\s+3\s+$($Single.InfoHash)\s+alice.txt"
            $text | Should -Match "68.46 KiB\s+4\s+3\s+$($Multi.InfoHash)\s+My Folder"
        }

        It 'keeps the info-hash whole in an 80-column console' {
            $text = Get-TorrentInfo $Multi.Path | Out-String -Width 80
            $text | Should -Match $Multi.InfoHash
        }

        It 'shows files as a table' {
            $text = (Get-TorrentInfo $Multi.Path).Files | Out-String -Width 120
            $text | Should -Match 'Index\s+Size\s+Path'
            $text | Should -Match '2\s+19.53 KiB\s+sub/deeper/b.bin'
        }
    }
}

Describe 'Get-TorrentInfo agrees with libtorrent and parse-torrent' -Tag Interop {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
        $python = '/usr/bin/python3'
        $ltTool = Join-Path $PSScriptRoot 'TestSupport/lt_torrent.py'
        $nodeDir = Join-Path $PSScriptRoot '../node'
        $fixtureDir = Join-Path $nodeDir 'node_modules/webtorrent-fixtures/fixtures'
        $work = Join-Path $TestDrive 'interop'
        $null = New-Item -ItemType Directory -Path $work

        # Payloads: one file; a folder with nested folders, an empty file and unicode names.
        $single = New-RandomFile -Path (Join-Path $work 'data/single/payload.bin') -SizeBytes 700000 -Seed 11
        $multi = New-TestPayload -Root (Join-Path $work 'data/multi/Multi Folder') -Seed 12 -Layout ([ordered]@{
                'a.txt'                       = 3
                'empty.txt'                   = 0
                'ünïcødé ✓/deep/er/日本語.bin' = 300000
                'sub/b.bin'                   = 70000
            })

        $script:Paths = [ordered]@{}
        foreach ($f in Get-ChildItem -Path $fixtureDir -Filter *.torrent | Where-Object Name -NE 'corrupt.torrent') {
            $Paths["fixture $($f.Name)"] = $f.FullName
        }
        $Paths['mktorrent single'] = (New-MkTorrent -SourcePath $single.FullName -OutFile (Join-Path $work 'mk-single.torrent') -PieceSizeLog2 15 -Announce 'http://t.example/announce').FullName
        $Paths['mktorrent multi'] = (New-MkTorrent -SourcePath $multi -OutFile (Join-Path $work 'mk-multi.torrent') -PieceSizeLog2 16).FullName
        $mkUnicode = Join-Path $work 'mk-unicode.torrent'
        $out = & mktorrent -l 15 -a 'http://a.example/announce,http://b.example/announce' -a 'udp://c.example:6969/announce' `
            -w 'http://seed.example/files' -c 'made by mktorrent' -p -n 'Ünïcødé ✓ torrent' -o $mkUnicode $multi 2>&1
        if ($LASTEXITCODE -ne 0) { throw "mktorrent failed: $out" }
        $Paths['mktorrent unicode tiers private web seed'] = $mkUnicode

        function New-LtTorrent([string] $Case, [string] $Source, [string[]] $Arguments) {
            $file = Join-Path $work ("lt-" + ($Case -replace '\W', '-') + '.torrent')
            $o = & $python $ltTool make $Source $file @Arguments 2>&1
            if ($LASTEXITCODE -ne 0) { throw "lt_torrent.py make failed: $o" }
            $Paths[$Case] = $file
        }
        New-LtTorrent 'libtorrent v1 single' $single.FullName @('--mode', 'v1', '--tracker', 'udp://t.example:6969/announce')
        New-LtTorrent 'libtorrent v1 multi' $multi @('--mode', 'v1', '--piece-size', '32768', '--tracker', 'http://a.example/announce,http://b.example/announce',
            '--tracker', 'http://c.example/announce', '--web-seed', 'http://seed.example/', '--private', '--comment', 'lt comment')
        New-LtTorrent 'libtorrent hybrid with padding' $multi @('--mode', 'hybrid', '--piece-size', '16384', '--tracker', 'http://a.example/announce')
        $script:V2Only = Join-Path $work 'lt-v2.torrent'
        $o = & $python $ltTool make $multi $V2Only --mode v2 2>&1
        if ($LASTEXITCODE -ne 0) { throw "lt_torrent.py make failed: $o" }

        $files = @($Paths.Values)
        $script:Lt = @{}
        foreach ($r in (& $python $ltTool info @files | ConvertFrom-Json)) { $Lt[$r.source] = $r }
        if ($LASTEXITCODE -ne 0) { throw 'lt_torrent.py info failed' }
        $script:Pt = @{}
        Push-Location $nodeDir
        try { $json = & node parse-torrent-json.mjs @files }
        finally { Pop-Location }
        if ($LASTEXITCODE -ne 0) { throw 'parse-torrent-json.mjs failed' }
        foreach ($r in ($json | ConvertFrom-Json)) { $Pt[$r.source] = $r }
        $script:Ours = @{}
        foreach ($t in Get-TorrentInfo -LiteralPath $files) { $Ours[$t.Source] = $t }

        # Lists are compared as text, one item a line: exact order, clear failure messages, and empty lists work.
        function Join-List($items) { (@($items) | ForEach-Object { "$_" }) -join "`n" }

        function Get-FullPaths($t) {
            # libtorrent and parse-torrent put the torrent name in front of every path of a multi-file torrent.
            if ($t.IsMultiFile) { $t.Files | ForEach-Object { "$($t.Name)/$($_.Path)" } } else { @($t.Files[0].Path) }
        }
    }

    It 'the comparison covers every fixture and every made torrent' {
        @(Get-ChildItem -Path $fixtureDir -Filter *.torrent).Count | Should -BeGreaterOrEqual 9
        $Paths.Count | Should -Be (@(Get-ChildItem -Path $fixtureDir -Filter *.torrent).Count - 1 + 6)
        $Ours.Count | Should -Be $Paths.Count
        $Lt.Count | Should -Be $Paths.Count
        $Pt.Count | Should -Be $Paths.Count
    }

    It '<Case>: same as libtorrent' -ForEach ($FixtureCases + $MadeCases) {
        $path = $Paths[$Case]
        $t = $Ours[$path]; $ref = $Lt[$path]
        $t | Should -Not -BeNullOrEmpty
        $t.Name | Should -BeExactly $ref.name
        $t.InfoHash | Should -BeExactly $ref.infoHash
        $t.TotalSize | Should -Be $ref.totalSize
        $t.PieceLength | Should -Be $ref.pieceLength
        $t.PieceCount | Should -Be $ref.pieceCount
        $t.IsPrivate | Should -Be $ref.private
        Join-List (Get-FullPaths $t) | Should -BeExactly (Join-List $ref.files.path)
        Join-List ($t.Files | ForEach-Object Length) | Should -Be (Join-List ($ref.files | ForEach-Object length))
        Join-List $t.Files.Offset | Should -Be (Join-List $ref.files.offset)
        Join-List $t.Files.IsPadding | Should -Be (Join-List $ref.files.padding)
        # libtorrent shuffles the trackers within a tier (BEP 12), so a tier is compared as a set.
        $t.TrackerTiers.Count | Should -Be @($ref.trackerTiers).Count
        for ($i = 0; $i -lt $t.TrackerTiers.Count; $i++) {
            Join-List ($t.TrackerTiers[$i] | Sort-Object) | Should -BeExactly (Join-List ($ref.trackerTiers[$i] | Sort-Object))
        }
        # libtorrent adds a '/' to a multi-file torrent's web seed; the file says it without.
        Join-List ($t.WebSeeds | ForEach-Object { if ($t.IsMultiFile -and -not $_.EndsWith('/')) { "$_/" } else { $_ } }) |
            Should -BeExactly (Join-List $ref.webSeeds)
        if ($ref.comment) { $t.Comment | Should -BeExactly $ref.comment }
        if ($ref.createdBy) { $t.CreatedBy | Should -BeExactly $ref.createdBy }
        if ($ref.creationDate -gt 0 -and $ref.creationDate -lt 253402300800) { $t.CreationDate.ToUnixTimeSeconds() | Should -Be $ref.creationDate }
    }

    It '<Case>: same as parse-torrent' -ForEach ($FixtureCases + $MadeCases) {
        $path = $Paths[$Case]
        $t = $Ours[$path]; $ref = $Pt[$path]
        $t.Name | Should -BeExactly $ref.name
        $t.InfoHash | Should -BeExactly $ref.infoHash
        $t.TotalSize | Should -Be $ref.totalSize
        $t.PieceLength | Should -Be $ref.pieceLength
        $t.PieceCount | Should -Be $ref.pieceCount
        $t.LastPieceLength | Should -Be $ref.lastPieceLength
        $t.IsPrivate | Should -Be $ref.private
        Join-List (Get-FullPaths $t) | Should -BeExactly (Join-List $ref.files.path)
        Join-List ($t.Files | ForEach-Object Length) | Should -Be (Join-List ($ref.files | ForEach-Object length))
        Join-List $t.Files.Offset | Should -Be (Join-List $ref.files.offset)
        Join-List $t.Trackers | Should -BeExactly (Join-List $ref.trackers)
        Join-List $t.WebSeeds | Should -BeExactly (Join-List $ref.webSeeds)
    }

    It 'a v2-only torrent (BEP 52) that libtorrent reads is refused as UnsupportedVersion' {
        $ref = & $python $ltTool info $V2Only | ConvertFrom-Json
        $ref.hasV2 | Should -BeTrue
        $ref.infoHash | Should -BeNullOrEmpty
        Get-TorrentInfo -LiteralPath $V2Only -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidTorrentFile,$Cmd"
        $err[0].Exception.Error | Should -Be 'UnsupportedVersion'
    }

    It 'the magnet link carries the same info-hash libtorrent computes' {
        foreach ($path in $Paths.Values) {
            $Ours[$path].MagnetUri | Should -BeLike "magnet:?xt=urn:btih:$($Lt[$path].infoHash)*"
        }
    }
}
