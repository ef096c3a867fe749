<#
    New-Torrent end to end: the torrents it writes are checked against mktorrent and python3-libtorrent
    (create_torrent + set_piece_hashes) for the same files and piece size, read back by libtorrent and aria2c -S,
    and the cmdlet's manners (pipeline, -WhatIf, -Force, errors with stable ids, progress, Ctrl+C) are exercised.

    Where the references differ from each other: mktorrent sorts a folder's files by strcmp of their paths (our
    order); libtorrent's add_files walks the folder in directory order, and libtorrent 2.0 adds BEP 47 padding files,
    'attr' keys and v2 hashes unless told v1_only / no_attributes. The libtorrent comparison therefore gives it the
    files in code-point order with v1_only and no_attributes (tests/Pester/TestSupport/lt_hash.py), and one test
    shows the directory-order torrent differs exactly by its file order.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Work = New-InteropWorkspace -Name 'new-torrent'
    $script:Single = (New-RandomFile -Path (Join-Path $Work 'single/payload.bin') -SizeBytes (1MB + 12345) -Seed 11).FullName
    # Names chosen so that code-point, case-insensitive and directory order all differ ('B' < 'a' < 'sub-file' <
    # 'sub/...' < 'z' < 'é'), with an empty file, a hidden file and an empty folder.
    $script:Multi = New-TestPayload -Root (Join-Path $Work 'multi/content') -Seed 20 -Layout ([ordered]@{
            'B.txt'               = 20000
            'a.txt'               = 70001
            'sub-file'            = 1
            'sub/deep/x.bin'      = 300000
            'z'                   = 0
            'é.txt'               = 5000
            '.hidden'             = 100
        })
    $null = New-Item -ItemType Directory -Path (Join-Path $Multi 'empty-folder/inside')
    $script:Out = Join-Path $Work 'out'
    $null = New-Item -ItemType Directory -Path $Out

    function Get-MkTorrentHash([string] $Source, [int] $Log2, [string[]] $Extra = @()) {
        $file = Join-Path $Out ("mk-{0}.torrent" -f [Guid]::NewGuid().ToString('N').Substring(0, 8))
        $output = & mktorrent -l $Log2 -o $file @Extra $Source 2>&1
        if ($LASTEXITCODE -ne 0) { throw "mktorrent failed: $output" }
        Get-ReferenceInfoHash $file
    }
}

AfterAll {
    if ($Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force }
}

