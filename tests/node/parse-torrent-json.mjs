// Prints, as a JSON array, what the npm package parse-torrent (an independent parser) reads from each .torrent
// file named on the command line. Used by the Pester interop tests to check Get-TorrentInfo.
import { readFile } from 'node:fs/promises'
import parseTorrent from 'parse-torrent'

const results = []
for (const file of process.argv.slice(2)) {
  const t = await parseTorrent(await readFile(file))
  results.push({
    source: file,
    name: t.name,
    infoHash: t.infoHash,
    totalSize: t.length,
    pieceLength: t.pieceLength,
    pieceCount: t.pieces.length,
    lastPieceLength: t.lastPieceLength,
    private: t.private === true,
    files: t.files.map(f => ({ path: f.path, length: f.length, offset: f.offset })),
    trackers: t.announce,
    webSeeds: t.urlList,
    comment: t.comment ?? null,
    createdBy: t.createdBy ?? null,
    creationDate: t.created ? Math.floor(t.created.getTime() / 1000) : null
  })
}
process.stdout.write(JSON.stringify(results))
