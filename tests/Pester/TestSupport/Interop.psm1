<#
    Shared harness for the interop tests: real BitTorrent software from Debian (opentracker, python3-libtorrent,
    aria2c, transmission-daemon, qbittorrent-nox, mktorrent) started on 127.0.0.1 only, with DHT, LSD, UPnP,
    NAT-PMP and PEX off. Every wait is bounded; every process started here is remembered by PID and stopped by
    Stop-InteropProcess (call it in AfterAll), never by name.
#>
Set-StrictMode -Version 3.0

$script:Started = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
$script:LtPeerScript = Join-Path $PSScriptRoot 'lt_peer.py'
$script:LtHashScript = Join-Path $PSScriptRoot 'lt_hash.py'
$script:Python = '/usr/bin/python3'   # Debian's python3-libtorrent imports only with the system interpreter

function Get-FreePort {
    <# A TCP port on 127.0.0.1 that is free now (and, with -Udp, free for UDP too, for trackers on both). #>
    param([switch] $Udp)
    for ($i = 0; $i -lt 50; $i++) {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = ([System.Net.IPEndPoint]$listener.LocalEndpoint).Port
        $listener.Stop()
        if (-not $Udp) { return $port }
        try {
            $u = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, $port))
            $u.Dispose()
            return $port
        }
        catch { continue }
    }
    throw 'No free port found on 127.0.0.1.'
}

function Start-BackgroundCommand {
    <# Runs one script block in a runspace of its own that has BitTorrent imported, so its streams can be read and
       Stop() called like Ctrl+C. One script per [powershell]: a batch of statements (AddScript().AddStatement())
       can run its next statement on a thread-pool thread after Stop, against a runspace being closed, and the
       unhandled InvalidRunspaceStateException kills the whole test process. End it with Stop-BackgroundCommand. #>
    param([Parameter(Mandatory)] [scriptblock] $Script, [hashtable] $Arguments = @{})
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
    $iss.ImportPSModule('BitTorrent')
    $runspace = [runspacefactory]::CreateRunspace($iss)
    $runspace.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    $null = $ps.AddScript($Script)
    foreach ($k in $Arguments.Keys) { $null = $ps.AddParameter($k, $Arguments[$k]) }
    [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke(); Runspace = $runspace }
}

function Stop-BackgroundCommand {
    <# Ends a command started with Start-BackgroundCommand (or any [powershell] started with BeginInvoke): Stop() if
       -Stop, then waits (bounded) until the invocation has truly finished and collects it with EndInvoke — a stopped
       pipeline's PipelineStoppedException is expected and swallowed — and only then disposes the [powershell] and its
       runspace. Returns what the command left (Output, Progress, Errors, HadErrors, State), read before the dispose.
       Throws, disposing nothing, if it does not finish. #>
    param([Parameter(Mandatory)] $Background, [switch] $Stop, [int] $TimeoutSec = 60)
    $ps = $Background.PowerShell
    if ($Stop) { $ps.Stop() }
    if (-not $Background.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSec))) {
        $null = $ps.BeginStop($null, $null)
        throw "The background command did not finish within $TimeoutSec s (state $($ps.InvocationStateInfo.State))."
    }
    $output = @()
    try {
        try { $output = @($ps.EndInvoke($Background.Handle)) }
        catch [System.Management.Automation.PipelineStoppedException] { }
        catch { if ($_.Exception.InnerException -isnot [System.Management.Automation.PipelineStoppedException]) { throw } }
        [pscustomobject]@{
            Output = $output
            Progress = @($ps.Streams.Progress)
            Errors = @($ps.Streams.Error)
            HadErrors = $ps.HadErrors
            State = $ps.InvocationStateInfo.State
        }
    }
    finally {
        $ps.Dispose()
        if ($Background.PSObject.Properties['Runspace'] -and $Background.Runspace) { $Background.Runspace.Dispose() }
    }
}

