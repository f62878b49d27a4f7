#!/usr/bin/env bash
# Benchmark: `blockrep replay VOLUME --full` against the disk's own sequential write speed (issue 16 item 6).
#
#   bench/full-copy.sh                    # 1 GiB volume, half of it data, then all of it
#   SIZE=256M FILL_PCT=50 bench/full-copy.sh
#   PROFILE=1 bench/full-copy.sh          # JFR recordings of the replay job and both facilities in $OUT/*.jfr
#
# Runs the real system as separate processes (embedded Kafka, site-a primary, site-b secondary; no
# replayer service, so the `replay` job copies). Each round gives site-b a fresh sparse replica (the
# facility stopped, its image replaced by an empty sparse file of the same size, started again) and
# times `replay bench --full` from start to exit (JVM start, dirty-topic rebuild and planning included)
# and the copy itself (the copier's own figure, from its log line). Rounds:
#   1. the volume FILL_PCT% data, the rest never written (holes): the holes must cost no wire bytes
#      and no replica write;
#   2. the volume all data;
#   3. all data, the replay job killed with SIGKILL once half of the volume is on the replica, then
#      started again: it must resume, not copy from zero (bytes applied over both runs <= 1.1x).
# Bytes applied on the replica come from site-b's blockrep_volume_dataset_bytes_total (every data set
# applied there, whichever process sent it). Baseline on the same filesystem: fio writing SIZE
# sequentially in 1 MiB blocks, buffered, fsync at the end (the replica writes buffered and flushes at
# each data set's commit), timed the same way. sha256 source == replica is checked after every round.
# Targets: copy >= 0.85x of fio's MiB/s (data bytes over the copy time); resume total <= 1.1x SIZE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${SIZE:-1G}"
FILL_PCT="${FILL_PCT:-50}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/full-copy"
BR="$ROOT/bin/blockrep"
for tool in fio python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio python3 curl)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT"
"$BR" --version >/dev/null   # builds the jar first if needed

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

BYTES=$(bytes_of "$SIZE")
jfr() { [[ "${PROFILE:-0}" == "1" ]] && echo "-XX:StartFlightRecording=filename=$OUT/$1.jfr,settings=profile,dumponexit=true" || true; }

start_kafka
MET_B=$(free_port)
site_config site-a "$NBD_A" "$CTL_A" "$LINK_A" "$LINK_B" PRIMARY > "$OUT/site-a.properties"
site_config site-b "$NBD_B" "$CTL_B" "$LINK_B" "" SECONDARY > "$OUT/site-b.properties"
echo "producer.metrics.listen=127.0.0.1:$MET_B" >> "$OUT/site-b.properties"
replayer_config bench-replay > "$OUT/replayer.properties"
sleep 3   # the broker

start_b() {
  BLOCKREP_JAVA_OPTS="$(jfr "site-b-$1")" "$BR" producer --config "$OUT/site-b.properties" >> "$OUT/site-b.log" 2>&1 &
  B_PID=$!; pids+=("$B_PID")
}
start_b 0
BLOCKREP_JAVA_OPTS="$(jfr site-a)" "$BR" producer --config "$OUT/site-a.properties" > "$OUT/site-a.log" 2>&1 & pids+=($!)
wait_mode "$CTL_A" REPLICATING 120
URI="nbd://127.0.0.1:$NBD_A/bench"
A_IMG="$OUT/site-a/volumes/bench/data.img"; B_IMG="$OUT/site-b/volumes/bench/data.img"

