#Requires -Version 7.2
<#
    BEP 14 local service discovery for real, on multicast, inside network namespaces this file makes and removes:
    hosts a, b and c, each with one veth to a bridge in a fourth namespace (198.18.<n>.0/24 and a ULA /64, multicast on,
    a multicast route), so the announcements reach only these hosts. Start-TorrentSeed runs in a, Start-TorrentDownload
    in b with no tracker and no -Peer, BITTORRENT_LSD=1 in those child processes only (the suite has it 0); the peers
    can only come from local discovery. python3-libtorrent (enable_lsd) in c finds us and is found by us. A private
    torrent is neither announced nor found (BEP 27), and -NoLocalDiscovery finds nothing. Skips, saying why, when
    namespaces cannot be made here (not Linux, not root, no iproute2).
#>

Describe 'Local service discovery (BEP 14) between network namespaces' -Tag 'Namespace', 'Interop' {
    BeforeAll {
        Import-Module BitTorrent
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
        Import-Module (Join-Path $PSScriptRoot 'TestSupport/Hostile.psm1') -Force

        $script:LabSkip = if (-not $IsLinux) { 'network namespaces are Linux only' }
        elseif ((& id -u) -ne '0') { 'making network namespaces needs root' }
        elseif (-not (Get-Command ip -CommandType Application -ErrorAction SilentlyContinue)) { 'iproute2 (the ip command) is not installed' }
        else {
            $null = & ip netns list 2>&1
            if ($LASTEXITCODE -ne 0) { '"ip netns" does not work here' }
        }
        $script:LibtorrentSkip = if (-not (Test-Path /usr/bin/python3)) { 'no /usr/bin/python3' }
        else {
            $null = & /usr/bin/python3 -c 'import libtorrent' 2>&1
            if ($LASTEXITCODE -ne 0) { 'python3-libtorrent is not installed' }
        }
        $script:Namespaces = [System.Collections.Generic.List[string]]::new()
        if ($LabSkip) { return }

        $script:Ip = (Get-Command ip -CommandType Application | Select-Object -First 1).Source
        $script:Workspace = New-InteropWorkspace -Name 'lsd'
        $script:ModulePath = (Get-Module BitTorrent).Path
        $script:Pwsh = Get-PwshCommand
        $script:LsdOn = @{ BITTORRENT_LSD = '1' }

        function script:Invoke-Ip {
            $out = & $Ip @args 2>&1
            if ($LASTEXITCODE -ne 0) { throw "ip $($args -join ' ') failed: $out" }
        }

        # The lab: a bridge in a hub namespace, hosts a, b, c on it. Unique names (a run's own id), and a subnet
        # picked from that id, so two runs at once cannot meet.
        $id = [Guid]::NewGuid().ToString('N').Substring(0, 6)
        $subnet = [Convert]::ToInt32($id.Substring(0, 2), 16)
        $script:Hub = "bt-lsd-$id-hub"
        $script:Lab = @{}
        Invoke-Ip netns add $Hub
        $Namespaces.Add($Hub)
        Invoke-Ip -n $Hub link add br0 type bridge mcast_snooping 0
        Invoke-Ip -n $Hub link set br0 up
        $n = 0
        foreach ($name in 'a', 'b', 'c') {
            $n++
            $ns = "bt-lsd-$id-$name"
            Invoke-Ip netns add $ns
            $Namespaces.Add($ns)
            Invoke-Ip -n $Hub link add "v$name" type veth peer name eth0 netns $ns
            Invoke-Ip -n $Hub link set "v$name" master br0
            Invoke-Ip -n $Hub link set "v$name" up
            Invoke-Ip -n $ns link set lo up
            Invoke-Ip -n $ns link set eth0 up multicast on
            Invoke-Ip -n $ns addr add "198.18.$subnet.$n/24" dev eth0
            Invoke-Ip -n $ns -6 addr add "fd42:$($id.Substring(0, 4))::$n/64" dev eth0 nodad
            Invoke-Ip -n $ns route add 224.0.0.0/4 dev eth0
            $Lab[$name] = [pscustomobject]@{ Namespace = $ns; Address = "198.18.$subnet.$n" }
        }

        function script:Start-InNamespace {
            <# A process inside a lab namespace ('ip netns exec' execs it: the PID is the program's own). #>
            param([string] $Namespace, [string] $FilePath, [string[]] $ArgumentList, [string] $Name, [hashtable] $Environment = @{})
            Start-InteropProcess -FilePath $Ip -ArgumentList (@('netns', 'exec', $Namespace, $FilePath) + $ArgumentList) `
                -LogDir $Workspace -Name $Name -Environment $Environment
        }

        function script:Start-LabDownload {
            <# Start-TorrentDownload (Invoke-DownloadChild.ps1: -NoTracker, no -Peer) in host b (or -OnHost), LSD on for it. #>
            param([string] $TorrentPath, [string] $Destination, [int] $TimeoutSec, [switch] $NoLocalDiscovery, [string] $Name, [string] $OnHost = 'b', [string] $Lsd = '1')
            $report = Join-Path $Workspace "$Name.json"
            $arguments = $Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'TestSupport/Invoke-DownloadChild.ps1'),
                '-TorrentPath', $TorrentPath, '-DestinationPath', $Destination, '-OutFile', $report, '-TimeoutSec', $TimeoutSec)
            if ($NoLocalDiscovery) { $arguments += '-NoLocalDiscovery' }
            $p = Start-InNamespace -Namespace $Lab[$OnHost].Namespace -FilePath $Pwsh.FilePath -ArgumentList $arguments -Name $Name -Environment @{ BITTORRENT_LSD = $Lsd }
            $p | Add-Member -NotePropertyName ReportPath -NotePropertyValue $report -PassThru
        }

        # Payloads: a multi-file public torrent our seeder has, a private one it also has, and a public one only
        # libtorrent has. Torrents by mktorrent (not our code), with no tracker at all.
        $script:Source = Join-Path $Workspace 'source'
        $null = New-TestPayload -Root (Join-Path $Source 'lanpayload') -Layout ([ordered]@{ 'a.bin' = 3MB + 11; 'sub/b.bin' = 2MB - 5; 'c.txt' = 999 }) -Seed 14
        $null = New-TestPayload -Root $Source -Layout ([ordered]@{ 'private.bin' = 1MB + 3 }) -Seed 27
        $script:LtSource = Join-Path $Workspace 'lt-source'
        $null = New-TestPayload -Root $LtSource -Layout ([ordered]@{ 'fromlibtorrent.bin' = 3MB + 1 }) -Seed 41
        $script:PublicTorrent = (New-MkTorrent -SourcePath (Join-Path $Source 'lanpayload') -OutFile (Join-Path $Workspace 'public.torrent')).FullName
        $script:PrivateTorrent = (New-MkTorrent -SourcePath (Join-Path $Source 'private.bin') -OutFile (Join-Path $Workspace 'private.torrent') -Private).FullName
        $script:LtTorrent = (New-MkTorrent -SourcePath (Join-Path $LtSource 'fromlibtorrent.bin') -OutFile (Join-Path $Workspace 'lt.torrent')).FullName
        (Get-TorrentInfo -LiteralPath $PrivateTorrent).IsPrivate | Should -BeTrue
        $script:PublicHashes = Get-FileSha256Map -Root (Join-Path $Source 'lanpayload')

        # Our seeder in host a: Start-TorrentSeed -AsJob with both torrents, 'ready' once both seed; stopped by a stop
        # file (bounded: -Duration 10 min).
        $script:SeederFolder = Join-Path $Workspace 'seeder'
        $null = New-Item -ItemType Directory -Path $SeederFolder
        $list = Join-Path $Workspace 'seeded.txt'
        Set-Content -LiteralPath $list -Value @($PublicTorrent, $PrivateTorrent)
        $seederScript = Join-Path $Workspace 'seeder.ps1'
        Set-Content -LiteralPath $seederScript -Value @'
param([string] $ModulePath, [string] $TorrentList, [string] $DataPath, [string] $Folder)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$torrents = @(Get-Content -LiteralPath $TorrentList)
$job = Start-TorrentSeed -LiteralPath $torrents -DataPath $DataPath -Duration 00:10:00 -AsJob
$ready = $false
$deadline = [DateTime]::UtcNow.AddMinutes(10)
while (-not (Test-Path (Join-Path $Folder 'stop')) -and $job.State -eq 'Running' -and [DateTime]::UtcNow -lt $deadline) {
    $seeding = @($job.Progress | Where-Object { $_.StatusDescription -like 'Seeding*' } | ForEach-Object ActivityId | Select-Object -Unique)
    if (-not $ready -and $seeding.Count -ge $torrents.Count) {
        $ready = $true
        Set-Content -LiteralPath (Join-Path $Folder 'ready') -Value 'ready'
    }
    Start-Sleep -Milliseconds 100
}
Stop-Job $job
$null = Receive-Job $job -ErrorAction SilentlyContinue
'@
        $script:Seeder = Start-InNamespace -Namespace $Lab.a.Namespace -FilePath $Pwsh.FilePath -Name 'seeder-a' -Environment $LsdOn `
            -ArgumentList ($Pwsh.Arguments + @('-NoProfile', '-NonInteractive', '-File', $seederScript, '-ModulePath', $ModulePath,
                '-TorrentList', $list, '-DataPath', $Source, '-Folder', $SeederFolder))
        Wait-Until -TimeoutSec 120 -Because 'the seeder in host a to seed both torrents' -Condition {
            if ($Seeder.HasExited) { throw "the seeder exited: $(Read-InteropLog $Seeder) $(Read-InteropLog $Seeder -StdErr)" }
            Test-Path -LiteralPath (Join-Path $SeederFolder 'ready')
        }
    }

    AfterAll {
        if ($script:SeederFolder -and (Test-Path -LiteralPath $SeederFolder)) { Set-Content -LiteralPath (Join-Path $SeederFolder 'stop') -Value 'stop' }
        if ($script:Seeder -and -not $Seeder.HasExited) { $null = $Seeder.WaitForExit(15000) }
        Stop-InteropProcess
        foreach ($ns in $Namespaces) {
            # Anything still running in our own namespaces was started by this file: stop it by PID, then remove them.
            foreach ($procId in @(& ip netns pids $ns 2>$null)) { if ($procId -match '^\d+$') { & kill -KILL $procId 2>$null } }
            & ip netns del $ns 2>$null
        }
        if ($script:Workspace) { Remove-Item -LiteralPath $Workspace -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'our download finds our seeder on the LAN with no tracker and no -Peer, and every file matches' {
        if ($LabSkip) { Set-ItResult -Skipped -Because $LabSkip; return }
        $dest = Join-Path $Workspace 'b-public'
        $child = Start-LabDownload -TorrentPath $PublicTorrent -Destination $dest -TimeoutSec 90 -Name 'b-public'
        $report = Wait-DownloadChild -Process $child -WaitSec 180
        $report.Killed | Should -BeFalse
        @($report.Errors).Count | Should -Be 0 -Because "$(@($report.Errors | ForEach-Object Id) -join ', ') $($report.StdErr)"
        $report.Status | Should -Be 'Completed'
        $got = Get-FileSha256Map -Root (Join-Path $dest 'lanpayload')
        $got.Keys | Should -Be $PublicHashes.Keys
        foreach ($k in $PublicHashes.Keys) { $got[$k] | Should -Be $PublicHashes[$k] -Because $k }
    }

    It 'a second process on the seeder''s own host hears it too (both listen on port 6771) and gets every file' {
        if ($LabSkip) { Set-ItResult -Skipped -Because $LabSkip; return }
        $dest = Join-Path $Workspace 'a-public'
        $report = Wait-DownloadChild -Process (Start-LabDownload -TorrentPath $PublicTorrent -Destination $dest -TimeoutSec 90 -Name 'a-public' -OnHost a) -WaitSec 180
        $report.Killed | Should -BeFalse
        $report.Status | Should -Be 'Completed' -Because "$(@($report.Errors | ForEach-Object Id) -join ', ') $($report.StdErr)"
        $got = Get-FileSha256Map -Root (Join-Path $dest 'lanpayload')
        $got.Keys | Should -Be $PublicHashes.Keys
        foreach ($k in $PublicHashes.Keys) { $got[$k] | Should -Be $PublicHashes[$k] -Because $k }
    }

    It 'a private torrent is neither announced nor found, and -NoLocalDiscovery or BITTORRENT_LSD=0 finds no one' {
        if ($LabSkip) { Set-ItResult -Skipped -Because $LabSkip; return }
        # All three in host b at once; the seeder in host a has both torrents.
        $private = Start-LabDownload -TorrentPath $PrivateTorrent -Destination (Join-Path $Workspace 'b-private') -TimeoutSec 15 -Name 'b-private'
        $off = Start-LabDownload -TorrentPath $PublicTorrent -Destination (Join-Path $Workspace 'b-off') -TimeoutSec 15 -NoLocalDiscovery -Name 'b-off'
        $envOff = Start-LabDownload -TorrentPath $PublicTorrent -Destination (Join-Path $Workspace 'b-env-off') -TimeoutSec 15 -Lsd '0' -Name 'b-env-off'
        foreach ($child in $private, $off, $envOff) {
            $report = Wait-DownloadChild -Process $child -WaitSec 120
            $report.Killed | Should -BeFalse
            $report.Status | Should -Not -Be 'Completed'
            @($report.Errors | Where-Object { $_.Id -like 'NoPeersAvailable,*' }).Count | Should -Be 1 -Because "$(@($report.Errors | ForEach-Object Id) -join ', ')"
            $report.BytesDownloaded | Should -Be 0
        }
    }

    It 'our download finds a libtorrent seeder through its announcement (libtorrent with enable_lsd)' {
        if ($LabSkip) { Set-ItResult -Skipped -Because $LabSkip; return }
        if ($LibtorrentSkip) { Set-ItResult -Skipped -Because $LibtorrentSkip; return }
        $lt = Start-InNamespace -Namespace $Lab.c.Namespace -FilePath /usr/bin/python3 -Name 'lt-seed-c' `
            -ArgumentList @((Join-Path $PSScriptRoot 'TestSupport/lt_peer.py'), 'seed', $LtTorrent, $LtSource, 6881, '--timeout', 300, '--no-tracker', '--lsd')
        try {
            Wait-Until -TimeoutSec 60 -Because 'libtorrent in host c to seed' -Condition {
                if ($lt.HasExited) { throw "lt_peer.py exited: $(Read-InteropLog $lt -StdErr)" }
                (Read-InteropLog $lt) -match 'ready'
            }
            $dest = Join-Path $Workspace 'b-lt'
            $report = Wait-DownloadChild -Process (Start-LabDownload -TorrentPath $LtTorrent -Destination $dest -TimeoutSec 90 -Name 'b-lt') -WaitSec 180
            $report.Killed | Should -BeFalse
            $report.Status | Should -Be 'Completed' -Because "$(@($report.Errors | ForEach-Object Id) -join ', ') $($report.StdErr)"
            (Get-FileHash -LiteralPath (Join-Path $dest 'fromlibtorrent.bin') -Algorithm SHA256).Hash |
                Should -Be (Get-FileHash -LiteralPath (Join-Path $LtSource 'fromlibtorrent.bin') -Algorithm SHA256).Hash
        }
        finally { Stop-InteropProcess -Process $lt }
    }

    It 'a libtorrent download (enable_lsd) finds our seeder and gets every file intact' {
        if ($LabSkip) { Set-ItResult -Skipped -Because $LabSkip; return }
        if ($LibtorrentSkip) { Set-ItResult -Skipped -Because $LibtorrentSkip; return }
        $save = Join-Path $Workspace 'c-lt'
        $null = New-Item -ItemType Directory -Path $save
        $lt = Start-InNamespace -Namespace $Lab.c.Namespace -FilePath /usr/bin/python3 -Name 'lt-leech-c' `
            -ArgumentList @((Join-Path $PSScriptRoot 'TestSupport/lt_peer.py'), 'leech', $PublicTorrent, $save, 6882, '--timeout', 120, '--no-tracker', '--lsd')
        try {
            $lt.WaitForExit(180000) | Should -BeTrue -Because 'lt_peer.py ends by itself (complete, or its own 120 s timeout)'
            $status = (Read-InteropLog $lt).Trim() -split "`n" | Select-Object -Last 1 | ConvertFrom-Json
            $status.seeding | Should -BeTrue -Because (Read-InteropLog $lt -StdErr)
            $got = Get-FileSha256Map -Root (Join-Path $save 'lanpayload')
            $got.Keys | Should -Be $PublicHashes.Keys
            foreach ($k in $PublicHashes.Keys) { $got[$k] | Should -Be $PublicHashes[$k] -Because $k }
        }
        finally { Stop-InteropProcess -Process $lt }
    }
}
