<#
    Torrent jobs an admin manages with PowerShell's own job cmdlets: Start-TorrentDownload -AsJob from a real
    python3-libtorrent seeder on 127.0.0.1, then Suspend-Job / Resume-Job / Stop-Job / Wait-Job / Receive-Job.

      payload  12 MiB + 777 bytes, one file, 256 KiB pieces, made by mktorrent (not our code), seeded by libtorrent
               with no tracker. Our download is capped at 1 MiB/s (-DownloadRateLimit), so a job is still midway
               when it is suspended, however loaded the machine.

    "No payload while suspended" is measured outside our code: the .part file's SHA-256 and the TCP connections to
    the seeder's port (ss). The same measure is first shown to see the download move while it runs.
#>

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force

    $script:Workspace = New-InteropWorkspace -Name 'jobs'
    $source = Join-Path $Workspace 'source'
    $script:SourceFile = (New-RandomFile -Path (Join-Path $source 'payload.bin') -SizeBytes (12MB + 777) -Seed 41).FullName
    $script:SourceSha = (Get-FileHash -LiteralPath $SourceFile -Algorithm SHA256).Hash
    $script:TorrentPath = (New-MkTorrent -SourcePath $SourceFile -OutFile (Join-Path $Workspace 'payload.torrent')).FullName
    $script:Seeder = Start-LibtorrentPeer -Mode Seed -TorrentPath $TorrentPath -SavePath $source -NoTracker -TimeoutSec 1200 -LogDir $Workspace
    $script:Cap = 1MB

    function New-Destination([string] $Name) {
        $path = Join-Path $Workspace ("dl-$Name-" + [Guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory -Path $path
        $path
    }

    function Start-SlowJob([string] $Destination) {
        Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $Destination -Peer $Seeder.EndPoint -NoTracker `
            -ListenAddress 127.0.0.1 -DownloadRateLimit $Cap -AsJob
    }

    # What is on disk: the .part file while downloading, the real name once complete.
    function Get-DataHash([string] $Destination) {
        foreach ($name in 'payload.bin.part', 'payload.bin') {
            $path = Join-Path $Destination $name
            if (Test-Path -LiteralPath $path) {
                $stream = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
                try { return [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($stream)) }
                finally { $stream.Dispose() }
            }
        }
        ''
    }

    # Established TCP connections to the seeder's port, as the kernel sees them (not our code).
    function Get-SeederConnectionCount {
        @(& ss -Htn state established "( dport = :$($Seeder.Port) )" | Where-Object { $_.Trim() }).Count
    }

    function Get-JobPercent($Job) {
        if ($Job.StatusMessage -match '(\d+) %') { [int]$Matches[1] } else { -1 }
    }

    # Midway: some payload verified, and the data on disk seen to change while the job runs (the positive control
    # for the "nothing changes while suspended" check).
    function Wait-Midway($Job, [string] $Destination) {
        Wait-Until -TimeoutSec 90 -Because 'the job to verify some pieces' -Condition {
            if ($Job.State -ne 'Running') { throw "the job exited: it is $($Job.State)" }
            (Get-JobPercent $Job) -ge 8
        }
        $before = Get-DataHash $Destination
        Wait-Until -TimeoutSec 30 -Because 'the data on disk to change while the job runs' -Condition { (Get-DataHash $Destination) -ne $before }
        (Get-JobPercent $Job) | Should -BeLessThan 90 -Because 'the rate cap keeps the job midway'
    }

    # While suspended: the connection to the seeder goes, then over twenty samples (two seconds, in which the
    # running job moved about 2 MiB) the data on disk does not change and no connection comes back.
    function Assert-NoPayloadWhileSuspended($Job, [string] $Destination) {
        Wait-Until -TimeoutSec 30 -Because 'the connection to the seeder to close' -Condition { (Get-SeederConnectionCount) -eq 0 }
        $frozen = Get-DataHash $Destination
        $frozen | Should -Not -BeNullOrEmpty
        foreach ($sample in 1..20) {
            Start-Sleep -Milliseconds 100
            $Job.State | Should -Be 'Suspended'
            Get-DataHash $Destination | Should -Be $frozen -Because "no payload is written while suspended (sample $sample)"
        }
        Get-SeederConnectionCount | Should -Be 0 -Because 'a suspended job holds no connection to the seeder'
    }
}

AfterAll {
    Get-Job | Where-Object PSJobTypeName -EQ 'TorrentJob' | Remove-Job -Force
    Stop-InteropProcess
    if ($script:Workspace -and (Test-Path -LiteralPath $Workspace)) { Remove-Item -LiteralPath $Workspace -Recurse -Force }
}

Describe 'Torrent jobs' -Tag 'Interop' {
    It 'is a Job2 with progress and a status message while it runs' {
        $dest = New-Destination 'progress'
        $job = Start-SlowJob $dest
        try {
            $job | Should -BeOfType ([System.Management.Automation.Job2])
            $job.PSJobTypeName | Should -Be 'TorrentJob'
            Wait-Midway $job $dest
            $job.StatusMessage | Should -Match '^\d+ % · [\d.]+ \S+/s · \d+ peers?$'
            @($job.Progress) | Should -Not -BeNullOrEmpty
            @($job.Progress | Where-Object { $_.PercentComplete -gt 0 }) | Should -Not -BeNullOrEmpty
            # Get-Job's table shows the status message (the module's view for TorrentJob).
            $table = Get-Job -Id $job.Id | Format-Table | Out-String -Width 200
            $table | Should -Match 'Status'
            $table | Should -Match '\d+ % · '
            $null = Wait-Job -Job $job -Timeout 120
            $job.State | Should -Be 'Completed'
            $job.StatusMessage | Should -Be 'Completed · 100 %'
            $r = @(Receive-Job -Job $job)
            $r | Should -HaveCount 1
            $r[0].Status | Should -Be 'Completed'
        }
        finally { Remove-Job -Job $job -Force }
        (Get-FileHash -LiteralPath (Join-Path $dest 'payload.bin') -Algorithm SHA256).Hash | Should -Be $SourceSha
    }

    It 'Suspend-Job stops the payload, Resume-Job finishes it with identical data' {
        $dest = New-Destination 'suspend'
        $job = Start-SlowJob $dest
        try {
            Wait-Midway $job $dest
            $states = [System.Collections.Generic.List[string]]::new()
            $handler = Register-ObjectEvent -InputObject $job -EventName StateChanged -Action { $Event.MessageData.Add("$($EventArgs.JobStateInfo.State)") } -MessageData $states
            try {
                $suspended = Suspend-Job -Job $job -Wait
                $suspended.Id | Should -Be $job.Id
                $job.State | Should -Be 'Suspended'
                $job.StatusMessage | Should -Match '^Suspended · \d+ %$'
                Assert-NoPayloadWhileSuspended $job $dest

                $null = Resume-Job -Job $job -Wait
                $job.State | Should -BeIn 'Running', 'Completed'
                $null = Wait-Job -Job $job -Timeout 120
                $job.State | Should -Be 'Completed'
                Wait-Until -TimeoutSec 10 -Because 'the state events to be handled' -Condition { $states -contains 'Completed' }
            }
            finally { Unregister-Event -SourceIdentifier $handler.Name; Remove-Job -Job $handler -Force }
            @($states) | Should -Be @('Suspending', 'Suspended', 'Running', 'Completed')

            $r = @(Receive-Job -Job $job)
            $r | Should -HaveCount 1
            $r[0].Status | Should -Be 'Completed'
            $r[0].BytesResumed | Should -BeGreaterThan 0 -Because 'the run after Resume-Job keeps the pieces verified before the suspension'
            $r[0].HashFailures | Should -Be 0
        }
        finally { Remove-Job -Job $job -Force }
        (Get-FileHash -LiteralPath (Join-Path $dest 'payload.bin') -Algorithm SHA256).Hash | Should -Be $SourceSha
        @(Get-ChildItem -LiteralPath $dest -Filter '*.part' -File) | Should -HaveCount 0
    }

    It 'Suspend-Job without -Wait: Wait-Job returns on Suspended, Get-Job shows it, Resume-Job continues' {
        $dest = New-Destination 'nowait'
        $job = Start-SlowJob $dest
        try {
            Wait-Midway $job $dest
            $null = Suspend-Job -Job $job
            $job.State | Should -BeIn 'Suspending', 'Suspended'
            # Wait-Job ends its wait when a job is suspended (PowerShell's rule for every Job2), without -Force.
            $waited = Wait-Job -Job $job -Timeout 60
            $waited.Id | Should -Be $job.Id
            $job.State | Should -Be 'Suspended'
            (Get-Job -State Suspended).Id | Should -Contain $job.Id
            Get-Job -Id $job.Id | Format-Table | Out-String -Width 200 | Should -Match 'Suspended · \d+ %'
            Assert-NoPayloadWhileSuspended $job $dest
            # Suspending again is no change.
            $null = Suspend-Job -Job $job -Wait
            $job.State | Should -Be 'Suspended'

            $null = Resume-Job -Job $job
            $null = Wait-Job -Job $job -Timeout 120
            $job.State | Should -Be 'Completed'
            @(Receive-Job -Job $job).Status | Should -Be 'Completed'
            # A finished job is neither suspended nor resumed: a warning, not a hang or an error.
            $null = Suspend-Job -Job $job -WarningVariable sw -WarningAction SilentlyContinue -ErrorAction Stop
            @($sw) | Should -HaveCount 1
            $null = Resume-Job -Job $job -WarningVariable rw -WarningAction SilentlyContinue -ErrorAction Stop
            @($rw) | Should -HaveCount 1
            $job.State | Should -Be 'Completed'
        }
        finally { Remove-Job -Job $job -Force }
        (Get-FileHash -LiteralPath (Join-Path $dest 'payload.bin') -Algorithm SHA256).Hash | Should -Be $SourceSha
    }

    It 'Stop-Job while suspended stops it cleanly; a new download keeps what it verified' {
        $dest = New-Destination 'stop'
        $job = Start-SlowJob $dest
        try {
            Wait-Midway $job $dest
            $null = Suspend-Job -Job $job -Wait
            $job.State | Should -Be 'Suspended'
            Stop-Job -Job $job
            $job.State | Should -Be 'Stopped'
            $r = @(Receive-Job -Job $job)
            $r | Should -HaveCount 1
            $r[0].Status | Should -Be 'Stopped'
            # Every progress activity of the job ends with a Completed record, also when stopped while suspended.
            foreach ($g in @($job.Progress) | Group-Object ActivityId) { $g.Group[-1].RecordType | Should -Be 'Completed' -Because "activity $($g.Name)" }
            { Resume-Job -Job $job -WarningAction SilentlyContinue -ErrorAction Stop } | Should -Not -Throw
            $job.State | Should -Be 'Stopped'
        }
        finally { Remove-Job -Job $job -Force }
        $again = Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $dest -Peer $Seeder.EndPoint -NoTracker -ListenAddress 127.0.0.1 -ErrorAction Stop
        $again.Status | Should -Be 'Completed'
        $again.BytesResumed | Should -BeGreaterThan 0 -Because 'what the stopped job verified was kept'
        (Get-FileHash -LiteralPath (Join-Path $dest 'payload.bin') -Algorithm SHA256).Hash | Should -Be $SourceSha
    }

    It 'Stop-Job while running, and Remove-Job -Force on a suspended job, end it at once' {
        $dest = New-Destination 'remove'
        $job = Start-SlowJob $dest
        Wait-Midway $job $dest
        Stop-Job -Job $job
        $job.State | Should -Be 'Stopped'
        @(Receive-Job -Job $job).Status | Should -Be 'Stopped'
        Remove-Job -Job $job

        $job = Start-SlowJob $dest
        Wait-Until -TimeoutSec 60 -Because 'the second job to run' -Condition { (Get-JobPercent $job) -ge 0 }
        $null = Suspend-Job -Job $job -Wait
        $id = $job.Id
        Remove-Job -Job $job -Force
        Get-Job -Id $id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Wait-Until -TimeoutSec 30 -Because 'no connection to the seeder to remain' -Condition { (Get-SeederConnectionCount) -eq 0 }
    }
}