function Stop-WhileHashing {
    <# Runs a hashing command (New-Torrent, Test-Torrent) in its own runspace, waits for a progress record with bytes
       hashed, then stops it as Ctrl+C would. Returns the first such record, whether the command had already ended
       by then, the state after the stop and the errors it wrote. #>
    param([Parameter(Mandatory)] [string] $Script)
    $bg = Start-BackgroundCommand -Script ([scriptblock]::Create($Script))
    $ps = $bg.PowerShell
    $stopped = $false
    try {
        $hashing = { @($ps.Streams.Progress | Where-Object { $_.RecordType -eq 'Processing' -and $_.PercentComplete -gt 0 }) }
        Wait-Until -TimeoutSec 60 -Because 'a progress record with bytes hashed' -Condition { (& $hashing).Count -gt 0 -or $bg.Handle.IsCompleted }
        $endedFirst = $bg.Handle.IsCompleted
        $running = (& $hashing)[0]
        $stopped = $true
        $ended = Stop-BackgroundCommand $bg -Stop
        [pscustomobject]@{ Running = $running; EndedBeforeStop = $endedFirst; State = $ended.State; Errors = $ended.Errors }
    }
    finally { if (-not $stopped) { $null = Stop-BackgroundCommand $bg -Stop } }
}

function Wait-Until {
    <# Polls a condition until it is true or the timeout passes; throws with -Because on timeout. #>
    param(
        [Parameter(Mandatory)] [scriptblock] $Condition,
        [double] $TimeoutSec = 30,
        [int] $IntervalMs = 100,
        [string] $Because = 'condition'
    )
    # A condition that throws counts as "not yet" (a server still starting up resets connections); the last error
    # is quoted on timeout. An error saying a process "exited:" fails at once: waiting longer cannot help.
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    $lastError = $null
    while ([DateTime]::UtcNow -lt $deadline) {
        try {
            if (& $Condition) { return }
        }
        catch {
            if ("$_" -match 'exited:') { throw }
            $lastError = $_
        }
        Start-Sleep -Milliseconds $IntervalMs
    }
    $detail = if ($lastError) { " (last error: $lastError)" } else { '' }
    throw "Timed out after $TimeoutSec s waiting for: $Because$detail"
}

function New-InteropWorkspace {
    <# A fresh temporary folder, world-readable (opentracker drops privileges to 'nobody' and must read its whitelist). #>
    param([string] $Name = 'bt-interop')
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("$Name-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $dir
    if (-not $IsWindows) { & chmod 755 $dir }
    $dir
}

function New-RandomFile {
    <# Writes SizeBytes of pseudo-random bytes (deterministic for a given Seed) without holding them all in memory. #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [long] $SizeBytes,
        [int] $Seed = 1
    )
    $parent = Split-Path -Parent $Path
    if ($parent -and -not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent -Force }
    $rng = [System.Random]::new($Seed)
    $buffer = [byte[]]::new([Math]::Min([long]1MB, [Math]::Max([long]1, $SizeBytes)))
    $stream = [System.IO.File]::Create($Path)
    try {
        $left = $SizeBytes
        while ($left -gt 0) {
            $rng.NextBytes($buffer)
            $n = [int][Math]::Min([long]$buffer.Length, $left)
            $stream.Write($buffer, 0, $n)
            $left -= $n
        }
    }
    finally { $stream.Dispose() }
    Get-Item -LiteralPath $Path -Force   # -Force: a hidden name (.x) is a valid payload too
}

function New-TestPayload {
    <#
        Creates files under Root from a layout: an ordered hashtable of relative path ('/'-separated) → size in
        bytes. Returns the root. Sizes may be 0 (an empty file).
    #>
    param(
        [Parameter(Mandatory)] [string] $Root,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Layout,
        [int] $Seed = 1
    )
    $i = 0
    foreach ($entry in $Layout.GetEnumerator()) {
        $path = Join-Path $Root ($entry.Key -replace '/', [IO.Path]::DirectorySeparatorChar)
        $null = New-RandomFile -Path $path -SizeBytes ([long]$entry.Value) -Seed ($Seed + $i)
        $i++
    }
    $Root
}

