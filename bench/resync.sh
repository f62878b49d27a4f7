#!/usr/bin/env bash
# Benchmark: resync after a link outage, against rsync and against the disk's own write speed.
#
#   bench/resync.sh                       # 1 GiB volume, 64 KiB regions, 10% of regions dirtied
#   SIZE=4G DIRTY_PCT=5 CYCLES=20 bench/resync.sh
#
# Runs the real system as separate processes (embedded Kafka, site-a primary, site-b secondary,
# a replayer), cuts the link, dirties DIRTY_PCT% of the regions at random with fio through NBD,
# restores the link and times restore -> REPLICATING. Baselines on the same disk:
#   rsync -I --inplace --no-whole-file of the source image onto a copy of the stale replica, and
#   fio writing only the dirty bytes (the physical limit; fsync at the end).
# Then CYCLES short outages while fio keeps writing, to measure the cutover write hold.
# Targets (issue 4): >= 10x faster than rsync; >= 0.7x of the dirty-bytes write; hold p99 <= 100 ms.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${SIZE:-1G}"
DIRTY_PCT="${DIRTY_PCT:-10}"
CYCLES="${CYCLES:-10}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/resync"
BR="$ROOT/bin/blockrep"
for tool in fio rsync python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio rsync python3)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT"
"$BR" --version >/dev/null   # builds the jar first if needed

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

BYTES=$(bytes_of "$SIZE")
REGIONS=$((BYTES / 65536)); DIRTY=$((REGIONS * DIRTY_PCT / 100))

start_kafka
site_config site-a "$NBD_A" "$CTL_A" "$LINK_A" "$LINK_B" PRIMARY > "$OUT/site-a.properties"
site_config site-b "$NBD_B" "$CTL_B" "$LINK_B" "" SECONDARY > "$OUT/site-b.properties"
replayer_config bench-replayer > "$OUT/replayer.properties"
start_sites
URI="nbd://127.0.0.1:$NBD_A/bench"

fill "$URI"

warm_up "$URI" "$DIRTY"   # outages and resyncs of the measured size first (see lib.sh)

"$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null
wait_mode "$CTL_A" LOGGING 30
fio --name=dirty --ioengine=nbd --uri="$URI" --rw=randwrite --bs=64k --iodepth=16 --size="$SIZE" \
    --number_ios="$DIRTY" --randrepeat=0 > /dev/null
cp --sparse=always "$OUT/site-b/volumes/bench/data.img" "$OUT/stale-replica.img"
cp --sparse=always "$OUT/site-a/volumes/bench/data.img" "$OUT/source-snapshot.img"

sync   # the fill and the snapshot copies are written back first, as before each baseline
wait_quiet
t0=$(now_ms)
link_restore "$CTL_A"
wait_mode "$CTL_A" REPLICATING 600
t1=$(now_ms)
RESYNC_MS=$((t1 - t0))
A_SUM=$(sha256sum < "$OUT/site-a/volumes/bench/data.img"); B_SUM=$(sha256sum < "$OUT/site-b/volumes/bench/data.img")
[[ "$A_SUM" == "$B_SUM" ]] || { echo "bench: replica differs from source after resync" >&2; exit 1; }

sync
t0=$(now_ms); rsync -I --inplace --no-whole-file "$OUT/source-snapshot.img" "$OUT/stale-replica.img"; sync; t1=$(now_ms)
RSYNC_MS=$((t1 - t0))
truncate -s "$SIZE" "$OUT/fio-target.img"
t0=$(now_ms)
fio --name=dirtybytes --filename="$OUT/fio-target.img" --rw=randwrite --bs=64k --iodepth=16 --ioengine=libaio \
    --size="$SIZE" --number_ios="$DIRTY" --randrepeat=0 --end_fsync=1 > /dev/null
t1=$(now_ms)
FIO_MS=$((t1 - t0))

# Cutover hold under load: short outages while fio writes continuously.
# The load is rate-limited (LOAD_IOPS, default 200 random 4 KiB writes/s): a resync converges only
# while it copies faster than the applications dirty regions.
fio --name=load --ioengine=nbd --uri="$URI" --rw=randwrite --bs=4k --iodepth=8 --size="$SIZE" \
    --rate_iops="${LOAD_IOPS:-200}" --time_based --runtime=3600 > /dev/null 2>&1 & FIO_LOAD=$!; pids+=($FIO_LOAD)
holds=()
for i in $(seq 1 "$CYCLES"); do
  "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null
  wait_mode "$CTL_A" LOGGING 30
  sleep 1
  link_restore "$CTL_A"
  wait_mode "$CTL_A" REPLICATING 300
  holds+=("$(mode "$CTL_A" | cut -d' ' -f2)")
done
kill "$FIO_LOAD" 2>/dev/null || true

python3 - "$RESYNC_MS" "$RSYNC_MS" "$FIO_MS" "$DIRTY" "$REGIONS" "$SIZE" "${DAMPING_MS:-500}" "${holds[@]}" <<'PY'
import sys
resync, rsync, fio, dirty, regions, size, damping = map(str, sys.argv[1:8])
resync, rsync, fio, damping = int(resync), int(rsync), int(fio), int(damping)
holds = sorted(int(h) for h in sys.argv[8:] if h not in ("None", ""))
print(f"volume {size}, 64 KiB regions, {dirty} of {regions} regions dirtied ({int(dirty) * 64 // 1024} MiB)")
print(f"{'':44} {'ms':>8} {'blockrep vs':>12}")
print(f"{'blockrep: link restore -> REPLICATING':44} {resync:8d}")
print(f"{'rsync -I --inplace --no-whole-file':44} {rsync:8d} {rsync / resync:11.1f}x  (target >= 10x)")
print(f"{'fio: dirty bytes only, fsync (physical limit)':44} {fio:8d} {fio / resync:11.2f}x  (target >= 0.7x)")
print(f"{'  same, after the damping (the link counts as':44} {resync - damping:8d} {fio / (resync - damping):11.2f}x  (restore includes {damping} ms")
print(f"{'  restored only after it)':44} {'':8} {'':12} producer.link.restore.damping)")
if holds:
    p = lambda q: holds[min(len(holds) - 1, int(round(q * (len(holds) - 1))))]
    print(f"cutover write hold over {len(holds)} cutovers under fio load ({__import__('os').environ.get('LOAD_IOPS', '200')} writes/s): p50 {p(0.5)} ms, p99 {p(0.99)} ms, max {holds[-1]} ms (target p99 <= 100 ms)")
PY
echo "command: SIZE=$SIZE DIRTY_PCT=$DIRTY_PCT CYCLES=$CYCLES LOAD_IOPS=${LOAD_IOPS:-200} WARMUP=${WARMUP:-3} DAMPING_MS=${DAMPING_MS:-500} bench/resync.sh   (logs in $OUT)"
