<#
    Outgoing connections through real proxies from Debian, started here on 127.0.0.1 with configs in a temp folder:
    dante (danted, SOCKS5, no authentication: it authenticates against system users, which a test must not create)
    and tinyproxy (HTTP CONNECT, with Basic authentication). Both send their outgoing connections from 127.0.0.3, so
    the seeder (python3-libtorrent) seeing its peer at 127.0.0.3 proves the download came through the proxy; with
    -BindAddress 127.0.0.2 and no proxy it sees 127.0.0.2. Every download is checked by SHA-256. A dead proxy or a
    wrong password fails with the proxy's error id, never a direct connection.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'proxy'
    if (-not $IsWindows) { & chmod 777 $Workspace } # the proxies drop privileges to 'nobody' and write their logs here
    $source = Join-Path $Workspace 'source'
    $null = New-RandomFile -Path (Join-Path $source 'payload.bin') -SizeBytes (3MB + 777) -Seed 17
    $torrent = New-MkTorrent -SourcePath (Join-Path $source 'payload.bin') -OutFile (Join-Path $Workspace 'payload.torrent') -Announce 'http://127.0.0.1:9/announce'
    $script:Info = Get-TorrentInfo -LiteralPath $torrent.FullName
    $script:Sha = (Get-FileHash -LiteralPath (Join-Path $source 'payload.bin') -Algorithm SHA256).Hash
    # Slow enough (about 6 s) that the connection can be seen while the download runs.
    $script:Seeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $torrent.FullName -SavePath $source -NoTracker -UploadLimit 512KB -LogDir $Workspace -TimeoutSec 900

    $script:Danted = $null
    $script:Tinyproxy = $null
    if (Get-Command danted -ErrorAction SilentlyContinue) {
        $port = Get-FreePort
        $conf = Join-Path $Workspace 'danted.conf'
        Set-Content -LiteralPath $conf -Encoding ascii -Value @"
logoutput: $(Join-Path $Workspace 'danted.log')
internal: 127.0.0.1 port = $port
external: 127.0.0.3
clientmethod: none
socksmethod: none
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: error connect
}
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect
  log: error connect
}
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: error
}
"@
        $p = Start-InteropProcess -FilePath 'danted' -ArgumentList @('-f', $conf, '-p', (Join-Path $Workspace 'danted.pid'), '-N', '1') -LogDir $Workspace -Name 'danted'
        Wait-Until -TimeoutSec 20 -Because "danted to listen on $port" -Condition {
            if ($p.HasExited) { throw "danted exited: $(Read-InteropLog $p -StdErr)" }
            Test-TcpPort -Port $port
        }
        $script:Danted = [pscustomobject]@{ Process = $p; Uri = [uri]"socks5://127.0.0.1:$port" }
    }
    if (Get-Command tinyproxy -ErrorAction SilentlyContinue) {
        $port = Get-FreePort
        $conf = Join-Path $Workspace 'tinyproxy.conf'
        Set-Content -LiteralPath $conf -Encoding ascii -Value @"
User nobody
Group nogroup
Port $port
Listen 127.0.0.1
Bind 127.0.0.3
Timeout 60
MaxClients 20
LogFile "$(Join-Path $Workspace 'tinyproxy.log')"
LogLevel Connect
Allow 127.0.0.1
ConnectPort $($Seeder.Port)
BasicAuth alice s3cret
"@
        $p = Start-InteropProcess -FilePath 'tinyproxy' -ArgumentList @('-d', '-c', $conf) -LogDir $Workspace -Name 'tinyproxy'
        Wait-Until -TimeoutSec 20 -Because "tinyproxy to listen on $port" -Condition {
            if ($p.HasExited) { throw "tinyproxy exited: $(Read-InteropLog $p -StdErr)" }
            Test-TcpPort -Port $port
        }
        $script:Tinyproxy = [pscustomobject]@{ Process = $p; Uri = [uri]"http://127.0.0.1:$port" }
    }

    # Runs the download as a job and, while it runs, notes the address of every peer the seeder has a connection
    # from (ss: the kernel's view, not anybody's log). Returns the result, the errors and the addresses seen.
    function Invoke-WatchedDownload([hashtable] $Parameters, [string] $Name) {
        $destination = Join-Path $Workspace $Name
        if (-not $Parameters.ContainsKey('TimeoutSec')) { $Parameters.TimeoutSec = 20 }
        $job = Start-TorrentDownload -Torrent $Info -DestinationPath $destination -Peer $Seeder.EndPoint -NoTracker `
            -ListenAddress 127.0.0.1 -AsJob @Parameters
        $seen = [System.Collections.Generic.HashSet[string]]::new()
        try {
            Wait-Until -TimeoutSec 120 -IntervalMs 50 -Because 'the download to end' -Condition {
                foreach ($line in (& ss -Htn state established "( sport = :$($Seeder.Port) )")) {
                    $peer = ($line -split '\s+' | Where-Object { $_ })[3]
                    if ($peer) { $null = $seen.Add($peer.Substring(0, $peer.LastIndexOf(':'))) }
                }
                $job.State -in 'Completed', 'Failed', 'Stopped'
            }
            $errors = $null
            $results = @(Receive-Job -Job $job -ErrorAction SilentlyContinue -ErrorVariable errors)
        }
        finally {
            Stop-Job -Job $job -ErrorAction SilentlyContinue
            Remove-Job -Job $job -Force -ErrorAction SilentlyContinue
        }
        $file = Join-Path $destination 'payload.bin'
        [pscustomobject]@{
            Result  = $results | Where-Object { $_ -is [BitTorrent.Download.DownloadResult] } | Select-Object -First 1
            Errors  = @($errors)
            Seen    = @($seen)
            Sha     = if (Test-Path -LiteralPath $file) { (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash } else { $null }
        }
    }
}

AfterAll {
    Stop-InteropProcess
    if ($Workspace) { Remove-Item -LiteralPath $Workspace -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Outgoing connections: bind address and proxies' -Tag Interop {
    It 'binds peer connections to -BindAddress 127.0.0.2 (the seeder sees 127.0.0.2)' {
        $run = Invoke-WatchedDownload @{ BindAddress = '127.0.0.2' } 'bound'
        $run.Result.Status | Should -Be 'Completed'
        $run.Sha | Should -Be $Sha
        $run.Seen | Should -Contain '127.0.0.2'
        $run.Seen | Should -Not -Contain '127.0.0.1'
    }

    It 'downloads through dante (SOCKS5): the seeder sees only the proxy''s address' -Skip:(-not (Get-Command danted -ErrorAction SilentlyContinue)) {
        $run = Invoke-WatchedDownload @{ Proxy = $Danted.Uri } 'socks5'
        $run.Result.Status | Should -Be 'Completed'
        $run.Sha | Should -Be $Sha
        $run.Seen | Should -Contain '127.0.0.3'
        $run.Seen | Should -Not -Contain '127.0.0.1'
    }

    It 'downloads through tinyproxy (HTTP CONNECT, Basic auth): the seeder sees only the proxy''s address' -Skip:(-not (Get-Command tinyproxy -ErrorAction SilentlyContinue)) {
        $credential = [pscredential]::new('alice', (ConvertTo-SecureString 's3cret' -AsPlainText -Force))
        $run = Invoke-WatchedDownload @{ Proxy = $Tinyproxy.Uri; ProxyCredential = $credential } 'http-connect'
        $run.Result.Status | Should -Be 'Completed'
        $run.Sha | Should -Be $Sha
        $run.Seen | Should -Contain '127.0.0.3'
        $run.Seen | Should -Not -Contain '127.0.0.1'
    }

    It 'fails with ProxyAuthenticationFailed when tinyproxy refuses the password, and never connects directly' -Skip:(-not (Get-Command tinyproxy -ErrorAction SilentlyContinue)) {
        $credential = [pscredential]::new('alice', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        $run = Invoke-WatchedDownload @{ Proxy = $Tinyproxy.Uri; ProxyCredential = $credential; TimeoutSec = 3 } 'http-wrong-password'
        $run.Result.Status | Should -Be 'Failed'
        $run.Result.Error | Should -Be 'ProxyAuthenticationFailed'
        @($run.Errors | Where-Object { $_.FullyQualifiedErrorId -like 'ProxyAuthenticationFailed*' }).Count | Should -Be 1
        $run.Seen | Should -BeNullOrEmpty
    }

    It 'fails with ProxyConnectFailed when the proxy is dead, and never connects directly' {
        $dead = Get-FreePort
        $run = Invoke-WatchedDownload @{ Proxy = [uri]"socks5://127.0.0.1:$dead"; TimeoutSec = 3 } 'dead-proxy'
        $run.Result.Status | Should -Be 'Failed'
        $run.Result.Error | Should -Be 'ProxyConnectFailed'
        @($run.Errors | Where-Object { $_.FullyQualifiedErrorId -like 'ProxyConnectFailed*' }).Count | Should -Be 1
        $run.Seen | Should -BeNullOrEmpty
        $run.Sha | Should -BeNullOrEmpty
    }

    It 'Get-TorrentPeer through a dead proxy: the tracker fails with ProxyConnectFailed, and is not asked directly' {
        $tracker = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $tracker.Start()
        try {
            $url = "http://127.0.0.1:$(([System.Net.IPEndPoint]$tracker.LocalEndpoint).Port)/announce"
            $dead = Get-FreePort
            $errors = $null
            $null = Get-TorrentPeer -Torrent $Info -Tracker $url -Proxy "socks5://127.0.0.1:$dead" -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable errors
            @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'ProxyConnectFailed*' }).Count | Should -Be 1
            $tracker.Pending() | Should -BeFalse
        }
        finally { $tracker.Stop() }
    }

    # Invoke-PeerHandshake's connections are too short to watch with ss; the seeder itself says where it sees us
    # (libtorrent's extended handshake carries 'yourip', BEP 10).
    It 'Invoke-PeerHandshake -BindAddress 127.0.0.2: the seeder sees us at 127.0.0.2' {
        $r = Invoke-PeerHandshake -Torrent $Info -Peer $Seeder.EndPoint -BindAddress 127.0.0.2 -ErrorAction Stop
        $r.SupportsExtensionProtocol | Should -BeTrue
        $r.YourIp | Should -Be '127.0.0.2'
    }

    It 'Invoke-PeerHandshake through dante (SOCKS5): the seeder sees the proxy''s address' -Skip:(-not (Get-Command danted -ErrorAction SilentlyContinue)) {
        $r = Invoke-PeerHandshake -Torrent $Info -Peer $Seeder.EndPoint -Proxy $Danted.Uri -ErrorAction Stop
        $r.InfoHash | Should -Be $Info.InfoHash
        $r.YourIp | Should -Be '127.0.0.3'
    }

    It 'Invoke-PeerHandshake through tinyproxy (HTTP CONNECT, Basic auth), and ProxyAuthenticationFailed with a wrong password' -Skip:(-not (Get-Command tinyproxy -ErrorAction SilentlyContinue)) {
        $good = [pscredential]::new('alice', (ConvertTo-SecureString 's3cret' -AsPlainText -Force))
        $r = Invoke-PeerHandshake -Torrent $Info -Peer $Seeder.EndPoint -Proxy $Tinyproxy.Uri -ProxyCredential $good -ErrorAction Stop
        $r.YourIp | Should -Be '127.0.0.3'

        $bad = [pscredential]::new('alice', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        $errors = $null
        $out = @(Invoke-PeerHandshake -Torrent $Info -Peer $Seeder.EndPoint -Proxy $Tinyproxy.Uri -ProxyCredential $bad -ErrorAction SilentlyContinue -ErrorVariable errors)
        $out | Should -HaveCount 0
        @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'ProxyAuthenticationFailed,*' }).Count | Should -Be 1
        $errors[0].TargetObject | Should -Be $Seeder.EndPoint
    }

    It 'Invoke-PeerHandshake through a dead proxy: ProxyConnectFailed, and the peer is not dialled directly' {
        $peer = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $peer.Start()
        try {
            $endPoint = "127.0.0.1:$(([System.Net.IPEndPoint]$peer.LocalEndpoint).Port)"
            $errors = $null
            $out = @(Invoke-PeerHandshake -InfoHash $Info.InfoHash -Peer $endPoint -Proxy "socks5://127.0.0.1:$(Get-FreePort)" -TimeoutSec 5 -ErrorAction SilentlyContinue -ErrorVariable errors)
            $out | Should -HaveCount 0
            @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'ProxyConnectFailed,*' }).Count | Should -Be 1
            $peer.Pending() | Should -BeFalse -Because 'nothing went around the proxy'
        }
        finally { $peer.Stop() }
    }

    It 'rejects a proxy URI it cannot use with InvalidProxy, and a foreign bind address with InvalidBindAddress' {
        { Start-TorrentDownload -Torrent $Info -DestinationPath (Join-Path $Workspace 'x') -Proxy 'ftp://127.0.0.1:21' -NoTracker -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidProxy*'
        { Start-TorrentDownload -Torrent $Info -DestinationPath (Join-Path $Workspace 'y') -BindAddress '192.0.2.77' -NoTracker -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidBindAddress*'
        { Invoke-PeerHandshake -InfoHash $Info.InfoHash -Peer $Seeder.EndPoint -Proxy 'ftp://127.0.0.1:21' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidProxy*'
        { Invoke-PeerHandshake -InfoHash $Info.InfoHash -Peer $Seeder.EndPoint -BindAddress '192.0.2.77' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidBindAddress*'
    }
}
