@{
    RootModule           = 'BitTorrent.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f1d3c2a-8b7e-4d55-9a0c-2b5e7d9f41a3'
    Author               = 'BitTorrent for PowerShell contributors'
    CompanyName          = 'BitTorrent for PowerShell'
    Copyright            = '(c) BitTorrent for PowerShell contributors. All rights reserved.'
    Description          = 'A complete BitTorrent client in-process: read, create and verify torrents, query trackers, talk to peers, download and seed, as PowerShell objects.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    FormatsToProcess     = @(
        'BitTorrent.Format.ps1xml'
        'Bencode.Format.ps1xml'
        'Trackers.Format.ps1xml'
        'Wire.Format.ps1xml'
        'Hashing.Format.ps1xml'
        'Download.Format.ps1xml'
    )
    CmdletsToExport      = @(
        'ConvertFrom-Bencode'
        'ConvertTo-Bencode'
        'Get-TorrentInfo'
        'Get-TorrentPeer'
        'Get-TorrentTracker'
        'Invoke-PeerHandshake'
        'New-Torrent'
        'Test-Torrent'
        'Start-TorrentDownload'
        'Start-TorrentSeed'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('BitTorrent', 'Torrent', 'P2P', 'Download', 'PSEdition_Core', 'PSEdition_Desktop', 'Linux', 'Windows', 'MacOS')
            ReleaseNotes = 'First release: bencode codec and Get-TorrentInfo.'
        }
    }
}