function New-MkTorrent {
    <#
        Makes a v1 torrent with mktorrent (not our code): -PieceSizeLog2 18 = 256 KiB pieces. -Announce URLs form
        one tier; -AnnounceTier gives several tiers (BEP 12), each an array of URLs, in order.
    #>
    param(
        [Parameter(Mandatory)] [string] $SourcePath,
        [Parameter(Mandatory)] [string] $OutFile,
        [int] $PieceSizeLog2 = 18,
        [string[]] $Announce = @(),
        [object[]] $AnnounceTier = @(),
        [switch] $Private
    )
    $arguments = @('-l', $PieceSizeLog2, '-o', $OutFile, '-n', (Split-Path -Leaf $SourcePath))
    if ($Announce.Count -gt 0) { $arguments += @('-a', ($Announce -join ',')) }
    foreach ($tier in $AnnounceTier) { $arguments += @('-a', (@($tier) -join ',')) }
    if ($Private) { $arguments += '-p' }
    if (Test-Path -LiteralPath $OutFile) { Remove-Item -LiteralPath $OutFile }
    $out = & mktorrent @arguments $SourcePath 2>&1
    if ($LASTEXITCODE -ne 0) { throw "mktorrent failed ($LASTEXITCODE): $out" }
    Get-Item -LiteralPath $OutFile
}

function Get-ReferenceInfoHash {
    <# The info-hash as libtorrent computes it: an independent check on ours. #>
    param([Parameter(Mandatory)] [string] $TorrentPath)
    $hash = & $script:Python -c 'import libtorrent as lt,sys; print(lt.torrent_info(sys.argv[1]).info_hash())' $TorrentPath
    if ($LASTEXITCODE -ne 0) { throw "libtorrent could not read $TorrentPath" }
    "$hash".Trim()
}

