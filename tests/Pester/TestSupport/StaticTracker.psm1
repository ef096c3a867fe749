<#
    A minimal HTTP tracker on 127.0.0.1 for tests that need a tracker to answer but not a real swarm: every request
    (announce 'started', 'stopped', anything) gets the same compact peer list. Runs in a thread job that serves at
    most -MaxRequests connections and waits at most 30 s for each.
#>

function Start-StaticTracker {
    param(
        # Peers to list, as 'a.b.c.d:port' (IPv4 only: the compact BEP 23 form).
        [Parameter(Mandatory)] [string[]] $Peer,
        [int] $MaxRequests = 256
    )
    $compact = [System.IO.MemoryStream]::new()
    foreach ($p in $Peer) {
        $ip, $port = $p -split ':'
        $compact.Write(([System.Net.IPAddress]$ip).GetAddressBytes(), 0, 4)
        $compact.WriteByte([byte]([int]$port -shr 8)); $compact.WriteByte([byte]([int]$port -band 0xFF))
    }
    $peers = $compact.ToArray()
    $body = [byte[]]([Text.Encoding]::ASCII.GetBytes("d8:intervali1800e5:peers$($peers.Length):") + $peers + [byte][char]'e')
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $job = Start-ThreadJob -ArgumentList $listener, $body, $MaxRequests -ScriptBlock {
        param($listener, $body, $max)
        for ($i = 0; $i -lt $max; $i++) {
            $accept = $listener.AcceptTcpClientAsync()
            try { if (-not $accept.Wait(30000)) { return } } catch { return }
            $client = $accept.Result
            try {
                $stream = $client.GetStream()
                $stream.ReadTimeout = 10000
                $buffer = [byte[]]::new(8192); $got = 0
                while ($got -lt $buffer.Length) {
                    $n = $stream.Read($buffer, $got, $buffer.Length - $got); if ($n -le 0) { break }; $got += $n
                    if ([Text.Encoding]::ASCII.GetString($buffer, 0, $got).Contains("`r`n`r`n")) { break }
                }
                $head = [Text.Encoding]::ASCII.GetBytes("HTTP/1.1 200 OK`r`nContent-Type: text/plain`r`nContent-Length: $($body.Length)`r`nConnection: close`r`n`r`n")
                $stream.Write($head, 0, $head.Length); $stream.Write($body, 0, $body.Length)
            }
            catch { }
            finally { $client.Dispose() }
        }
    }
    [pscustomobject]@{
        Url      = "http://127.0.0.1:$(([System.Net.IPEndPoint]$listener.LocalEndpoint).Port)/announce"
        Listener = $listener
        Job      = $job
    }
}

function Stop-StaticTracker {
    param([Parameter(Mandatory)] $Tracker)
    $Tracker.Listener.Stop()
    $null = Wait-Job $Tracker.Job -Timeout 20
    Remove-Job $Tracker.Job -Force
}

function Get-ClosedPort {
    <# A TCP port on 127.0.0.1 that nothing listens on (bound, then released): a connection there is refused. #>
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $port = ([System.Net.IPEndPoint]$l.LocalEndpoint).Port; $l.Stop()
    $port
}

Export-ModuleMember -Function Start-StaticTracker, Stop-StaticTracker, Get-ClosedPort
