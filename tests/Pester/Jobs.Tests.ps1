<#
    Torrent jobs an admin manages: Start-TorrentDownload -AsJob from a real python3-libtorrent seeder on 127.0.0.1,
    then Suspend-TorrentJob / Resume-TorrentJob (PowerShell 7 has no Suspend-Job or Resume-Job), the Job2 methods and
    events Windows PowerShell's Suspend-Job and Resume-Job call, and Stop-Job / Wait-Job / Receive-Job / Remove-Job.

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
            # Wait-Until gives up at once on an error saying "exited:": a job that ended cannot get midway.
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

    It 'Suspend-TorrentJob stops the payload, Resume-TorrentJob finishes it with identical data' {
        $dest = New-Destination 'suspend'
        $job = Start-SlowJob $dest
        try {
            Wait-Midway $job $dest
            $states = [System.Collections.Generic.List[string]]::new()
            $handler = Register-ObjectEvent -InputObject $job -EventName StateChanged -Action { $Event.MessageData.Add("$($EventArgs.JobStateInfo.State)") } -MessageData $states
            try {
                $suspended = @(Suspend-TorrentJob -Job $job -ErrorAction Stop)
                $suspended | Should -HaveCount 1
                $suspended[0].Id | Should -Be $job.Id
                $job.State | Should -Be 'Suspended'
                $job.StatusMessage | Should -Match '^Suspended · \d+ %$'
                Assert-NoPayloadWhileSuspended $job $dest

                $resumed = @(Resume-TorrentJob -Id $job.Id -ErrorAction Stop)
                $resumed[0].Id | Should -Be $job.Id
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

    It 'SuspendJobAsync / ResumeJobAsync (what Suspend-Job and Resume-Job call) raise their events; Wait-Job returns on Suspended' {
        $dest = New-Destination 'async'
        $job = Start-SlowJob $dest
        $tag = [Guid]::NewGuid().ToString('N')
        $null = Register-ObjectEvent -InputObject $job -EventName SuspendJobCompleted -SourceIdentifier "suspend-$tag"
        $null = Register-ObjectEvent -InputObject $job -EventName ResumeJobCompleted -SourceIdentifier "resume-$tag"
        try {
            Wait-Midway $job $dest
            $job.SuspendJobAsync($false, 'test')
            $job.State | Should -BeIn 'Suspending', 'Suspended'
            $e = Wait-Event -SourceIdentifier "suspend-$tag" -Timeout 60
            $e | Should -Not -BeNullOrEmpty -Because 'SuspendJobCompleted is raised'
            $e.SourceEventArgs.Error | Should -BeNullOrEmpty
            Remove-Event -EventIdentifier $e.EventIdentifier
            $job.State | Should -Be 'Suspended'
            # Wait-Job ends its wait when a job is suspended (PowerShell's rule for every Job2), without -Force.
            $waited = Wait-Job -Job $job -Timeout 60
            $waited.Id | Should -Be $job.Id
            (Get-Job -State Suspended).Id | Should -Contain $job.Id
            Get-Job -Id $job.Id | Format-Table | Out-String -Width 200 | Should -Match 'Suspended · \d+ %'
            Assert-NoPayloadWhileSuspended $job $dest
            # Suspending again is no change.
            $null = Suspend-TorrentJob -Job $job -ErrorAction Stop
            $job.State | Should -Be 'Suspended'

            $job.ResumeJobAsync()
            $e = Wait-Event -SourceIdentifier "resume-$tag" -Timeout 60
            $e | Should -Not -BeNullOrEmpty -Because 'ResumeJobCompleted is raised'
            $e.SourceEventArgs.Error | Should -BeNullOrEmpty
            Remove-Event -EventIdentifier $e.EventIdentifier
            $null = Wait-Job -Job $job -Timeout 120
            $job.State | Should -Be 'Completed'
            @(Receive-Job -Job $job).Status | Should -Be 'Completed'

            # A finished job is neither suspended nor resumed: the event carries InvalidJobStateException (which
            # Suspend-Job and Resume-Job turn into a warning), the module's cmdlets write TorrentJobStateInvalid.
            $job.SuspendJobAsync()
            $e = Wait-Event -SourceIdentifier "suspend-$tag" -Timeout 60
            $e.SourceEventArgs.Error | Should -BeOfType ([System.Management.Automation.InvalidJobStateException])
            Remove-Event -EventIdentifier $e.EventIdentifier
            $out = @(Suspend-TorrentJob -Job $job -ErrorVariable se -ErrorAction SilentlyContinue)
            $out | Should -HaveCount 0
            @($se) | Should -HaveCount 1
            $se[0].FullyQualifiedErrorId | Should -BeLike 'TorrentJobStateInvalid,*'
            $null = Resume-TorrentJob -Job $job -ErrorVariable re -ErrorAction SilentlyContinue
            $re[0].FullyQualifiedErrorId | Should -BeLike 'TorrentJobStateInvalid,*'
            $job.State | Should -Be 'Completed'
        }
        finally {
            Unregister-Event -SourceIdentifier "suspend-$tag"; Unregister-Event -SourceIdentifier "resume-$tag"
            Remove-Job -Job $job -Force
        }
        (Get-FileHash -LiteralPath (Join-Path $dest 'payload.bin') -Algorithm SHA256).Hash | Should -Be $SourceSha
    }

    It 'Stop-Job while suspended stops it cleanly; a new download keeps what it verified' {
        $dest = New-Destination 'stop'
        $job = Start-SlowJob $dest
        try {
            Wait-Midway $job $dest
            $null = Suspend-TorrentJob -Job $job -ErrorAction Stop
            $job.State | Should -Be 'Suspended'
            Stop-Job -Job $job
            $job.State | Should -Be 'Stopped'
            $r = @(Receive-Job -Job $job)
            $r | Should -HaveCount 1
            $r[0].Status | Should -Be 'Stopped'
            # Every progress activity of the job ends with a Completed record, also when stopped while suspended.
            foreach ($g in @($job.Progress) | Group-Object ActivityId) { $g.Group[-1].RecordType | Should -Be 'Completed' -Because "activity $($g.Name)" }
            $null = Resume-TorrentJob -Job $job -ErrorVariable re -ErrorAction SilentlyContinue
            $re[0].FullyQualifiedErrorId | Should -BeLike 'TorrentJobStateInvalid,*'
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
        $null = Suspend-TorrentJob -Job $job -ErrorAction Stop
        $id = $job.Id
        Remove-Job -Job $job -Force
        Get-Job -Id $id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Wait-Until -TimeoutSec 30 -Because 'no connection to the seeder to remain' -Condition { (Get-SeederConnectionCount) -eq 0 }
    }

    It 'names what it cannot act on: <Case>' -TestCases @(
        @{ Case = 'a job of another type'; Id = 'NotATorrentJob' }
        @{ Case = 'an unknown id'; Id = 'TorrentJobNotFound' }
        @{ Case = 'an unknown name'; Id = 'TorrentJobNotFound' }
    ) {
        $other = $null
        try {
            $e = switch ($Case) {
                'a job of another type' {
                    $other = Start-ThreadJob -ScriptBlock { 1 }
                    $null = $other | Suspend-TorrentJob -ErrorVariable err -ErrorAction SilentlyContinue; $err
                }
                'an unknown id' { $null = Resume-TorrentJob -Id 987654 -ErrorVariable err -ErrorAction SilentlyContinue; $err }
                'an unknown name' { $null = Suspend-TorrentJob -Name 'no such torrent job' -ErrorVariable err -ErrorAction SilentlyContinue; $err }
            }
            @($e) | Should -HaveCount 1
            $e[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        }
        finally { if ($other) { Remove-Job -Job $other -Force } }
    }

    It '-WhatIf suspends nothing' {
        $dest = New-Destination 'whatif'
        $job = Start-SlowJob $dest
        try {
            @(Suspend-TorrentJob -Job $job -WhatIf) | Should -HaveCount 0
            $job.State | Should -Be 'Running'
        }
        finally { Remove-Job -Job $job -Force }
    }

    It 'a seeding job: suspended it turns peers away, resumed it serves the data again' {
        $port = Get-FreePort
        $infoHash = (Get-TorrentInfo -LiteralPath $TorrentPath).InfoHash
        $job = Start-TorrentSeed -LiteralPath $TorrentPath -DataPath (Split-Path -Parent $SourceFile) -Port $port -ListenAddress 127.0.0.1 -NoTracker -AsJob
        try {
            Wait-Until -TimeoutSec 60 -Because 'the seed job to answer a handshake' -Condition {
                $null -ne (Invoke-PeerHandshake -Peer "127.0.0.1:$port" -InfoHash $infoHash -TimeoutSec 5 -ErrorAction SilentlyContinue)
            }
            Wait-Until -TimeoutSec 10 -Because 'the status message to say the seed is complete' -Condition { $job.StatusMessage -match '^100 % · ' }
            $null = Suspend-TorrentJob -Job $job -ErrorAction Stop
            $job.State | Should -Be 'Suspended'
            $refused = Invoke-PeerHandshake -Peer "127.0.0.1:$port" -InfoHash $infoHash -TimeoutSec 5 -ErrorVariable he -ErrorAction SilentlyContinue
            $refused | Should -BeNullOrEmpty -Because 'a suspended seed serves nobody'
            $he[0].FullyQualifiedErrorId | Should -BeLike 'HandshakeRejected,*'

            $null = Resume-TorrentJob -Job $job -ErrorAction Stop
            $job.State | Should -Be 'Running'
            Wait-Until -TimeoutSec 60 -Because 'the resumed seed to answer a handshake' -Condition {
                $null -ne (Invoke-PeerHandshake -Peer "127.0.0.1:$port" -InfoHash $infoHash -TimeoutSec 5 -ErrorAction SilentlyContinue)
            }
            $dest = New-Destination 'from-seed-job'
            $r = Start-TorrentDownload -LiteralPath $TorrentPath -DestinationPath $dest -Peer "127.0.0.1:$port" -NoTracker -ListenAddress 127.0.0.1 -ErrorAction Stop
            $r.Status | Should -Be 'Completed'
            (Get-FileHash -LiteralPath (Join-Path $dest 'payload.bin') -Algorithm SHA256).Hash | Should -Be $SourceSha
            Stop-Job -Job $job
            $job.State | Should -Be 'Stopped'
            $summary = @(Receive-Job -Job $job)
            $summary | Should -HaveCount 1
            $summary[0].Status | Should -Be 'Completed' -Because 'stopping a complete seed is its normal end'
            $summary[0].BytesUploaded | Should -BeGreaterOrEqual $summary[0].TotalSize
        }
        finally { Remove-Job -Job $job -Force }
    }
}
