<#
.SYNOPSIS
    Writes a deterministic corpus of malformed and hostile .torrent files, with a manifest of what each one is and
    what must happen to it.

.DESCRIPTION
    Three kinds of file, all from a seeded random generator (the same -Seed gives the same bytes):

      crafted-<case>.torrent      one hand-made attack or malformation per file; the file name says what it is and
                                  the manifest says whether the torrent must be accepted (with safe, sanitized paths)
                                  or rejected (and with which TorrentError). Path attacks come with their content
                                  (payload/<case>.bin, the torrent's bytes end to end) so a test can seed and download
                                  them for real.
      truncated-<n>-<base>-at-<offset>.torrent
                                  a valid torrent cut short: bencode is prefix-free, so every one must be rejected.
      mutated-<n>-<base>.torrent  a valid torrent with 1-4 random edits (bit flips, interesting bytes, numbers replaced
                                  by boundary values, slices deleted, duplicated or inserted); accepted or rejected,
                                  but never anything else.

    The bencode is written here, byte by byte, not by the module: the point is to write what a well-behaved encoder
    never would (unsorted and duplicate keys, overlong numbers, lying length prefixes, invalid UTF-8).

    Returns the manifest entries (also written to corpus.json). -ManifestOnly returns them without writing files (for
    Pester's discovery phase).

.EXAMPLE
    ./tests/Corpus/New-HostileTorrentCorpus.ps1 -OutputPath /tmp/corpus | Group-Object Kind
#>
[CmdletBinding()]
param(
    [string] $OutputPath,
    [int] $Seed = 8,
    [int] $MutationCount = 240,
    [int] $TruncationCount = 80,
    [switch] $ManifestOnly
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

if (-not $ManifestOnly -and -not $OutputPath) { throw '-OutputPath is required unless -ManifestOnly is given.' }

# ---- a small bencoder that can also lie ------------------------------------------------------------------------

# Bytes written exactly as given (an overlong integer, a lying length prefix, unbalanced nesting…).
class BRaw {
    [byte[]] $Bytes
    BRaw([byte[]] $bytes) { $this.Bytes = $bytes }
    BRaw([string] $ascii) { $this.Bytes = [Text.Encoding]::Latin1.GetBytes($ascii) }
}

# A dictionary written in the given order, duplicates included (an IDictionary is written canonically: sorted keys).
class BPairs {
    [object[]] $Pairs   # key, value, key, value …
    BPairs([object[]] $pairs) { $this.Pairs = $pairs }
}

$script:Utf8 = [Text.UTF8Encoding]::new($false)

function Write-Bencode([System.IO.Stream] $Stream, $Value) {
    if ($null -eq $Value) { throw 'null has no bencoding' }
    if ($Value -is [BRaw]) { $Stream.Write($Value.Bytes, 0, $Value.Bytes.Length); return }
    if ($Value -is [byte[]]) { Write-Ascii $Stream "$($Value.Length):"; $Stream.Write($Value, 0, $Value.Length); return }
    if ($Value -is [string]) { $b = $script:Utf8.GetBytes($Value); Write-Ascii $Stream "$($b.Length):"; $Stream.Write($b, 0, $b.Length); return }
    if ($Value -is [int] -or $Value -is [long] -or $Value -is [bigint]) { Write-Ascii $Stream "i$($Value)e"; return }
    if ($Value -is [BPairs]) {
        Write-Ascii $Stream 'd'
        for ($i = 0; $i -lt $Value.Pairs.Count; $i += 2) { Write-Bencode $Stream $Value.Pairs[$i]; Write-Bencode $Stream $Value.Pairs[$i + 1] }
        Write-Ascii $Stream 'e'
        return
    }
    if ($Value -is [System.Collections.IDictionary]) {
        Write-Ascii $Stream 'd'
        $keys = [string[]]@($Value.Keys)
        [Array]::Sort($keys, [StringComparer]::Ordinal)   # ASCII keys: ordinal = raw byte order
        foreach ($k in $keys) { Write-Bencode $Stream $k; Write-Bencode $Stream $Value[$k] }
        Write-Ascii $Stream 'e'
        return
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        Write-Ascii $Stream 'l'
        foreach ($item in $Value) { Write-Bencode $Stream $item }
        Write-Ascii $Stream 'e'
        return
    }
    throw "Cannot bencode a $($Value.GetType().FullName)"
}

function Write-Ascii([System.IO.Stream] $Stream, [string] $Text) {
    $b = [Text.Encoding]::Latin1.GetBytes($Text)
    $Stream.Write($b, 0, $b.Length)
}

function ConvertTo-BencodeBytes($Value) {
    $ms = [System.IO.MemoryStream]::new()
    Write-Bencode $ms $Value
    , $ms.ToArray()
}

function Get-Latin1([string] $s) { , [Text.Encoding]::Latin1.GetBytes($s) }

# ---- valid torrents to build on ----------------------------------------------------------------------------------

$script:Sha1 = [System.Security.Cryptography.SHA1]::Create()

function Get-PieceHashes([byte[]] $Payload, [long] $PieceLength) {
    $ms = [System.IO.MemoryStream]::new()
    for ([long]$o = 0; $o -lt $Payload.Length; $o += $PieceLength) {
        $n = [int][Math]::Min($PieceLength, $Payload.Length - $o)
        $h = $script:Sha1.ComputeHash($Payload, [int]$o, $n)
        $ms.Write($h, 0, 20)
    }
    , $ms.ToArray()
}

<#
    A torrent whose content is real: Files is a list of @{ Path = element, element …; Length = n; Attr = 'p'… }
    (elements are strings, or byte[] for invalid UTF-8); no Files makes a single-file torrent of SingleLength bytes.
    Returns @{ Bytes; Payload } — the payload is every file's bytes end to end (zeros for BEP 47 padding files).
    InfoExtra adds or overrides keys of the info dictionary; TopExtra those of the top-level one.
#>
function New-TorrentCase {
    param(
        $Name = 'content',
        [object[]] $Files,
        [long] $SingleLength = 40000,
        [long] $PieceLength = 16384,
        [int] $PayloadSeed = 1,
        [hashtable] $InfoExtra = @{},
        [hashtable] $TopExtra = @{},
        [string] $NameKey = 'name',
        [string] $PathKey = 'path'
    )
    $rng = [Random]::new($PayloadSeed)
    $payload = [System.IO.MemoryStream]::new()
    $info = [ordered]@{ $NameKey = $Name; 'piece length' = $PieceLength }
    if ($Files) {
        $list = foreach ($f in $Files) {
            $bytes = [byte[]]::new($f.Length)
            $attr = if ($f.ContainsKey('Attr')) { $f.Attr } else { $null }
            if ($attr -ne 'p') { $rng.NextBytes($bytes) }
            $payload.Write($bytes, 0, $bytes.Length)
            $entry = [ordered]@{ length = [long]$f.Length; $PathKey = [object[]]@($f.Path) }
            if ($attr) { $entry.attr = $attr }
            $entry
        }
        $info.files = [object[]]@($list)
    }
    else {
        $bytes = [byte[]]::new($SingleLength)
        $rng.NextBytes($bytes)
        $payload.Write($bytes, 0, $bytes.Length)
        $info.length = $SingleLength
    }
    $content = $payload.ToArray()
    $info.pieces = Get-PieceHashes $content $PieceLength
    foreach ($k in $InfoExtra.Keys) { $info[$k] = $InfoExtra[$k] }
    $top = [ordered]@{ announce = 'http://127.0.0.1:9/announce'; 'created by' = 'New-HostileTorrentCorpus'; info = $info }
    foreach ($k in $TopExtra.Keys) { $top[$k] = $TopExtra[$k] }
    @{ Bytes = (ConvertTo-BencodeBytes $top); Payload = $content; Info = $info; Top = $top }
}

function New-Files([object[]] $Paths, [int] $Length = 20000) {
    , @(foreach ($p in $Paths) { @{ Path = @($p); Length = $Length } })
}

<#
    Many one-byte files, written straight as bencode text (a PowerShell bencoder call per value would take minutes):
    EncodedPaths are the inside of each path list, e.g. "7:dup.txt" or "2:d11:f1".
#>
function New-BulkTorrent([string] $Name, [string[]] $EncodedPaths, [int] $PayloadSeed) {
    $sb = [Text.StringBuilder]::new('l')
    foreach ($p in $EncodedPaths) { $null = $sb.Append('d6:lengthi1e4:pathl').Append($p).Append('ee') }
    $null = $sb.Append('e')
    $payload = [byte[]]::new($EncodedPaths.Count)
    [Random]::new($PayloadSeed).NextBytes($payload)
    $info = [ordered]@{ files = [BRaw]::new($script:Utf8.GetBytes($sb.ToString())); name = $Name; 'piece length' = 16384; pieces = (Get-PieceHashes $payload 16384) }
    $top = [ordered]@{ announce = 'http://127.0.0.1:9/announce'; info = $info }
    @{ Bytes = (ConvertTo-BencodeBytes $top); Payload = $payload; Info = $info; Top = $top }
}

# A valid torrent padded to exactly Size bytes by its comment.
function New-SizedTorrent([int] $Size, [int] $PayloadSeed) {
    $c = New-TorrentCase -PayloadSeed $PayloadSeed
    $len = 0
    for ($try = 0; $try -lt 5; $try++) {
        $c.Top.comment = [BRaw]::new((Get-Latin1 ("$($len):" + ('x' * $len))))
        $c.Bytes = ConvertTo-BencodeBytes $c.Top
        if ($c.Bytes.Length -eq $Size) { return $c }
        $len += $Size - $c.Bytes.Length
    }
    throw "Could not make a torrent of exactly $Size bytes."
}

# ---- the crafted cases -------------------------------------------------------------------------------------------

$script:Cases = [System.Collections.Generic.List[object]]::new()

<#
    Expect: Accepted (must parse; every sanitized path must be safe), Rejected (must fail with Error), or Either.
    Seed: the content is written too, so the torrent can be seeded and downloaded (path attacks).
#>
function Add-Case {
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Mandatory, Position = 1)] [string] $Description,
        [Parameter(Mandatory, Position = 2)] [ValidateSet('Accepted', 'Rejected', 'Either')] [string] $Expect,
        # The TorrentError name for a rejected case, then the script block that builds it; or just the script block.
        [Parameter(Mandatory, Position = 3)] $ErrorOrBuild,
        [Parameter(Position = 4)] [scriptblock] $Build,
        [switch] $Seed
    )
    $errorName = $null
    if ($ErrorOrBuild -is [scriptblock]) { $Build = $ErrorOrBuild } else { $errorName = [string]$ErrorOrBuild }
    if (-not $Build) { throw "Case $Name has no build script." }
    if (($Expect -eq 'Rejected') -ne [bool]$errorName) { throw "Case $Name`: a rejected case names its error, and only it." }
$script:Cases.Add([pscustomobject]@{
            Name = $Name; File = "crafted-$Name.torrent"; Kind = 'Crafted'; Description = $Description
            Expect = $Expect; Error = $errorName; Seedable = [bool]$Seed; Build = $Build
        })
}

