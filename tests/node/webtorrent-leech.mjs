// Downloads a magnet link with webtorrent (a Node BitTorrent client) for the magnet interop tests: TCP only, no DHT,
// no local service discovery, no uTP, no web seeds, no WebRTC. The link's own x.pe peers and tr trackers are all it
// has: it must fetch the info dictionary (BEP 9) from them first. Prints "metadata {...}" when the metadata arrives and
// "done {...}" when every piece is verified, then exits 0; exits 1 on an error or after --seconds.
//   node webtorrent-leech.mjs <magnet> <folder> <port> [--seconds <n>]
// WebRTC is swapped out as in webtorrent-seed.mjs (its native module cannot be installed here).
// secure: 0 — webtorrent 3 opens every outgoing connection with protocol encryption (MSE) by default and, refused,
// redials the same way; we do not speak MSE yet (plaintext only, like the README says), so it is asked for plaintext.
import { register } from 'node:module'

const noWebRtc = `
export async function resolve (specifier, context, next) {
  if (specifier === 'webrtc-polyfill') return { url: 'data:text/javascript,export const RTCPeerConnection = undefined, RTCSessionDescription = undefined, RTCIceCandidate = undefined', shortCircuit: true }
  return next(specifier, context)
}`
register('data:text/javascript,' + encodeURIComponent(noWebRtc))

const args = process.argv.slice(2)
const [magnet, folder, portText] = args
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback }
const seconds = Number(option('--seconds', '120'))
if (!magnet || !folder || !portText) { console.error('usage: node webtorrent-leech.mjs <magnet> <folder> <port> [--seconds <n>]'); process.exit(2) }

const { default: WebTorrent } = await import('webtorrent')
const client = new WebTorrent({ dht: false, lsd: false, utp: false, webSeeds: false, natUpnp: false, natPmp: false, secure: 0, torrentPort: Number(portText) })
const fail = message => { console.error(message); client.destroy(() => process.exit(1)) }
client.on('error', err => fail('client error: ' + err.message))
setTimeout(() => fail(`timed out after ${seconds} s`), seconds * 1000).unref()

const torrent = client.add(magnet, { path: folder })
torrent.on('error', err => fail('torrent error: ' + err.message))
torrent.on('wire', (wire, addr) => console.log('wire ' + addr))
torrent.on('metadata', () => console.log('metadata ' + JSON.stringify({ infoHash: torrent.infoHash, name: torrent.name, files: torrent.files.length })))
torrent.on('done', () => {
  console.log('done ' + JSON.stringify({ infoHash: torrent.infoHash, name: torrent.name, downloaded: torrent.downloaded }))
  client.destroy(() => process.exit(0))
})
