#!/usr/bin/env python3
"""Prints the timeline recorded by trace-peers.sh: MiB received per remote port and MiB written, one row a sample.
usage: trace-peers.py TRACE_FILE [PORT=NAME ...]"""
import collections, sys

names = dict(a.split("=", 1) for a in sys.argv[2:])
samples = collections.defaultdict(dict)
ports = set()
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) != 3:
        continue
    t, key, value = float(parts[0]), parts[1], int(parts[2])
    samples[t][key] = samples[t].get(key, 0) + value
    if key != "W":
        ports.add(key)
ports = sorted(ports, key=int)
print("     s " + " ".join(f"{names.get(p, p):>9}" for p in ports) + "   written")
for t in sorted(samples):
    row = samples[t]
    print(f"{t:6.2f} " + " ".join(f"{row.get(p, 0) / 1048576:9.1f}" for p in ports) + f"   {row.get('W', 0) / 1048576:7.1f}")
