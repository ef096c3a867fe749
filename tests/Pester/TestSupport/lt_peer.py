#!/usr/bin/python3
"""A real libtorrent-rasterbar peer on loopback for the interop tests (run with /usr/bin/python3: Debian's
python3-libtorrent is not importable from other interpreters).

usage: lt_peer.py MODE TORRENT SAVE_DIR PORT [--timeout S] [--no-tracker] [--upload-limit BYTES_PER_S] [--peer IP:PORT]
  TORRENT      a .torrent file, or (leech only) a magnet link: libtorrent fetches the metadata from its x.pe peers
               and tr trackers
  MODE seed    trust the data (seed_mode), print 'ready' once seeding, serve until killed or timeout
  MODE check   check the data on disk first, print 'ready {json}' with the pieces it has, then serve
  MODE leech   download; print one JSON line when complete (or when the timeout ends)
Internet features are off (DHT, LSD, UPnP, NAT-PMP, uTP), and so is peer exchange; it listens on 127.0.0.1 only.
  --pex        peer exchange (BEP 11) on. Off by default: what our peers tell it would otherwise reach it (in the
               hostile-peer tests it dialled the hostile peers we were connected to, which serve one connection at a
               time, and changed what the test measures)
  --lsd        local service discovery (BEP 14) on, listening on every interface: only inside a network namespace
               the test made, where multicast reaches nothing else
"""
import json, sys, time
import libtorrent as lt

mode, torrent, save, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 300
upload_limit = int(sys.argv[sys.argv.index("--upload-limit") + 1]) if "--upload-limit" in sys.argv else 0
lsd = "--lsd" in sys.argv
ses = lt.session({
    "listen_interfaces": f"0.0.0.0:{port},[::]:{port}" if lsd else f"127.0.0.1:{port}",
    "enable_dht": False, "enable_lsd": lsd, "enable_upnp": False, "enable_natpmp": False,
    "enable_outgoing_utp": False, "enable_incoming_utp": False,
    "allow_multiple_connections_per_ip": True, "alert_mask": 0,
    "announce_to_all_trackers": True, "announce_to_all_tiers": True,
    "user_agent": "libtorrent/" + lt.__version__,
    # 0 = unlimited; a slow seeder keeps a download going long enough for misbehaving peers to be noticed.
    "upload_rate_limit": upload_limit,
}, 0)  # no default plugins: they are added below, ut_pex only when asked for
ses.add_extension("ut_metadata")
ses.add_extension("smart_ban")
if "--pex" in sys.argv:
    ses.add_extension("ut_pex")
if upload_limit:
    # Loopback peers are in the "local" peer class, which rate limits do not touch: put every address in the global one.
    everyone = lt.ip_filter()
    everyone.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
    ses.set_peer_class_filter(everyone)
if torrent.startswith("magnet:"):
    params = lt.parse_magnet_uri(torrent)
else:
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
params.save_path = save
if "--no-tracker" in sys.argv:
    params.trackers = []
    if params.ti is not None and hasattr(params.ti, "clear_trackers"):
        params.ti.clear_trackers()
if mode == "seed":
    params.flags |= lt.torrent_flags.seed_mode
h = ses.add_torrent(params)
if "--no-tracker" in sys.argv:
    h.replace_trackers([])
start = time.time()

def status_json():
    st = h.status()
    return json.dumps({"client": "libtorrent " + lt.__version__, "seconds": round(time.time() - start, 3),
                       "seeding": st.is_seeding, "pieces": st.num_pieces, "bytes": st.total_wanted_done,
                       "state": str(st.state)})

if mode in ("seed", "check"):
    while time.time() - start < timeout:
        st = h.status()
        # A new torrent stays paused until the session's next auto-manage tick (~0.5 s) and closes every incoming
        # connection until then, although seed_mode reports is_seeding at once: 'ready' must mean "answers peers".
        paused = bool(st.flags & lt.torrent_flags.paused)
        if mode == "seed" and st.is_seeding and st.state == lt.torrent_status.seeding and not paused:
            break
        if mode == "check" and st.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data) \
                and st.state != getattr(lt.torrent_status, "allocating", -1) and time.time() - start > 0.2 and not paused:
            break
        time.sleep(0.05)
    print("ready " + status_json(), flush=True)
    while time.time() - start < timeout:
        time.sleep(0.5)
else:
    # --peer: a peer to dial (and dial again every 2 s while not connected: it may turn us away when busy).
    peer = None
    if "--peer" in sys.argv:
        host, _, peer_port = sys.argv[sys.argv.index("--peer") + 1].rpartition(":")
        peer = (host, int(peer_port))
    last_dial = 0
    while not h.status().is_seeding and time.time() - start < timeout:
        if peer and h.status().num_peers == 0 and time.time() - last_dial > 2:
            h.connect_peer(peer)
            last_dial = time.time()
        time.sleep(0.02)
    print(status_json(), flush=True)
