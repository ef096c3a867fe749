# Help is part of the product: every exported cmdlet has real help, generated from docs/help by tools/Build-Help.ps1.
BeforeDiscovery {
    Import-Module BitTorrent -Force
    $script:commands = @(Get-Command -Module BitTorrent -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    Import-Module BitTorrent -Force
    $script:common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Help for <Name>' -ForEach $commands {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'has a synopsis that is not generated from the syntax' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*\w+-\w+ \['
    }

    It 'has a description' {
        ($help.Description.Text -join "`n") | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code and remarks' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        foreach ($example in $help.Examples.Example) {
            $example.Code | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }

    It 'documents every parameter, with metadata that matches the cmdlet' {
        $documented = @{}
        foreach ($p in $help.Parameters.Parameter) { $documented[$p.Name] = $p }
        foreach ($parameter in $command.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            $documented.ContainsKey($parameter.Name) | Should -BeTrue -Because "-$($parameter.Name) must be in the help"
            $doc = $documented[$parameter.Name]
            ($doc.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
            $mandatory = @($parameter.ParameterSets.Values | Where-Object { -not $_.IsMandatory }).Count -eq 0
            $doc.Required | Should -Be $mandatory.ToString().ToLowerInvariant() -Because "-$($parameter.Name) Required must match the code"
            $byValue = @($parameter.ParameterSets.Values | Where-Object ValueFromPipeline).Count -gt 0
            $byName = @($parameter.ParameterSets.Values | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
            $doc.PipelineInput -match 'ByValue' | Should -Be $byValue -Because "-$($parameter.Name) pipeline input must match the code"
            $doc.PipelineInput -match 'ByPropertyName' | Should -Be $byName
        }
        foreach ($name in $documented.Keys) {
            $command.Parameters.ContainsKey($name) | Should -BeTrue -Because "the help documents -$name"
        }
    }

    It 'shows its examples in Get-Help -Full' {
        $text = Get-Help $Name -Full | Out-String -Width 200
        $text | Should -Match 'EXAMPLE 1|Example 1'
        $text | Should -Match ([regex]::Escape($Name))
    }
}

Describe 'about_BitTorrent' {
    It 'is found by Get-Help and explains the module' {
        $text = Get-Help about_BitTorrent | Out-String
        $text | Should -Match 'SanitizedPath'
        $text | Should -Match 'info-hash'
    }
}