function Start-InteropProcess {
    <# Starts a program with stdout/stderr to files in LogDir and remembers its PID for Stop-InteropProcess. #>
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [Parameter(Mandatory)] [string] $LogDir,
        [Parameter(Mandatory)] [string] $Name,
        [hashtable] $Environment = @{}
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add([string]$a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $process = [System.Diagnostics.Process]::new()
    $process.StartInfo = $psi
    $stdout = Join-Path $LogDir "$Name.out.log"
    $stderr = Join-Path $LogDir "$Name.err.log"
    # Asynchronous readers into files, so a chatty child never blocks on a full pipe.
    $outWriter = [System.IO.StreamWriter]::new($stdout, $false)
    $errWriter = [System.IO.StreamWriter]::new($stderr, $false)
    $outWriter.AutoFlush = $true
    $errWriter.AutoFlush = $true
    $null = Register-ObjectEvent -InputObject $process -EventName OutputDataReceived -MessageData $outWriter -Action {
        if ($null -ne $EventArgs.Data) { try { $Event.MessageData.WriteLine($EventArgs.Data) } catch { } }
    }
    $null = Register-ObjectEvent -InputObject $process -EventName ErrorDataReceived -MessageData $errWriter -Action {
        if ($null -ne $EventArgs.Data) { try { $Event.MessageData.WriteLine($EventArgs.Data) } catch { } }
    }
    $null = $process.Start()
    $process.BeginOutputReadLine()
    $process.BeginErrorReadLine()
    $script:Started.Add($process)
    $process | Add-Member -NotePropertyName StdOutPath -NotePropertyValue $stdout -PassThru |
        Add-Member -NotePropertyName StdErrPath -NotePropertyValue $stderr -PassThru |
        Add-Member -NotePropertyName InteropName -NotePropertyValue $Name -PassThru
}

function Read-InteropLog {
    param([Parameter(Mandatory)] $Process, [switch] $StdErr)
    $path = if ($StdErr) { $Process.StdErrPath } else { $Process.StdOutPath }
    if (Test-Path -LiteralPath $path) {
        $fs = [System.IO.FileStream]::new($path, 'Open', 'Read', 'ReadWrite')
        try { [System.IO.StreamReader]::new($fs).ReadToEnd() } finally { $fs.Dispose() }
    }
    else { '' }
}

function Stop-InteropProcess {
    <# Stops the given processes, or every process this harness started, by PID (kill -TERM, then -KILL). #>
    param([System.Diagnostics.Process[]] $Process)
    $targets = if ($Process) { $Process } else { @($script:Started) }
    foreach ($p in $targets) {
        if ($null -eq $p) { continue }
        try {
            if (-not $p.HasExited) {
                if (-not $IsWindows) { & kill -TERM $p.Id 2>$null } else { $p.Kill() }
                if (-not $p.WaitForExit(3000)) { $p.Kill($true); $null = $p.WaitForExit(3000) }
            }
        }
        catch { }
        $null = $script:Started.Remove($p)
    }
}

function Start-OpenTracker {
    <#
        opentracker on 127.0.0.1, HTTP and UDP on one port. Debian's build tracks only whitelisted info-hashes:
        pass them with -InfoHash (40 hex each); the whitelist file must be world-readable.
        Returns an object with Port, AnnounceUrl (http), UdpAnnounceUrl, ScrapeUrl, Process, WhitelistPath.
    #>
    param(
        [Parameter(Mandatory)] [string] $Workspace,
        [Parameter(Mandatory)] [string[]] $InfoHash,
        [int] $Port = 0
    )
    if ($Port -eq 0) { $Port = Get-FreePort -Udp }
    $whitelist = Join-Path $Workspace "opentracker-$Port.whitelist"
    Set-Content -LiteralPath $whitelist -Value ($InfoHash | ForEach-Object { $_.ToLowerInvariant() }) -Encoding ascii
    if (-not $IsWindows) { & chmod 644 $whitelist }
    $p = Start-InteropProcess -FilePath 'opentracker' -ArgumentList @('-i', '127.0.0.1', '-p', $Port, '-P', $Port, '-w', $whitelist) `
        -LogDir $Workspace -Name "opentracker-$Port"
    Wait-Until -TimeoutSec 10 -Because "opentracker to listen on $Port" -Condition {
        if ($p.HasExited) { throw "opentracker exited: $(Read-InteropLog $p -StdErr)" }
        Test-TcpPort -Port $Port
    }
    [pscustomobject]@{
        Port           = $Port
        AnnounceUrl    = "http://127.0.0.1:$Port/announce"
        UdpAnnounceUrl = "udp://127.0.0.1:$Port/announce"
        ScrapeUrl      = "http://127.0.0.1:$Port/scrape"
        WhitelistPath  = $whitelist
        Process        = $p
    }
}

function Test-TcpPort {
    param([int] $Port, [string] $Address = '127.0.0.1')
    $client = [System.Net.Sockets.TcpClient]::new()
    try { return $client.ConnectAsync($Address, $Port).Wait(500) -and $client.Connected }
    catch { return $false }
    finally { $client.Dispose() }
}

function Start-LibtorrentPeer {
    <#
        A python3-libtorrent peer (tests/Pester/TestSupport/lt_peer.py). Mode Seed trusts the data; Check
        verifies it first (a partial seed); Leech downloads. Returns the process once it printed 'ready'
        (Seed/Check) or immediately (Leech). The 'ready' line's JSON is attached as .Status. -UploadLimit (bytes per
        second) makes a slow seeder; -ConnectTo ip:port makes a leecher dial that peer (with no tracker).
    #>
    param(
        [Parameter(Mandatory)] [ValidateSet('Seed', 'Check', 'Leech')] [string] $Mode,
        [Parameter(Mandatory)] [string] $TorrentPath,
        [Parameter(Mandatory)] [string] $SavePath,
        [int] $Port = 0,
        [int] $TimeoutSec = 600,
        [switch] $NoTracker,
        [string] $LogDir = $SavePath,
        [long] $UploadLimit = 0,
        [string] $ConnectTo
    )
    if ($Port -eq 0) { $Port = Get-FreePort }
    $arguments = @($script:LtPeerScript, $Mode.ToLowerInvariant(), $TorrentPath, $SavePath, $Port, '--timeout', $TimeoutSec)
    if ($NoTracker) { $arguments += '--no-tracker' }
    if ($UploadLimit -gt 0) { $arguments += @('--upload-limit', $UploadLimit) }
    if ($ConnectTo) { $arguments += @('--peer', $ConnectTo) }
    $p = Start-InteropProcess -FilePath $script:Python -ArgumentList $arguments -LogDir $LogDir -Name "libtorrent-$Mode-$Port"
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $Port
    $p | Add-Member -NotePropertyName EndPoint -NotePropertyValue "127.0.0.1:$Port"
    if ($Mode -ne 'Leech') {
        Wait-Until -TimeoutSec 60 -Because "libtorrent $Mode on port $Port to be ready" -Condition {
            if ($p.HasExited) { throw "lt_peer.py exited: $(Read-InteropLog $p -StdErr)" }
            (Read-InteropLog $p) -match 'ready'
        }
        $json = ((Read-InteropLog $p) -split "`n" | Where-Object { $_ -like 'ready*' } | Select-Object -First 1).Substring(6)
        $p | Add-Member -NotePropertyName Status -NotePropertyValue ($json | ConvertFrom-Json)
    }
    $p
}

