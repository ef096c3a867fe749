#!/usr/bin/python3
"""A python3-libtorrent peer with peer exchange (ut_pex) ON, for the PEX interop test (run with /usr/bin/python3).

usage: lt_pex_peer.py MODE TORRENT SAVE_DIR ADDRESS PORT [--peer IP:PORT] [--download-limit BYTES_PER_S] [--timeout S]
  MODE seed    trust the data (seed_mode); never dials out (so it is met only by peers that were told of it)
  MODE leech   download, dialling --peer until connected; --download-limit keeps it from completing (and from
               having anything to give) for the length of a test
Listens on ADDRESS:PORT and connects from ADDRESS (a 127.0.0.x address each, so peers are told apart by address).
DHT, LSD, UPnP, NAT-PMP and uTP are off. Prints 'ready {json}' once it answers peers, then a status line
'status {json}' every half second: its peers with their address, client and bytes moved each way.
"""
import json, sys, time
import libtorrent as lt

mode, torrent, save, address, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def option(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default
timeout = float(option("--timeout", 300))
download_limit = int(option("--download-limit", 0))
peer = option("--peer")

ses = lt.session({
    "listen_interfaces": f"{address}:{port}",
    "outgoing_interfaces": address,
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True, "alert_mask": 0,
    "user_agent": "libtorrent/" + lt.__version__,
    "download_rate_limit": download_limit,
    # A seed told of us by PEX must not dial us: the test shows that WE dialled the peer we learnt.
    "seeding_outgoing_connections": mode != "seed",
})
if download_limit:
    # Loopback peers are in the "local" peer class, which rate limits do not touch: put every address in the global one.
    everyone = lt.ip_filter()
    everyone.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
    ses.set_peer_class_filter(everyone)
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = save
params.trackers = []
if mode == "seed":
    params.flags |= lt.torrent_flags.seed_mode
h = ses.add_torrent(params)
h.replace_trackers([])
start = time.time()

def peers():
    out = []
    for p in h.get_peer_info():
        out.append({"ip": p.ip[0], "port": p.ip[1], "client": p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) else str(p.client), "up": p.total_upload, "down": p.total_download,
                    "outgoing": bool(p.flags & lt.peer_info.local_connection)})
    return out

while time.time() - start < timeout:
    st = h.status()
    if not (st.flags & lt.torrent_flags.paused) and st.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
        if mode != "seed" or st.is_seeding:
            break
    time.sleep(0.05)
print("ready " + json.dumps({"client": "libtorrent " + lt.__version__, "pieces": h.status().num_pieces}), flush=True)

last_dial = 0
while time.time() - start < timeout:
    if peer and mode != "seed" and time.time() - last_dial > 2 and not any(p["ip"] == peer.rpartition(":")[0] and p["port"] == int(peer.rpartition(":")[2]) for p in peers()):
        host, _, peer_port = peer.rpartition(":")
        h.connect_peer((host, int(peer_port)))
        last_dial = time.time()
    st = h.status()
    print("status " + json.dumps({"seconds": round(time.time() - start, 1), "pieces": st.num_pieces,
                                  "uploaded": st.total_payload_upload, "peers": peers()}), flush=True)
    time.sleep(0.5)