$bad = @{
    Invalid         = [byte[]](0x62, 0x61, 0x64, 0xFF, 0xFE, 0x2E, 0x74, 0x78, 0x74)             # "bad\xff\xfe.txt"
    OverlongSlash   = [byte[]](0x61, 0xC0, 0xAF, 0x62)                                       # "a" overlong-'/' "b"
    OverlongDotDot  = [byte[]](0xC0, 0xAE, 0xC0, 0xAE)                                       # overlong ".."
    Surrogate       = [byte[]](0x73, 0xED, 0xA0, 0x80, 0x2E, 0x74)                           # CESU lone surrogate
    Truncated       = [byte[]](0x61, 0xE6, 0x97)                                             # a + cut-off 3-byte seq
}

# Path traversal and absolute paths (multi-file: 'path' lists; single-file: 'name').
Add-Case 'path-dotdot-climb' 'path [.., .., .., escaped.txt]: climbs out of the destination (CVE-2009-1760)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('..', '..', '..', 'escaped.txt'))) -PayloadSeed 101 }
Add-Case 'path-dotdot-middle' 'path [a, .., .., .., b.txt]: climbs after a real folder' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('a', '..', '..', '..', 'b.txt'))) -PayloadSeed 102 }
Add-Case 'path-dotdot-in-element' 'one element "../../../escaped.txt" with slashes inside it' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('../../../escaped.txt'))) -PayloadSeed 103 }
Add-Case 'path-dot-elements' 'path [., a, ., b.txt]: "." elements mean nothing' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('.', 'a', '.', 'b.txt'))) -PayloadSeed 104 }
Add-Case 'path-absolute-element' 'one element "/tmp/bt-hostile-escape-marker.txt" (absolute)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('/tmp/bt-hostile-escape-marker.txt'))) -PayloadSeed 105 }
Add-Case 'path-absolute-empty-first' 'path ["", tmp, bt-hostile-escape-marker-2.txt]: an empty first element makes "/tmp/…" when joined' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('', 'tmp', 'bt-hostile-escape-marker-2.txt'))) -PayloadSeed 106 }
Add-Case 'name-absolute-single' 'single-file name "/tmp/bt-hostile-escape-marker-3.txt"' Accepted -Seed {
    New-TorrentCase -Name '/tmp/bt-hostile-escape-marker-3.txt' -PayloadSeed 107 }