function Start-Aria2Seeder {
    <#
        aria2c seeding existing data (-V verifies it first), DHT/LPD/PEX off, listening on 127.0.0.1:Port. Several
        torrents may share one aria2c. -UploadLimit (bytes per second, whole process) makes a deliberately slow seeder.
    #>
    param(
        [Parameter(Mandatory)] [string[]] $TorrentPath,
        [Parameter(Mandatory)] [string] $DataDir,
        [int] $Port = 0,
        [int] $SeedMinutes = 10,
        [long] $UploadLimit = 0,
        [string] $LogDir = $DataDir
    )
    if ($Port -eq 0) { $Port = Get-FreePort }
    $arguments = @('-V', '--seed-ratio=0.0', "--seed-time=$SeedMinutes", "--listen-port=$Port", '--enable-dht=false',
        '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--bt-external-ip=127.0.0.1',
        '--file-allocation=none', '--console-log-level=warn', '--summary-interval=0', '--check-integrity=true',
        "--max-concurrent-downloads=$([Math]::Max(5, $TorrentPath.Count))", "--dir=$DataDir")
    if ($UploadLimit -gt 0) { $arguments += "--max-overall-upload-limit=$UploadLimit" }
    $arguments += $TorrentPath
    $p = Start-InteropProcess -FilePath 'aria2c' -ArgumentList $arguments -LogDir $LogDir -Name "aria2-seed-$Port"
    Wait-Until -TimeoutSec 60 -Because "aria2c to listen on $Port" -Condition {
        if ($p.HasExited) { throw "aria2c exited: $(Read-InteropLog $p)" }
        Test-TcpPort -Port $Port
    }
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $Port -PassThru |
        Add-Member -NotePropertyName EndPoint -NotePropertyValue "127.0.0.1:$Port" -PassThru
}

function Start-TransmissionSeeder {
    <#
        transmission-daemon seeding existing data: settings with DHT/LPD/PEX/uTP/port forwarding off, RPC on
        127.0.0.1 without auth; the torrent is added with transmission-remote and verified before this returns.
    #>
    param(
        [Parameter(Mandatory)] [string[]] $TorrentPath,
        [Parameter(Mandatory)] [string] $DataDir,
        [Parameter(Mandatory)] [string] $Workspace,
        [int] $Port = 0,
        [int] $TimeoutSec = 60,
        # Internal: return once the torrents are added (Start-TransmissionLeecher) instead of waiting for 100 %.
        [switch] $NoWait
    )
    if ($Port -eq 0) { $Port = Get-FreePort }
    $rpcPort = Get-FreePort
    $config = Join-Path $Workspace "transmission-$Port"
    $null = New-Item -ItemType Directory -Force -Path $config
    @{
        'dht-enabled' = $false; 'lpd-enabled' = $false; 'pex-enabled' = $false; 'utp-enabled' = $false
        'port-forwarding-enabled' = $false; 'peer-port' = $Port; 'peer-port-random-on-start' = $false
        'rpc-bind-address' = '127.0.0.1'; 'rpc-port' = $rpcPort; 'rpc-authentication-required' = $false
        'rpc-whitelist' = '127.0.0.1'; 'rpc-whitelist-enabled' = $true; 'rpc-host-whitelist-enabled' = $false
        'bind-address-ipv4' = '127.0.0.1'; 'bind-address-ipv6' = '::1'; 'download-dir' = $DataDir
        'incomplete-dir-enabled' = $false; 'start-added-torrents' = $true; 'encryption' = 1
        'speed-limit-up-enabled' = $false; 'speed-limit-down-enabled' = $false; 'ratio-limit-enabled' = $false
        'message-level' = 1
    } | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $config 'settings.json')
    $p = Start-InteropProcess -FilePath 'transmission-daemon' -ArgumentList @('-f', '-g', $config) -LogDir $Workspace -Name "transmission-$Port"
    Wait-Until -TimeoutSec 20 -Because "transmission-daemon RPC on $rpcPort" -Condition {
        if ($p.HasExited) { throw "transmission-daemon exited: $(Read-InteropLog $p -StdErr)" }
        Test-TcpPort -Port $rpcPort
    }
    foreach ($t in $TorrentPath) {
        $out = & transmission-remote "127.0.0.1:$rpcPort" -a $t -w $DataDir 2>&1
        if ($LASTEXITCODE -ne 0) { throw "transmission-remote -a failed: $out" }
    }
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $Port
    $p | Add-Member -NotePropertyName RpcPort -NotePropertyValue $rpcPort
    $p | Add-Member -NotePropertyName EndPoint -NotePropertyValue "127.0.0.1:$Port"
    $p | Add-Member -NotePropertyName TorrentCount -NotePropertyValue $TorrentPath.Count
    if (-not $NoWait) { Wait-TransmissionComplete -Process $p -TimeoutSec $TimeoutSec -Because 'transmission to verify and seed' }
    $p
}