Describe 'New-Torrent: same info-hash as mktorrent and libtorrent' -Tag 'Interop' {
    It 'matches mktorrent for a single file with <Log2>-bit pieces' -ForEach @(@{ Log2 = 15 }, @{ Log2 = 16 }, @{ Log2 = 18 }) {
        $t = New-Torrent -LiteralPath $Single -OutFile (Join-Path $Out "single-$Log2.torrent") -PieceSize ([math]::Pow(2, $Log2))
        $t.PieceLength | Should -Be ([math]::Pow(2, $Log2))
        $t.InfoHash | Should -BeExactly (Get-MkTorrentHash $Single $Log2)
    }

    It 'matches mktorrent for a folder (code-point file order, empty and hidden files, empty folders skipped)' {
        $t = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'multi-15.torrent') -PieceSize 32KB
        @($t.Files.Path) | Should -Be @('.hidden', 'B.txt', 'a.txt', 'sub-file', 'sub/deep/x.bin', 'z', 'é.txt')
        $t.InfoHash | Should -BeExactly (Get-MkTorrentHash $Multi 15)
    }

    It 'matches mktorrent with -Private and -Source (mktorrent -p -s)' {
        $t = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'multi-private.torrent') -PieceSize 32KB -Private -Source 'LAB'
        $t.IsPrivate | Should -BeTrue
        $t.SourceTag | Should -BeExactly 'LAB'
        $t.InfoHash | Should -BeExactly (Get-MkTorrentHash $Multi 15 @('-p', '-s', 'LAB'))
        $t.InfoHash | Should -Not -Be (Get-MkTorrentHash $Multi 15)
    }

    It 'matches libtorrent create_torrent for a <Kind> with <Piece>-byte pieces' -ForEach @(
        @{ Kind = 'single file'; Source = 'single'; Piece = 16384 }
        @{ Kind = 'single file'; Source = 'single'; Piece = 262144 }
        @{ Kind = 'folder'; Source = 'multi'; Piece = 16384 }
        @{ Kind = 'folder'; Source = 'multi'; Piece = 65536 }
    ) {
        $path = if ($Source -eq 'single') { $Single } else { $Multi }
        $t = New-Torrent -LiteralPath $path -OutFile (Join-Path $Out "lt-$Source-$Piece.torrent") -PieceSize $Piece
        $lt = Invoke-LibtorrentTool create $path, (Join-Path $Out "lt-ref-$Source-$Piece.torrent"), $Piece
        $t.InfoHash | Should -BeExactly $lt.info_hash
    }

    It "differs from libtorrent's directory-order walk only by the file order" {
        $walk = Invoke-LibtorrentTool create $Multi, (Join-Path $Out 'lt-walk.torrent'), 16384, '--walk'
        $ours = Get-TorrentInfo -LiteralPath (Join-Path $Out 'lt-multi-16384.torrent')
        $walkOrder = @($walk.files | ForEach-Object { $_.Substring('content/'.Length) })
        ($walkOrder | Sort-Object) | Should -Be ($ours.Files.Path | Sort-Object)
        if (($walkOrder -join '|') -ne ($ours.Files.Path -join '|')) {
            $walk.info_hash | Should -Not -Be $ours.InfoHash
        }
        else {
            $walk.info_hash | Should -BeExactly $ours.InfoHash
        }
    }

    It 'chooses the automatic piece size like the table (41 MiB -> 32 KiB)' {
        $sparse = Join-Path $Work 'auto/sparse.bin'
        $null = New-Item -ItemType Directory -Path (Split-Path $sparse) -Force
        $fs = [IO.File]::Create($sparse); $fs.SetLength(41MB); $fs.Dispose()
        $t = New-Torrent -LiteralPath $sparse -OutFile (Join-Path $Out 'auto.torrent')
        $t.PieceLength | Should -Be 32KB
        $t.InfoHash | Should -BeExactly (Get-MkTorrentHash $sparse 15)
    }
}

Describe 'New-Torrent: other clients load the torrent' -Tag 'Interop' {
    BeforeAll {
        $script:Rich = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'rich.torrent') -PieceSize 16KB `
            -Tracker 'http://127.0.0.1:6969/announce,udp://127.0.0.1:6969/announce', 'http://backup.example/announce' `
            -WebSeed 'http://127.0.0.1:8080/content/' -Comment 'lab build' -CreatedBy 'pester'
    }

    It 'libtorrent reads name, files, pieces, tiers, web seeds and comment' {
        $lt = Invoke-LibtorrentTool info $Rich.Source
        $lt.info_hash | Should -BeExactly $Rich.InfoHash
        $lt.name | Should -BeExactly 'content'
        $lt.num_pieces | Should -Be $Rich.PieceCount
        $lt.total_size | Should -Be $Rich.TotalSize
        @($lt.files.path) | Should -Be @($Rich.Files.Path | ForEach-Object { "content/$_" })
        # libtorrent shuffles the trackers within a tier (BEP 12), so compare each tier as a set, tiers in order.
        @($lt.trackers | Sort-Object { $_.tier }, { $_.url } | ForEach-Object { '{0}@{1}' -f $_.url, $_.tier }) |
            Should -Be @('http://127.0.0.1:6969/announce@0', 'udp://127.0.0.1:6969/announce@0', 'http://backup.example/announce@1')
        @($lt.web_seeds) | Should -Be @('http://127.0.0.1:8080/content/')
        $lt.comment | Should -BeExactly 'lab build'
        $lt.creator | Should -BeExactly 'pester'
        $lt.priv | Should -BeFalse
    }

    It 'aria2c -S shows the same info-hash, piece count and files' {
        # aria2c groups digits with commas: "Total Length: 386KiB (395,102)".
        $text = ((& aria2c -S $Rich.Source 2>&1) -join "`n") -replace '(?<=\d),(?=\d{3})', ''
        $LASTEXITCODE | Should -Be 0
        $text | Should -Match "Info Hash: $($Rich.InfoHash)"
        $text | Should -Match "The Number of Pieces: $($Rich.PieceCount)\b"
        $text | Should -Match "Total Length: .*\($($Rich.TotalSize)\)"
        $text | Should -Match 'Mode: multi'
        foreach ($f in $Rich.Files) { $text | Should -Match ([regex]::Escape("./content/$($f.Path)")) }
        $text | Should -Match ([regex]::Escape('http://backup.example/announce'))
    }

    It 'the file Get-TorrentInfo reads back is the object New-Torrent returned' {
        $again = Get-TorrentInfo -LiteralPath $Rich.Source
        $again.InfoHash | Should -BeExactly $Rich.InfoHash
        $again.TrackerTiers.Count | Should -Be 2
        $again.WebSeeds | Should -Be @('http://127.0.0.1:8080/content/')
        $again.CreationDate | Should -Not -BeNullOrEmpty
    }
}

