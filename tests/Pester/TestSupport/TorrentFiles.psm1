<#
    Hand-made .torrent files for the Pester tests, written without the module under test: a tiny bencoder of its
    own (keys are ASCII in these tests, so ordinal order is byte order) and piece hashes from .NET's SHA-1 over
    real content. New-TestTorrent returns the expected values alongside the file.
#>
Set-StrictMode -Version 3.0

function Write-TestBencode {
    param([System.IO.Stream] $Stream, $Value)
    $ascii = [Text.Encoding]::ASCII
    if ($Value -is [byte[]]) {
        $head = $ascii.GetBytes("$($Value.Length):"); $Stream.Write($head, 0, $head.Length); $Stream.Write($Value, 0, $Value.Length)
    }
    elseif ($Value -is [string]) {
        Write-TestBencode $Stream ([Text.Encoding]::UTF8.GetBytes($Value))
    }
    elseif ($Value -is [int] -or $Value -is [long]) {
        $b = $ascii.GetBytes("i$($Value)e"); $Stream.Write($b, 0, $b.Length)
    }
    elseif ($Value -is [System.Collections.IDictionary]) {
        $Stream.WriteByte([byte][char]'d')
        foreach ($key in [string[]]@($Value.Keys) | Sort-Object { $_ } -CaseSensitive -Culture '') {
            Write-TestBencode $Stream ([string]$key)
            Write-TestBencode $Stream $Value[$key]
        }
        $Stream.WriteByte([byte][char]'e')
    }
    elseif ($Value -is [System.Collections.IEnumerable]) {
        $Stream.WriteByte([byte][char]'l')
        foreach ($item in $Value) { Write-TestBencode $Stream $item }
        $Stream.WriteByte([byte][char]'e')
    }
    else { throw "Write-TestBencode: cannot encode $($Value.GetType())" }
}

function ConvertTo-TestBencode {
    param($Value)
    $ms = [IO.MemoryStream]::new()
    Write-TestBencode $ms $Value
    , $ms.ToArray()
}

function New-TestTorrent {
    <#
        Writes a torrent to -Path. -Files is an ordered dictionary of relative path ('/'-separated) → byte[] content;
        with one entry and -SingleFile the torrent is single-file. Returns Path, InfoHash (SHA-1 of the info
        dictionary's bytes), TotalSize, PieceCount, Info (the info hashtable) and Bytes.
    #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [System.Collections.Specialized.OrderedDictionary] $Files,
        [switch] $SingleFile,
        [int] $PieceLength = 16384,
        [string] $Announce,
        [object[]] $AnnounceList,
        [string[]] $UrlList,
        [switch] $Private,
        [string] $Comment,
        [string] $CreatedBy,
        [long] $CreationDate
    )
    $payload = [IO.MemoryStream]::new()
    foreach ($content in $Files.Values) { $payload.Write([byte[]]$content, 0, $content.Length) }
    $all = $payload.ToArray()
    $pieces = [IO.MemoryStream]::new()
    $sha1 = [Security.Cryptography.SHA1]::Create()
    for ($o = 0; $o -lt $all.Length; $o += $PieceLength) {
        $h = $sha1.ComputeHash($all, $o, [Math]::Min($PieceLength, $all.Length - $o)); $pieces.Write($h, 0, 20)
    }
    $info = [ordered]@{ name = $Name; 'piece length' = $PieceLength; pieces = $pieces.ToArray() }
    if ($SingleFile) { $info.length = $all.Length }
    else {
        $info.files = @(foreach ($entry in $Files.GetEnumerator()) {
                [ordered]@{ length = $entry.Value.Length; path = @($entry.Key -split '/') }
            })
    }
    if ($Private) { $info.private = 1 }
    $root = [ordered]@{ info = $info }
    if ($Announce) { $root.announce = $Announce }
    if ($AnnounceList) { $root.'announce-list' = @(foreach ($tier in $AnnounceList) { , @($tier) }) }
    if ($UrlList) { $root.'url-list' = @($UrlList) }
    if ($Comment) { $root.comment = $Comment }
    if ($CreatedBy) { $root.'created by' = $CreatedBy }
    if ($CreationDate) { $root.'creation date' = $CreationDate }

    $bytes = ConvertTo-TestBencode $root
    $parent = Split-Path -Parent $Path
    if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent }
    [IO.File]::WriteAllBytes($Path, $bytes)
    [pscustomobject]@{
        Path       = $Path
        InfoHash   = [Convert]::ToHexString($sha1.ComputeHash((ConvertTo-TestBencode $info))).ToLowerInvariant()
        TotalSize  = [long]$all.Length
        PieceCount = [int][Math]::Ceiling($all.Length / $PieceLength)
        Info       = $info
        Bytes      = $bytes
    }
}

function New-TestBytes {
    <# Deterministic pseudo-random bytes. #>
    param([int] $Length, [int] $Seed = 1)
    $b = [byte[]]::new($Length)
    [Random]::new($Seed).NextBytes($b)
    , $b
}

Export-ModuleMember -Function ConvertTo-TestBencode, New-TestTorrent, New-TestBytes