function Start-TransmissionLeecher {
    <#
        transmission-daemon downloading the torrents into DataDir (empty, or partly filled); returns once they are
        added. Transmission 3.00 never dials loopback peers that a tracker gives it (they are "martian" addresses to
        it; later versions allow them only from incoming connections, LPD and resume data), so the seeder must
        connect to it: pass the returned EndPoint to the seeder's -Peer. Wait-TransmissionComplete waits for 100 %.
    #>
    param(
        [Parameter(Mandatory)] [string[]] $TorrentPath,
        [Parameter(Mandatory)] [string] $DataDir,
        [Parameter(Mandatory)] [string] $Workspace,
        [int] $Port = 0
    )
    Start-TransmissionSeeder -TorrentPath $TorrentPath -DataDir $DataDir -Workspace $Workspace -Port $Port -NoWait
}

function Wait-TransmissionComplete {
    <# Waits (bounded) until every torrent of a transmission-daemon from this harness is at 100 % and verified. #>
    param(
        [Parameter(Mandatory)] $Process,
        [int] $TimeoutSec = 120,
        [string] $Because = 'transmission to complete'
    )
    Wait-Until -TimeoutSec $TimeoutSec -Because $Because -Condition {
        if ($Process.HasExited) { throw "transmission-daemon exited: $(Read-InteropLog $Process -StdErr)" }
        $list = & transmission-remote "127.0.0.1:$($Process.RpcPort)" -l 2>&1 | Out-String
        ([regex]::Matches($list, '\b100%')).Count -ge $Process.TorrentCount -and $list -notmatch 'Verifying|Will Verify'
    }
}