Describe 'New-Torrent: files, pipeline and ShouldProcess' {
    It 'writes <name>.torrent in the current folder by default and into a folder given as -OutFile' {
        Push-Location $Out
        try {
            $t = New-Torrent -LiteralPath $Single -NoCreationDate
            $t.Source | Should -Be (Join-Path $Out 'payload.bin.torrent')
            Test-Path -LiteralPath (Join-Path $Out 'payload.bin.torrent') | Should -BeTrue
        }
        finally { Pop-Location }
        $folder = Join-Path $Out 'into'
        $null = New-Item -ItemType Directory -Path $folder
        (New-Torrent -LiteralPath $Multi -OutFile $folder).Source | Should -Be (Join-Path $folder 'content.torrent')
    }

    It 'gives byte-identical files without a creation date' {
        $a = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'same-a.torrent') -NoCreationDate -PieceSize 16KB
        $b = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'same-b.torrent') -NoCreationDate -PieceSize 16KB -ThrottleLimit 1
        (Get-FileHash -LiteralPath $a.Source).Hash | Should -Be (Get-FileHash -LiteralPath $b.Source).Hash
        $a.CreationDate | Should -BeNullOrEmpty
    }

    It 'makes one torrent per folder from Get-ChildItem, and expands wildcards in -Path' {
        $root = Join-Path $Work 'many'
        foreach ($n in 'one', 'two', 'three') { $null = New-RandomFile -Path (Join-Path $root "$n/data.bin") -SizeBytes 40000 -Seed $n.Length }
        $dest = Join-Path $Out 'many'
        $null = New-Item -ItemType Directory -Path $dest
        $made = Get-ChildItem -LiteralPath $root -Directory | New-Torrent -OutFile $dest -PieceSize 16KB
        @($made.Name | Sort-Object) | Should -Be @('one', 'three', 'two')
        @(Get-ChildItem -LiteralPath $dest -Filter *.torrent).Count | Should -Be 3
        $wild = New-Torrent -Path (Join-Path $root 't*') -OutFile $dest -PieceSize 16KB -Force
        @($wild.Name | Sort-Object) | Should -Be @('three', 'two')
    }

    It '-WhatIf hashes and writes nothing' {
        $dest = Join-Path $Out 'whatif'
        $null = New-Item -ItemType Directory -Path $dest
        $result = New-Torrent -LiteralPath $Multi -OutFile $dest -WhatIf
        $result | Should -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath $dest -Force).Count | Should -Be 0
    }

    It 'refuses to overwrite without -Force and replaces with it' {
        $file = Join-Path $Out 'exists.torrent'
        Set-Content -LiteralPath $file -Value 'keep me'
        $r = New-Torrent -LiteralPath $Single -OutFile $file -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'OutFileExists,BitTorrent.PowerShell.Commands.NewTorrentCommand'
        Get-Content -LiteralPath $file | Should -Be 'keep me'
        $t = New-Torrent -LiteralPath $Single -OutFile $file -Force
        (Get-TorrentInfo -LiteralPath $file).InfoHash | Should -Be $t.InfoHash
        @(Get-ChildItem -LiteralPath $Out -Filter 'exists.torrent.tmp-*').Count | Should -Be 0
    }

    It 'never writes two sources into one file' {
        $file = Join-Path $Out 'conflict.torrent'
        $made = New-Torrent -LiteralPath $Single, $Multi -OutFile $file -ErrorVariable err -ErrorAction SilentlyContinue
        @($made).Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'OutFileConflict,BitTorrent.PowerShell.Commands.NewTorrentCommand'
    }

    It 'leaves out a .torrent written into its own source folder' {
        $src = Join-Path $Work 'selfref'
        $null = New-RandomFile -Path (Join-Path $src 'data.bin') -SizeBytes 30000 -Seed 5
        $target = Join-Path $src 'selfref.torrent'
        $first = New-Torrent -LiteralPath $src -OutFile $target -NoCreationDate
        $second = New-Torrent -LiteralPath $src -OutFile $target -NoCreationDate -Force
        @($second.Files.Path) | Should -Be @('data.bin')
        $second.InfoHash | Should -Be $first.InfoHash
    }

    It 'leaves out hidden files with -ExcludeHidden' {
        $t = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'nohidden.torrent') -ExcludeHidden
        $t.Files.Path | Should -Not -Contain '.hidden'
        $t.Files.Count | Should -Be 6
    }

    It 'does not follow symbolic links unless -FollowSymlink' -Skip:$IsWindows {
        $src = Join-Path $Work 'links'
        $null = New-RandomFile -Path (Join-Path $src 'real.bin') -SizeBytes 20000 -Seed 7
        $null = New-RandomFile -Path (Join-Path $Work 'outside/target.bin') -SizeBytes 10000 -Seed 8
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'link.bin') -Target (Join-Path $Work 'outside/target.bin')
        $plain = New-Torrent -LiteralPath $src -OutFile (Join-Path $Out 'links-plain.torrent') -Verbose 4>&1
        $info = $plain | Where-Object { $_ -is [BitTorrent.Metainfo.TorrentInfo] }
        @($info.Files.Path) | Should -Be @('real.bin')
        ($plain | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n" | Should -Match 'link.bin: symbolic link'
        $followed = New-Torrent -LiteralPath $src -OutFile (Join-Path $Out 'links-followed.torrent') -FollowSymlink
        @($followed.Files.Path) | Should -Be @('link.bin', 'real.bin')
        $followed.Files[0].Length | Should -Be 10000
    }

    It 'pipes into Test-Torrent' {
        $r = New-Torrent -LiteralPath $Multi -OutFile (Join-Path $Out 'piped.torrent') | Test-Torrent -DataPath (Split-Path $Multi)
        $r.IsComplete | Should -BeTrue
    }
}