Add-Case 'name-dotdot-single' 'single-file name "../../escaped-single.txt"' Accepted -Seed {
    New-TorrentCase -Name '../../escaped-single.txt' -PayloadSeed 108 }
Add-Case 'name-dotdot-only-single' 'single-file name ".." (the file would BE the parent folder)' Accepted -Seed {
    New-TorrentCase -Name '..' -PayloadSeed 109 }
Add-Case 'name-dotdot-multi' 'multi-file torrent named ".." (the root folder would be the parent)' Accepted -Seed {
    New-TorrentCase -Name '..' -Files (New-Files @(, @('inside.txt'))) -PayloadSeed 110 }
Add-Case 'name-absolute-multi' 'multi-file torrent named "/tmp" (the root folder would be /tmp)' Accepted -Seed {
    New-TorrentCase -Name '/tmp' -Files (New-Files @(, @('bt-hostile-escape-marker-4.txt'))) -PayloadSeed 111 }
Add-Case 'path-mixed-climb' 'one element "a/b/../../../../escaped.txt"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('a/b/../../../../escaped.txt'))) -PayloadSeed 112 }

# Windows separators, drive letters, UNC, alternate data streams.
Add-Case 'path-backslash-climb' 'one element "..\..\..\escaped.txt"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('..\..\..\escaped.txt'))) -PayloadSeed 120 }
Add-Case 'path-backslash-absolute' 'one element "\Windows\System32\evil.dll"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('\Windows\System32\evil.dll'))) -PayloadSeed 121 }
Add-Case 'path-drive-letter-element' 'path [C:, Windows, evil.dll]' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('C:', 'Windows', 'evil.dll'))) -PayloadSeed 122 }
Add-Case 'path-drive-relative' 'one element "C:evil.txt" (drive-relative on Windows)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('C:evil.txt'))) -PayloadSeed 123 }
Add-Case 'path-drive-absolute' 'one element "c:\escaped.txt"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('c:\escaped.txt'))) -PayloadSeed 124 }
Add-Case 'name-drive-single' 'single-file name "D:\escaped.txt"' Accepted -Seed {
    New-TorrentCase -Name 'D:\escaped.txt' -PayloadSeed 125 }
Add-Case 'path-unc' 'one element "\\server\share\evil.txt"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('\\server\share\evil.txt'))) -PayloadSeed 126 }
Add-Case 'path-device-namespace' 'one element "\\?\C:\evil.txt" (Win32 device namespace)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('\\?\C:\evil.txt'))) -PayloadSeed 127 }
Add-Case 'path-alternate-stream' 'one element "file.txt:hidden:$DATA" (NTFS alternate data stream)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('file.txt:hidden:$DATA'))) -PayloadSeed 128 }
Add-Case 'path-windows-reserved-chars' 'elements with < > : " | ? * in them' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a<b>c.txt'), @('q"u|o?t*e.txt'))) -PayloadSeed 129 }

# Reserved device names, any case, with extensions and trailing spaces/dots.
Add-Case 'reserved-con' 'file "CON"' Accepted -Seed { New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('CON'))) -PayloadSeed 130 }
Add-Case 'reserved-nul-ext' 'file "nul.txt" (a device whatever the extension)' Accepted -Seed { New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('nul.txt'))) -PayloadSeed 131 }
Add-Case 'reserved-com1-lpt1' 'files "COM1", "lpt1.log", "Com9.tar.gz", "LPT¹"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('COM1'), @('lpt1.log'), @('Com9.tar.gz'), @("LPT$([char]0xB9)"))) -PayloadSeed 132 }
Add-Case 'reserved-aux-trailing' 'files "AUX ", "prn.", "conin$", "CONOUT$.txt"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('AUX '), @('prn.'), @('conin$'), @('CONOUT$.txt'))) -PayloadSeed 133 }
Add-Case 'reserved-folder' 'a folder named "con" holding a file' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('con', 'inside.txt'))) -PayloadSeed 134 }
Add-Case 'reserved-name-single' 'single-file torrent named "NUL"' Accepted -Seed { New-TorrentCase -Name 'NUL' -PayloadSeed 135 }
Add-Case 'reserved-name-multi' 'multi-file torrent named "LPT1" (its root folder)' Accepted -Seed {
    New-TorrentCase -Name 'LPT1' -Files (New-Files @(, @('x.txt'))) -PayloadSeed 136 }

# Control characters and invalid UTF-8.
Add-Case 'control-nul' 'an element with NUL inside ("a\0b.txt")' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @("a$([char]0)b.txt"))) -PayloadSeed 140 }
Add-Case 'control-newline-tab' 'elements with newline, tab, carriage return, escape, DEL' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@("new`nline.txt"), @("tab`there.txt"), @("cr`r.txt"), @("$([char]27)[31mred.txt"), @("del$([char]127).txt"))) -PayloadSeed 141 }
Add-Case 'control-name' 'a torrent name made of control characters only' Accepted -Seed {
    New-TorrentCase -Name "$([char]1)$([char]2)$([char]3)" -Files (New-Files @(, @('x.txt'))) -PayloadSeed 142 }
Add-Case 'utf8-invalid' 'an element with bytes FF FE (not UTF-8)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @(, $bad.Invalid))) -PayloadSeed 143 }
Add-Case 'utf8-overlong-slash' 'an element with an overlong "/" (C0 AF) between two letters' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @(, $bad.OverlongSlash))) -PayloadSeed 144 }
Add-Case 'utf8-overlong-dotdot' 'an element that is ".." in overlong UTF-8 (C0 AE C0 AE), then a file' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @($bad.OverlongDotDot, 'escaped.txt'))) -PayloadSeed 145 }
Add-Case 'utf8-surrogate' 'an element with an encoded lone surrogate (ED A0 80)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @(, $bad.Surrogate))) -PayloadSeed 146 }
Add-Case 'utf8-truncated-name' 'a torrent name ending in a cut-off UTF-8 sequence' Accepted -Seed {
    New-TorrentCase -Name $bad.Truncated -Files (New-Files @(, @('x.txt'))) -PayloadSeed 147 }
