#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into tests/Fuzz/corpus/<target>/ (deterministic).

Small valid inputs are what AFL mutates best: one of each message kind, reply shape and torrent layout the
engine handles. The real .torrent files from webtorrent-fixtures are copied next to them (when npm installed them). Run:
    python3 tests/Fuzz/make-seeds.py [target ...]
"""
import hashlib
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def bencode(value):
    if isinstance(value, bool):
        raise TypeError("no booleans in bencode")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode("utf-8") if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def pieces(count):
    return b"".join(hashlib.sha1(b"piece %d" % i).digest() for i in range(count))


def bencode_seeds():
    for name, data in {
        "int": b"i42e", "negative": b"i-17e", "zero": b"i0e", "string": b"4:spam", "empty-string": b"0:",
        "list": b"l4:spami42ee", "empty-list": b"le", "dict": b"d3:bar4:spam3:fooi42ee", "empty-dict": b"de",
        "nested": b"d1:ad1:bl1:ci1ed1:dleeeee", "unsorted": b"d1:bi1e1:ai2ee", "big-int": b"i9223372036854775807e",
    }.items():
        write("bencode", name, data)


def metainfo_seeds():
    single = {"announce": "http://127.0.0.1:6969/announce",
              "info": {"name": "a.txt", "length": 40000, "piece length": 16384, "pieces": pieces(3)}}
    write("metainfo", "single", bencode(single))
    multi = {
        "announce": "http://127.0.0.1:6969/announce",
        "announce-list": [["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969"], ["http://[::1]:7000/announce"]],
        "url-list": ["http://127.0.0.1:8080/files/"],
        "comment": "seed", "created by": "make-seeds", "creation date": 1700000000,
        "info": {"name": "folder", "piece length": 32768, "pieces": pieces(2), "private": 1, "source": "lab",
                 "files": [{"length": 30000, "path": ["sub", "one.bin"]},
                           {"length": 2768, "path": [".pad", "2768"], "attr": "p"},
                           {"length": 0, "path": ["empty"]},
                           {"length": 20000, "path": ["two.bin"]}]},
    }
    write("metainfo", "multi", bencode(multi))
    write("metainfo", "url-list-string", bencode({"url-list": "http://127.0.0.1/x", "info": single["info"]}))
    hostile = {"info": {"name": "../evil", "piece length": 16384, "pieces": pieces(1),
                        "files": [{"length": 10, "path": ["..", "..", "etc", "passwd"]},
                                  {"length": 10, "path": ["C:", "con.txt"]}]}}
    write("metainfo", "traversal", bencode(hostile))
    fixtures = os.path.join(os.path.dirname(ROOT), "..", "node", "node_modules", "webtorrent-fixtures", "fixtures")
    for name in ("alice", "folder", "numbers", "lots-of-numbers", "leaves", "leaves-metadata", "corrupt"):
        path = os.path.join(fixtures, name + ".torrent")
        if os.path.exists(path):
            with open(path, "rb") as f:
                write("metainfo", "fixture-" + name, f.read())


def frame(message_id, payload=b""):
    return struct.pack(">IB", 1 + len(payload), message_id) + payload


def handshake(extensions=True):
    reserved = bytearray(8)
    if extensions:
        reserved[5] |= 0x10
        reserved[7] |= 0x05
    return b"\x13BitTorrent protocol" + bytes(reserved) + hashlib.sha1(b"info").digest() + b"-qB4650-abcdefghijkl"


def wire_seeds():
    ext = bencode({"m": {"ut_metadata": 2, "ut_pex": 1}, "v": "qBittorrent 4.6.5", "p": 6881, "reqq": 500,
                   "yourip": bytes([127, 0, 0, 1]), "metadata_size": 1234})
    session = (frame(20, b"\x00" + ext) + frame(5, b"\xff\xe0") + frame(4, struct.pack(">I", 3)) + frame(1)
               + frame(6, struct.pack(">III", 0, 0, 16384)) + frame(7, struct.pack(">II", 0, 0) + b"block")
               + struct.pack(">I", 0) + frame(9, struct.pack(">H", 6881)) + frame(8, struct.pack(">III", 1, 16384, 16384)))
    # flags: bit 0 handshake first, bit 1 piece count follows (11 pieces -> 10), bits 2-7 bytes per read.
    write("wire", "handshake-session", bytes([0b11]) + b"\x00\x0a" + handshake() + session)
    write("wire", "session-unknown-count", bytes([0]) + session)
    write("wire", "session-slow-reads", bytes([(3 << 2) | 0b10]) + b"\x00\x0a" + session)
    fast = frame(14) + frame(15) + frame(17, struct.pack(">I", 2)) + frame(13, struct.pack(">I", 1)) + frame(16, struct.pack(">III", 1, 0, 16384))
    write("wire", "fast-extension", bytes([0b10]) + b"\x00\x0a" + fast)
    write("wire", "unknown-id", bytes([0]) + frame(99, b"whatever") + frame(2))
    write("wire", "handshake-only", bytes([1]) + handshake(False))


def compact4(*peers):
    return b"".join(bytes(map(int, ip.split("."))) + struct.pack(">H", port) for ip, port in peers)


def tracker_http_seeds():
    # First byte: 0 announce, 1 scrape, 2 failure-reason probe.
    write("tracker-http", "announce-compact", b"\x00" + bencode({
        "interval": 1800, "min interval": 60, "complete": 3, "incomplete": 2, "tracker id": "t1",
        "peers": compact4(("127.0.0.1", 6881), ("127.0.0.2", 51413)),
        "peers6": bytes(15) + b"\x01" + struct.pack(">H", 6882), "external ip": bytes([127, 0, 0, 9])}))
    write("tracker-http", "announce-dict-peers", b"\x00" + bencode({
        "interval": 900, "warning message": "slow down",
        "peers": [{"ip": "127.0.0.1", "port": 6881, "peer id": "-TR3000-abcdefghijkl"}, {"ip": "::1", "port": 7000}]}))
    write("tracker-http", "failure", b"\x00" + bencode({"failure reason": "not whitelisted", "retry in": 60}))
    write("tracker-http", "scrape", b"\x01" + bencode({"files": {hashlib.sha1(b"info").digest():
                                                                 {"complete": 5, "downloaded": 50, "incomplete": 1, "name": "x"}}}))
    write("tracker-http", "probe", b"\x02" + bencode({"failure reason": "bad request"}))


def tracker_udp_seeds():
    # First byte: & 3 = 0 connect, 1 announce IPv4, 2 announce IPv6, 3 scrape (then >> 2 = info-hashes asked - 1).
    write("tracker-udp", "connect", b"\x00" + struct.pack(">IIQ", 0, 0x1234, 0x0123456789abcdef))
    write("tracker-udp", "announce4", b"\x01" + struct.pack(">IIiii", 1, 7, 1800, 2, 3) + compact4(("127.0.0.1", 6881), ("10.0.0.1", 1)))
    write("tracker-udp", "announce6", b"\x02" + struct.pack(">IIiii", 1, 7, 1800, 2, 3) + bytes(15) + b"\x01" + struct.pack(">H", 6881))
    write("tracker-udp", "announce-refused", b"\x01" + struct.pack(">II", 1, 7))
    write("tracker-udp", "scrape", bytes([3 | (1 << 2)]) + struct.pack(">II", 2, 9) + struct.pack(">iii", 5, 50, 1) * 2)
    write("tracker-udp", "error", b"\x01" + struct.pack(">II", 3, 7) + b"torrent not registered")


HASH = "0123456789abcdef0123456789abcdef01234567"
V2 = "c5a3d1f2b4e6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8"


def magnet_seeds():
    for name, text in {
        "full": "magnet:?xt=urn:btih:%s&xt=urn:btmh:1220%s&dn=My+file%%20%%C3%%A9&xl=12345"
                "&tr=udp%%3A%%2F%%2F127.0.0.1%%3A6969%%2Fannounce&tr.1=http://127.0.0.1/a&ws=http%%3A%%2F%%2F127.0.0.1%%2Ff"
                "&x.pe=127.0.0.1:6881&x.pe=[::1]:51413&x.pe=peer.example:7000&so=0,2,4-6" % (HASH, V2),
        "base32": "magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH&dn=x",
        "bare-hex": HASH,
        "bare-base32": "AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH",
        "v2-only": "magnet:?xt=urn:btmh:1220%s" % V2,
        "bad-so": "magnet:?xt=urn:btih:%s&so=5-2,-4,4-,10001,1-2-3,7" % HASH,
        "bad-peers": "magnet:?xt=urn:btih:%s&x.pe=1.2.3:80&x.pe=::1:80&x.pe=[fe80::1%%25eth0]:80&tr=&tr=%%G0" % HASH,
        "no-hash": "magnet:?dn=x&tr=http://127.0.0.1/a",
        "other-urn": "magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0&xt=urn:btih:%s" % HASH,
    }.items():
        write("magnet", name, text.encode("utf-8"))


def ut_metadata_seeds():
    # First byte: metadata size = 1 + byte * 300 (all zero bytes); then [2-byte length][payload] frames.
    def framed(*payloads):
        return b"".join(struct.pack(">H", len(p)) + p for p in payloads)

    write("ut_metadata", "complete", bytes([1]) + framed(bencode({"msg_type": 1, "piece": 0, "total_size": 301}) + bytes(301)))
    size = 1 + 55 * 300  # 16501 bytes: two blocks, the last 117
    data0 = bencode({"msg_type": 1, "piece": 0, "total_size": size}) + bytes(16384)
    data1 = bencode({"msg_type": 1, "piece": 1, "total_size": size}) + bytes(size - 16384)
    write("ut_metadata", "two-blocks", bytes([55]) + framed(data0, data1))
    write("ut_metadata", "request-reject", bytes([3]) + framed(bencode({"msg_type": 0, "piece": 0}), bencode({"msg_type": 2, "piece": 0}),
                                                                 bencode({"msg_type": 0, "piece": 9})))
    write("ut_metadata", "mismatch", bytes([0]) + framed(bencode({"msg_type": 1, "piece": 0, "total_size": 1}) + b"x"))
    write("ut_metadata", "unknown-type", bytes([1]) + framed(bencode({"msg_type": 7, "piece": 0}), b"garbage"))


def ut_pex_seeds():
    v6 = bytes(15) + b"\x01" + struct.pack(">H", 6882)
    write("ut_pex", "full", bencode({"added": compact4(("10.0.0.1", 6881), ("10.0.0.2", 51413)), "added.f": b"\x12\x01",
                                      "added6": v6, "added6.f": b"\x04", "dropped": compact4(("10.0.0.3", 1)), "dropped6": b""}))
    write("ut_pex", "hostile", bencode({"added": compact4(("0.0.0.0", 1), ("10.0.0.1", 0), ("224.0.0.1", 5), ("127.0.0.1", 6881), ("10.0.0.9", 9)),
                                         "dropped": compact4(("10.0.0.9", 9)) + b"xyz"}))
    write("ut_pex", "no-flags", bencode({"added": compact4(("10.1.1.1", 80))}))


def lsd_seeds():
    head = "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
    write("lsd", "one", (head + "Infohash: %s\r\ncookie: 1a2b\r\n\r\n\r\n" % HASH).encode())
    write("lsd", "several", (head + "Infohash: %s\r\nInfohash: %s\r\nInfohash: xyz\r\nX-Other: 1\r\n\r\n" % (HASH, "f" * 40)).encode())
    write("lsd", "own", (head + "Infohash: %s\r\ncookie: ffff\r\n\r\n" % HASH).encode())
    write("lsd", "bad-port", "BT-SEARCH * HTTP/1.1\nPort: 0\nInfohash: {}\n\n".format(HASH).encode())


def krpc_seeds():
    node_id = b"abcdefghij0123456789"
    other = b"mnopqrstuvwxyz123456"
    # The BEP 5 examples, byte for byte.
    write("krpc", "ping", b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")
    write("krpc", "ping-reply", b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re")
    write("krpc", "find_node", b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe")
    write("krpc", "get_peers", b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe")
    write("krpc", "get_peers-values", b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re")
    write("krpc", "announce_peer", b"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe")
    write("krpc", "announce_peer-implied", b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe")
    write("krpc", "error", b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee")
    # BEP 32/42/43 fields: nodes and nodes6 (one with port 0), want, ip, ro, v, an unknown method.
    nodes = other + bytes([198, 18, 0, 1, 0x1a, 0xe1]) + node_id + bytes([198, 18, 0, 2, 0, 0])
    nodes6 = other + bytes([0xfd] + [0] * 14 + [1]) + b"\x1a\xe1"
    write("krpc", "find_node-reply", bencode({"ip": bytes([203, 0, 113, 5, 0x1a, 0xe2]), "r": {"id": node_id, "nodes": nodes, "nodes6": nodes6},
                                              "t": b"\x00\x01", "v": b"BP01", "y": "r"}))
    write("krpc", "want-ro", bencode({"a": {"id": node_id, "target": other, "want": ["n4", "n6", "x"]}, "q": "find_node", "ro": 1, "t": b"tt", "y": "q"}))
    write("krpc", "unknown-method", bencode({"a": {"id": node_id, "target": other}, "q": "sample_infohashes", "t": b"zz", "y": "q"}))
    write("krpc", "values6", bencode({"r": {"id": node_id, "token": b"tok", "values": [bytes([0xfd] + [0] * 15) + b"\x00\x50"]}, "t": b"v6", "y": "r"}))


TARGETS = {
    "bencode": bencode_seeds, "metainfo": metainfo_seeds, "wire": wire_seeds, "tracker-http": tracker_http_seeds,
    "tracker-udp": tracker_udp_seeds, "magnet": magnet_seeds, "ut_metadata": ut_metadata_seeds, "ut_pex": ut_pex_seeds,
    "lsd": lsd_seeds, "krpc": krpc_seeds,
}

if __name__ == "__main__":
    # With target names, only those corpora get their seeds (the others keep what afl-cmin left them).
    for target in sys.argv[1:] or TARGETS:
        TARGETS[target]()
    sys.exit(0)
