<#
.SYNOPSIS
    A scripted hostile BitTorrent peer for the tests: listens on 127.0.0.1:Port, answers the handshake for one
    info-hash, then misbehaves in the way -Mode says, on every connection it gets (one at a time), until -DurationSec.

.DESCRIPTION
    Modes (each connection logs one line "conn N: …" to stdout; "ready" once listening):
      Liar        claims every piece, unchokes, and answers every request with random bytes (must fail the hash check
                  and get the peer banned).
      MixedLiar   a slow Liar (300 ms a block) that announces a request queue of 1 (BEP 10 reqq), so in 4-block pieces
                  honest peers send the other blocks of the pieces it lies in: the failure must not be blamed on them.
      Injector    claims no piece (so it is never asked) and pushes unrequested 'piece' messages with random bytes
                  for every block of every piece, over and over (must be ignored, never mixed into real pieces).
      Oversized   claims every piece, then announces a message longer than any allowed: 16 KiB + 14 bytes, then
                  2^31, then 2^32-1 (one per connection).
      OutOfRange  claims every piece, then (one per connection): 'have' past the last piece, a bitfield one byte too
                  long, a bitfield with spare bits set, an unrequested 'piece' past the last piece, a 'request' for
                  a piece past the last.
      Flood       claims no piece, then sends 200 000 'have' messages for piece 0 and 1 000 000 keep-alives as fast as
                  the socket takes them, then keeps the connection open with a keep-alive a second (never unchokes).
      Slowloris   even connections: the handshake at 1 byte per second; odd connections: a proper handshake, every
                  piece, unchoke, then the first requested block at 1 byte per second.
      Disconnect  claims every piece, unchokes, answers the first request with the header and half of a block (real
                  bytes from -DataPath, so only the cut matters), then closes the connection.
