#!/usr/bin/python3
"""python3-libtorrent as an independent reference for New-Torrent and Test-Torrent (run with /usr/bin/python3:
Debian's python3-libtorrent is not importable from other interpreters). Prints one JSON object.

usage:
  lt_hash.py create SOURCE OUT PIECE_LENGTH [--walk]
      A v1 torrent of SOURCE (file or folder) with create_torrent + set_piece_hashes. Files are added in code-point
      order of their '/'-joined paths (mktorrent's order); --walk uses libtorrent's own add_files (directory order).
      v1_only and no_attributes: no BEP 47 padding files, no 'attr' keys (libtorrent 2.0 adds both by default).
  lt_hash.py check TORRENT SAVE_PATH [--threads N] [--timeout S]
      Adds the torrent to a session (no listening socket, no DHT/LSD/UPnP/NAT-PMP, no trackers) with SAVE_PATH as
      its save path and waits for libtorrent's own check of the data to end (torrent_checked_alert).
      Prints the pieces it found valid as a '0'/'1' string and the time the check took (wall and CPU seconds of
      the whole process, all threads). 'create' prints the same two for set_piece_hashes.
  lt_hash.py info TORRENT
      What libtorrent reads from a .torrent file.
"""
import json, os, sys, time
import libtorrent as lt


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def create(source, out, piece_length, walk):
    source = os.path.abspath(source)
    fs = lt.file_storage()
    if walk:
        lt.add_files(fs, source)
    elif os.path.isdir(source):
        name = os.path.basename(source)
        found = []
        for root, dirs, files in os.walk(source):
            for f in files:
                full = os.path.join(root, f)
                found.append((os.path.relpath(full, source).replace(os.sep, "/"), os.path.getsize(full)))
        for rel, size in sorted(found):
            fs.add_file(name + "/" + rel, size)
    else:
        fs.add_file(os.path.basename(source), os.path.getsize(source))
    flags = lt.create_torrent.v1_only | lt.create_torrent.no_attributes
    ct = lt.create_torrent(fs, piece_length, flags=flags)
    started, cpu = time.monotonic(), time.process_time()
    lt.set_piece_hashes(ct, os.path.dirname(source))
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    data = lt.bencode(ct.generate())
    with open(out, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(out)
    print(json.dumps({"info_hash": str(ti.info_hash()), "seconds": round(seconds, 3), "cpu": round(cpu, 3),
                      "files": [fs.file_path(i) for i in range(fs.num_files())]}))


def check(torrent, save, threads, timeout):
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "hashing_threads": threads,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save
    params.trackers = []
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    started, cpu = time.monotonic(), time.process_time()
    h = ses.add_torrent(params)
    checked = False
    while not checked and time.monotonic() - started < timeout:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                checked = True
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    st = h.status(lt.status_flags_t.query_pieces) if hasattr(lt, "status_flags_t") else h.status()
    pieces = "".join("1" if p else "0" for p in st.pieces)
    print(json.dumps({"checked": checked, "seconds": round(seconds, 3), "cpu": round(cpu, 3), "pieces": pieces,
                      "valid": sum(1 for p in st.pieces if p), "state": str(st.state)}))


def info(torrent):
    ti = lt.torrent_info(torrent)
    fs = ti.files()
    print(json.dumps({
        "info_hash": str(ti.info_hash()), "name": ti.name(), "num_pieces": ti.num_pieces(),
        "piece_length": ti.piece_length(), "total_size": ti.total_size(), "priv": ti.priv(),
        "comment": ti.comment(), "creator": ti.creator(),
        "files": [{"path": fs.file_path(i), "size": fs.file_size(i)} for i in range(fs.num_files())],
        "trackers": [{"url": t.url, "tier": t.tier} for t in ti.trackers()],
        "web_seeds": [w["url"] for w in ti.web_seeds()],
    }))


command = sys.argv[1]
if command == "create":
    create(sys.argv[2], sys.argv[3], int(sys.argv[4]), "--walk" in sys.argv)
elif command == "check":
    check(sys.argv[2], sys.argv[3], int(arg("--threads", os.cpu_count() or 1)), float(arg("--timeout", 300)))
elif command == "info":
    info(sys.argv[2])
else:
    sys.exit("unknown command " + command)
