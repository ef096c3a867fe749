<#
    What can be checked here (Linux, PowerShell 7) of the module's Windows PowerShell 5.1 / .NET Framework claim: the
    dlls it ships are all netstandard2.0 (or .NET Framework) builds, reference only netstandard, each other and
    System.Management.Automation, and reference each other at exactly the versions shipped. Windows PowerShell loads
    a module's dlls without binding redirects, so a reference to another version of a shipped dll (say
    Microsoft.Bcl.AsyncInterfaces 10.0.0.5 when 10.0.0.8 is in the folder) is a FileLoadException there the first
    time that code runs, even though PowerShell 7 loads it happily. The module was not run on Windows here: see the
    README's Windows section for what that leaves open.
#>

BeforeDiscovery {
    Import-Module BitTorrent
    $script:Dlls = @(Get-ChildItem -LiteralPath (Get-Module BitTorrent).ModuleBase -Filter '*.dll' | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } })
}

BeforeAll {
    Import-Module BitTorrent
    $script:Shipped = @{}
    foreach ($file in Get-ChildItem -LiteralPath (Get-Module BitTorrent).ModuleBase -Filter '*.dll') {
        $n = [Reflection.AssemblyName]::GetAssemblyName($file.FullName)
        $Shipped[$n.Name] = $n.Version
    }

    function script:Read-AssemblyFacts([string] $Path) {
        # References and the TargetFramework attribute, read from metadata (nothing is loaded).
        $stream = [IO.File]::OpenRead($Path)
        try {
            $pe = [System.Reflection.PortableExecutable.PEReader]::new($stream)
            $md = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
            $references = foreach ($h in $md.AssemblyReferences) {
                $r = $md.GetAssemblyReference($h)
                [pscustomobject]@{ Name = $md.GetString($r.Name); Version = $r.Version }
            }
            $framework = $null
            foreach ($h in $md.GetAssemblyDefinition().GetCustomAttributes()) {
                $attribute = $md.GetCustomAttribute($h)
                if ($attribute.Constructor.Kind -ne [System.Reflection.Metadata.HandleKind]::MemberReference) { continue }
                $ctor = $md.GetMemberReference([System.Reflection.Metadata.MemberReferenceHandle]$attribute.Constructor)
                if ($ctor.Parent.Kind -ne [System.Reflection.Metadata.HandleKind]::TypeReference) { continue }
                $type = $md.GetTypeReference([System.Reflection.Metadata.TypeReferenceHandle]$ctor.Parent)
                if ($md.GetString($type.Name) -ne 'TargetFrameworkAttribute') { continue }
                $blob = $md.GetBlobReader($attribute.Value)
                $null = $blob.ReadUInt16()   # prolog 0x0001
                $framework = $blob.ReadSerializedString()
            }
            [pscustomobject]@{ References = @($references); TargetFramework = $framework }
        }
        finally { $stream.Dispose() }
    }
}

Describe '<Name> in the module folder' -ForEach $Dlls {
    BeforeAll { $facts = Read-AssemblyFacts $Path }

    It 'is a netstandard2.0 or .NET Framework build' {
        if ($null -eq $facts.TargetFramework) {
            # An IL-assembled dll (System.Runtime.CompilerServices.Unsafe) has no TargetFramework attribute: its
            # references say what it is built against.
            @($facts.References | Where-Object { $_.Name -eq 'netstandard' -and $_.Version -eq [version]'2.0.0.0' }) | Should -HaveCount 1
            @($facts.References | Where-Object { $_.Name -in 'System.Runtime', 'System.Private.CoreLib' }) | Should -BeNullOrEmpty
            return
        }
        $facts.TargetFramework | Should -BeIn @('.NETStandard,Version=v2.0', '.NETFramework,Version=v4.6.2', '.NETFramework,Version=v4.6.1', '.NETFramework,Version=v4.7.2', '.NETFramework,Version=v4.8') -Because "$Name targets $($facts.TargetFramework)"
    }

    It 'references only netstandard, System.Management.Automation and the dlls shipped beside it, at their exact versions' {
        foreach ($r in $facts.References) {
            if ($r.Name -in 'netstandard', 'System.Management.Automation', 'mscorlib') { continue }
            $Shipped.ContainsKey($r.Name) | Should -BeTrue -Because "$Name references $($r.Name) $($r.Version), which the module does not ship"
            $Shipped[$r.Name] | Should -Be $r.Version -Because "$Name references $($r.Name) $($r.Version); Windows PowerShell has no binding redirect to the shipped $($Shipped[$r.Name])"
        }
    }
}

Describe 'The module folder' {
    It 'ships no System.Management.Automation.dll (the host provides it)' {
        $Shipped.ContainsKey('System.Management.Automation') | Should -BeFalse
    }

    It 'references System.Management.Automation no newer than Windows PowerShell 5.1 has (3.0.0.0)' {
        $facts = Read-AssemblyFacts (Join-Path (Get-Module BitTorrent).ModuleBase 'BitTorrent.PowerShell.dll')
        ($facts.References | Where-Object Name -EQ 'System.Management.Automation').Version | Should -Be ([version]'3.0.0.0')
    }
}
