#!/usr/bin/python3
"""python3-libtorrent as a benchmark leecher (run with /usr/bin/python3: Debian's python3-libtorrent imports only
with the system interpreter).

usage: lt_leech.py TORRENT SAVE_DIR PORT RESULT_JSON [--peer IP:PORT]... [--no-tracker] [--timeout S]

Downloads TORRENT into SAVE_DIR, listening on 127.0.0.1:PORT only, with DHT, LSD, UPnP, NAT-PMP and uTP off.
Peers come from the torrent's tracker and from every --peer (connected to directly, like the other leechers are
told about the seeders). Exits as soon as every piece is downloaded and verified (libtorrent checks each piece's
SHA-1 itself), writing one JSON object to RESULT_JSON; exit code 0 when complete, 1 on timeout.
Settings are libtorrent's defaults apart from the network features: this is what a libtorrent 2.0 user gets.
"""
import json, sys, time
import libtorrent as lt

torrent, save, port, result_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
args = sys.argv[5:]
timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 600.0
peers = [args[i + 1] for i, a in enumerate(args) if a == "--peer"]

ses = lt.session({
    "listen_interfaces": f"127.0.0.1:{port}",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True, "alert_mask": 0,
    "stop_tracker_timeout": 1,
    "user_agent": "libtorrent/" + lt.__version__,
})
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = save
if "--no-tracker" in args:
    params.trackers = []
start = time.time()
h = ses.add_torrent(params)
if "--no-tracker" in args:
    h.replace_trackers([])

connected = False
while time.time() - start < timeout:
    st = h.status()
    if st.is_seeding:
        break
    # A torrent stays paused until the session's first auto-manage tick; connect_peer is ignored until then.
    if not connected and not (st.flags & lt.torrent_flags.paused):
        for p in peers:
            host, _, pport = p.rpartition(":")
            h.connect_peer((host.strip("[]"), int(pport)))
        connected = True
    time.sleep(0.02)

st = h.status()
result = {"client": "libtorrent " + lt.__version__, "seconds": round(time.time() - start, 3),
          "complete": bool(st.is_seeding), "pieces": st.num_pieces, "bytes": st.total_wanted_done,
          "downloaded": st.total_payload_download, "peers": st.num_peers}
with open(result_path, "w") as f:
    json.dump(result, f)
sys.exit(0 if st.is_seeding else 1)
