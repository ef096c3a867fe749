<#
.SYNOPSIS
    Turns the platyPS-schema markdown in docs/help into the MAML file Get-Help reads, and about_*.md into
    about_*.help.txt. platyPS itself is not served by the NuGet copy our build machines reach, so this script does
    its job.

.DESCRIPTION
    As platyPS does, prose comes from markdown (synopsis, description, examples, parameter descriptions, inputs,
    outputs, notes, links) and everything that describes the code comes from the compiled cmdlets (syntax per
    parameter set, parameter types, required, position, pipeline input, wildcards, aliases, accepted values), so the
    help can never contradict the binary.

    The build fails when help and code disagree: an exported cmdlet without a page, a page without its cmdlet, a
    missing synopsis, description or example (with code and remarks), an undocumented parameter, or a documented parameter that does not
    exist.

    Page format (platyPS schema 2.0.0): front matter; '# Verb-Noun'; '## SYNOPSIS'; '## SYNTAX' (ignored: generated);
    '## DESCRIPTION'; '## EXAMPLES' with '### Example N: title', a fenced code block and remarks; '## PARAMETERS' with
    '### -Name', a description and a ```yaml block (its 'Default value:' is used; the rest comes from the code);
    '### CommonParameters' (ignored); '## INPUTS' and '## OUTPUTS' with '### Type' and text; '## NOTES';
    '## RELATED LINKS' with '[text](url)' lines.

    It runs in a child pwsh (build.ps1 -Task Help): it loads the module, and a loaded dll cannot be unloaded.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocsPath,
    [string] $Culture = 'en-US'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$PSStyle.OutputRendering = 'PlainText'

# Left out of syntax and parameter lists (Get-Help adds [<CommonParameters>] itself). -WhatIf and -Confirm are kept:
# they belong in the syntax of a cmdlet that supports ShouldProcess, as in PowerShell's own help.
$CommonParameters = [System.Collections.Generic.HashSet[string]]::new([string[]](
        [System.Management.Automation.PSCmdlet]::CommonParameters + @('UseTransaction')),
    [StringComparer]::OrdinalIgnoreCase)
$Ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

#region Markdown reading

function ConvertTo-PlainText {
    <# Inline markdown to the plain text console help shows: code spans, emphasis and links lose their markup. #>
    param([string] $Text)
    $t = $Text -replace '\[([^\]]+)\]\(([^)]+)\)', '$1 ($2)'
    $t = $t -replace '`([^`]*)`', '$1'
    $t = $t -replace '\*\*([^*]+)\*\*', '$1' -replace '(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])', '$1'
    $t
}

function Split-Paragraphs {
    <# Lines → paragraphs: blank lines separate; soft breaks are joined; fenced code and list items stay intact. #>
    param([string[]] $Lines)
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    $flush = {
        if ($current.Count -gt 0) {
            $paragraphs.Add((ConvertTo-PlainText ($current -join ' ')).Trim())
            $current.Clear()
        }
    }
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') {
            & $flush
            if ($inFence) { $paragraphs.Add(($fence -join "`n")); $inFence = $false }
            else { $inFence = $true; $fence = [System.Collections.Generic.List[string]]::new() }
            continue
        }
        if ($inFence) { $fence.Add($line); continue }
        if ($line.Trim() -eq '') { & $flush; continue }
        if ($line -match '^\s*([-*]|\d+\.)\s+' -and $current.Count -gt 0) { & $flush }
        $current.Add($line.Trim())
    }
    & $flush
    , $paragraphs.ToArray()
}