function Start-QBittorrentSeeder {
    <#
        qbittorrent-nox (libtorrent-rasterbar inside) with a throw-away profile: DHT/LSD/PEX/UPnP off, WebUI on
        127.0.0.1 without auth. The torrent is added through the WebUI API and checked before this returns.
    #>
    param(
        [Parameter(Mandatory)] [string[]] $TorrentPath,
        [Parameter(Mandatory)] [string] $DataDir,
        [Parameter(Mandatory)] [string] $Workspace,
        [int] $Port = 0,
        [int] $TimeoutSec = 60
    )
    if ($Port -eq 0) { $Port = Get-FreePort }
    $webPort = Get-FreePort
    $profileDir = Join-Path $Workspace "qbittorrent-$Port"
    $configDir = Join-Path $profileDir 'qBittorrent/config'
    $null = New-Item -ItemType Directory -Force -Path $configDir
    @"
[LegalNotice]
Accepted=true

[BitTorrent]
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\Port=$Port
Session\Interface=lo
Session\InterfaceName=lo
Session\InterfaceAddress=127.0.0.1
Session\Encryption=0
Session\AnonymousModeEnabled=false
Session\QueueingSystemEnabled=false
Session\MultiConnectionsPerIp=true

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\UPnP=false
Connection\PortRangeMin=$Port
General\Locale=en
WebUI\Address=127.0.0.1
WebUI\Port=$webPort
WebUI\LocalHostAuth=false
WebUI\CSRFProtection=false
WebUI\HostHeaderValidation=false
"@ | Set-Content -LiteralPath (Join-Path $configDir 'qBittorrent.conf')
    $p = Start-InteropProcess -FilePath 'qbittorrent-nox' -ArgumentList @("--profile=$profileDir", "--webui-port=$webPort") `
        -LogDir $Workspace -Name "qbittorrent-$Port" -Environment @{ HOME = $profileDir }
    $base = "http://127.0.0.1:$webPort/api/v2"
    Wait-Until -TimeoutSec 30 -Because "qbittorrent-nox WebUI on $webPort" -Condition {
        if ($p.HasExited) { throw "qbittorrent-nox exited: $(Read-InteropLog $p -StdErr)" }
        try { $null = Invoke-RestMethod -Uri "$base/app/version" -TimeoutSec 2; $true } catch { $false }
    }
    foreach ($t in $TorrentPath) {
        # A magnet link goes in as a URL (qBittorrent fetches its metadata from the peers); anything else is a .torrent file.
        if ($t -like 'magnet:*') { $null = & curl -s -m 10 -F "urls=$t" -F "savepath=$DataDir" "$base/torrents/add" }
        else { $null = & curl -s -m 10 -F "torrents=@$t" -F "savepath=$DataDir" "$base/torrents/add" }
    }
    Wait-Until -TimeoutSec $TimeoutSec -Because 'qBittorrent to check the data and seed' -Condition {
        # Invoke-RestMethod writes a JSON array as one object: enumerate it.
        $info = @(Invoke-RestMethod -Uri "$base/torrents/info" -TimeoutSec 5 | ForEach-Object { $_ })
        $info.Count -ge $TorrentPath.Count -and -not ($info | Where-Object { $_.progress -ne 1 -or $_.state -match 'checking' })
    }
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $Port -PassThru |
        Add-Member -NotePropertyName WebApi -NotePropertyValue $base -PassThru |
        Add-Member -NotePropertyName EndPoint -NotePropertyValue "127.0.0.1:$Port" -PassThru
}

function Start-QBittorrentLeecher {
    <#
        qbittorrent-nox downloading the torrents into DataDir (an empty folder): it finds peers through the torrents'
        trackers (libtorrent inside accepts loopback peers) and this returns once every torrent is complete.
        A TorrentPath that is a magnet link is added as one (its x.pe peers and tr trackers are used).
    #>
    param(
        [Parameter(Mandatory)] [string[]] $TorrentPath,
        [Parameter(Mandatory)] [string] $DataDir,
        [Parameter(Mandatory)] [string] $Workspace,
        [int] $Port = 0,
        [int] $TimeoutSec = 120
    )
    Start-QBittorrentSeeder -TorrentPath $TorrentPath -DataDir $DataDir -Workspace $Workspace -Port $Port -TimeoutSec $TimeoutSec
}

function Invoke-LibtorrentTool {
    <#
        Runs tests/Pester/TestSupport/lt_hash.py (python3-libtorrent as a reference): 'create' makes a v1
        torrent with create_torrent, 'check' runs libtorrent's own check of data under a save path, 'info' reads a
        .torrent. Returns the JSON it prints as an object; throws when it fails or runs longer than TimeoutSec.
    #>
    param(
        [Parameter(Mandatory)] [ValidateSet('create', 'check', 'info')] [string] $Command,
        [Parameter(Mandatory)] [string[]] $ArgumentList,
        [int] $TimeoutSec = 300
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new($script:Python)
    foreach ($a in @($script:LtHashScript, $Command) + $ArgumentList) { $psi.ArgumentList.Add([string]$a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSec * 1000)) {
            $p.Kill()
            throw "lt_hash.py $Command timed out after $TimeoutSec s."
        }
        $p.WaitForExit()
        if ($p.ExitCode -ne 0) { throw "lt_hash.py $Command failed ($($p.ExitCode)): $($stderr.Result)" }
        $stdout.Result | ConvertFrom-Json
    }
    finally { $p.Dispose() }
}

function Get-PwshCommand {
    <#
        How to start another PowerShell like the one running: FilePath plus the leading arguments. Under
        'dotnet pwsh' (the repository's local tool) the process is dotnet and pwsh.dll is its first argument.
    #>
    $processPath = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') {
        $entry = [System.Reflection.Assembly]::GetEntryAssembly().Location
        return [pscustomobject]@{ FilePath = $processPath; Arguments = @($entry) }
    }
    [pscustomobject]@{ FilePath = $processPath; Arguments = @() }
}

function Start-ModuleSeeder {
    <#
        Start-TorrentSeed (this module) in a child pwsh, so it can be killed by PID like any other client: seeds the
        torrents from DataPath on 127.0.0.1:Port, no trackers (-UseTracker: the torrents' own), for DurationSec, and
        dials the -Peer addresses. Verbose output goes to the log. Returns the process (with Port and EndPoint) once
        the port accepts connections.
    #>
    param(
        [Parameter(Mandatory)] [string[]] $TorrentPath,
        [Parameter(Mandatory)] [string] $DataPath,
        [Parameter(Mandatory)] [string] $LogDir,
        [int] $Port = 0,
        [int] $DurationSec = 600,
        [string] $Name = 'module-seed',
        [switch] $UseTracker,
        [string[]] $Peer = @()
    )
    if ($Port -eq 0) { $Port = Get-FreePort }
    $list = Join-Path $LogDir "$Name-$Port.torrents.txt"
    Set-Content -LiteralPath $list -Value $TorrentPath -Encoding utf8
    $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
    $trackerArgument = if ($UseTracker) { '' } else { '-NoTracker ' }
    $peerArgument = if ($Peer.Count -gt 0) { "-Peer $(($Peer | ForEach-Object { & $q $_ }) -join ',') " } else { '' }
    $command = "Import-Module BitTorrent; Start-TorrentSeed -LiteralPath (Get-Content -LiteralPath $(& $q $list)) -DataPath $(& $q $DataPath) " +
        "-Port $Port -ListenAddress 127.0.0.1 $trackerArgument$peerArgument-ThrottleLimit 64 -Duration ([TimeSpan]::FromSeconds($DurationSec)) -Verbose *>&1"
    $pwsh = Get-PwshCommand
    $p = Start-InteropProcess -FilePath $pwsh.FilePath -ArgumentList ($pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-Command', $command)) `
        -LogDir $LogDir -Name "$Name-$Port"
    Wait-Until -TimeoutSec 60 -Because "Start-TorrentSeed to listen on $Port" -Condition {
        if ($p.HasExited) { throw "Start-TorrentSeed exited: $(Read-InteropLog $p) $(Read-InteropLog $p -StdErr)" }
        Test-TcpPort -Port $Port
    }
    $p | Add-Member -NotePropertyName Port -NotePropertyValue $Port -PassThru |
        Add-Member -NotePropertyName EndPoint -NotePropertyValue "127.0.0.1:$Port" -PassThru
}

