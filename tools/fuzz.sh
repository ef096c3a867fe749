#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine's parsers with AFL++ and SharpFuzz. Not part of the Test task.
#
#   tools/fuzz.sh [-m MINUTES] [-t TIMEOUT_MS] [target ...]
#
# Targets: bencode metainfo wire tracker-http tracker-udp magnet ut_metadata ut_pex lsd krpc (default: all, one after the other, MINUTES each;
# default 5). Needs afl++ (apt-get install afl++) and the local dotnet tools (dotnet tool restore).
#
# What it does: publishes tests/Fuzz/BitTorrent.Fuzz to out/fuzz/bin, instruments BitTorrent.Engine.dll there
# with sharpfuzz, then runs one afl-fuzz per target at a time (-V MINUTES*60, bounded by `timeout` too) with
# tests/Fuzz/corpus/<target> as input, tests/Fuzz/dict/<target>.dict (if any) as dictionary and
# out/fuzz/findings/<target> as output. Afterwards the queue is minimised
# with afl-cmin (files over 64 KiB dropped) and replaces tests/Fuzz/corpus/<target>; crashes and hangs are copied
# to tests/Fuzz/crashes/<target>/ and tests/Fuzz/hangs/<target>/, which the xunit FuzzCorpusTests replay.
# A summary (minutes, execs, paths, crashes, hangs per target) goes to out/fuzz/summary.txt.
# Reproduce one input without AFL: dotnet out/fuzz/bin/BitTorrent.Fuzz.dll <target> <file-or-folder>.
set -euo pipefail

MINUTES=5
TIMEOUT_MS=5000
while getopts "m:t:h" opt; do
    case "$opt" in
        m) MINUTES="$OPTARG" ;;
        t) TIMEOUT_MS="$OPTARG" ;;
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(bencode metainfo wire tracker-http tracker-udp magnet ut_metadata ut_pex lsd krpc)

REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$REPO/out/fuzz"
BIN="$WORK/bin"
FUZZ_DIR="$REPO/tests/Fuzz"
MAX_CORPUS_FILE=65536

for tool in afl-fuzz afl-cmin; do
    command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool not found (apt-get install afl++)" >&2; exit 1; }
done

cd "$REPO"
dotnet tool restore >/dev/null
rm -rf "$BIN"
dotnet publish tests/Fuzz/BitTorrent.Fuzz/BitTorrent.Fuzz.csproj -c Release -o "$BIN" --nologo -v quiet
# Instrument only the engine: coverage of the parsers is what guides AFL, not of the BCL or the harness.
dotnet sharpfuzz "$BIN/BitTorrent.Engine.dll"

export AFL_SKIP_BIN_CHECK=1            # a managed program: no AFL instrumentation in the ELF apphost
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_UI=1                     # plain status lines, fit for a log
export AFL_NO_AFFINITY=1               # the cores are shared: let the scheduler place it
export DOTNET_TieredCompilation=0      # steadier coverage: no re-JIT of hot methods mid-run
export DOTNET_CLI_TELEMETRY_OPTOUT=1

mkdir -p "$WORK"
SUMMARY="$WORK/summary.txt"
stat_of() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$2" 2>/dev/null || true; }

for target in "${TARGETS[@]}"; do
    corpus="$FUZZ_DIR/corpus/$target"
    findings="$WORK/findings/$target"
    [ -d "$corpus" ] || { echo "fuzz.sh: no seed corpus $corpus" >&2; exit 1; }
    rm -rf "$findings"
    mkdir -p "$findings"
    seconds=$((MINUTES * 60))
    dict_args=()
    [ -f "$FUZZ_DIR/dict/$target.dict" ] && dict_args=(-x "$FUZZ_DIR/dict/$target.dict")
    echo "== $target: $MINUTES min, corpus $(find "$corpus" -type f | wc -l) files"
    # -V stops afl-fuzz after the time; timeout is the backstop if it does not.
    timeout --kill-after=30 $((seconds + 120)) \
        nice -n 19 afl-fuzz -i "$corpus" -o "$findings" -t "$TIMEOUT_MS" -m none -V "$seconds" "${dict_args[@]}" \
        -- "$BIN/BitTorrent.Fuzz" "$target" > "$findings/afl.log" 2>&1 || echo "afl-fuzz ended with $? (see $findings/afl.log)"

    out="$findings/default"
    stats="$out/fuzzer_stats"
    echo "$target: minutes=$MINUTES run_time=$(stat_of run_time "$stats")s execs=$(stat_of execs_done "$stats") paths=$(stat_of corpus_count "$stats") crashes=$(stat_of saved_crashes "$stats") hangs=$(stat_of saved_hangs "$stats") stability=$(stat_of stability "$stats")" | tee -a "$SUMMARY"

    # Crashes and hangs: kept under a content-derived name, so a rerun adds no duplicates.
    for kind in crashes hangs; do
        for f in "$out/$kind"/id*; do
            [ -f "$f" ] || continue
            mkdir -p "$FUZZ_DIR/$kind/$target"
            cp "$f" "$FUZZ_DIR/$kind/$target/$(sha1sum "$f" | cut -c1-16)"
        done
    done

    # The queue, minimised, becomes the corpus. Seeds keep their names (AFL keeps them after 'orig:').
    if [ -d "$out/queue" ]; then
        small="$findings/queue-small"
        mkdir -p "$small"
        find "$out/queue" -maxdepth 1 -type f -size -$((MAX_CORPUS_FILE + 1))c -exec cp {} "$small/" \;
        minimised="$findings/cmin"
        if nice -n 19 afl-cmin -i "$small" -o "$minimised" -t "$TIMEOUT_MS" -m none -- "$BIN/BitTorrent.Fuzz" "$target" > "$findings/cmin.log" 2>&1; then
            source_dir="$minimised"
        else
            echo "afl-cmin failed (see $findings/cmin.log); keeping the whole queue"
            source_dir="$small"
        fi
        fresh="$findings/corpus"
        mkdir -p "$fresh"
        for f in "$source_dir"/*; do
            [ -f "$f" ] || continue
            base="$(basename "$f")"
            case "$base" in
                *orig:*) name="${base##*orig:}" ;;
                *) name="$(sha1sum "$f" | cut -c1-16)" ;;
            esac
            cp "$f" "$fresh/$name"
        done
        if [ -n "$(ls -A "$fresh")" ]; then
            rm -rf "$corpus"
            cp -r "$fresh" "$corpus"
        fi
        echo "$target: corpus now $(find "$corpus" -type f | wc -l) files, $(du -sk "$corpus" | cut -f1) KiB" | tee -a "$SUMMARY"
    fi
done