function Read-HelpPage {
    <# Parses one platyPS-schema page into a hashtable of its parts. #>
    param([string] $Path)
    $lines = [System.IO.File]::ReadAllLines($Path)
    $i = 0
    $front = @{}
    if ($lines.Count -gt 0 -and $lines[0] -eq '---') {
        $i = 1
        while ($i -lt $lines.Count -and $lines[$i] -ne '---') {
            if ($lines[$i] -match '^([\w ]+):\s*(.*)$') { $front[$Matches[1].Trim()] = $Matches[2].Trim() }
            $i++
        }
        $i++
    }
    $page = @{ Name = $null; Sections = [ordered]@{}; FrontMatter = $front }
    $section = $null
    $inFence = $false
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^# (.+)$' -and -not $page.Name) { $page.Name = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^## (.+)$') {
            $section = $Matches[1].Trim().ToUpperInvariant()
            $page.Sections[$section] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($section) { $page.Sections[$section].Add($line) }
    }
    $page
}

function Split-Subsections {
    <# '### Title' blocks inside a section: ordered title → lines. #>
    param([string[]] $Lines)
    $result = [ordered]@{}
    $title = $null
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^### (.+)$') {
            $title = $Matches[1].Trim()
            $result[$title] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($title) { $result[$title].Add($line) }
    }
    $result
}

function Get-SectionLines {
    param($Page, [string] $Name)
    if ($Page.Sections.Contains($Name)) { [string[]]$Page.Sections[$Name] } else { [string[]]@() }
}

#endregion

#region MAML writing

function Add-Element {
    param([System.Xml.XmlNode] $Parent, [string] $Prefix, [string] $Name, [string] $Text)
    $doc = if ($Parent -is [System.Xml.XmlDocument]) { $Parent } else { $Parent.OwnerDocument }
    $element = $doc.CreateElement($Prefix, $Name, $Ns[$Prefix])
    if ($PSBoundParameters.ContainsKey('Text')) { $element.InnerText = $Text }
    $null = $Parent.AppendChild($element)
    $element
}

function Add-Paragraphs {
    param([System.Xml.XmlNode] $Parent, [string[]] $Paragraphs)
    $description = Add-Element $Parent 'maml' 'description'
    foreach ($p in $Paragraphs) { $null = Add-Element $description 'maml' 'para' $p }
    $description
}

function Get-PipelineInputText {
    param($Parameter)
    $byValue = $false; $byName = $false
    foreach ($set in $Parameter.ParameterSets.Values) {
        if ($set.ValueFromPipeline) { $byValue = $true }
        if ($set.ValueFromPipelineByPropertyName) { $byName = $true }
    }
    if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' }
    elseif ($byValue) { 'True (ByValue)' }
    elseif ($byName) { 'True (ByPropertyName)' }
    else { 'False' }
}

function Get-AcceptedValues {
    param($Parameter)
    $validateSet = $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    if ($validateSet) { return , [string[]]$validateSet.ValidValues }
    $type = $Parameter.ParameterType
    if ($type.IsArray) { $type = $type.GetElementType() }
    if ($type.IsEnum) { return , [string[]][Enum]::GetNames($type) }
    , [string[]]@()
}

