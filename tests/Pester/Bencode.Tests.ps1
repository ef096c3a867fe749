<#
    ConvertFrom-Bencode and ConvertTo-Bencode end to end: every way in (paths, file objects, bytes, single bytes,
    strings), the objects that come out, every decoder error with its offset, what the encoder accepts and refuses,
    limits both ways, and byte-for-byte round trips. Tag Interop: libtorrent's own decoder agrees on every
    webtorrent-fixtures torrent and on mktorrent/libtorrent torrents, and libtorrent reads what we write.
#>

BeforeDiscovery {
    $fixtureDir = Join-Path $PSScriptRoot '../node/node_modules/webtorrent-fixtures/fixtures'
    $script:FixtureCases = @(Get-ChildItem -Path $fixtureDir -Filter *.torrent -ErrorAction SilentlyContinue | ForEach-Object { @{ Case = "fixture $($_.Name)" } })
    $script:MadeCases = @('mktorrent multi', 'libtorrent hybrid', 'libtorrent v2-only') | ForEach-Object { @{ Case = $_ } }
}

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/TorrentFiles.psm1') -Force
    $script:From = 'BitTorrent.PowerShell.Commands.ConvertFromBencodeCommand'
    $script:To = 'BitTorrent.PowerShell.Commands.ConvertToBencodeCommand'
    $script:Latin1 = [Text.Encoding]::Latin1

    function Test-SameBytes([byte[]] $Expected, [byte[]] $Actual) { [Linq.Enumerable]::SequenceEqual($Expected, $Actual) }

    $script:Dir = Join-Path $TestDrive 'bencode'
    $script:Multi = New-TestTorrent -Path (Join-Path $Dir 'multi.torrent') -Name 'My Folder' -PieceLength 16384 `
        -Announce 'http://t.example/announce' -Comment 'ünïcødé comment' -CreationDate 1700000000 -Files ([ordered]@{
            'a.bin'            = (New-TestBytes 20000 1)
            'sub/b ✓.txt'      = (New-TestBytes 100 2)
        })
    $script:Bracket = New-TestTorrent -Path (Join-Path $Dir 'brackets[1].torrent') -Name 'bracketed' -SingleFile -Files ([ordered]@{ x = (New-TestBytes 10 3) })
}

Describe 'ConvertFrom-Bencode' {
    Context 'input' {
        It '-Path by position, with wildcards' {
            $r = ConvertFrom-Bencode (Join-Path $Dir '*.torrent')
            @($r).Count | Should -Be 2
            $r.info.name.Text | Sort-Object | Should -Be @('bracketed', 'My Folder')
        }

        It '-LiteralPath reads a name with [brackets]' {
            (ConvertFrom-Bencode -LiteralPath $Bracket.Path).info.name.Text | Should -Be 'bracketed'
            (ConvertFrom-Bencode -LP $Bracket.Path).info.name.Text | Should -Be 'bracketed'
        }

        It 'reads files piped from Get-ChildItem and Get-Item' {
            $r = Get-ChildItem -LiteralPath $Dir -Filter *.torrent | ConvertFrom-Bencode
            @($r).Count | Should -Be 2
            (Get-Item -LiteralPath $Bracket.Path | ConvertFrom-Bencode).info.name.Text | Should -Be 'bracketed'
        }

        It 'decodes a byte[] from Get-Content -AsByteStream -Raw, by pipeline and by -InputObject' {
            $bytes = Get-Content -LiteralPath $Multi.Path -AsByteStream -Raw
            ($bytes | ConvertFrom-Bencode).info.name.Text | Should -Be 'My Folder'
            (ConvertFrom-Bencode -InputObject $bytes).info.name.Text | Should -Be 'My Folder'
        }

        It 'gathers single bytes piped one by one into one document' {
            $r = Get-Content -LiteralPath $Multi.Path -AsByteStream | ConvertFrom-Bencode
            @($r).Count | Should -Be 1
            $r.info.name.Text | Should -Be 'My Folder'
        }

        It 'reads a string as Latin-1, one character per byte' {
            $s = "d4:name2:$([char]0xC3)$([char]0xA9)4:rawx2:$([char]0xFF)$([char]0x00)e"
            $r = $s | ConvertFrom-Bencode
            $r.name.Text | Should -BeExactly 'é'          # bytes C3 A9: UTF-8 for é
            $r.name.Bytes | Should -Be @(0xC3, 0xA9)
            $r.rawx.IsText | Should -BeFalse
            $r.rawx.Bytes | Should -Be @(0xFF, 0x00)
        }

        It 'refuses a character that is not a byte, naming it and its index' {
            "4:ab$([char]0x20AC)d" | ConvertFrom-Bencode -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidBencode,$From"
            $err[0].Exception.Message | Should -Match 'U\+20AC at index 4'
        }

        It 'refuses input that is not bytes, a string or a file with UnsupportedBencodeInput' {
            @{ a = 1 }, 42 | ConvertFrom-Bencode -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err.Count | Should -Be 2
            $err[0].FullyQualifiedErrorId | Should -BeExactly "UnsupportedBencodeInput,$From"
            $err[1].Exception.Message | Should -Match 'System.Int32'
        }

        It 'rejects a path on another provider with NotFileSystemPath and a missing file with TorrentFileNotFound' {
            ConvertFrom-Bencode -Path Env:PATH -ErrorVariable e1 -ErrorAction SilentlyContinue
            $e1[0].FullyQualifiedErrorId | Should -BeExactly "NotFileSystemPath,$From"
            ConvertFrom-Bencode -LiteralPath (Join-Path $TestDrive 'missing.torrent') -ErrorVariable e2 -ErrorAction SilentlyContinue
            $e2[0].FullyQualifiedErrorId | Should -BeExactly "TorrentFileNotFound,$From"
            ConvertFrom-Bencode -Path (Join-Path $TestDrive 'missing.torrent') -ErrorVariable e3 -ErrorAction SilentlyContinue
            $e3[0].FullyQualifiedErrorId | Should -BeExactly "TorrentFileNotFound,$From"
        }

        It 'refuses a file over 10 MB before reading it' {
            $big = Join-Path $TestDrive 'big.bin'
            $fs = [IO.File]::Create($big); $fs.SetLength(10000001); $fs.Dispose()
            ConvertFrom-Bencode -LiteralPath $big -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidBencode,$From"
            $err[0].Exception.Error | Should -Be 'InputTooLarge'
            $err[0].TargetObject | Should -Be $big
        }
    }

    Context 'output' {
        BeforeAll { $script:T = ConvertFrom-Bencode -LiteralPath $Multi.Path }

        It 'dictionaries are ordered dictionaries with case-sensitive string keys in file order' {
            $T | Should -BeOfType System.Collections.Specialized.OrderedDictionary
            @($T.Keys) | Should -Be @('announce', 'comment', 'creation date', 'info')
            $T.info | Should -BeOfType System.Collections.Specialized.OrderedDictionary
            $T.Contains('Info') | Should -BeFalse
        }

        It 'integers are Int64, lists are Object[], byte strings are BencodeString' {
            $T.'creation date' | Should -BeOfType long
            $T.'creation date' | Should -Be 1700000000
            , $T.info.files | Should -BeOfType 'System.Object[]'
            $T.info.files.Count | Should -Be 2
            , $T.info.files[1].path | Should -BeOfType 'System.Object[]'
            $T.info.files[1].path[1] | Should -BeOfType BitTorrent.PowerShell.Bencoding.BencodeString
        }

        It 'a UTF-8 byte string shows its text and keeps its bytes' {
            $c = $T.comment
            $c.IsText | Should -BeTrue
            $c.Text | Should -BeExactly 'ünïcødé comment'
            "$c" | Should -BeExactly 'ünïcødé comment'
            $c.Length | Should -Be ([Text.Encoding]::UTF8.GetByteCount('ünïcødé comment'))
            Test-SameBytes ([Text.Encoding]::UTF8.GetBytes('ünïcødé comment')) $c.Bytes | Should -BeTrue
            $T.info.files[1].path[1] -eq 'b ✓.txt' | Should -BeTrue
            $T.info.files[1].path[1] -eq 'B ✓.txt' | Should -BeFalse
        }

        It 'a binary byte string keeps its bytes and shows them in hex' {
            $p = $T.info.pieces
            $p.IsText | Should -BeFalse
            $p.Text | Should -BeNullOrEmpty
            $p.Length | Should -Be 40
            Test-SameBytes $Multi.Info.pieces $p.Bytes | Should -BeTrue
            $p.Hex | Should -BeExactly ([Convert]::ToHexString($Multi.Info.pieces).ToLowerInvariant())
            "$p" | Should -BeExactly $p.Hex
        }

        It 'a binary dictionary key stays a BencodeString key' {
            # A scrape reply: 'files' is keyed by raw 20-byte info-hashes.
            $hash = [byte[]](0..19 | ForEach-Object { 0xE0 + $_ })
            $reply = 'd5:filesd20:' + $Latin1.GetString($hash) + 'd8:completei5eeee'
            $r = $reply | ConvertFrom-Bencode
            $key = @($r.files.Keys)[0]
            $key | Should -BeOfType BitTorrent.PowerShell.Bencoding.BencodeString
            Test-SameBytes $hash $key.Bytes | Should -BeTrue
            $r.files[$key].complete | Should -Be 5
            ($r | ConvertTo-Bencode -AsString) | Should -BeExactly $reply
        }

        It 'a list at the top level is one object, an integer an Int64' {
            $r = @('li1e3:abce' | ConvertFrom-Bencode)
            $r.Count | Should -Be 1
            $r[0].Count | Should -Be 2
            $r[0][1].Text | Should -Be 'abc'
            'i-42e' | ConvertFrom-Bencode | Should -BeOfType long
        }

        It 'shows byte strings in a table: length, whether text, value' {
            $text = '4:spam' | ConvertFrom-Bencode | Out-String -Width 120
            $text | Should -Match 'Length\s+IsText\s+Value'
            $text | Should -Match '4\s+True\s+spam'
            $bin = "2:$([char]0xFF)$([char]0x01)" | ConvertFrom-Bencode | Out-String -Width 120
            $bin | Should -Match '2\s+False\s+ff01'
        }

        It 'warns about keys out of canonical order and still decodes them' {
            $r = 'd1:bi1e1:ai2ee' | ConvertFrom-Bencode -WarningVariable w -WarningAction SilentlyContinue
            @($r.Keys) | Should -Be @('b', 'a')
            $w.Count | Should -Be 1
            "$($w[0])" | Should -Match 'canonical'
            ($r | ConvertTo-Bencode -AsString) | Should -BeExactly 'd1:ai2e1:bi1ee'
        }
    }

    Context 'errors carry the reason and the byte offset' {
        It '<Label>: <Reason> at <Offset>' -ForEach @(
            @{ Label = 'leading zero'; Text = 'i01e'; Reason = 'InvalidInteger'; Offset = 0 }
            @{ Label = 'negative zero'; Text = 'li1ei-0ee'; Reason = 'InvalidInteger'; Offset = 4 }
            @{ Label = '64-bit overflow'; Text = 'i9223372036854775808e'; Reason = 'IntegerOverflow'; Offset = 0 }
            @{ Label = 'string past the end'; Text = 'l5:abce'; Reason = 'StringLengthExceedsInput'; Offset = 1 }
            @{ Label = 'huge length prefix'; Text = '2000000000:x'; Reason = 'StringLengthExceedsInput'; Offset = 0 }
            @{ Label = 'length prefix over 2^31'; Text = '99999999999:x'; Reason = 'InvalidStringLength'; Offset = 0 }
            @{ Label = 'duplicate key'; Text = 'd1:ai1e1:ai2ee'; Reason = 'DuplicateDictionaryKey'; Offset = 7 }
            @{ Label = 'integer key'; Text = 'di1ei2ee'; Reason = 'DictionaryKeyNotString'; Offset = 1 }
            @{ Label = 'depth 101'; Text = ('l' * 101) + ('e' * 101); Reason = 'DepthLimitExceeded'; Offset = 100 }
            @{ Label = 'trailing data'; Text = 'i1ei2e'; Reason = 'TrailingData'; Offset = 3 }
            @{ Label = 'truncated'; Text = 'd1:a'; Reason = 'UnexpectedEndOfInput'; Offset = 4 }
            @{ Label = 'empty'; Text = ''; Reason = 'UnexpectedEndOfInput'; Offset = 0 }
            @{ Label = 'bad byte'; Text = 'lxe'; Reason = 'UnexpectedByte'; Offset = 1 }
        ) {
            $r = $Text | ConvertFrom-Bencode -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidBencode,$From"
            $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $err[0].Exception.Error | Should -Be $Reason
            $err[0].Exception.Offset | Should -Be $Offset
            $err[0].ErrorDetails.Message | Should -BeLike "*($Reason)*at byte offset $Offset*"
        }

        It 'depth 100 is accepted' {
            $r = (('l' * 100) + ('e' * 100)) | ConvertFrom-Bencode
            $depth = 0
            while ($r -is [object[]] -and $r.Count -gt 0) { $r = $r[0]; $depth++ }
            $depth | Should -Be 99
        }

        It 'a million nested lists are refused without crashing the host' {
            $bytes = [byte[]]::new(2000000)
            [Array]::Fill($bytes, [byte][char]'l', 0, 1000000)
            [Array]::Fill($bytes, [byte][char]'e', 1000000, 1000000)
            ConvertFrom-Bencode -InputObject $bytes -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].Exception.Error | Should -Be 'DepthLimitExceeded'
            $err[0].Exception.Offset | Should -Be 100
        }

        It 'names the file in the message and goes on with the next input' {
            $bad = Join-Path $TestDrive 'bad.torrent'
            [IO.File]::WriteAllBytes($bad, $Latin1.GetBytes('d4:infoi01ee'))
            $r = ConvertFrom-Bencode -LiteralPath $bad, $Multi.Path -ErrorVariable err -ErrorAction SilentlyContinue
            @($r).Count | Should -Be 1
            $err[0].TargetObject | Should -Be $bad
            $err[0].ErrorDetails.Message | Should -BeLike "*'$bad' is not valid bencode (InvalidInteger)*at byte offset 7*"

            $values = 'i1e', 'i01e', 'i2e' | ConvertFrom-Bencode -ErrorVariable err2 -ErrorAction SilentlyContinue
            $values | Should -Be @(1, 2)
            $err2.Count | Should -Be 1
        }
    }
}

Describe 'ConvertTo-Bencode' {
    It 'writes dictionary keys in raw byte order whatever the input order' {
        $cs = [System.Collections.Generic.Dictionary[string, object]]::new()   # case-sensitive: 'b' and 'B' are two keys
        foreach ($k in 'é', 'b', 'ab', 'a', 'B', '') { $cs[$k] = $k.Length }
        $e = $Latin1.GetString([Text.Encoding]::UTF8.GetBytes('é'))
        ConvertTo-Bencode $cs -AsString | Should -BeExactly "d0:i0e1:Bi1e1:ai1e2:abi2e1:bi1e2:${e}i1ee"
        ConvertTo-Bencode ([ordered]@{ z = 1; y = 2 }) -AsString | Should -BeExactly 'd1:yi2e1:zi1ee'
    }

    It 'emits one byte[] per input object, not a stream of bytes' {
        $r = @(@{ a = 1 } | ConvertTo-Bencode)
        $r.Count | Should -Be 1
        , $r[0] | Should -BeOfType 'System.Byte[]'
        $Latin1.GetString($r[0]) | Should -BeExactly 'd1:ai1ee'
        $two = @(@{ a = 1 }, 'x' | ConvertTo-Bencode -AsString)
        $two | Should -Be @('d1:ai1ee', '1:x')
    }

    It 'an array is a list with -InputObject or when wrapped; piped unwrapped it is its items' {
        ConvertTo-Bencode -InputObject @(1, 'a') -AsString | Should -BeExactly 'li1e1:ae'
        , @(1, 'a') | ConvertTo-Bencode -AsString | Should -BeExactly 'li1e1:ae'
        1, 'a' | ConvertTo-Bencode -AsString | Should -Be @('i1e', '1:a')
        ConvertTo-Bencode -InputObject @() -AsString | Should -BeExactly 'le'
        ConvertTo-Bencode -InputObject @{} -AsString | Should -BeExactly 'de'
    }

    It 'PSCustomObject properties become keys' {
        [pscustomobject]@{ z = 1; y = [pscustomobject]@{ x = 'v' } } | ConvertTo-Bencode -AsString | Should -BeExactly 'd1:yd1:x1:ve1:zi1ee'
    }

    It 'integers of every type within 64 bits: <Value>' -ForEach @(
        @{ Value = [int]42; Expected = 'i42e' }
        @{ Value = [long]::MinValue; Expected = 'i-9223372036854775808e' }
        @{ Value = [long]::MaxValue; Expected = 'i9223372036854775807e' }
        @{ Value = [uint64]9223372036854775807; Expected = 'i9223372036854775807e' }
        @{ Value = [byte]255; Expected = 'i255e' }
        @{ Value = [int16]-5; Expected = 'i-5e' }
        @{ Value = [bigint]::Parse('-9223372036854775808'); Expected = 'i-9223372036854775808e' }
        @{ Value = [double]3; Expected = 'i3e' }
        @{ Value = [decimal]-7; Expected = 'i-7e' }
        @{ Value = 0; Expected = 'i0e' }
    ) {
        ConvertTo-Bencode -InputObject $Value -AsString | Should -BeExactly $Expected
    }

    It 'strings are UTF-8, byte[] and BencodeString are their exact bytes' {
        ConvertTo-Bencode 'é' -AsString | Should -BeExactly ('2:' + $Latin1.GetString([byte[]](0xC3, 0xA9)))
        ConvertTo-Bencode ([char]'x') -AsString | Should -BeExactly '1:x'
        ConvertTo-Bencode '' -AsString | Should -BeExactly '0:'
        ConvertTo-Bencode -InputObject ([byte[]](0xFF, 0, 1)) -AsString | Should -BeExactly ('3:' + $Latin1.GetString([byte[]](0xFF, 0, 1)))
        $bs = [BitTorrent.PowerShell.Bencoding.BencodeString]::new([byte[]](0x80, 0x81))
        ConvertTo-Bencode $bs -AsString | Should -BeExactly ('2:' + $Latin1.GetString([byte[]](0x80, 0x81)))
        $bytes = ConvertTo-Bencode 'ünï'
        $bytes.Length | Should -Be (2 + [Text.Encoding]::UTF8.GetByteCount('ünï'))
    }

    It '<Label> is refused with UnsupportedBencodeValue, naming where it is' -ForEach @(
        @{ Label = 'null'; Value = @{ info = @{ files = @(@{ length = 1 }, @{ length = $null }) } }; Where = 'info.files[1].length'; Pattern = 'null' }
        @{ Label = 'a Boolean'; Value = @{ private = $true }; Where = 'private'; Pattern = 'Boolean' }
        @{ Label = 'a fraction'; Value = @(1, 1.5); Where = '[1]'; Pattern = '1.5' }
        @{ Label = 'NaN'; Value = @{ x = [double]::NaN }; Where = 'x'; Pattern = 'NaN' }
        @{ Label = 'a number past 64 bits'; Value = @{ n = [uint64]::MaxValue }; Where = 'n'; Pattern = '18446744073709551615' }
        @{ Label = 'a BigInteger past 64 bits'; Value = @{ n = [bigint]::Pow(2, 64) }; Where = 'n'; Pattern = '64 bits' }
        @{ Label = 'a DateTime'; Value = @{ when = [datetime]::UtcNow }; Where = 'when'; Pattern = 'System.DateTime' }
        @{ Label = 'an integer key'; Value = @{ 1 = 'x' }; Where = ''; Pattern = 'key of type System.Int32' }
        @{ Label = 'an unpaired surrogate'; Value = @{ s = "a$([char]0xD800)" }; Where = 's'; Pattern = 'surrogate at index 1' }
    ) {
        ConvertTo-Bencode -InputObject $Value -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly "UnsupportedBencodeValue,$To"
        $err[0].CategoryInfo.Category | Should -Be 'InvalidType'
        $err[0].Exception.Location | Should -BeExactly $Where
        $err[0].Exception.Message | Should -Match ([regex]::Escape($Pattern))
    }

    It 'two keys that become the same bytes are refused' {
        $d = [System.Collections.Generic.Dictionary[object, object]]::new()
        $d['a'] = 1
        $d[[byte[]](97)] = 2
        ConvertTo-Bencode -InputObject $d -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeExactly "UnsupportedBencodeValue,$To"
        $err[0].Exception.Message | Should -Match "key 'a' occurs twice"
    }

    It 'depth 100 is written (and reads back); 101 and a self-reference are refused' {
        $v = 'x'
        for ($i = 0; $i -lt 100; $i++) { $v = [System.Collections.Generic.List[object]]::new([object[]]@(, $v)) }
        $s = ConvertTo-Bencode -InputObject $v -AsString
        $s | Should -BeExactly (('l' * 100) + '1:x' + ('e' * 100))
        ($s | ConvertFrom-Bencode | ConvertTo-Bencode -AsString) | Should -BeExactly $s

        $deeper = [System.Collections.Generic.List[object]]::new([object[]]@(, $v))
        ConvertTo-Bencode -InputObject $deeper -ErrorVariable e1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e1[0].Exception.Message | Should -Match 'deeper than 100 levels'

        $self = @{}; $self.me = $self
        ConvertTo-Bencode -InputObject $self -ErrorVariable e2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e2[0].FullyQualifiedErrorId | Should -BeExactly "UnsupportedBencodeValue,$To"
        $e2[0].Exception.Message | Should -Match 'contained in itself'
    }

    It 'goes on with the next object after a refused one' {
        $r = @{ a = 1 }, $null, @{ b = 2 } | ConvertTo-Bencode -AsString -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -Be @('d1:ai1ee', 'd1:bi2ee')
        $err.Count | Should -Be 1
    }
}

Describe 'Round trips' {
    It 'ConvertFrom-Bencode | ConvertTo-Bencode reproduces a canonical torrent byte for byte' {
        $again = ConvertFrom-Bencode -LiteralPath $Multi.Path | ConvertTo-Bencode
        Test-SameBytes $Multi.Bytes $again | Should -BeTrue
        $viaString = ConvertFrom-Bencode -LiteralPath $Multi.Path | ConvertTo-Bencode -AsString | ConvertFrom-Bencode | ConvertTo-Bencode
        Test-SameBytes $Multi.Bytes $viaString | Should -BeTrue
    }

    It 'an edited torrent keeps its info-hash when only trackers change' {
        $t = ConvertFrom-Bencode -LiteralPath $Multi.Path
        $t.announce = 'udp://new.example:6969/announce'
        $t.'announce-list' = @(, @('udp://new.example:6969/announce', 'http://other.example/announce'))
        $out = Join-Path $TestDrive 'edited.torrent'
        [IO.File]::WriteAllBytes($out, ($t | ConvertTo-Bencode))
        $info = Get-TorrentInfo -LiteralPath $out
        $info.InfoHash | Should -BeExactly $Multi.InfoHash
        $info.Trackers | Should -Be @('udp://new.example:6969/announce', 'http://other.example/announce')
    }
}

Describe 'Bencode interop with libtorrent' -Tag Interop {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
        $python = '/usr/bin/python3'
        $ltTool = Join-Path $PSScriptRoot 'TestSupport/lt_torrent.py'
        $fixtureDir = Join-Path $PSScriptRoot '../node/node_modules/webtorrent-fixtures/fixtures'
        $work = Join-Path $TestDrive 'interop'
        $payload = New-TestPayload -Root (Join-Path $work 'data/Payload ✓') -Seed 21 -Layout ([ordered]@{
                'a.txt' = 3; 'empty' = 0; 'ünï/deep/b.bin' = 90000
            })

        $script:Paths = [ordered]@{}
        foreach ($f in Get-ChildItem -Path $fixtureDir -Filter *.torrent) { $Paths["fixture $($f.Name)"] = $f.FullName }
        $Paths['mktorrent multi'] = (New-MkTorrent -SourcePath $payload -OutFile (Join-Path $work 'mk.torrent') -PieceSizeLog2 15 -Announce 'http://a.example/announce').FullName
        foreach ($mode in 'hybrid', 'v2') {
            $file = Join-Path $work "lt-$mode.torrent"
            $o = & $python $ltTool make $payload $file --mode $mode --piece-size 16384 --tracker 'http://a.example/announce' 2>&1
            if ($LASTEXITCODE -ne 0) { throw "lt_torrent.py make failed: $o" }
        }
        $Paths['libtorrent hybrid'] = Join-Path $work 'lt-hybrid.torrent'
        $Paths['libtorrent v2-only'] = Join-Path $work 'lt-v2.torrent'

        # Our decoding in the neutral form lt_torrent.py bdecode prints: {"i":n}, {"s":hex}, [..], {"d":[[keyhex,v],..]}.
        function ConvertTo-NeutralJson($value) {
            if ($value -is [long]) { return '{"i":' + $value + '}' }
            if ($value -is [BitTorrent.PowerShell.Bencoding.BencodeString]) { return '{"s":"' + $value.Hex + '"}' }
            if ($value -is [object[]]) { return '[' + (($value | ForEach-Object { ConvertTo-NeutralJson $_ }) -join ',') + ']' }
            if ($value -is [System.Collections.Specialized.OrderedDictionary]) {
                $entries = foreach ($key in $value.Keys) {
                    $hex = if ($key -is [string]) { [Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes($key)).ToLowerInvariant() } else { $key.Hex }
                    [pscustomobject]@{ Hex = $hex; Json = '["' + $hex + '",' + (ConvertTo-NeutralJson $value[$key]) + ']' }
                }
                return '{"d":[' + ((@($entries) | Sort-Object Hex -CaseSensitive -Culture '' | ForEach-Object Json) -join ',') + ']}'
            }
            throw "unexpected $($value.GetType())"
        }
    }

    It 'covers every fixture' {
        $Paths.Count | Should -Be (@(Get-ChildItem -Path $fixtureDir -Filter *.torrent).Count + 3)
    }

    It '<Case>: decodes to what libtorrent decodes' -ForEach ($FixtureCases + $MadeCases) {
        $path = $Paths[$Case]
        $expected = & $python $ltTool bdecode $path
        $LASTEXITCODE | Should -Be 0
        ConvertTo-NeutralJson (ConvertFrom-Bencode -LiteralPath $path) | Should -BeExactly $expected
    }

    It '<Case>: round-trips byte for byte' -ForEach ($FixtureCases + $MadeCases) {
        $path = $Paths[$Case]
        $again = ConvertFrom-Bencode -LiteralPath $path | ConvertTo-Bencode
        Test-SameBytes ([IO.File]::ReadAllBytes($path)) $again | Should -BeTrue
    }

    It 'libtorrent reads a torrent we edited and wrote: same info-hash, new trackers and web seed' {
        $t = ConvertFrom-Bencode -LiteralPath $Paths['libtorrent hybrid']
        $t.'announce-list' = @(@('http://one.example/announce'), @('udp://two.example:1/announce'))
        $t.'url-list' = @('http://seed.example/')
        $t.comment = 'edited by ConvertTo-Bencode'
        $out = Join-Path $work 'edited.torrent'
        [IO.File]::WriteAllBytes($out, ($t | ConvertTo-Bencode))
        $before = & $python $ltTool info $Paths['libtorrent hybrid'] | ConvertFrom-Json
        $after = & $python $ltTool info $out | ConvertFrom-Json
        $after.infoHash | Should -BeExactly $before.infoHash
        $after.infoHash | Should -BeExactly (Get-TorrentInfo -LiteralPath $out).InfoHash
        $after.trackerTiers.Count | Should -Be 2
        $after.trackerTiers[1] | Should -Be 'udp://two.example:1/announce'
        $after.webSeeds | Should -Be 'http://seed.example/'
        $after.comment | Should -BeExactly 'edited by ConvertTo-Bencode'
    }
}