Describe 'New-Torrent: bad input gives errors with stable ids' {
    It 'a missing source: TorrentSourceNotFound' {
        New-Torrent -LiteralPath (Join-Path $Work 'no-such-thing') -OutFile $Out -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'TorrentSourceNotFound,BitTorrent.PowerShell.Commands.NewTorrentCommand'
    }

    It 'a wildcard that matches nothing does nothing, as with Get-ChildItem and Get-FileHash' {
        $r = New-Torrent -Path (Join-Path $Work 'no-such-*') -OutFile $Out -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err.Count | Should -Be 0
    }

    It 'a folder of empty files only: TorrentSourceEmpty, and nothing written' {
        $empty = Join-Path $Work 'empties'
        $null = New-Item -ItemType Directory -Path (Join-Path $empty 'sub') -Force
        $null = New-Item -ItemType File -Path (Join-Path $empty 'sub/zero')
        New-Torrent -LiteralPath $empty -OutFile $Out -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'TorrentSourceEmpty,BitTorrent.PowerShell.Commands.NewTorrentCommand'
        Test-Path -LiteralPath (Join-Path $Out 'empties.torrent') | Should -BeFalse
    }

    It 'a piece size that is not a power of two in range: InvalidPieceSize' -ForEach @(@{ Size = '20000' }, @{ Size = '8KB' }, @{ Size = '512MB' }, @{ Size = 'big' }) {
        { New-Torrent -LiteralPath $Single -OutFile $Out -PieceSize $Size } |
            Should -Throw -ErrorId 'InvalidPieceSize,BitTorrent.PowerShell.Commands.NewTorrentCommand'
    }

    It 'accepts piece sizes written with units' {
        (New-Torrent -LiteralPath $Single -OutFile (Join-Path $Out 'units.torrent') -PieceSize '64KiB').PieceLength | Should -Be 65536
        (New-Torrent -LiteralPath $Single -OutFile (Join-Path $Out 'units.torrent') -PieceSize 1MB -Force).PieceLength | Should -Be 1048576
    }

    It 'too many pieces for a .torrent file: TorrentTooLarge before hashing' {
        $huge = Join-Path $Work 'huge/sparse.bin'
        $null = New-Item -ItemType Directory -Path (Split-Path $huge) -Force
        $fs = [IO.File]::Create($huge); $fs.SetLength(8GB); $fs.Dispose()
        New-Torrent -LiteralPath $huge -OutFile $Out -PieceSize 16KB -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'TorrentTooLarge,BitTorrent.PowerShell.Commands.NewTorrentCommand'
    }

    It 'a bad tracker or web seed URL stops the command: <Id>' -ForEach @(
        @{ Id = 'InvalidTrackerUrl'; Arguments = @{ Tracker = 'ftp://tracker.example/announce' } }
        @{ Id = 'InvalidTrackerUrl'; Arguments = @{ Tracker = 'http://ok.example/a,not a url' } }
        @{ Id = 'InvalidWebSeedUrl'; Arguments = @{ WebSeed = 'udp://seed.example:1/' } }
    ) {
        { New-Torrent -LiteralPath $Single -OutFile $Out @Arguments } |
            Should -Throw -ErrorId "$Id,BitTorrent.PowerShell.Commands.NewTorrentCommand"
    }

    It 'an output folder that does not exist: OutFileWriteFailed' {
        New-Torrent -LiteralPath $Single -OutFile (Join-Path $Work 'missing-folder/x.torrent') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'OutFileWriteFailed,BitTorrent.PowerShell.Commands.NewTorrentCommand'
    }

    It 'a path on another provider: NotFileSystemPath' {
        New-Torrent -Path 'Env:PATH' -OutFile $Out -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'NotFileSystemPath,BitTorrent.PowerShell.Commands.NewTorrentCommand'
    }
}