function Add-ParameterElement {
    param([System.Xml.XmlNode] $Parent, $Parameter, [string] $SetName, [string[]] $Description, [string] $DefaultValue, [switch] $InSyntax)
    $element = Add-Element $Parent 'command' 'parameter'
    $sets = if ($SetName) { @($Parameter.ParameterSets[$SetName]) } else { @($Parameter.ParameterSets.Values) }
    $allSets = '__AllParameterSets'
    if (-not $SetName -and $Parameter.ParameterSets.ContainsKey($allSets)) { $sets = @($Parameter.ParameterSets[$allSets]) }
    $required = @($sets | Where-Object { -not $_.IsMandatory }).Count -eq 0
    $positions = @($sets | Where-Object { $_.Position -ge 0 } | ForEach-Object Position)
    $isSwitch = $Parameter.ParameterType -eq [System.Management.Automation.SwitchParameter]
    $globbing = @($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count -gt 0
    $element.SetAttribute('required', $required.ToString().ToLowerInvariant())
    $element.SetAttribute('variableLength', 'true')
    $element.SetAttribute('globbing', $globbing.ToString().ToLowerInvariant())
    $element.SetAttribute('pipelineInput', (Get-PipelineInputText $Parameter))
    $element.SetAttribute('position', $(if ($positions.Count -gt 0) { [string]$positions[0] } else { 'named' }))
    $element.SetAttribute('aliases', $(if ($Parameter.Aliases.Count -gt 0) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $null = Add-Element $element 'maml' 'name' $Parameter.Name
    $null = Add-Paragraphs $element $Description
    $typeName = $Parameter.ParameterType.Name
    $accepted = Get-AcceptedValues $Parameter
    if ($InSyntax -and $accepted.Count -gt 0) {
        $group = Add-Element $element 'command' 'parameterValueGroup'
        foreach ($v in $accepted) {
            $pv = Add-Element $group 'command' 'parameterValue' $v
            $pv.SetAttribute('required', 'false')
            $pv.SetAttribute('variableLength', 'false')
        }
    }
    elseif (-not ($InSyntax -and $isSwitch)) {
        $value = Add-Element $element 'command' 'parameterValue' $typeName
        $value.SetAttribute('required', $(if ($isSwitch) { 'false' } else { 'true' }))
        $value.SetAttribute('variableLength', 'false')
    }
    $type = Add-Element $element 'dev' 'type'
    $null = Add-Element $type 'maml' 'name' $typeName
    $null = Add-Element $type 'maml' 'uri' ''
    $null = Add-Element $element 'dev' 'defaultValue' $(if ($DefaultValue) { $DefaultValue } elseif ($isSwitch) { 'False' } else { 'None' })
}

#endregion

function Get-ParameterDocs {
    <# '### -Name' blocks: description paragraphs and the yaml block's 'Default value'. #>
    param($Page)
    $docs = @{}
    foreach ($entry in (Split-Subsections (Get-SectionLines $Page 'PARAMETERS')).GetEnumerator()) {
        if ($entry.Key -eq 'CommonParameters') { continue }
        $name = $entry.Key.TrimStart('-').Trim()
        $prose = [System.Collections.Generic.List[string]]::new()
        $default = $null
        $inYaml = $false
        foreach ($line in $entry.Value) {
            if ($line -match '^\s*```\s*yaml') { $inYaml = $true; continue }
            if ($inYaml -and $line -match '^\s*```') { $inYaml = $false; continue }
            if ($inYaml) {
                if ($line -match '^Default value:\s*(.*)$') { $default = $Matches[1].Trim() }
                continue
            }
            $prose.Add($line)
        }
        $docs[$name] = @{ Description = (Split-Paragraphs $prose); Default = $default }
    }
    $docs
}

function Add-CommandHelp {
    param([System.Xml.XmlNode] $Root, $Command, $Page, [System.Collections.Generic.List[string]] $Problems)
    $name = $Command.Name
    $synopsis = Split-Paragraphs (Get-SectionLines $Page 'SYNOPSIS')
    $description = Split-Paragraphs (Get-SectionLines $Page 'DESCRIPTION')
    if ($synopsis.Count -eq 0) { $Problems.Add("${name}: the page has no SYNOPSIS.") }
    if ($description.Count -eq 0) { $Problems.Add("${name}: the page has no DESCRIPTION.") }

    $cmd = Add-Element $Root 'command' 'command'
    $details = Add-Element $cmd 'command' 'details'
    $null = Add-Element $details 'command' 'name' $name
    $null = Add-Paragraphs $details $synopsis
    $null = Add-Element $details 'command' 'verb' $Command.Verb
    $null = Add-Element $details 'command' 'noun' $Command.Noun
    $null = Add-Paragraphs $cmd $description

    # Parameters: code is the truth for what exists; markdown must describe each of them.
    $paramDocs = Get-ParameterDocs $Page
    $parameters = @($Command.Parameters.Values | Where-Object { -not $CommonParameters.Contains($_.Name) })
    foreach ($p in $parameters) {
        if ($p.Name -in 'WhatIf', 'Confirm') { continue }
        if (-not $paramDocs.ContainsKey($p.Name) -or $paramDocs[$p.Name].Description.Count -eq 0) {
            $Problems.Add("${name}: parameter -$($p.Name) is not documented (### -$($p.Name) with a description).")
        }
    }
    foreach ($documented in $paramDocs.Keys) {
        if (-not $Command.Parameters.ContainsKey($documented)) {
            $Problems.Add("${name}: the page documents -$documented, which the cmdlet does not have.")
        }
    }
    $describe = {
        param($p)
        if ($paramDocs.ContainsKey($p.Name)) { $paramDocs[$p.Name] }
        elseif ($p.Name -eq 'WhatIf') { @{ Description = @('Shows what would happen if the cmdlet runs. The cmdlet is not run.'); Default = 'False' } }
        elseif ($p.Name -eq 'Confirm') { @{ Description = @('Prompts you for confirmation before running the cmdlet.'); Default = 'False' } }
        else { @{ Description = @(); Default = $null } }
    }

    $syntax = Add-Element $cmd 'command' 'syntax'
    $defaultSet = $Command.DefaultParameterSet
    $sets = @($Command.ParameterSets | Sort-Object { if ($_.Name -eq $defaultSet) { 0 } else { 1 } }, Name)
    foreach ($set in $sets) {
        $item = Add-Element $syntax 'command' 'syntaxItem'
        $null = Add-Element $item 'maml' 'name' $name
        $inSet = @($set.Parameters | Where-Object { -not $CommonParameters.Contains($_.Name) } |
                Sort-Object { if ($_.Position -ge 0) { $_.Position } else { [int]::MaxValue } }, { -not $_.IsMandatory }, Name)
        foreach ($sp in $inSet) {
            $p = $Command.Parameters[$sp.Name]
            $d = & $describe $p
            $setKey = if ($p.ParameterSets.ContainsKey($set.Name)) { $set.Name } else { '__AllParameterSets' }
            Add-ParameterElement $item $p $setKey $d.Description $d.Default -InSyntax
        }
    }

    $paramsElement = Add-Element $cmd 'command' 'parameters'
    foreach ($p in $parameters | Sort-Object Name) {
        $d = & $describe $p
        Add-ParameterElement $paramsElement $p $null $d.Description $d.Default
    }

    $inputs = Add-Element $cmd 'command' 'inputTypes'
    foreach ($entry in (Split-Subsections (Get-SectionLines $Page 'INPUTS')).GetEnumerator()) {
        $it = Add-Element $inputs 'command' 'inputType'
        $type = Add-Element $it 'dev' 'type'
        $null = Add-Element $type 'maml' 'name' (ConvertTo-PlainText $entry.Key)
        $null = Add-Paragraphs $it (Split-Paragraphs $entry.Value)
    }
    $outputs = Add-Element $cmd 'command' 'returnValues'
    foreach ($entry in (Split-Subsections (Get-SectionLines $Page 'OUTPUTS')).GetEnumerator()) {
        $rv = Add-Element $outputs 'command' 'returnValue'
        $type = Add-Element $rv 'dev' 'type'
        $null = Add-Element $type 'maml' 'name' (ConvertTo-PlainText $entry.Key)
        $null = Add-Paragraphs $rv (Split-Paragraphs $entry.Value)
    }

    $notes = Split-Paragraphs (Get-SectionLines $Page 'NOTES')
    if ($notes.Count -gt 0) {
        $alertSet = Add-Element $cmd 'maml' 'alertSet'
        $alert = Add-Element $alertSet 'maml' 'alert'
        foreach ($n in $notes) { $null = Add-Element $alert 'maml' 'para' $n }
    }

    $examples = Add-Element $cmd 'command' 'examples'
    $exampleCount = 0
    foreach ($entry in (Split-Subsections (Get-SectionLines $Page 'EXAMPLES')).GetEnumerator()) {
        $code = [System.Collections.Generic.List[string]]::new()
        $remarks = [System.Collections.Generic.List[string]]::new()
        $inFence = $false
        $block = [System.Collections.Generic.List[string]]::new()
        foreach ($line in $entry.Value) {
            if ($line -match '^\s*```') {
                if ($inFence) { $code.Add(($block -join "`n")); $block.Clear() }
                $inFence = -not $inFence
                continue
            }
            if ($inFence) { $block.Add($line) } else { $remarks.Add($line) }
        }
        if ($code.Count -eq 0) { $Problems.Add("${name}: example '$($entry.Key)' has no code block."); continue }
        $exampleCount++
        $example = Add-Element $examples 'command' 'example'
        $null = Add-Element $example 'maml' 'title' ("-------------------------- $($entry.Key) --------------------------")
        $null = Add-Element $example 'dev' 'code' ($code -join "`n`n")
        $remarksElement = Add-Element $example 'dev' 'remarks'
        $remarkParagraphs = Split-Paragraphs $remarks
        if ($remarkParagraphs.Count -eq 0) { $Problems.Add("${name}: example '$($entry.Key)' has no remarks (say what it shows).") }
        foreach ($r in $remarkParagraphs) { $null = Add-Element $remarksElement 'maml' 'para' $r }
    }
    if ($exampleCount -eq 0) { $Problems.Add("${name}: the page has no example.") }

    $links = Add-Element $cmd 'command' 'relatedLinks'
    # As platyPS does: the front matter's 'online version' is the first link, the one 'Get-Help -Online' opens.
    $online = if ($Page.FrontMatter.ContainsKey('online version')) { $Page.FrontMatter['online version'] } else { '' }
    if ($online -notmatch '^https://') { $Problems.Add("${name}: the front matter has no 'online version: https://...' link.") }
    else {
        $link = Add-Element $links 'maml' 'navigationLink'
        $null = Add-Element $link 'maml' 'linkText' 'Online Version:'
        $null = Add-Element $link 'maml' 'uri' $online
    }
    foreach ($line in Get-SectionLines $Page 'RELATED LINKS') {
        if ($line -match '\[([^\]]+)\]\(([^)]*)\)') {
            $link = Add-Element $links 'maml' 'navigationLink'
            $null = Add-Element $link 'maml' 'linkText' $Matches[1]
            $uri = $Matches[2]
            # Get-Help is unhappy with a uri that is not absolute: keep only real URLs.
            $null = Add-Element $link 'maml' 'uri' $(if ($uri -match '^[a-z]+://') { $uri } else { '' })
        }
    }
}

function ConvertTo-AboutTopic {
    <#
        about_X.md ('# about_X', '## SHORT DESCRIPTION', '## LONG DESCRIPTION', more '##' sections) to the classic
        about-topic text: TOPIC / 4-space name / headings in capitals / text indented 4 spaces, wrapped at 80 columns,
        code indented 8 spaces. UTF-8 with BOM.
    #>
    param([string] $Path, [string] $OutDir)
    $page = Read-HelpPage $Path
    $sb = [System.Text.StringBuilder]::new()
    $null = $sb.AppendLine('TOPIC').AppendLine("    $($page.Name)").AppendLine()
    foreach ($section in $page.Sections.GetEnumerator()) {
        $null = $sb.AppendLine($section.Key)
        $inFence = $false
        $buffer = [System.Collections.Generic.List[string]]::new()
        $emit = {
            if ($buffer.Count -gt 0) {
                foreach ($l in (Format-Wrapped (ConvertTo-PlainText ($buffer -join ' ')) 4 80)) { $null = $sb.AppendLine($l) }
                $null = $sb.AppendLine()
                $buffer.Clear()
            }
        }
        foreach ($line in $section.Value) {
            if ($line -match '^\s*```') { & $emit; $inFence = -not $inFence; if (-not $inFence) { $null = $sb.AppendLine() }; continue }
            if ($inFence) { $null = $sb.AppendLine('        ' + $line); continue }
            if ($line -match '^### (.+)$') { & $emit; $null = $sb.AppendLine('  ' + $Matches[1].Trim()); continue }
            if ($line.Trim() -eq '') { & $emit; continue }
            if ($line -match '^\s*([-*]|\d+\.)\s+') { & $emit }
            $buffer.Add($line.Trim())
        }
        & $emit
    }
    $out = Join-Path $OutDir "$($page.Name).help.txt"
    [System.IO.File]::WriteAllText($out, $sb.ToString(), [System.Text.UTF8Encoding]::new($true))
    $out
}

function Format-Wrapped {
    param([string] $Text, [int] $Indent, [int] $Width)
    $prefix = ' ' * $Indent
    $line = $prefix
    foreach ($word in $Text -split '\s+') {
        if ($word -eq '') { continue }
        if ($line.Length + $word.Length + 1 -gt $Width -and $line.Trim() -ne '') { $line.TrimEnd(); $line = $prefix }
        $line += $(if ($line.Trim() -eq '') { $word } else { " $word" })
    }
    if ($line.Trim() -ne '') { $line.TrimEnd() }
}

# ---- main ------------------------------------------------------------------------------------------------------

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$DocsPath = (Resolve-Path -LiteralPath $DocsPath).ProviderPath

$manifest = Join-Path $ModulePath 'BitTorrent.psd1'
$module = Import-Module $manifest -PassThru -Force
$commands = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)
$assembly = [System.IO.Path]::GetFileName(($commands | Select-Object -First 1).ImplementingType.Assembly.Location)
$outDir = Join-Path $ModulePath $Culture
$null = New-Item -ItemType Directory -Force -Path $outDir

$problems = [System.Collections.Generic.List[string]]::new()
$doc = [System.Xml.XmlDocument]::new()
$null = $doc.AppendChild($doc.CreateXmlDeclaration('1.0', 'utf-8', $null))
$root = $doc.CreateElement('helpItems', 'http://msh')
$root.SetAttribute('schema', 'maml')
foreach ($prefix in $Ns.Keys) { $root.SetAttribute("xmlns:$prefix", $Ns[$prefix]) }
$null = $doc.AppendChild($root)

$pages = @{}
foreach ($file in Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' | Where-Object Name -NotLike 'about_*') {
    $pages[$file.BaseName] = $file.FullName
}
foreach ($command in $commands) {
    if (-not $pages.ContainsKey($command.Name)) { $problems.Add("$($command.Name): no page docs/help/$($command.Name).md."); continue }
    $page = Read-HelpPage $pages[$command.Name]
    if ($page.Name -ne $command.Name) { $problems.Add("$($pages[$command.Name]): the title is '# $($page.Name)', expected '# $($command.Name)'.") }
    Add-CommandHelp $root $command $page $problems
}
foreach ($pageName in $pages.Keys) {
    if (-not ($commands | Where-Object Name -EQ $pageName)) { $problems.Add("docs/help/$pageName.md documents a cmdlet the module does not export.") }
}

if ($problems.Count -gt 0) {
    $problems | ForEach-Object { Write-Host "Help: $_" }
    Write-Error "Help is out of step with the cmdlets ($($problems.Count) problem(s)); fix docs/help."
    exit 1
}

$mamlPath = Join-Path $outDir "$assembly-Help.xml"
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$writer = [System.Xml.XmlWriter]::Create($mamlPath, $settings)
try { $doc.Save($writer) } finally { $writer.Dispose() }

$abouts = @(Get-ChildItem -LiteralPath $DocsPath -Filter 'about_*.md' | ForEach-Object { ConvertTo-AboutTopic $_.FullName $outDir })
Write-Host "Help: $($commands.Count) cmdlet(s) -> $mamlPath; $($abouts.Count) about topic(s)."
