<#
    Hostile and malformed .torrent files (tests/Corpus/New-HostileTorrentCorpus.ps1: crafted attacks, truncations and
    random mutations of valid torrents, 450+ files). Every one must give either a TorrentInfo whose every sanitized
    path is safe, or a non-terminating InvalidTorrentFile error — never another error, an exception, a hang, or a file
    outside the destination. The path attacks are then seeded (by this module, in a child pwsh) and downloaded for
    real into a destination inside a sandbox folder that is scanned before and after.
#>

BeforeDiscovery {
    $script:CraftedCases = @(& (Join-Path $PSScriptRoot '../Corpus/New-HostileTorrentCorpus.ps1') -ManifestOnly |
            Where-Object Kind -EQ 'Crafted' | ForEach-Object { @{ Case = $_ } })
}

BeforeAll {
    Import-Module BitTorrent
    Import-Module (Join-Path $PSScriptRoot 'TestSupport/Interop.psm1') -Force
    $script:Generator = Join-Path $PSScriptRoot '../Corpus/New-HostileTorrentCorpus.ps1'
    $script:Corpus = Join-Path $TestDrive 'corpus'
    $script:Manifest = @(& $Generator -OutputPath $Corpus)
    $script:ById = @{}
    foreach ($m in $Manifest) { $ById[$m.File] = $m }

    # Every file through Get-TorrentInfo in another runspace, so a hang cannot hang the test run: the wait is bounded
    # and what came back before it shows which file did not finish.
    $script:CorpusTimeoutSec = 120
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
            param($Corpus, $Files)
            Import-Module BitTorrent
            foreach ($f in $Files) {
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $err = $null; $thrown = $null; $info = $null
                try { $info = Get-TorrentInfo -LiteralPath (Join-Path $Corpus $f) -ErrorAction SilentlyContinue -ErrorVariable err }
                catch { $thrown = $_ }
                [pscustomobject]@{ File = $f; Info = @($info); Errors = @($err); Thrown = $thrown; Ms = $watch.ElapsedMilliseconds }
            }
        }).AddArgument($Corpus).AddArgument([string[]]$Manifest.File)
    $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
    $script:CorpusFinished = $handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($CorpusTimeoutSec))
    $script:CorpusSeconds = $watch.Elapsed.TotalSeconds
    if ($CorpusFinished) { $null = $ps.EndInvoke($handle); $ps.Dispose() } else { $null = $ps.BeginStop($null, $null) }
    $script:Results = @{}
    foreach ($r in $output) { $Results[$r.File] = $r }

    $script:InvalidTorrentId = 'InvalidTorrentFile,BitTorrent.PowerShell.Commands.GetTorrentInfoCommand'
    $script:ReservedStem = '^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9\u00B9\u00B2\u00B3]|LPT[0-9\u00B9\u00B2\u00B3])$'

    # What is unsafe about one path element (the answers are cached: big torrents repeat their folder names).
    $script:ElementProblems = [Collections.Generic.Dictionary[string, string]]::new([StringComparer]::Ordinal)
    function Get-ElementProblem([string] $e) {
        $known = $null
        if ($ElementProblems.TryGetValue($e, [ref]$known)) { return $known }
        $problem = if ($e -eq '') { 'empty element' }
        elseif ([string]::Equals($e, '.', [StringComparison]::Ordinal) -or [string]::Equals($e, '..', [StringComparison]::Ordinal)) { "'$e' element" }
        elseif ($e -match '[\x00-\x1F\x7F<>:"|?*\\]') { "reserved character in '$e'" }
        elseif ($e -match '[. ]$') { "trailing dot or space in '$e'" }
        elseif ($e.Split('.')[0].TrimEnd(' ') -match $ReservedStem) { "device name '$e'" }
        elseif ([Text.Encoding]::UTF8.GetByteCount($e) -gt 250) { "element of $([Text.Encoding]::UTF8.GetByteCount($e)) bytes (with .part over 255)" }
        else { '' }
        $ElementProblems[$e] = $problem
        $problem
    }

    # What is unsafe about one sanitized path (nothing when it is safe). The folders' elements are checked once per
    # folder: a torrent of 20 000 files 90 folders deep would otherwise take half a minute here.
    $script:CheckedFolders = [Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
    function Get-PathProblem([string] $Path) {
        if ([string]::IsNullOrEmpty($Path)) { return 'empty path' }
        if ($Path.StartsWith('/') -or [IO.Path]::IsPathRooted($Path)) { 'rooted' }
        if ($Path.Contains('\')) { 'backslash' }
        $slash = $Path.LastIndexOf('/')
        $elements = if ($slash -gt 0 -and -not $CheckedFolders.Add($Path.Substring(0, $slash))) { , $Path.Substring($slash + 1) } else { $Path.Split('/') }
        foreach ($e in $elements) { $p = Get-ElementProblem $e; if ($p) { $p } }
        if ($Path.Split('/', 2)[0] -ieq '.bittorrent') { 'takes the resume-record folder' }
        $root = '/sandbox/destination'
        $full = [IO.Path]::GetFullPath([IO.Path]::Combine($root, $Path))
        if (-not $full.StartsWith("$root/", [StringComparison]::Ordinal)) { "resolves to $full" }
    }

    # Problems of a whole torrent: each file's path, and clashes between files (case-insensitively, as on Windows and
    # macOS), including a file taking another's working name "<name>.part" or a folder another file needs.
    function Get-TorrentProblem($Info) {
        $paths = [string[]]@(foreach ($f in $Info.Files) { if (-not $f.IsPadding) { $f.SanitizedPath } })
        foreach ($p in $paths) { foreach ($problem in Get-PathProblem $p) { "${p}: $problem" } }
        $files = [Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
        $folders = [Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
        foreach ($p in $paths) {
            if (-not $files.Add($p)) { "${p}: two files share it" }
            # Every ancestor folder, from the nearest up; stop at one already known (its ancestors are too).
            for ($i = $p.LastIndexOf('/'); $i -gt 0; $i = $p.LastIndexOf('/', $i - 1)) { if (-not $folders.Add($p.Substring(0, $i))) { break } }
        }
        foreach ($p in $paths) {
            if ($folders.Contains($p)) { "${p}: a file where another file needs a folder" }
            if ($files.Contains("$p.part") -or $folders.Contains("$p.part")) { "${p}: its working name $p.part is taken" }
        }
        if ($Info.InfoHash -notmatch '^[0-9a-f]{40}$') { "info-hash '$($Info.InfoHash)'" }
    }

    # Checks one result against the rules; returns the problems (empty: fine).
    function Get-ResultProblem($Result, $Case) {
        if ($null -eq $Result) { return 'no result (the corpus run did not reach it)' }
        if ($Result.Thrown) { return "threw $($Result.Thrown.Exception.GetType().FullName): $($Result.Thrown)" }
        $accepted = $Result.Info.Count -eq 1 -and $null -ne $Result.Info[0]
        if ($accepted -and $Result.Errors.Count -gt 0) { return "a result and $($Result.Errors.Count) error(s)" }
        if (-not $accepted) {
            if ($Result.Errors.Count -ne 1) { return "$($Result.Errors.Count) errors and no result" }
            $e = $Result.Errors[0]
            if ($e.FullyQualifiedErrorId -ne $InvalidTorrentId) { return "error id $($e.FullyQualifiedErrorId)" }
            if ($e.Exception -isnot [BitTorrent.Metainfo.TorrentFormatException]) { return "exception $($e.Exception.GetType().FullName)" }
            if ($e.CategoryInfo.Category -ne 'InvalidData') { return "category $($e.CategoryInfo.Category)" }
            if ($Case.Expect -eq 'Accepted') { return "rejected ($($e.Exception.Error)): $($e.Exception.Message)" }
            if ($Case.Error -and "$($e.Exception.Error)" -ne $Case.Error) { return "rejected as $($e.Exception.Error), not $($Case.Error): $($e.Exception.Message)" }
            return
        }
        if ($Case.Expect -eq 'Rejected') { return "accepted, but it must be rejected as $($Case.Error)" }
        Get-TorrentProblem $Result.Info[0]
    }

    # Every file and folder under a root, as full paths.
    function Get-Tree([string] $Root) {
        @(Get-ChildItem -LiteralPath $Root -Recurse -Force -ErrorAction SilentlyContinue | ForEach-Object FullName | Sort-Object)
    }
}

AfterAll {
    Stop-InteropProcess
}

Describe 'The hostile torrent corpus' {
    It 'has at least 300 files, among them more than 100 crafted cases, and is the same on every run' {
        $Manifest.Count | Should -BeGreaterOrEqual 300
        @($Manifest | Where-Object Kind -EQ 'Crafted').Count | Should -BeGreaterThan 100
        @(Get-ChildItem -LiteralPath $Corpus -Filter *.torrent).Count | Should -Be $Manifest.Count
        $again = Join-Path $TestDrive 'corpus-again'
        $null = & $Generator -OutputPath $again
        foreach ($m in $Manifest) {
            (Get-FileHash -LiteralPath (Join-Path $again $m.File)).Hash | Should -BeExactly (Get-FileHash -LiteralPath (Join-Path $Corpus $m.File)).Hash -Because "$($m.File) is deterministic"
        }
        Remove-Item -LiteralPath $again -Recurse -Force
    }

    It 'is read by Get-TorrentInfo in bounded time: all of it within 120 s, no file over 10 s' {
        $CorpusFinished | Should -BeTrue -Because "the run stopped after $([int]$CorpusSeconds) s at $(@($Results.Keys).Count) of $($Manifest.Count) files"
        $slow = @($Results.Values | Where-Object Ms -GT 10000 | ForEach-Object { "$($_.File): $($_.Ms) ms" })
        $slow | Should -BeNullOrEmpty
    }
}

Describe 'Get-TorrentInfo on crafted case <Case.Name>' -ForEach $CraftedCases {
    It '<Case.Description>: <Case.Expect> <Case.Error>' {
        $problems = @(Get-ResultProblem $Results[$Case.File] $Case)
        $problems | Should -BeNullOrEmpty
    }
}

Describe 'Get-TorrentInfo on truncated and mutated torrents' {
    It 'rejects every truncated torrent as InvalidBencoding (bencode is prefix-free)' {
        $cases = @($Manifest | Where-Object Kind -EQ 'Truncated')
        $cases.Count | Should -BeGreaterOrEqual 50
        $problems = @(foreach ($c in $cases) { foreach ($p in Get-ResultProblem $Results[$c.File] $c) { "$($c.File): $p" } })
        $problems | Should -BeNullOrEmpty
    }

    It 'accepts a mutated torrent only with safe paths, and otherwise writes InvalidTorrentFile' {
        $cases = @($Manifest | Where-Object Kind -EQ 'Mutated')
        $cases.Count | Should -BeGreaterOrEqual 200
        $problems = @(foreach ($c in $cases) { foreach ($p in Get-ResultProblem $Results[$c.File] $c) { "$($c.File) ($($c.Description)): $p" } })
        $problems | Should -BeNullOrEmpty
        # The mutations reach both outcomes (a corpus that only hits the first check of the parser tests little).
        $accepted = @($cases | Where-Object { $Results[$_.File].Info.Count -eq 1 }).Count
        $accepted | Should -BeGreaterThan 10
        $accepted | Should -BeLessThan ($cases.Count - 10)
        $kinds = @($cases | ForEach-Object { $Results[$_.File].Errors } | ForEach-Object { $_.Exception.Error } | Sort-Object -Unique)
        $kinds.Count | Should -BeGreaterOrEqual 4 -Because "rejections of several kinds ($($kinds -join ', '))"
    }
}

Describe 'ConvertFrom-Bencode on the corpus' {
    It 'decodes each file or writes InvalidBencode, nothing else' {
        $problems = @(foreach ($m in $Manifest) {
                $err = $null
                try { $null = ConvertFrom-Bencode -LiteralPath (Join-Path $Corpus $m.File) -ErrorAction SilentlyContinue -ErrorVariable err }
                catch { "$($m.File): threw $_"; continue }
                foreach ($e in $err) {
                    if ($e.FullyQualifiedErrorId -ne 'InvalidBencode,BitTorrent.PowerShell.Commands.ConvertFromBencodeCommand') { "$($m.File): $($e.FullyQualifiedErrorId)" }
                }
                # Whatever Get-TorrentInfo calls invalid bencode, the decoder must refuse too, and the other way round.
                $parserSaysBencode = $Results[$m.File].Errors.Count -eq 1 -and "$($Results[$m.File].Errors[0].Exception.Error)" -eq 'InvalidBencoding'
                if ($parserSaysBencode -ne ($err.Count -gt 0) -and "$($Results[$m.File].Errors.Exception.Error)" -ne 'FileTooLarge') {
                    "$($m.File): Get-TorrentInfo says invalid bencode = $parserSaysBencode, ConvertFrom-Bencode errors = $($err.Count)"
                }
            })
        $problems | Should -BeNullOrEmpty
    }
}

Describe 'Test-Torrent on the whole corpus, with no data' {
    BeforeAll {
        $script:CheckSandbox = Join-Path $TestDrive 'sandbox-check'
        $script:CheckData = Join-Path $CheckSandbox 'data'
        $null = New-Item -ItemType Directory -Path $CheckData
        $script:Checks = @{}
        $script:SlowestCheck = 0
        $watch = [Diagnostics.Stopwatch]::StartNew()
        foreach ($m in $Manifest) {
            $one = [Diagnostics.Stopwatch]::StartNew()
            $err = $null
            $r = Test-Torrent -LiteralPath (Join-Path $Corpus $m.File) -DataPath $CheckData -ErrorAction SilentlyContinue -ErrorVariable err
            $Checks[$m.File] = [pscustomobject]@{ Result = @($r); Errors = @($err) }
            $SlowestCheck = [Math]::Max($SlowestCheck, $one.Elapsed.TotalSeconds)
        }
        $script:CheckSeconds = $watch.Elapsed.TotalSeconds
    }

    It 'checks all of it within 300 s, no file over 30 s (a missing 4 TiB file of 256 MiB pieces took an hour)' {
        $CheckSeconds | Should -BeLessThan 300
        $SlowestCheck | Should -BeLessThan 30
    }

    It 'writes InvalidTorrentFile for exactly the torrents Get-TorrentInfo rejects, and reports every piece of the others missing' {
        $problems = @(foreach ($m in $Manifest) {
                $c = $Checks[$m.File]
                $accepted = $Results[$m.File].Info.Count -eq 1
                if (-not $accepted) {
                    if ($c.Result.Count -ne 0 -or $c.Errors.Count -ne 1 -or $c.Errors[0].FullyQualifiedErrorId -ne 'InvalidTorrentFile,BitTorrent.PowerShell.Commands.TestTorrentCommand') {
                        "$($m.File): rejected by Get-TorrentInfo, but Test-Torrent gave $($c.Result.Count) result(s) and errors: $($c.Errors.FullyQualifiedErrorId -join ', ')"
                    }
                    continue
                }
                if ($c.Errors.Count -ne 0 -or $c.Result.Count -ne 1) { "$($m.File): $($c.Result.Count) result(s), errors: $($c.Errors.FullyQualifiedErrorId -join ', ')"; continue }
                $r = $c.Result[0]
                if ($r.InfoHash -ne $Results[$m.File].Info[0].InfoHash) { "$($m.File): info-hash $($r.InfoHash)" }
                if ($r.IsComplete -or $r.ValidPieces -ne 0 -or $r.CorruptPieces -ne 0 -or $r.MissingPieces -ne $r.PieceCount) {
                    "$($m.File): $($r.Pieces) with no data at all"
                }
            })
        $problems | Should -BeNullOrEmpty
    }

    It 'creates nothing, anywhere in its sandbox' {
        @(Get-ChildItem -LiteralPath $CheckSandbox -Recurse -Force | ForEach-Object FullName) | Should -Be @($CheckData)
    }
}

Describe 'Start-TorrentDownload on the whole corpus, with no peers' {
    BeforeAll {
        $script:Sandbox = Join-Path $TestDrive 'sandbox-all'
        $script:AllDestination = Join-Path $Sandbox 'one/two/three/destination'
        $null = New-Item -ItemType Directory -Path $AllDestination
        $script:SandboxBefore = Get-Tree $Sandbox
        $err = $null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $script:AllResults = @(Get-ChildItem -LiteralPath $Corpus -Filter *.torrent |
                Start-TorrentDownload -DestinationPath $AllDestination -NoTracker -TimeoutSec 1 -ThrottleLimit 64 -ErrorAction SilentlyContinue -ErrorVariable err -WarningAction SilentlyContinue -WarningVariable warn)
        $script:AllSeconds = $watch.Elapsed.TotalSeconds
        $script:AllErrors = @($err)
        $script:AllWarnings = @($warn)
    }

    It 'reports every rejected torrent as InvalidTorrentFile and every accepted one as NoPeersAvailable, within 120 s' {
        $AllSeconds | Should -BeLessThan 120
        $acceptedFiles = @($Results.Values | Where-Object { $_.Info.Count -eq 1 }).Count
        $rejected = $Manifest.Count - $acceptedFiles
        # Mutations can yield the same info dictionary twice: a batch takes each torrent once per destination and
        # warns about the repeats (two runs would write the same files).
        $accepted = @($Results.Values | Where-Object { $_.Info.Count -eq 1 } | ForEach-Object { $_.Info[0].InfoHash } | Sort-Object -Unique).Count
        @($AllWarnings | Where-Object { "$_" -like '*is already in this batch*' }).Count | Should -Be ($acceptedFiles - $accepted)
        $ids = $AllErrors | Group-Object FullyQualifiedErrorId -NoElement | ForEach-Object { "$($_.Name)=$($_.Count)" }
        @($AllErrors | Where-Object FullyQualifiedErrorId -EQ 'InvalidTorrentFile,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand').Count | Should -Be $rejected -Because ($ids -join ', ')
        @($AllErrors | Where-Object FullyQualifiedErrorId -EQ 'NoPeersAvailable,BitTorrent.PowerShell.Commands.StartTorrentDownloadCommand').Count | Should -Be $accepted -Because ($ids -join ', ')
        $AllErrors.Count | Should -Be ($rejected + $accepted)
        @($AllResults | Where-Object Status -NE 'Failed').Count | Should -Be 0
    }

    It 'creates nothing outside the destination' {
        $after = Get-Tree $Sandbox
        $outside = @($after | Where-Object { $_ -notin $SandboxBefore -and -not $_.StartsWith("$AllDestination/") })
        $outside | Should -BeNullOrEmpty
        foreach ($item in Get-ChildItem -LiteralPath $AllDestination -Recurse -Force) {
            $item.LinkType | Should -BeNullOrEmpty -Because "$($item.FullName) is not a link"
            if ($item -is [IO.FileInfo] -and $item.Directory.Name -ne '.bittorrent') { $item.Length | Should -Be 0 -Because "$($item.FullName): no data came, only empty files are made" }
        }
    }
}

Describe 'Downloading seeded hostile-path torrents' -Tag 'Interop' {
    BeforeAll {
        $script:Seedable = @($Manifest | Where-Object { $_.Seedable -and $Results[$_.File].Info.Count -eq 1 })
        # Torrents whose top-level names clash (".." and "" both become "_") cannot share a folder: they go into
        # groups, each with its own seeder, seed folder and destination.
        $groups = [Collections.Generic.List[object]]::new()
        foreach ($case in $Seedable) {
            $info = $Results[$case.File].Info[0]
            $top = $info.Files[0].SanitizedPath.Split('/')[0]
            $group = $groups | Where-Object { -not $_.Tops.Contains($top) -and -not $_.Tops.Contains("$top.part") -and -not $_.Tops.Contains(($top -replace '\.part$', '')) } | Select-Object -First 1
            if (-not $group) {
                $group = [pscustomobject]@{ Index = $groups.Count; Tops = [Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase); Cases = [Collections.Generic.List[object]]::new() }
                $groups.Add($group)
            }
            $null = $group.Tops.Add($top)
            $group.Cases.Add($case)
        }
        $script:Groups = $groups

        # The seeders' data: each file's bytes, cut from the payload at the file's offset, at its sanitized path.
        $script:Sandbox = Join-Path $TestDrive 'sandbox'
        $logs = Join-Path $TestDrive 'logs'
        $null = New-Item -ItemType Directory -Path $Sandbox, $logs
        foreach ($g in $Groups) {
            $g | Add-Member SeedDir (Join-Path $TestDrive "seed-$($g.Index)")
            $g | Add-Member Destination (Join-Path $Sandbox "group-$($g.Index)/a/b/c/destination")
            $null = New-Item -ItemType Directory -Path $g.SeedDir, $g.Destination
            foreach ($case in $g.Cases) {
                $info = $Results[$case.File].Info[0]
                $payload = [IO.File]::ReadAllBytes((Join-Path $Corpus $case.Payload))
                foreach ($f in $info.Files) {
                    if ($f.IsPadding) { continue }
                    $path = Join-Path $g.SeedDir $f.SanitizedPath
                    $null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $path)
                    $bytes = [byte[]]::new($f.Length)
                    [Array]::Copy($payload, $f.Offset, $bytes, 0, $f.Length)
                    [IO.File]::WriteAllBytes($path, $bytes)
                }
            }
            $torrents = @($g.Cases | ForEach-Object { Join-Path $Corpus $_.File })
            $g | Add-Member Seeder (Start-ModuleSeeder -TorrentPath $torrents -DataPath $g.SeedDir -LogDir $logs -Name "seed-$($g.Index)")
        }

        # Names a climbing or absolute path would have produced outside the sandbox, to look for afterwards.
        $script:EscapeNames = @($Seedable | ForEach-Object { $Results[$_.File].Info[0].Files } | ForEach-Object {
                $_.PathSegments[-1]; ($_.PathSegments[-1] -split '[/\\]')[-1] } | Where-Object { $_ -match '^[\w.-]+$' -and $_ -notmatch '^\.+$' } | Sort-Object -Unique)
        $script:Outside = @('/', '/tmp', (Split-Path -Parent $TestDrive), $TestDrive) | Sort-Object -Unique
        $script:OutsideBefore = @{}
        foreach ($dir in $Outside) { $OutsideBefore[$dir] = @(Get-ChildItem -LiteralPath $dir -Force -Name -ErrorAction SilentlyContinue) }
        $script:SandboxBefore = Get-Tree $Sandbox

        $script:Downloads = @{}
        $script:DownloadErrors = @()
        foreach ($g in $Groups) {
            $err = $null
            $torrents = @($g.Cases | ForEach-Object { Join-Path $Corpus $_.File })
            $downloaded = @(Start-TorrentDownload -LiteralPath $torrents -DestinationPath $g.Destination -Peer $g.Seeder.EndPoint -NoTracker `
                    -TimeoutSec 30 -ThrottleLimit 64 -ErrorAction SilentlyContinue -ErrorVariable err)
            foreach ($d in $downloaded) { $Downloads[$d.InfoHash] = $d }
            $script:DownloadErrors += @($err)
        }
    }

    It 'seeds and downloads at least 50 path attacks in a few groups' {
        $Seedable.Count | Should -BeGreaterOrEqual 50
        $Groups.Count | Should -BeLessOrEqual 8
    }

    It 'completes every download without an error' {
        $DownloadErrors | ForEach-Object { "$($_.FullyQualifiedErrorId) for $($_.TargetObject): $($_.Exception)" } | Should -BeNullOrEmpty
        foreach ($case in $Seedable) {
            $info = $Results[$case.File].Info[0]
            $Downloads[$info.InfoHash].Status | Should -Be 'Completed' -Because $case.Name
        }
    }

    It 'writes every file at its sanitized path inside the destination, with the content the torrent describes' {
        $problems = @(foreach ($g in $Groups) {
                foreach ($case in $g.Cases) {
                    $info = $Results[$case.File].Info[0]
                    $payload = [IO.File]::ReadAllBytes((Join-Path $Corpus $case.Payload))
                    foreach ($f in $info.Files) {
                        $path = Join-Path $g.Destination $f.SanitizedPath
                        if ($f.IsPadding) { if (Test-Path -LiteralPath $path) { "$($case.Name): padding file $path was created" }; continue }
                        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { "$($case.Name): $($f.SanitizedPath) is missing"; continue }
                        $bytes = [IO.File]::ReadAllBytes($path)
                        $expected = [byte[]]::new($f.Length)
                        [Array]::Copy($payload, $f.Offset, $expected, 0, $f.Length)
                        if (-not [Linq.Enumerable]::SequenceEqual($bytes, $expected)) { "$($case.Name): $($f.SanitizedPath) differs from the torrent's content" }
                    }
                }
            })
        $problems | Should -BeNullOrEmpty
    }

    It 'leaves in each destination only the torrents'' files and the resume records, and no links' {
        foreach ($g in $Groups) {
            $expected = [Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
            foreach ($case in $g.Cases) {
                foreach ($f in $Results[$case.File].Info[0].Files) { if (-not $f.IsPadding) { $null = $expected.Add((Join-Path $g.Destination $f.SanitizedPath)) } }
            }
            foreach ($item in Get-ChildItem -LiteralPath $g.Destination -Recurse -Force -File) {
                $item.LinkType | Should -BeNullOrEmpty
                if ($item.FullName.StartsWith((Join-Path $g.Destination '.bittorrent/'))) { $item.Name | Should -Match '^[0-9a-f]{40}\.resume$'; continue }
                $expected.Contains($item.FullName) | Should -BeTrue -Because "$($item.FullName) belongs to a torrent"
            }
        }
    }

    It 'creates nothing outside the destinations: not in the sandbox, not in /, /tmp or the test folder' {
        $after = Get-Tree $Sandbox
        $destinations = @($Groups | ForEach-Object Destination)
        $outside = @($after | Where-Object { $p = $_; $_ -notin $SandboxBefore -and -not ($destinations | Where-Object { $p.StartsWith("$_/") -or $p -eq $_ }) })
        $outside | Should -BeNullOrEmpty
        $escaped = @(foreach ($dir in $Outside) {
                $new = @(Get-ChildItem -LiteralPath $dir -Force -Name -ErrorAction SilentlyContinue | Where-Object { $_ -notin $OutsideBefore[$dir] })
                $new | Where-Object { $_ -in $EscapeNames -or $_ -like '*escape*' } | ForEach-Object { Join-Path $dir $_ }
            })
        $escaped | Should -BeNullOrEmpty
        $EscapeNames | Should -Contain 'escaped.txt' -Because 'the names looked for include the climbing ones'
    }
}