Add-Case 'utf8-key-hostile' 'a benign "path" but a climbing "path.utf-8" (the .utf-8 key wins)' Accepted -Seed {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('..', '..', 'escaped-utf8.txt'))) -PathKey 'path.utf-8' -PayloadSeed 148
    $c.Info.files[0].path = [object[]]@('benign.txt')
    $c.Bytes = ConvertTo-BencodeBytes $c.Top
    $c }
Add-Case 'utf8-name-key-hostile' 'a benign "name" but "name.utf-8" = "../../escaped-name-utf8.txt"' Accepted -Seed {
    $c = New-TorrentCase -Name '../../escaped-name-utf8.txt' -NameKey 'name.utf-8' -PayloadSeed 149
    $c.Info.name = 'benign.bin'
    $c.Bytes = ConvertTo-BencodeBytes $c.Top
    $c }
Add-Case 'unicode-lookalikes' 'fullwidth solidus, division slash, two-dot leader, right-to-left override in names' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@("a$([char]0xFF0F)b.txt"), @("c$([char]0x2215)d.txt"), @("$([char]0x2025)"), @("evil$([char]0x202E)txt.exe"))) -PayloadSeed 150 }

# Empty elements and names made of dots and spaces.
Add-Case 'path-empty-elements' 'path [a, "", "", b.txt]' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('a', '', '', 'b.txt'))) -PayloadSeed 160 }
Add-Case 'path-only-empty' 'path [""] (nothing left after dropping it)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @(''))) -PayloadSeed 161 }
Add-Case 'path-only-dots' 'path [., .., .] (nothing left after dropping them)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('.', '..', '.'))) -PayloadSeed 162 }
Add-Case 'name-dots-spaces-single' 'single-file name ". . . " (dots and spaces only)' Accepted -Seed { New-TorrentCase -Name '. . . ' -PayloadSeed 163 }
Add-Case 'name-three-dots-multi' 'multi-file torrent named "..."' Accepted -Seed {
    New-TorrentCase -Name '...' -Files (New-Files @(, @('x.txt'))) -PayloadSeed 164 }
Add-Case 'name-empty-single' 'single-file torrent with an empty name' Accepted -Seed { New-TorrentCase -Name '' -PayloadSeed 165 }
Add-Case 'path-trailing-dots-spaces' 'files "file.txt." and "file.txt   " (Windows strips both)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('file.txt.'), @('file.txt   '))) -PayloadSeed 166 }
Add-Case 'path-element-spaces-only' 'path ["   ", x.txt]' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('   ', 'x.txt'))) -PayloadSeed 167 }

# Duplicates: exact, by case, after sanitizing, file against folder, and against our own working names.
Add-Case 'dup-exact' 'two files "same.txt"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('same.txt'), @('same.txt'))) -PayloadSeed 170 }
Add-Case 'dup-case-only' 'files "Readme.txt", "README.TXT", "readme.txt" (one file on Windows and macOS)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('Readme.txt'), @('README.TXT'), @('readme.txt'))) -PayloadSeed 171 }
Add-Case 'dup-after-sanitizing' 'files "a?.txt", "a*.txt", "a_.txt" (all "a_.txt" once sanitized)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a?.txt'), @('a*.txt'), @('a_.txt'))) -PayloadSeed 172 }
Add-Case 'dup-file-vs-folder' 'a file "a" and a file "a/b.txt" (a is both a file and a folder)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a'), @('a', 'b.txt'))) -PayloadSeed 173 }
Add-Case 'dup-folder-vs-file' 'a file "a/b.txt" then a file "A" (case-only clash of folder and file)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a', 'b.txt'), @('A'))) -PayloadSeed 174 }
Add-Case 'dup-renamed-target-taken' 'files "x.txt", "x.txt", "x.1.txt" (the rename of the 2nd is taken by the 3rd)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('x.txt'), @('x.txt'), @('x.1.txt'))) -PayloadSeed 175 }
Add-Case 'dup-part-suffix' 'files "data" and "data.part" ("data" is written as data.part while incomplete)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('data'), @('data.part'))) -PayloadSeed 176 }
Add-Case 'dup-part-suffix-folder' 'files "data" and "data.part/inner.txt" (a folder where the partial file goes)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('data'), @('data.part', 'inner.txt'))) -PayloadSeed 177 }
Add-Case 'resume-folder-single' 'single-file torrent named ".bittorrent" (the folder that holds resume records)' Accepted -Seed {
    New-TorrentCase -Name '.bittorrent' -PayloadSeed 178 }
Add-Case 'resume-folder-multi' 'multi-file torrent named ".bittorrent" with a file named like a resume record' Accepted -Seed {
    New-TorrentCase -Name '.BitTorrent' -Files (New-Files @(@('0000000000000000000000000000000000000000.resume'), @('x.resume.tmp'))) -PayloadSeed 179 }
Add-Case 'dup-many-same-name' '20 000 files all named "dup.txt" (renaming must not be quadratic)' Accepted {
    New-BulkTorrent -Name $script:CurrentCase -EncodedPaths ([Linq.Enumerable]::Repeat('7:dup.txt', 20000)) -PayloadSeed 180 }
Add-Case 'padding-file-climbing' 'a BEP 47 padding file whose path climbs ("../../pad"), between two real files' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files @(@{ Path = @('a.bin'); Length = 10000 }, @{ Path = @('..', '..', 'pad'); Length = 6384; Attr = 'p' }, @{ Path = @('b.bin'); Length = 9000 }) -PayloadSeed 181 }
Add-Case 'attr-symlink-executable' 'files with BEP 47 attr "l" (symlink, no target) and "x"' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files @(@{ Path = @('link'); Length = 100; Attr = 'l' }, @{ Path = @('run.sh'); Length = 200; Attr = 'x' }) -PayloadSeed 182 }

# Long and deep paths.
Add-Case 'long-element-ascii' 'an element of 1000 ASCII characters' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @(('x' * 996) + '.txt'))) -PayloadSeed 190 }
Add-Case 'long-element-unicode' 'an element of 300 three-byte characters plus ".txt" (cut on a character boundary)' Accepted -Seed {
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @(([string][char]0x65E5 * 300) + '.txt'))) -PayloadSeed 191 }
Add-Case 'long-name-emoji' 'a torrent name of 200 emoji (surrogate pairs must not be split)' Accepted -Seed {
    New-TorrentCase -Name ([string]::Concat([Linq.Enumerable]::Repeat([char]::ConvertFromUtf32(0x1F600), 200))) -PayloadSeed 192 }