# applied: bytes of data sets applied on site-b since its start
applied() { curl -s "http://127.0.0.1:$MET_B/metrics" | "$PY" -c '
import sys
print(int(sum(float(l.split()[-1]) for l in sys.stdin if l.startswith("blockrep_volume_dataset_bytes_total") and "volume=\"bench\"" in l)))'; }

# fresh_replica ROUND: site-b restarted over an empty sparse image (an untrusted, or new, replica)
fresh_replica() {
  kill "$B_PID"; wait "$B_PID" 2>/dev/null || true
  rm -f "$B_IMG"; truncate -s "$SIZE" "$B_IMG"
  start_b "$1"
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$MET_B/metrics" > /dev/null && break; sleep 0.1; done
  wait_mode "$CTL_A" REPLICATING 120
}

# replay_full LOG: the job, in the foreground; its JFR (PROFILE=1) in $OUT/LOG.jfr
replay_full() { BLOCKREP_JAVA_OPTS="$(jfr "$1")" "$BR" replay bench --full -c "$OUT/replayer.properties" --progress plain --timeout 30m \
  > "$OUT/$1.log" 2>&1; }

# copy_ms LOG: the copier's time for its passes (sum of "copied ... in N ms" lines)
copy_ms() { "$PY" - "$OUT/$1.log" <<'PY'
import re, sys
print(sum(int(m) for m in re.findall(r"of \S+'s eras <= \d+ in (\d+) ms", open(sys.argv[1]).read())))
PY
}

same_or_die() {
  local a b; a=$(sha256sum < "$A_IMG"); b=$(sha256sum < "$B_IMG")
  [[ "$a" == "$b" ]] || { echo "bench: replica differs from source after $1" >&2; exit 1; }
}

# Round 1: FILL_PCT% data, the rest holes.
FILL_BYTES=$((BYTES * FILL_PCT / 100 / 1048576 * 1048576))
fio --name=fill --ioengine=nbd --uri="$URI" --rw=write --bs=1M --iodepth=8 --size="$FILL_BYTES" > /dev/null
fresh_replica 1
sync; wait_quiet
before=$(applied); t0=$(now_ms); replay_full replay-partial; t1=$(now_ms); after=$(applied)
same_or_die "the partial round"
R1_WALL=$((t1 - t0)); R1_COPY=$(copy_ms replay-partial); R1_SENT=$((after - before))

# Round 2: all data.
fio --name=fill2 --ioengine=nbd --uri="$URI" --rw=write --bs=1M --iodepth=8 --offset="$FILL_BYTES" \
    --size=$((BYTES - FILL_BYTES)) > /dev/null
fresh_replica 2
sync; wait_quiet
before=$(applied); t0=$(now_ms); replay_full replay-full; t1=$(now_ms); after=$(applied)
same_or_die "the full round"
R2_WALL=$((t1 - t0)); R2_COPY=$(copy_ms replay-full); R2_SENT=$((after - before))

# Round 3: killed at 50%, started again.
fresh_replica 3
sync; wait_quiet
before=$(applied)
BLOCKREP_JAVA_OPTS="" "$BR" replay bench --full -c "$OUT/replayer.properties" --progress plain > "$OUT/replay-killed.log" 2>&1 &
JOB=$!; pids+=("$JOB")
"$PY" - "$MET_B" "$before" "$BYTES" <<'PY'
import sys, time, urllib.request
port, before, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + 1800
while time.monotonic() < deadline:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    now = sum(float(l.split()[-1]) for l in text.splitlines()
              if l.startswith("blockrep_volume_dataset_bytes_total") and 'volume="bench"' in l)
    if now - before >= size / 2:
        sys.exit(0)
    time.sleep(0.005)
sys.exit("bench: the copy never reached half of the volume")
PY
kill -9 "$JOB"; wait "$JOB" 2>/dev/null || true
at_kill=$(applied)
replay_full replay-resumed
after=$(applied)
same_or_die "the resumed round"
R3_FIRST=$((at_kill - before)); R3_TOTAL=$((after - before))

# Baseline: the disk's sequential write speed, same filesystem, same way of timing.
sync; wait_quiet
t0=$(now_ms)
fio --name=seqwrite --filename="$OUT/fio-target.img" --rw=write --bs=1M --size="$SIZE" --ioengine=psync --end_fsync=1 > /dev/null
t1=$(now_ms)
FIO_MS=$((t1 - t0)); rm -f "$OUT/fio-target.img"

"$PY" - "$BYTES" "$FILL_PCT" "$FIO_MS" "$R1_WALL" "$R1_COPY" "$R1_SENT" "$R2_WALL" "$R2_COPY" "$R2_SENT" "$R3_FIRST" "$R3_TOTAL" <<'PY'
import sys
size, fill, fio, w1, c1, s1, w2, c2, s2, first, total = map(int, sys.argv[1:])
mib = 1 << 20
fio_rate = size / mib / (fio / 1000)
def rate(b, ms): return b / mib / (ms / 1000) if ms > 0 else float("nan")
print(f"volume {size // mib} MiB, 64 KiB regions; fio sequential write 1 MiB buffered + fsync: {fio} ms, {fio_rate:.0f} MiB/s")
print(f"{'':34} {'wall ms':>8} {'copy ms':>8} {'sent MiB':>9} {'sent/vol':>8} {'data MiB/s':>11} {'vs fio':>7}  {'volume MiB/s':>12}")
for name, w, c, s in ((f"replay --full, {fill}% data", w1, c1, s1), ("replay --full, 100% data", w2, c2, s2)):
    print(f"{name:34} {w:8d} {c:8d} {s / mib:9.0f} {s / size:8.2f} {rate(s, c):11.0f} {rate(s, c) / fio_rate:6.2f}x  {rate(size, c):12.0f}")
print(f"  target: data MiB/s >= 0.85x fio over the copy; {fill}% data sends {fill / 100:.2f}x the volume (holes cost no wire bytes)")
print(f"  wall: the whole job (JVM start, dirty topic rebuilt, planning, copy, cutover to REPLICATING); copy: the copier's own time")
print(f"kill -9 at 50% and resume (100% data): {first / mib:.0f} MiB before the kill, {total / mib:.0f} MiB over both runs = "
      f"{total / size:.2f}x the volume (target <= 1.1x)")
PY
echo "command: SIZE=$SIZE FILL_PCT=$FILL_PCT PROFILE=${PROFILE:-0} bench/full-copy.sh   (logs in $OUT)"
