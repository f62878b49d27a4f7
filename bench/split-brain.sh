#!/usr/bin/env bash
# Benchmark: resolving a split brain, against the disk's own write speed.
#
#   bench/split-brain.sh                       # 1 GiB volume, 64 KiB regions, 5% of regions written on each side
#   SIZE=4G WRITE_PCT=2 bench/split-brain.sh
#
# Runs the real system as separate processes (embedded Kafka, site-a and site-b), fills the volume
# while replicating, cuts the link both ways, promotes site-b, writes WRITE_PCT% of the regions at
# random on each side with fio through NBD (the two sets overlap by chance), restores the link (both
# sides report SPLIT_BRAIN), then times `blockrep resolve --primary site-a --yes` until the volume is
# REPLICATING. A replayer service runs, as in a deployment: resolve does its steps and leaves the copy
# to the service. Baseline on the same disk: fio writing the union's bytes (the physical limit; fsync
# at the end). Target (issue 6): >= 0.7x of the limit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${SIZE:-1G}"
WRITE_PCT="${WRITE_PCT:-5}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/split-brain"
BR="$ROOT/bin/blockrep"
for tool in fio python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio python3)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT"
"$BR" --version >/dev/null   # builds the jar first if needed

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

BYTES=$(bytes_of "$SIZE")
REGIONS=$((BYTES / 65536)); WRITES=$((REGIONS * WRITE_PCT / 100))

start_kafka
site_config site-a "$NBD_A" "$CTL_A" "$LINK_A" "$LINK_B" PRIMARY > "$OUT/site-a.properties"
site_config site-b "$NBD_B" "$CTL_B" "$LINK_B" "$LINK_A" SECONDARY > "$OUT/site-b.properties"
replayer_config bench-resolver > "$OUT/replayer.properties"
start_sites

fill "nbd://127.0.0.1:$NBD_A/bench"
warm_up "nbd://127.0.0.1:$NBD_A/bench" "$((WRITES * 2))"   # resyncs of about the union's size (see lib.sh)

# The split brain: both links cut, site-b promoted, each side writes WRITE_PCT% of the regions.
"$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null
"$BR" link cut --control "127.0.0.1:$CTL_B" > /dev/null
wait_mode "$CTL_A" LOGGING 30
"$BR" promote bench --control "127.0.0.1:$CTL_B" > /dev/null
for side in "a $NBD_A 1" "b $NBD_B 2"; do
  set -- $side
  fio --name="writes-$1" --ioengine=nbd --uri="nbd://127.0.0.1:$2/bench" --rw=randwrite --bs=64k --iodepth=16 --size="$SIZE" \
      --number_ios="$WRITES" --randrepeat=0 --randseed="$3" > /dev/null
done
"$BR" link restore --control "127.0.0.1:$CTL_A" > /dev/null
"$BR" link restore --control "127.0.0.1:$CTL_B" > /dev/null
wait_mode "$CTL_A" SPLIT_BRAIN 60
wait_mode "$CTL_B" SPLIT_BRAIN 60
UNION=$(python3 - "$CTL_A" "$CTL_B" <<'PY'
import json, sys, urllib.request
union = set()
for port in sys.argv[1:]:
    doc = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/volumes/bench/regions", timeout=10))
    for first, last in doc["runs"]:
        union.update(range(first, last + 1))
print(len(union))
PY
)

sync   # the fill and the writes are written back first, as before the baseline
wait_quiet
t0=$(now_ms)
"$BR" resolve bench --primary site-a --control "127.0.0.1:$CTL_A,127.0.0.1:$CTL_B" --config "$OUT/replayer.properties" --yes \
    > "$OUT/resolve.log" 2>&1 & RESOLVE=$!
wait_mode "$CTL_A" REPLICATING 600   # the survivor replicates: the split brain is over
t1=$(now_ms)
wait "$RESOLVE" || { echo "bench: resolve failed (see $OUT/resolve.log)" >&2; exit 1; }
t2=$(now_ms)
RESOLVE_MS=$((t1 - t0)); EXIT_MS=$((t2 - t0))
[[ "$(mode "$CTL_A" | cut -d' ' -f1)" == REPLICATING ]] || { echo "bench: not REPLICATING after resolve" >&2; exit 1; }
A_SUM=$(sha256sum < "$OUT/site-a/volumes/bench/data.img"); B_SUM=$(sha256sum < "$OUT/site-b/volumes/bench/data.img")
[[ "$A_SUM" == "$B_SUM" ]] || { echo "bench: site-b differs from site-a after resolve" >&2; exit 1; }

sync
truncate -s "$SIZE" "$OUT/fio-target.img"
t0=$(now_ms)
fio --name=unionbytes --filename="$OUT/fio-target.img" --rw=randwrite --bs=64k --iodepth=16 --ioengine=libaio \
    --size="$SIZE" --number_ios="$UNION" --randrepeat=0 --end_fsync=1 > /dev/null
t1=$(now_ms)
FIO_MS=$((t1 - t0))

python3 - "$RESOLVE_MS" "$FIO_MS" "$WRITES" "$UNION" "$REGIONS" "$SIZE" "$EXIT_MS" <<'PY'
import sys
resolve, fio, writes, union, regions, size, exited = sys.argv[1:8]
resolve, fio, exited = int(resolve), int(fio), int(exited)
print(f"volume {size}, 64 KiB regions, {writes} regions written on each side, union {union} of {regions} ({int(union) * 64 // 1024} MiB)")
print(f"{'':48} {'ms':>8} {'blockrep vs':>12}")
print(f"{'blockrep: resolve --yes -> REPLICATING':48} {resolve:8d}")
print(f"{'  (the command exited after, tombstones done)':48} {exited:8d}")
print(f"{'fio: union bytes only, fsync (physical limit)':48} {fio:8d} {fio / resolve:11.2f}x  (target >= 0.7x)")
PY
echo "command: SIZE=$SIZE WRITE_PCT=$WRITE_PCT WARMUP=${WARMUP:-3} bench/split-brain.sh   (logs in $OUT)"
