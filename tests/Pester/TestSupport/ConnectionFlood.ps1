<#
.SYNOPSIS
    Holds many inbound connections open against one peer port, as a hostile crowd would, and opens a new one as soon
    as one is closed, until -DurationSec. Prints a status line every second ("open N, opened M, closed by peer K").

.DESCRIPTION
    A closed connection is opened again 2 s later (ports in TIME_WAIT limit a faster churn on loopback).
    -Idle connections send nothing (they sit in the listener's handshake slots); -Handshake connections send a valid
    handshake for -InfoHash and then only a keep-alive every 30 s (they take session slots while being useless);
    -Garbage connections send random bytes (not BitTorrent). Sockets are bound to -FromAddress (default 127.0.0.2, a
    loopback address of its own, so a per-address limit can tell the crowd from the honest peer on 127.0.0.1).
#>
param(
    [Parameter(Mandatory)] [int] $Port,
    [string] $InfoHash,
    [int] $Idle = 0,
    [int] $Handshake = 0,
    [int] $Garbage = 0,
    [string] $FromAddress = '127.0.0.2',
    [int] $DurationSec = 120
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$target = [Net.IPEndPoint]::new([Net.IPAddress]::Loopback, $Port)
$from = [Net.IPAddress]::Parse($FromAddress)
$random = [Random]::new(5)
$handshakeBytes = $null
if ($InfoHash) {
    $reserved = [byte[]]::new(8)
    $handshakeBytes = [byte[]](@(19) + [Text.Encoding]::ASCII.GetBytes('BitTorrent protocol') + $reserved + [Convert]::FromHexString($InfoHash) + [Text.Encoding]::ASCII.GetBytes('-FL0001-123456789012'))
}

$slots = [Collections.Generic.List[object]]::new()
foreach ($kind in @(@('Idle') * $Idle) + @(@('Handshake') * $Handshake) + @(@('Garbage') * $Garbage)) { $slots.Add([pscustomobject]@{ Kind = $kind; Socket = $null; LastSend = [DateTime]::MinValue; NextOpen = [DateTime]::MinValue }) }
$opened = 0; $closedByPeer = 0; $failed = 0
$buffer = [byte[]]::new(4096)

function Open-Slot($slot) {
    $s = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::InterNetwork, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
    try {
        $s.Bind([Net.IPEndPoint]::new($from, 0))
        $s.Connect($target)
        if ($slot.Kind -eq 'Handshake') { $null = $s.Send($handshakeBytes) }
        $slot.Socket = $s
        $slot.LastSend = [DateTime]::UtcNow
        $script:opened++
    }
    catch { $s.Dispose(); $script:failed++ }
}

"ready: $($slots.Count) connections to 127.0.0.1:$Port from $FromAddress"
$deadline = [DateTime]::UtcNow.AddSeconds($DurationSec)
$lastReport = [DateTime]::MinValue
while ([DateTime]::UtcNow -lt $deadline) {
    $now = [DateTime]::UtcNow
    foreach ($slot in $slots) {
        $s = $slot.Socket
        if ($null -ne $s) {
            # Readable with nothing to read: the other side closed it. Drain whatever it sent (its handshake, a bitfield).
            try {
                while ($s.Poll(0, [Net.Sockets.SelectMode]::SelectRead)) {
                    if ($s.Available -eq 0) { throw 'closed' }
                    $null = $s.Receive($buffer)
                }
                if ($slot.Kind -eq 'Garbage' -and ($now - $slot.LastSend).TotalMilliseconds -ge 500) {
                    $junk = [byte[]]::new(1024); $random.NextBytes($junk); $null = $s.Send($junk); $slot.LastSend = $now
                }
                if ($slot.Kind -eq 'Handshake' -and ($now - $slot.LastSend).TotalSeconds -ge 30) {
                    $null = $s.Send([byte[]]::new(4)); $slot.LastSend = $now
                }
            }
            catch { $s.Dispose(); $slot.Socket = $null; $slot.NextOpen = $now.AddSeconds(2); $closedByPeer++ }
        }
        # Re-open after 2 s, not at once: every closed connection leaves a TIME_WAIT behind, and a faster churn would
        # run out of loopback ports within a minute.
        if ($null -eq $slot.Socket -and $now -ge $slot.NextOpen) { Open-Slot $slot }
    }
    if (($now - $lastReport).TotalSeconds -ge 1) {
        $lastReport = $now
        "open $(@($slots | Where-Object { $null -ne $_.Socket }).Count), opened $opened, closed by peer $closedByPeer, failed $failed"
    }
    Start-Sleep -Milliseconds 50
}
foreach ($slot in $slots) { if ($slot.Socket) { $slot.Socket.Dispose() } }
"done: opened $opened, closed by peer $closedByPeer, failed $failed"