Add-Case 'depth-100' 'a path of 100 elements (the limit)' Accepted -Seed {
    $p = [object[]]@(1..99 | ForEach-Object { 'd' }) + 'leaf.txt'
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, $p) 3000) -PayloadSeed 193 }
Add-Case 'depth-101' 'a path of 101 elements (one over the limit)' Rejected PathTooDeep {
    $p = [object[]]@(1..100 | ForEach-Object { 'd' }) + 'leaf.txt'
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, $p)) -PayloadSeed 194 }
Add-Case 'depth-100-dotdot' 'a path of 100 ".." elements then a file (climbing, at the depth limit)' Accepted -Seed {
    $p = [object[]]@(1..99 | ForEach-Object { '..' }) + 'escaped-deep.txt'
    New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, $p)) -PayloadSeed 195 }

# Lengths.
Add-Case 'length-negative-single' 'single-file length -1' Rejected InvalidFileLength { New-TorrentCase -InfoExtra @{ length = -1 } -PayloadSeed 200 }
Add-Case 'length-negative-file' 'a file of length -16384 among positive ones (they would add up right)' Rejected InvalidFileLength {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a'), @('b'), @('c'))) -PayloadSeed 201
    $c.Info.files[1].length = -16384; $c.Info.files[2].length = 20000 + 16384
    $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'length-int64-max-single' 'single-file length 9223372036854775807' Rejected PieceCountMismatch { New-TorrentCase -InfoExtra @{ length = [long]::MaxValue } -PayloadSeed 202 }
Add-Case 'length-overflow-sum' 'two files of 2^62 and 2^62 + 2^62 bytes: the sum overflows 64 bits' Rejected TotalSizeOverflow {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a'), @('b'), @('c'))) -PayloadSeed 203
    $c.Info.files[0].length = [long]4611686018427387904; $c.Info.files[1].length = [long]4611686018427387904; $c.Info.files[2].length = [long]4611686018427387904
    $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'length-overlong-integer' 'length i99999999999999999999e (does not fit 64 bits)' Rejected InvalidBencoding { New-TorrentCase -InfoExtra @{ length = [BRaw]::new('i99999999999999999999e') } -PayloadSeed 204 }
Add-Case 'length-string' 'length given as a string "40000"' Rejected InvalidFileLength { New-TorrentCase -InfoExtra @{ length = '40000' } -PayloadSeed 205 }
Add-Case 'length-huge-consistent' 'a 1 PiB file whose pieces list is "right" for 256 MiB pieces would be 80 MB: here 4 TiB at 256 MiB = 16 384 hashes' Accepted {
    New-TorrentCase -InfoExtra @{ length = [long]4TB; 'piece length' = 256MB; pieces = [byte[]]::new(16384 * 20) } -PayloadSeed 206 }
Add-Case 'length-all-zero' 'every file is empty (nothing to share)' Rejected NoData {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(@('a'), @('b')) 0) -PayloadSeed 207; $c }
Add-Case 'length-leading-zero' 'length i040000e (leading zero)' Rejected InvalidBencoding { New-TorrentCase -InfoExtra @{ length = [BRaw]::new('i040000e') } -PayloadSeed 208 }
Add-Case 'length-negative-zero' 'length i-0e' Rejected InvalidBencoding { New-TorrentCase -InfoExtra @{ length = [BRaw]::new('i-0e') } -PayloadSeed 209 }

# Piece length and pieces.
Add-Case 'piece-length-zero' 'piece length 0' Rejected InvalidPieceLength { New-TorrentCase -InfoExtra @{ 'piece length' = 0 } -PayloadSeed 210 }
Add-Case 'piece-length-negative' 'piece length -16384' Rejected InvalidPieceLength { New-TorrentCase -InfoExtra @{ 'piece length' = -16384 } -PayloadSeed 211 }
Add-Case 'piece-length-huge' 'piece length 2^40' Rejected InvalidPieceLength { New-TorrentCase -InfoExtra @{ 'piece length' = [long]1TB } -PayloadSeed 212 }
Add-Case 'piece-length-over-limit' 'piece length 512 MiB (over the 256 MiB held in memory per piece)' Rejected InvalidPieceLength { New-TorrentCase -InfoExtra @{ 'piece length' = 512MB } -PayloadSeed 213 }
Add-Case 'piece-length-int32-overflow' 'piece length 2^32 + 16384 (wraps to 16384 in 32 bits)' Rejected InvalidPieceLength { New-TorrentCase -InfoExtra @{ 'piece length' = [long]4294983680 } -PayloadSeed 214 }
Add-Case 'piece-length-not-power-of-two' 'piece length 10 000 (not a power of two: legal in v1, used as is)' Accepted -Seed { New-TorrentCase -PieceLength 10000 -PayloadSeed 215 }
Add-Case 'piece-length-one' 'piece length 1 (one byte per piece, 3000 pieces)' Accepted -Seed { New-TorrentCase -SingleLength 3000 -PieceLength 1 -PayloadSeed 216 }
Add-Case 'piece-length-string' 'piece length given as a string' Rejected MissingPieceLength { New-TorrentCase -InfoExtra @{ 'piece length' = '16384' } -PayloadSeed 217 }
Add-Case 'pieces-19-bytes' 'pieces of 19 bytes (not a multiple of 20)' Rejected InvalidPiecesLength { New-TorrentCase -InfoExtra @{ pieces = [byte[]]::new(19) } -PayloadSeed 220 }
Add-Case 'pieces-61-bytes' 'pieces of 61 bytes (3 hashes and a byte)' Rejected InvalidPiecesLength { New-TorrentCase -InfoExtra @{ pieces = [byte[]]::new(61) } -PayloadSeed 221 }
Add-Case 'pieces-empty' 'pieces of 0 bytes for a 40 000-byte file' Rejected PieceCountMismatch { New-TorrentCase -InfoExtra @{ pieces = [byte[]]::new(0) } -PayloadSeed 222 }
Add-Case 'pieces-too-few' '2 hashes for 3 pieces' Rejected PieceCountMismatch { New-TorrentCase -InfoExtra @{ pieces = [byte[]]::new(40) } -PayloadSeed 223 }
Add-Case 'pieces-too-many' '4 hashes for 3 pieces' Rejected PieceCountMismatch { New-TorrentCase -InfoExtra @{ pieces = [byte[]]::new(80) } -PayloadSeed 224 }
Add-Case 'pieces-missing' 'no pieces key' Rejected MissingPieces {
    $c = New-TorrentCase -PayloadSeed 225; $c.Info.Remove('pieces'); $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'pieces-integer' 'pieces given as an integer' Rejected MissingPieces { New-TorrentCase -InfoExtra @{ pieces = 60 } -PayloadSeed 226 }
Add-Case 'pieces-over-2M' '2 097 153 piece hashes (one over libtorrent''s limit): 42 MB, so over the file size limit first' Rejected FileTooLarge {
    $n = 0x200001
    $pieces = [BRaw]::new([byte[]]::new(0))
    $prefix = Get-Latin1 "$($n * 20):"
    $raw = [byte[]]::new($prefix.Length + $n * 20)
    [Array]::Copy($prefix, $raw, $prefix.Length)
    $pieces = [BRaw]::new($raw)
    New-TorrentCase -InfoExtra @{ length = [long]$n * 16384; pieces = $pieces } -PayloadSeed 227 }

# Bencode structure.
Add-Case 'file-empty' 'a 0-byte file' Rejected InvalidBencoding { @{ Bytes = [byte[]]::new(0) } }
Add-Case 'root-list' 'the top level is a list' Rejected NotADictionary { @{ Bytes = (ConvertTo-BencodeBytes @(, @('a', 1))) } }
Add-Case 'root-integer' 'the top level is an integer' Rejected NotADictionary { @{ Bytes = (Get-Latin1 'i42e') } }
Add-Case 'root-string' 'the top level is a string' Rejected NotADictionary { @{ Bytes = (Get-Latin1 '4:spam') } }
Add-Case 'info-missing' 'no info dictionary' Rejected MissingInfo { @{ Bytes = (ConvertTo-BencodeBytes ([ordered]@{ announce = 'http://127.0.0.1:9/announce' })) } }
Add-Case 'info-list' 'info is a list' Rejected MissingInfo { @{ Bytes = (ConvertTo-BencodeBytes ([ordered]@{ info = @(1, 2) })) } }
Add-Case 'name-missing' 'no name' Rejected MissingName { $c = New-TorrentCase -PayloadSeed 230; $c.Info.Remove('name'); $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'name-integer' 'name is an integer' Rejected MissingName { New-TorrentCase -InfoExtra @{ name = 7 } -PayloadSeed 231 }
Add-Case 'files-empty-list' 'files is an empty list' Rejected InvalidFileList { New-TorrentCase -InfoExtra @{ files = [object[]]@() } -PayloadSeed 232 }
Add-Case 'files-not-list' 'files is a string' Rejected InvalidFileList { New-TorrentCase -InfoExtra @{ files = 'x' } -PayloadSeed 233 }
Add-Case 'files-entry-integer' 'an entry of files is an integer' Rejected InvalidFileList {
    New-TorrentCase -InfoExtra @{ files = [object[]]@(5) } -PayloadSeed 234 }
Add-Case 'path-empty-list' 'a file whose path is an empty list' Rejected InvalidFilePath {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('a'))) -PayloadSeed 235
    $c.Info.files[0].path = [object[]]@(); $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'path-element-integer' 'a path element is an integer' Rejected InvalidFilePath {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('a'))) -PayloadSeed 236
    $c.Info.files[0].path = [object[]]@('a', 5); $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'path-string-not-list' 'a file whose path is a string "../../x" instead of a list' Rejected InvalidFilePath {
    $c = New-TorrentCase -Name $script:CurrentCase -Files (New-Files @(, @('a'))) -PayloadSeed 237
    $c.Info.files[0].path = '../../x'; $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'keys-unsorted' 'keys of the top and info dictionaries in reverse order (accepted, with a warning)' Accepted -Seed {
    $c = New-TorrentCase -PayloadSeed 238
    $info = $c.Info
    $pairs = [BPairs]::new(@('pieces', $info.pieces, 'piece length', $info.'piece length', 'name', $info.name, 'length', $info.length))
    $c.Bytes = ConvertTo-BencodeBytes ([BPairs]::new(@('info', $pairs, 'announce', 'http://127.0.0.1:9/announce')))
    $c }
Add-Case 'keys-duplicate-info' 'the key "length" twice in the info dictionary' Rejected InvalidBencoding {
    $c = New-TorrentCase -PayloadSeed 239
    $info = $c.Info
    $pairs = [BPairs]::new(@('length', 1, 'length', $info.length, 'name', $info.name, 'piece length', $info.'piece length', 'pieces', $info.pieces))
    @{ Bytes = (ConvertTo-BencodeBytes ([ordered]@{ info = $pairs })) } }
Add-Case 'keys-duplicate-unsorted' 'the key "name" twice, not adjacent (unsorted): "name" … "length" … "name"' Rejected InvalidBencoding {
    $c = New-TorrentCase -PayloadSeed 240
    $info = $c.Info
    $pairs = [BPairs]::new(@('name', 'a', 'length', $info.length, 'name', 'b', 'piece length', $info.'piece length', 'pieces', $info.pieces))
    @{ Bytes = (ConvertTo-BencodeBytes ([ordered]@{ info = $pairs })) } }
Add-Case 'keys-duplicate-info-dict' 'two info dictionaries (the second would change the info-hash)' Rejected InvalidBencoding {
    $c = New-TorrentCase -PayloadSeed 241
    @{ Bytes = (ConvertTo-BencodeBytes ([BPairs]::new(@('info', $c.Info, 'info', $c.Info)))) } }
Add-Case 'key-not-string' 'a dictionary key that is an integer' Rejected InvalidBencoding { @{ Bytes = (Get-Latin1 'di1e4:spame') } }
Add-Case 'trailing-garbage' 'bytes after the top-level dictionary' Rejected InvalidBencoding {
    $c = New-TorrentCase -PayloadSeed 242; @{ Bytes = [byte[]]($c.Bytes + (Get-Latin1 'garbage')) } }
Add-Case 'string-length-huge' 'a string length prefix of 99999999999 (more than the file, more than 2^31)' Rejected InvalidBencoding {
    New-TorrentCase -InfoExtra @{ name = [BRaw]::new('99999999999:x') } -PayloadSeed 243 }
Add-Case 'string-length-2gib' 'a string length prefix of 2147483647 (int.MaxValue)' Rejected InvalidBencoding {
    New-TorrentCase -InfoExtra @{ name = [BRaw]::new('2147483647:x') } -PayloadSeed 244 }
Add-Case 'string-length-4gib-wrap' 'a string length prefix of 4294967297 (wraps to 1 in 32 bits)' Rejected InvalidBencoding {
    New-TorrentCase -InfoExtra @{ name = [BRaw]::new('4294967297:x') } -PayloadSeed 245 }
Add-Case 'string-length-past-end' 'a string length prefix larger than the bytes left ("10:abc" at the end)' Rejected InvalidBencoding {
    @{ Bytes = (Get-Latin1 'd4:name10:abce') } }
Add-Case 'string-length-negative' 'a string length prefix "-5:"' Rejected InvalidBencoding { New-TorrentCase -InfoExtra @{ name = [BRaw]::new('-5:abcde') } -PayloadSeed 247 }
Add-Case 'string-length-leading-zero' 'a string length prefix "05:"' Rejected InvalidBencoding { New-TorrentCase -InfoExtra @{ name = [BRaw]::new('05:abcde') } -PayloadSeed 248 }
Add-Case 'integer-unterminated' 'an integer that runs to the end of the file' Rejected InvalidBencoding { @{ Bytes = (Get-Latin1 'd4:infoi123') } }
Add-Case 'integer-empty' 'an integer with no digits ("ie")' Rejected InvalidBencoding { New-TorrentCase -InfoExtra @{ length = [BRaw]::new('ie') } -PayloadSeed 249 }
Add-Case 'nesting-depth-100' 'a comment nested 99 lists deep (100 with the top dictionary: the limit)' Accepted {
    New-TorrentCase -TopExtra @{ comment = [BRaw]::new(('l' * 99) + ('e' * 99)) } -PayloadSeed 250 }
Add-Case 'nesting-depth-101' 'a comment nested 100 lists deep (101 with the top dictionary)' Rejected InvalidBencoding {
    New-TorrentCase -TopExtra @{ comment = [BRaw]::new(('l' * 100) + ('e' * 100)) } -PayloadSeed 251 }
Add-Case 'nesting-depth-100000' '100 000 nested lists (a recursive decoder would overflow its stack)' Rejected InvalidBencoding {
    New-TorrentCase -TopExtra @{ comment = [BRaw]::new(('l' * 100000) + ('e' * 100000)) } -PayloadSeed 252 }
Add-Case 'nesting-dicts-100000' '100 000 nested dictionaries "d1:a" … (CVE-2020-8437 style)' Rejected InvalidBencoding {
    New-TorrentCase -TopExtra @{ comment = [BRaw]::new(('d1:a' * 100000) + 'i0e' + ('e' * 100000)) } -PayloadSeed 253 }
Add-Case 'nesting-unbalanced' '1000 lists opened and never closed' Rejected InvalidBencoding { @{ Bytes = (Get-Latin1 ('d7:comment' + ('l' * 1000))) } }
Add-Case 'tokens-over-limit' '3 300 000 integers "i0e" in one list (over the 3 000 000 value limit, under 10 MB)' Rejected InvalidBencoding {
    $c = New-TorrentCase -PayloadSeed 254
    $c.Top.comment = [BRaw]::new((Get-Latin1 ('l' + ('i0e' * 3300000) + 'e')))
    $c.Bytes = ConvertTo-BencodeBytes $c.Top; $c }
Add-Case 'size-10000000' 'exactly 10 000 000 bytes (the limit), made up by a long comment' Accepted { New-SizedTorrent 10000000 -PayloadSeed 255 }
Add-Case 'size-10000001' '10 000 001 bytes (one over the limit)' Rejected FileTooLarge { New-SizedTorrent 10000001 -PayloadSeed 256 }
Add-Case 'v2-only' 'a BitTorrent v2-only info dictionary (meta version 2, no pieces)' Rejected UnsupportedVersion {
    @{ Bytes = (ConvertTo-BencodeBytes ([ordered]@{ info = [ordered]@{ 'file tree' = @{ a = @{ '' = @{ length = 5 } } }; 'meta version' = 2; name = 'v2'; 'piece length' = 16384 } })) } }

# Many things.
Add-Case 'files-100000' '100 000 one-byte files with distinct names (parsing stays fast)' Accepted {
    New-BulkTorrent -Name 'many' -EncodedPaths @(for ($i = 0; $i -lt 100000; $i++) { $n = "f$i"; "$($n.Length):$n" }) -PayloadSeed 260 }
Add-Case 'deep-paths-many' '20 000 files, each 90 folders deep (folder bookkeeping stays fast)' Accepted {
    $dirs = -join (1..89 | ForEach-Object { $d = "d$_"; "$($d.Length):$d" })
    New-BulkTorrent -Name 'deep' -EncodedPaths @(for ($i = 0; $i -lt 20000; $i++) { $n = "f$i"; "$dirs$($n.Length):$n" }) -PayloadSeed 261 }
Add-Case 'trackers-100000' '100 000 tracker URLs in 1000 tiers' Accepted {
    $sb = [Text.StringBuilder]::new('l')
    for ($t = 0; $t -lt 1000; $t++) {
        $null = $sb.Append('l')
        for ($u = 0; $u -lt 100; $u++) { $url = "http://127.0.0.1:9/a$t-$u"; $null = $sb.Append("$($url.Length):$url") }
        $null = $sb.Append('e')
    }
    $null = $sb.Append('e')
    New-TorrentCase -TopExtra @{ 'announce-list' = [BRaw]::new($sb.ToString()) } -PayloadSeed 262 }
Add-Case 'trackers-hostile-urls' 'trackers and web seeds with file:, javascript:, CR/LF and NUL in them' Accepted {
    New-TorrentCase -TopExtra @{ 'announce-list' = [object[]]@(, [object[]]@('file:///etc/passwd', "http://a`r`nHost: b/", "udp://x$([char]0)y:1")); 'url-list' = [object[]]@('javascript:alert(1)', 'file:///etc/shadow') } -PayloadSeed 263 }
Add-Case 'dates-and-flags-odd' 'creation date -1 and 2^62, private 2, comment and source as lists' Accepted {
    New-TorrentCase -TopExtra @{ 'creation date' = [long]4611686018427387904; comment = @(1); 'comment.utf-8' = -1 } -InfoExtra @{ private = 2; source = @('x') } -PayloadSeed 264 }

# ---- build ---------------------------------------------------------------------------------------------------------

$manifest = [System.Collections.Generic.List[object]]::new()
foreach ($c in $Cases) {
    $manifest.Add([pscustomobject]@{ File = $c.File; Kind = 'Crafted'; Name = $c.Name; Description = $c.Description; Expect = $c.Expect; Error = $c.Error; Seedable = $c.Seedable; Payload = $(if ($c.Seedable) { "payload/$($c.Name).bin" } else { $null }) })
}

$bases = [ordered]@{
    single = { New-TorrentCase -Name 'single.bin' -SingleLength 70000 -PayloadSeed 300 }
    multi  = { New-TorrentCase -Name 'multi' -Files @(@{ Path = @('a.txt'); Length = 30000 }, @{ Path = @('sub', 'b.bin'); Length = 17 }, @{ Path = @('sub', 'c.bin'); Length = 0 }, @{ Path = @('z'); Length = 25000 }) -PieceLength 32768 -PayloadSeed 301 -TopExtra @{ 'announce-list' = [object[]]@(, [object[]]@('http://127.0.0.1:9/a', 'udp://127.0.0.1:9/b')); comment = 'base'; 'creation date' = 1700000000; 'url-list' = 'http://127.0.0.1:9/seed/' } }
    tiny   = { New-TorrentCase -Name 't' -Files @(@{ Path = @('x'); Length = 5 }) -PieceLength 16384 -PayloadSeed 302 }
}
$rng = [Random]::new($Seed)
$baseBytes = [ordered]@{}
foreach ($k in $bases.Keys) { $baseBytes[$k] = (& $bases[$k]).Bytes }
$baseNames = [string[]]@($bases.Keys)

$truncations = for ($i = 1; $i -le $TruncationCount; $i++) {
    $b = $baseNames[$i % $baseNames.Count]
    $len = $baseBytes[$b].Length
    $at = $rng.Next(0, $len)   # 0 … len-1: always shorter than the whole
    [pscustomobject]@{ File = ('truncated-{0:d3}-{1}-at-{2}.torrent' -f $i, $b, $at); Kind = 'Truncated'; Name = "$b@$at"; Description = "$b cut after $at of $len bytes"; Expect = 'Rejected'; Error = 'InvalidBencoding'; Seedable = $false; Payload = $null; Base = $b; At = $at }
}
foreach ($t in $truncations) { $manifest.Add($t) }

$interestingBytes = Get-Latin1 "0123456789-:eild/.\`0"
$interestingBytes += [byte[]](0x00, 0xFF, 0x7F, 0x80)
$interestingNumbers = @('0', '-1', '1', '16383', '16384', '2147483647', '2147483648', '4294967295', '4294967296', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '99999999999999999999', '00')

function Invoke-Mutation([byte[]] $Data, [Random] $R) {
    $list = [System.Collections.Generic.List[byte]]::new($Data)
    $edits = 1 + $R.Next(4)
    $what = [System.Collections.Generic.List[string]]::new()
    for ($e = 0; $e -lt $edits -and $list.Count -gt 0; $e++) {
        $pos = $R.Next($list.Count)
        switch ($R.Next(7)) {
            0 { $list[$pos] = [byte]($list[$pos] -bxor (1 -shl $R.Next(8))); $what.Add("flip@$pos") }
            1 { $list[$pos] = [byte]$R.Next(256); $what.Add("byte@$pos") }
            2 { $list[$pos] = $interestingBytes[$R.Next($interestingBytes.Length)]; $what.Add("interesting@$pos") }
            3 {
                # Replace a run of digits (a length prefix or an integer) with a boundary value.
                $start = -1
                for ($p = $pos; $p -lt $list.Count; $p++) { if ($list[$p] -ge 0x30 -and $list[$p] -le 0x39) { $start = $p; break } }
                if ($start -lt 0) { $what.Add('number:none'); break }
                $end = $start
                while ($end -lt $list.Count -and $list[$end] -ge 0x30 -and $list[$end] -le 0x39) { $end++ }
                $n = $interestingNumbers[$R.Next($interestingNumbers.Count)]
                $list.RemoveRange($start, $end - $start)
                $list.InsertRange($start, [byte[]](Get-Latin1 $n))
                $what.Add("number@$start=$n")
            }
            4 { $n = [Math]::Min(1 + $R.Next(16), $list.Count - $pos); $list.RemoveRange($pos, $n); $what.Add("delete@$pos+$n") }
            5 { $n = [Math]::Min(1 + $R.Next(32), $list.Count - $pos); $list.InsertRange($pos, $list.GetRange($pos, $n).ToArray()); $what.Add("duplicate@$pos+$n") }
            6 { $n = 1 + $R.Next(8); $ins = [byte[]]::new($n); $R.NextBytes($ins); $list.InsertRange($pos, $ins); $what.Add("insert@$pos+$n") }
        }
    }
    [pscustomobject]@{ Bytes = $list.ToArray(); Edits = ($what -join ', ') }
}

$mutations = for ($i = 1; $i -le $MutationCount; $i++) {
    $b = $baseNames[$i % $baseNames.Count]
    $m = Invoke-Mutation $baseBytes[$b] $rng
    [pscustomobject]@{ File = ('mutated-{0:d3}-{1}.torrent' -f $i, $b); Kind = 'Mutated'; Name = "$b#$i"; Description = $m.Edits; Expect = 'Either'; Error = $null; Seedable = $false; Payload = $null; Bytes = $m.Bytes }
}
foreach ($m in $mutations) { $manifest.Add($m) }

if ($ManifestOnly) {
    return $manifest | Select-Object File, Kind, Name, Description, Expect, Error, Seedable, Payload
}

$null = New-Item -ItemType Directory -Force -Path $OutputPath, (Join-Path $OutputPath 'payload')
foreach ($c in $Cases) {
    # Torrents whose name is not the point of the case are named after it, so they do not collide in one folder.
    $script:CurrentCase = $c.Name
    $built = & $c.Build
    [IO.File]::WriteAllBytes((Join-Path $OutputPath $c.File), $built.Bytes)
    if ($c.Seedable) { [IO.File]::WriteAllBytes((Join-Path $OutputPath "payload/$($c.Name).bin"), $built.Payload) }
}
foreach ($t in $truncations) {
    $bytes = [byte[]]::new($t.At)
    [Array]::Copy($baseBytes[$t.Base], $bytes, $t.At)
    [IO.File]::WriteAllBytes((Join-Path $OutputPath $t.File), $bytes)
}
foreach ($m in $mutations) { [IO.File]::WriteAllBytes((Join-Path $OutputPath $m.File), $m.Bytes) }

$result = $manifest | Select-Object File, Kind, Name, Description, Expect, Error, Seedable, Payload
$result | ConvertTo-Json -Depth 3 | Set-Content -LiteralPath (Join-Path $OutputPath 'corpus.json') -Encoding utf8
$result
