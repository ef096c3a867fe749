#!/usr/bin/python3
"""Reference torrent tool for the Pester interop tests, using libtorrent (python3-libtorrent), not our code.

  lt_torrent.py info FILE...     prints a JSON array: what libtorrent reads from each .torrent
  lt_torrent.py bdecode FILE     prints libtorrent's decoding of any bencoded file in a neutral JSON form:
                                 integer {"i": n}, byte string {"s": hex}, list [..], dictionary
                                 {"d": [[key hex, value], ...]} with keys in raw byte order
  lt_torrent.py make SOURCE OUT [--mode hybrid|v1|v2] [--piece-size N] [--tracker URL[,URL...]]...
                 [--web-seed URL]... [--private] [--comment TEXT]
                                 creates a torrent with libtorrent's create_torrent
Only the system interpreter (/usr/bin/python3) can import Debian's libtorrent.
"""
import argparse
import json
import os
import sys

import libtorrent as lt


def describe(path):
    ti = lt.torrent_info(path)
    fs = ti.files()
    hashes = ti.info_hashes()
    files = []
    for i in range(fs.num_files()):
        files.append({
            "path": fs.file_path(i).replace(os.sep, "/"),
            "length": fs.file_size(i),
            "offset": fs.file_offset(i),
            "padding": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file),
        })
    tiers = {}
    for t in ti.trackers():
        tiers.setdefault(t.tier, []).append(t.url)
    return {
        "source": path,
        "name": ti.name(),
        "infoHash": str(hashes.v1) if hashes.has_v1() else None,
        "hasV2": hashes.has_v2(),
        "totalSize": ti.total_size(),
        "pieceLength": ti.piece_length(),
        "pieceCount": ti.num_pieces(),
        "private": ti.priv(),
        "files": files,
        "trackerTiers": [tiers[k] for k in sorted(tiers)],
        "webSeeds": [w["url"] for w in ti.web_seeds()],
        "comment": ti.comment(),
        "createdBy": ti.creator(),
        "creationDate": ti.creation_date(),
    }


def neutral(value):
    if isinstance(value, bool):
        raise TypeError("unexpected bool")
    if isinstance(value, int):
        return {"i": value}
    if isinstance(value, (bytes, bytearray)):
        return {"s": bytes(value).hex()}
    if isinstance(value, str):
        return {"s": value.encode("utf-8").hex()}
    if isinstance(value, list):
        return [neutral(v) for v in value]
    if isinstance(value, dict):
        items = [((k.encode("utf-8") if isinstance(k, str) else bytes(k)), v) for k, v in value.items()]
        return {"d": [[k.hex(), neutral(v)] for k, v in sorted(items, key=lambda kv: kv[0])]}
    raise TypeError("unexpected %r" % type(value))


def make(args):
    fs = lt.file_storage()
    lt.add_files(fs, args.source)
    flags = 0
    if args.mode == "v1":
        flags |= lt.create_torrent.v1_only
    elif args.mode == "v2":
        flags |= lt.create_torrent.v2_only
    ct = lt.create_torrent(fs, args.piece_size, flags=flags)
    for tier, urls in enumerate(args.tracker or []):
        for url in urls.split(","):
            ct.add_tracker(url, tier)
    for url in args.web_seed or []:
        ct.add_url_seed(url)
    if args.private:
        ct.set_priv(True)
    if args.comment:
        ct.set_comment(args.comment)
    ct.set_creator("libtorrent " + lt.__version__)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(args.source)))
    with open(args.out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "bdecode":
        with open(sys.argv[2], "rb") as f:
            print(json.dumps(neutral(lt.bdecode(f.read())), separators=(",", ":")))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "info":
        print(json.dumps([describe(p) for p in sys.argv[2:]], ensure_ascii=False))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["make"])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--mode", choices=["hybrid", "v1", "v2"], default="hybrid")
    parser.add_argument("--piece-size", type=int, default=0)
    parser.add_argument("--tracker", action="append")
    parser.add_argument("--web-seed", action="append")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--comment")
    make(parser.parse_args())


if __name__ == "__main__":
    main()
