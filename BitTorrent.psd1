@{
    RootModule           = 'BitTorrent.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f1d3c2a-8b7e-4d55-9a0c-2b5e7d9f41a3'
    Author               = 'BitTorrent for PowerShell contributors'
    CompanyName          = 'BitTorrent for PowerShell'
    Copyright            = '(c) 2026 BitTorrent for PowerShell contributors. MIT License.'
    Description          = 'A complete BitTorrent client in-process: read, create and verify torrents, query trackers, talk to peers, download and seed, as PowerShell objects.'
    PowerShellVersion    = '5.1'
    # Where the help comes from (docs/help, platyPS-schema markdown). The help ships inside the module (en-US);
    # no updatable-help cab is published, so Update-Help has nothing to fetch.
    HelpInfoUri          = 'https://github.com/bittorrent-powershell/BitTorrent/tree/main/docs/help'
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
        'Suspend-TorrentJob'
        'Resume-TorrentJob'
        'Save-TorrentFile'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('BitTorrent', 'Torrent', 'P2P', 'Download', 'PSEdition_Core', 'PSEdition_Desktop', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/bittorrent-powershell/BitTorrent'
            LicenseUri   = 'https://github.com/bittorrent-powershell/BitTorrent/blob/main/LICENSE'
            ReleaseNotes = @'
0.1.0 - a complete BitTorrent client in-process, as thirteen cmdlets:
- Get-TorrentInfo, ConvertFrom-Bencode, ConvertTo-Bencode: read torrents (safe paths, info-hash, magnet link) and
  bencode, with a strict limit-checked codec.
- Get-TorrentPeer, Get-TorrentTracker: HTTP, HTTPS and UDP trackers (BEP 3, 12, 15, 23), all at once; scrape.
- Invoke-PeerHandshake: BEP 3/6/10 handshakes; client, extensions and share of each peer; asks a piped torrent's
  trackers for peers.
- Start-TorrentDownload, Start-TorrentSeed: download and seed (rarest first, endgame, tit-for-tat, smart ban,
  resume records, -Include/-Exclude, rate limits, -AsJob, -WhatIf).
- Suspend-TorrentJob, Resume-TorrentJob: pause and resume a torrent job (PowerShell 7 has no Suspend-Job or
  Resume-Job; on Windows PowerShell 5.1 those work on a torrent job too); Get-Job shows each job's progress.
- New-Torrent, Test-Torrent: create and verify torrents on every core (mktorrent's info-hash for the same files).
- Magnet links (BEP 9, BEP 53 so=) and bare info-hashes wherever a torrent is taken, by position or piped as text;
  the metadata fetched from the swarm (ut_metadata) and kept; Save-TorrentFile turns a magnet link into a .torrent.
- One torrent input everywhere (-Torrent, alias InputObject, by value and by property name); tab completion for
  -PieceSize, -Include/-Exclude, -Tracker and -Peer; full help (Get-Help -Full, about_BitTorrent).
Tested on PowerShell 7.6 on Linux; see the README for what is and is not verified on Windows PowerShell 5.1.
'@
        }
    }
}