Describe 'New-Torrent: progress and stopping' {
    BeforeAll {
        # Sparse: 8 GiB of zeros costs no disk and hashes for a few seconds at least.
        $script:Big = Join-Path $Work 'big/zeros.bin'
        $null = New-Item -ItemType Directory -Path (Split-Path $Big) -Force
        $fs = [IO.File]::Create($Big); $fs.SetLength(8GB); $fs.Dispose()
    }

    It 'writes progress records from start to a Completed record' {
        $ps = [PowerShell]::Create()
        try {
            $target = Join-Path $Out 'progress.torrent'
            $null = $ps.AddScript("Import-Module BitTorrent; New-Torrent -LiteralPath '$Multi' -OutFile '$target' -PieceSize 16KB")
            $output = $ps.Invoke()
            $output[0].InfoHash | Should -Match '^[0-9a-f]{40}$'
            $progress = @($ps.Streams.Progress)
            $progress.Count | Should -BeGreaterOrEqual 2
            $progress[0].Activity | Should -BeExactly "Creating torrent 'content'"
            $progress[0].PercentComplete | Should -Be 0
            $progress[-1].RecordType | Should -Be 'Completed'
            @($progress | Select-Object -ExpandProperty ActivityId -Unique) | Should -Be @(3)
        }
        finally { $ps.Dispose() }
    }

    It 'reports bytes, rate and the current file while hashing, and stops on Ctrl+C leaving no file' {
        $target = Join-Path $Out 'stopped.torrent'
        $run = Stop-WhileHashing "New-Torrent -LiteralPath '$Big' -OutFile '$target' -PieceSize 64KB -ThrottleLimit 1"
        $run.EndedBeforeStop | Should -BeFalse -Because '8 GiB on one thread takes longer than the first progress record'
        $run.Running.StatusDescription | Should -Match 'of 8\.00 GiB hashed \(.+/s\); piece \d+ of 131072'
        $run.Running.CurrentOperation | Should -BeExactly $Big
        $run.State | Should -Be 'Stopped'
        Test-Path -LiteralPath $target | Should -BeFalse
        @(Get-ChildItem -LiteralPath $Out -Filter 'stopped.torrent*').Count | Should -Be 0
    }
}
