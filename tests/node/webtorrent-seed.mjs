// Seeds with webtorrent (a Node BitTorrent client) for the magnet interop tests: TCP only, no DHT, no local service
// discovery, no uTP, no web seeds, no WebRTC. Either a .torrent made elsewhere (--torrent: its data is checked in
// <path>, the folder that holds it, and its own trackers are announced to), or <path> itself as a new torrent. Prints
// one JSON line, "ready {...}", with the info-hash, the magnet link and the port once it seeds, and stops on SIGTERM
// or after --seconds.
//   node webtorrent-seed.mjs <path> <port> [--torrent <file>] [--tracker <url>] [--seconds <n>] [--piece-length <bytes>]
// webtorrent imports WebRTC (webrtc-polyfill → node-datachannel, a native module whose install downloads a prebuilt
// binary, which this machine cannot): a resolve hook swaps it for a module that has no WebRTC. WebRTC is off anyway.
import { register } from 'node:module'

const noWebRtc = `
export async function resolve (specifier, context, next) {
  if (specifier === 'webrtc-polyfill') return { url: 'data:text/javascript,export const RTCPeerConnection = undefined, RTCSessionDescription = undefined, RTCIceCandidate = undefined', shortCircuit: true }
  return next(specifier, context)
}`
register('data:text/javascript,' + encodeURIComponent(noWebRtc))

const args = process.argv.slice(2)
const [path, portText] = args
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback }
const torrentFile = option('--torrent', null)
const tracker = option('--tracker', null)
const seconds = Number(option('--seconds', '600'))
const pieceLength = Number(option('--piece-length', String(64 * 1024)))
if (!path || !portText) { console.error('usage: node webtorrent-seed.mjs <path> <port> [--tracker <url>] [--seconds <n>]'); process.exit(2) }

const { default: WebTorrent } = await import('webtorrent')
const client = new WebTorrent({ dht: false, lsd: false, utp: false, webSeeds: false, natUpnp: false, natPmp: false, tracker: tracker || torrentFile ? {} : false, torrentPort: Number(portText) })
client.on('error', err => { console.error('client error: ' + err.message); process.exit(1) })
const stop = () => client.destroy(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setTimeout(stop, seconds * 1000).unref()

const ready = torrent => {
  torrent.on('wire', (wire, addr) => console.log('wire ' + addr))
  console.log('ready ' + JSON.stringify({ infoHash: torrent.infoHash, magnetURI: torrent.magnetURI, port: client.torrentPort, name: torrent.name }))
}
if (torrentFile) {
  const { readFileSync } = await import('node:fs')
  // The data is verified first; it seeds once every piece checked out ('done').
  const torrent = client.add(readFileSync(torrentFile), { path, announce: tracker ? [tracker] : [] })
  torrent.on('error', err => { console.error('torrent error: ' + err.message); process.exit(1) })
  torrent.on('ready', () => { if (torrent.done) ready(torrent); else torrent.once('done', () => ready(torrent)) })
} else {
  client.seed(path, { announce: tracker ? [tracker] : [], pieceLength, private: false, createdBy: 'webtorrent-seed' }, ready)
}
