<#
    The module manifest as the gallery and admins read it: Test-ModuleManifest clean, project, licence and help links
    on one repository base, release notes that name what the module exports, and every help page's online link.
#>

BeforeDiscovery {
    $script:Pages = @(Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot '../../docs/help') -Filter '*-*.md' | ForEach-Object { @{ Name = $_.BaseName; Path = $_.FullName } })
}

BeforeAll {
    Import-Module BitTorrent
    $script:Module = Get-Module BitTorrent
    $script:ManifestPath = Join-Path $Module.ModuleBase 'BitTorrent.psd1'
    $script:Data = Import-PowerShellDataFile -LiteralPath $ManifestPath
    $script:RepositoryBase = 'https://github.com/bittorrent-powershell/BitTorrent'
    $script:RepoRoot = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../..')).ProviderPath
}

Describe 'BitTorrent.psd1' {
    It 'passes Test-ModuleManifest without an error or a warning' {
        $m = Test-ModuleManifest -Path $ManifestPath -ErrorVariable problems -WarningVariable warnings -ErrorAction SilentlyContinue
        $problems | Should -BeNullOrEmpty
        $warnings | Should -BeNullOrEmpty
        $m.Name | Should -Be 'BitTorrent'
    }

    It 'has ProjectUri, LicenseUri and HelpInfoUri on the repository' {
        $m = Test-ModuleManifest -Path $ManifestPath
        "$($m.ProjectUri)" | Should -Be $RepositoryBase
        "$($m.LicenseUri)" | Should -Be "$RepositoryBase/blob/main/LICENSE"
        $m.HelpInfoUri | Should -Be "$RepositoryBase/tree/main/docs/help"
    }

    It 'ships the MIT LICENSE the LicenseUri names, in the repository and in the module folder' {
        foreach ($path in (Join-Path $RepoRoot 'LICENSE'), (Join-Path $Module.ModuleBase 'LICENSE')) {
            $text = Get-Content -LiteralPath $path -Raw
            $text | Should -Match '^MIT License'
            $text | Should -Match 'BitTorrent for PowerShell contributors'
        }
    }

    It 'exports exactly the cmdlets it lists, and its release notes name each of them' {
        $exported = @($Module.ExportedCmdlets.Keys | Sort-Object)
        @($Data.CmdletsToExport | Sort-Object) | Should -Be $exported
        $notes = $Data.PrivateData.PSData.ReleaseNotes
        foreach ($name in $exported) { $notes | Should -Match ([regex]::Escape($name)) -Because "the release notes must describe $name" }
        $notes | Should -Match ([regex]::Escape($Data.ModuleVersion))
    }
}

Describe 'Online help link of <Name>' -ForEach $Pages {
    It 'is <RepositoryBase>/blob/main/docs/help/<Name>.md in the page and is what Get-Help -Online opens' {
        $expected = "$RepositoryBase/blob/main/docs/help/$Name.md"
        $front = (Get-Content -LiteralPath $Path -TotalCount 8) -match '^online version:'
        $front | Should -Be "online version: $expected"
        # Get-Help -Online opens the first related link's URI.
        $first = @((Get-Help $Name -Full).relatedLinks.navigationLink)[0]
        $first.uri | Should -Be $expected
    }
}
