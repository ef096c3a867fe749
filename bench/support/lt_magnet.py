#!/usr/bin/python3
"""python3-libtorrent as a magnet-link benchmark leecher for bench/Magnet.Bench.ps1 (run with /usr/bin/python3:
Debian's python3-libtorrent imports only with the system interpreter).

usage: lt_magnet.py MAGNET SAVE_DIR PORT RESULT_JSON [--timeout S]

Adds MAGNET (libtorrent reads its xt, tr and x.pe) and downloads into SAVE_DIR, listening on 127.0.0.1:PORT only,
with DHT, LSD, UPnP, NAT-PMP and uTP off (as bench/support/lt_leech.py). The metadata comes from the peers over
ut_metadata (BEP 9); its time is taken from metadata_received_alert (or has_metadata, whichever this loop sees first).
Exits as soon as every piece is downloaded and verified, writing one JSON object to RESULT_JSON with the Unix times
(seconds, wall clock) of the metadata and of completion; exit code 0 when complete, 1 on timeout.
"""
import json, sys, time
import libtorrent as lt

link, save, port, result_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
args = sys.argv[5:]
timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 600.0

ses = lt.session({
    "listen_interfaces": f"127.0.0.1:{port}",
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True,
    # Only status alerts: metadata_received_alert is one; nothing else is read, so nothing else is generated.
    "alert_mask": int(lt.alert.category_t.status_notification),
    "stop_tracker_timeout": 1,
    "user_agent": "libtorrent/" + lt.__version__,
})
params = lt.parse_magnet_uri(link)
params.save_path = save
start = time.time()
h = ses.add_torrent(params)

metadata_at = None
while time.time() - start < timeout:
    for alert in ses.pop_alerts():
        if metadata_at is None and isinstance(alert, lt.metadata_received_alert):
            metadata_at = time.time()
    st = h.status()
    if metadata_at is None and st.has_metadata:
        metadata_at = time.time()
    if st.is_seeding:
        break
    ses.wait_for_alert(20)

st = h.status()
done_at = time.time()
result = {"client": "libtorrent " + lt.__version__, "start_unix": start, "metadata_unix": metadata_at,
          "complete_unix": done_at if st.is_seeding else None, "complete": bool(st.is_seeding),
          "pieces": st.num_pieces, "bytes": st.total_wanted_done, "downloaded": st.total_payload_download,
          "peers": st.num_peers}
with open(result_path, "w") as f:
    json.dump(result, f)
sys.exit(0 if st.is_seeding else 1)
