#!/usr/bin/env bash
# Runs a command and, every 0.1 s while it lives, records per TCP connection of that process the bytes received
# (ss -ti bytes_received, keyed by the remote port) and the bytes it has written to files (/proc/PID/io wchar).
# A timeline of who sends when, and whether the disk keeps up: stalls show as rows where nothing moves.
# usage: trace-peers.sh OUT_FILE COMMAND [ARGS...]   (e.g. as Download.Bench.ps1 -ProfileWrapper 'bench/support/trace-peers.sh,/tmp/trace.txt')
# Lines of OUT_FILE: "SECONDS REMOTE_PORT BYTES" and "SECONDS W BYTES_WRITTEN"; bench/support/trace-peers.py prints a table.
set -u
out=$1; shift
"$@" & pid=$!
start=$(date +%s.%N)
: > "$out"
while kill -0 "$pid" 2>/dev/null; do
  t=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  ss -tinpH 2>/dev/null | awk -v t="$t" -v pid="pid=$pid," '
    /^[A-Z]/ { keep = index($0, pid) > 0; n = split($5, a, ":"); port = a[n]; next }
    keep { if (match($0, /bytes_received:[0-9]+/)) print t, port, substr($0, RSTART + 15, RLENGTH - 15); keep = 0 }' >> "$out"
  w=$(awk '/^wchar/ { print $2 }' "/proc/$pid/io" 2>/dev/null)
  [ -n "$w" ] && echo "$t W $w" >> "$out"
  sleep 0.1
done
wait "$pid"