function Get-FileSha256Map {
    <#
        Relative path ('/'-separated) → sha256 for every file under Root: compare a download with its source.
        A Root that is a file (a single-file torrent's content) maps its own name.
    #>
    param([Parameter(Mandatory)] [string] $Root)
    $map = [ordered]@{}
    if (Test-Path -LiteralPath $Root -PathType Leaf) {
        $map[(Split-Path -Leaf $Root)] = (Get-FileHash -LiteralPath $Root -Algorithm SHA256).Hash
        return $map
    }
    $rootFull = (Resolve-Path -LiteralPath $Root).ProviderPath.TrimEnd([IO.Path]::DirectorySeparatorChar)
    foreach ($f in Get-ChildItem -LiteralPath $rootFull -File -Recurse | Sort-Object FullName) {
        $rel = $f.FullName.Substring($rootFull.Length + 1) -replace '\\', '/'
        $map[$rel] = (Get-FileHash -LiteralPath $f.FullName -Algorithm SHA256).Hash
    }
    $map
}

Export-ModuleMember -Function Get-FreePort, Wait-Until, Start-BackgroundCommand, Stop-BackgroundCommand, Stop-WhileHashing, New-InteropWorkspace, New-RandomFile, New-TestPayload,
    New-MkTorrent, Get-ReferenceInfoHash, Start-InteropProcess, Read-InteropLog, Stop-InteropProcess, Start-OpenTracker,
    Test-TcpPort, Start-LibtorrentPeer, Start-Aria2Seeder, Start-TransmissionSeeder, Start-QBittorrentSeeder,
    Start-TransmissionLeecher, Wait-TransmissionComplete, Start-QBittorrentLeecher,
    Get-PwshCommand, Get-FileSha256Map, Invoke-LibtorrentTool, Start-ModuleSeeder