#>
param(
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [string] $InfoHash,
    [Parameter(Mandatory)] [int] $PieceCount,
    [Parameter(Mandatory)] [int] $PieceLength,
    [Parameter(Mandatory)] [long] $TotalSize,
    [Parameter(Mandatory)] [ValidateSet('Liar', 'MixedLiar', 'Injector', 'Oversized', 'OutOfRange', 'Flood', 'Slowloris', 'Disconnect')] [string] $Mode,
    [string] $DataPath,
    [int] $DurationSec = 300
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$infoHashBytes = [Convert]::FromHexString($InfoHash)
$random = [Random]::new($Port)
$peerId = [Text.Encoding]::ASCII.GetBytes('-HP0001-') + [byte[]](1..12 | ForEach-Object { [byte]$random.Next(48, 58) })
$BlockSize = 16384

function Get-PieceSize([int] $Index) {
    if ($Index -eq $PieceCount - 1) { [int]($TotalSize - [long]$PieceLength * ($PieceCount - 1)) } else { $PieceLength }
}

function Get-BigEndian([long] $Value, [int] $Bytes = 4) {
    $b = [byte[]]::new($Bytes)
    for ($i = $Bytes - 1; $i -ge 0; $i--) { $b[$i] = [byte]($Value -band 0xFF); $Value = $Value -shr 8 }
    , $b
}

function Read-Exactly([IO.Stream] $Stream, [int] $Count) {
    $buffer = [byte[]]::new($Count)
    $Stream.ReadExactly($buffer, 0, $Count)
    , $buffer
}

function Send-Message([IO.Stream] $Stream, [int] $Id, [byte[]] $Payload = [byte[]]::new(0)) {
    $frame = [byte[]]::new(5 + $Payload.Length)
    [Array]::Copy((Get-BigEndian (1 + $Payload.Length)), $frame, 4)
    $frame[4] = [byte]$Id
    [Array]::Copy($Payload, 0, $frame, 5, $Payload.Length)
    $Stream.Write($frame, 0, $frame.Length)
}

# Reads one message: @{ Id; Payload } (Id -1 for a keep-alive). Our side is bounded too.
function Read-Message([IO.Stream] $Stream) {
    $prefix = Read-Exactly $Stream 4
    $length = ([long]$prefix[0] -shl 24) -bor ([long]$prefix[1] -shl 16) -bor ([long]$prefix[2] -shl 8) -bor [long]$prefix[3]
    if ($length -eq 0) { return @{ Id = -1; Payload = [byte[]]::new(0) } }
    if ($length -gt 1MB) { throw "the downloader sent a $length-byte message" }
    $body = Read-Exactly $Stream ([int]$length)
    $payload = [byte[]]::new($body.Length - 1)
    [Array]::Copy($body, 1, $payload, 0, $payload.Length)
    @{ Id = [int]$body[0]; Payload = $payload }
}

function Get-Int([byte[]] $b, [int] $at) { ([int]$b[$at] -shl 24) -bor ([int]$b[$at + 1] -shl 16) -bor ([int]$b[$at + 2] -shl 8) -bor [int]$b[$at + 3] }

function Get-Bitfield([bool] $All, [switch] $SpareBits, [int] $ExtraBytes = 0) {
    $bytes = [byte[]]::new([Math]::Ceiling($PieceCount / 8) + $ExtraBytes)
    if ($All) {
        for ($i = 0; $i -lt $PieceCount; $i++) { $bytes[[Math]::Floor($i / 8)] = $bytes[[Math]::Floor($i / 8)] -bor (0x80 -shr ($i % 8)) }
    }
    if ($SpareBits) { $bytes[[Math]::Ceiling($PieceCount / 8) - 1] = $bytes[[Math]::Ceiling($PieceCount / 8) - 1] -bor 0x01 }
    , $bytes
}

function Get-Handshake {
    $reserved = [byte[]]::new(8)
    $reserved[5] = 0x10   # extension protocol (BEP 10)
    $h = [byte[]]@(19) + [Text.Encoding]::ASCII.GetBytes('BitTorrent protocol') + $reserved + $infoHashBytes + $peerId
    , [byte[]]$h
}

function Receive-Handshake([IO.Stream] $Stream) {
    $theirs = Read-Exactly $Stream 68
    $hash = [byte[]]$theirs[28..47]
    if (-not [Linq.Enumerable]::SequenceEqual($hash, $infoHashBytes)) { throw 'the downloader asked for another torrent' }
}

function Send-Handshake([IO.Stream] $Stream) { $h = Get-Handshake; $Stream.Write($h, 0, $h.Length) }

function Get-RandomBytes([int] $Count) { $b = [byte[]]::new($Count); $random.NextBytes($b); , $b }

# A 'piece' message with Count bytes of Block (built with array copies: PowerShell's array + is far too slow here).
function New-PieceFrame([int] $Index, [int] $Begin, [byte[]] $Block, [int] $Count) {
    $frame = [byte[]]::new(13 + $Count)
    [Array]::Copy((Get-BigEndian (9 + $Count)), 0, $frame, 0, 4)
    $frame[4] = 7
    [Array]::Copy((Get-BigEndian $Index), 0, $frame, 5, 4)
    [Array]::Copy((Get-BigEndian $Begin), 0, $frame, 9, 4)
    [Array]::Copy($Block, 0, $frame, 13, $Count)
    , $frame
}

# BEP 10 extended handshake announcing a request queue of Reqq (so the downloader asks at most that many blocks).
function Send-ExtendedHandshake([IO.Stream] $Stream, [int] $Reqq) {
    Send-Message $Stream 20 ([byte[]](0) + [Text.Encoding]::ASCII.GetBytes("d1:mde4:reqqi$($Reqq)ee"))
}

function Invoke-Connection([Net.Sockets.TcpClient] $Client, [int] $N) {
    $s = $Client.GetStream()
    switch ($Mode) {
        { $_ -in 'Liar', 'MixedLiar' } {
            Receive-Handshake $s; Send-Handshake $s
            if ($Mode -eq 'MixedLiar') { Send-ExtendedHandshake $s 1 }
            Send-Message $s 5 (Get-Bitfield $true); Send-Message $s 1
            $served = 0
            $garbage = [byte[]]::new($BlockSize)
            while ($true) {
                $m = Read-Message $s
                if ($m.Id -ne 6) { continue }
                $index = Get-Int $m.Payload 0; $begin = Get-Int $m.Payload 4; $length = Get-Int $m.Payload 8
                # Slow, so that honest peers take the pieces' other blocks meanwhile.
                if ($Mode -eq 'MixedLiar') { Start-Sleep -Milliseconds 300 }
                $random.NextBytes($garbage)
                $frame = New-PieceFrame $index $begin $garbage $length
                $s.Write($frame, 0, $frame.Length)
                $served++
                if ($served % 20 -eq 1) { "conn ${N}: $served bad block(s) sent" }
            }
        }
        'Injector' {
            Receive-Handshake $s; Send-Handshake $s
            Send-Message $s 5 (Get-Bitfield $false)
            $sent = 0
            $garbage = [byte[]]::new($BlockSize)
            for ($round = 0; $round -lt 1000; $round++) {
                for ($p = 0; $p -lt $PieceCount; $p++) {
                    $size = Get-PieceSize $p
                    for ($o = 0; $o -lt $size; $o += $BlockSize) {
                        $random.NextBytes($garbage)
                        $frame = New-PieceFrame $p $o $garbage ([Math]::Min($BlockSize, $size - $o))
                        $s.Write($frame, 0, $frame.Length)
                        $sent++
                    }
                }
                "conn ${N}: round $round, $sent unrequested blocks pushed"
            }
        }
        'Oversized' {
            Receive-Handshake $s; Send-Handshake $s
            Send-Message $s 5 (Get-Bitfield $true); Send-Message $s 1
            $length = @((16384 + 14), 2147483648, 4294967295)[$N % 3]
            "conn ${N}: announcing a $length-byte message"
            $frame = (Get-BigEndian $length) + [byte[]](7) + [byte[]]::new(16384 + 13)
            $s.Write([byte[]]$frame, 0, $frame.Length)
            $s.Flush()
            # The downloader must hang up; wait for it (bounded by the read timeout).
            while ($true) { $null = Read-Message $s }
        }
        'OutOfRange' {
            Receive-Handshake $s; Send-Handshake $s
            $variant = $N % 5
            "conn ${N}: variant $variant"
            switch ($variant) {
                0 { Send-Message $s 5 (Get-Bitfield $true); Send-Message $s 4 (Get-BigEndian $PieceCount) }
                1 { Send-Message $s 5 (Get-Bitfield $true -ExtraBytes 1) }
                2 { Send-Message $s 5 (Get-Bitfield $true -SpareBits) }
                3 { Send-Message $s 5 (Get-Bitfield $true); $f = New-PieceFrame ($PieceCount + 7) 0 (Get-RandomBytes 100) 100; $s.Write($f, 0, $f.Length) }
                4 { Send-Message $s 5 (Get-Bitfield $true); Send-Message $s 2; Send-Message $s 6 ((Get-BigEndian ($PieceCount + 1)) + (Get-BigEndian 0) + (Get-BigEndian 16384)) }
            }
            $s.Flush()
            while ($true) { $null = Read-Message $s }
        }
        'Flood' {
            Receive-Handshake $s; Send-Handshake $s
            Send-Message $s 5 (Get-Bitfield $false)
            $have = [byte[]](0, 0, 0, 5, 4, 0, 0, 0, 0)
            $chunk = [byte[]]::new(9 * 10000)
            for ($i = 0; $i -lt 10000; $i++) { [Array]::Copy($have, 0, $chunk, 9 * $i, 9) }
            for ($i = 0; $i -lt 20; $i++) { $s.Write($chunk, 0, $chunk.Length) }
            "conn ${N}: 200000 have messages sent"
            $keepAlives = [byte[]]::new(4 * 100000)
            for ($i = 0; $i -lt 10; $i++) { $s.Write($keepAlives, 0, $keepAlives.Length) }
            "conn ${N}: 1000000 keep-alives sent"
            while ($true) { $s.Write([byte[]]::new(4), 0, 4); Start-Sleep -Seconds 1 }
        }
        'Slowloris' {
            if ($N % 2 -eq 0) {
                $null = Read-Exactly $s 68
                "conn ${N}: handshake at 1 byte per second"
                foreach ($b in (Get-Handshake)) { $s.WriteByte($b); $s.Flush(); Start-Sleep -Seconds 1 }
            }
            else {
                Receive-Handshake $s; Send-Handshake $s
                Send-Message $s 5 (Get-Bitfield $true); Send-Message $s 1
                while ($true) { $m = Read-Message $s; if ($m.Id -eq 6) { break } }
                $index = Get-Int $m.Payload 0; $begin = Get-Int $m.Payload 4; $length = Get-Int $m.Payload 8
                "conn ${N}: block $index/$begin at 1 byte per second"
                $frame = New-PieceFrame $index $begin ([byte[]]::new($length)) $length
                foreach ($b in $frame) { $s.WriteByte($b); $s.Flush(); Start-Sleep -Seconds 1 }
            }
        }
        'Disconnect' {
            Receive-Handshake $s; Send-Handshake $s
            Send-Message $s 5 (Get-Bitfield $true); Send-Message $s 1
            while ($true) { $m = Read-Message $s; if ($m.Id -eq 6) { break } }
            $index = Get-Int $m.Payload 0; $begin = Get-Int $m.Payload 4; $length = Get-Int $m.Payload 8
            $data = [byte[]]::new($length)
            if ($DataPath) {
                $fs = [IO.File]::OpenRead($DataPath)
                try { $fs.Position = [long]$index * $PieceLength + $begin; $fs.ReadExactly($data, 0, $length) } finally { $fs.Dispose() }
            }
            $frame = New-PieceFrame $index $begin $data $length
            $s.Write($frame, 0, 13 + [int]($length / 2))
            $s.Flush()
            "conn ${N}: cut block $index/$begin after $([int]($length / 2)) of $length bytes"
        }
    }
}

$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, $Port)
$listener.Start()
"ready $Mode on $Port"
$deadline = [DateTime]::UtcNow.AddSeconds($DurationSec)
$n = 0
while ([DateTime]::UtcNow -lt $deadline) {
    if (-not $listener.Pending()) { Start-Sleep -Milliseconds 20; continue }
    $client = $listener.AcceptTcpClient()
    $client.NoDelay = $true
    $client.ReceiveTimeout = 30000
    $client.SendTimeout = 30000
    "conn ${n}: accepted from $($client.Client.RemoteEndPoint)"
    try { Invoke-Connection $client $n }
    catch { "conn ${n}: ended: $($_.Exception.GetBaseException().Message)" }
    finally { $client.Dispose() }
    $n++
}
$listener.Stop()
"done after $n connection(s)"
