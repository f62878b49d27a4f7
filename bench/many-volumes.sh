#!/usr/bin/env bash
# Benchmark: many volumes (issue 16 item 4).
#
#   bench/many-volumes.sh                                  # both parts at full size
#   PART=1 SIZE=256M bench/many-volumes.sh                  # only part 1, smaller volumes
#   PART=2 VOLUMES=100 LOADED=10 bench/many-volumes.sh      # only part 2, fewer volumes
#
# Part 1, one replayer service resyncing many volumes at once. Two facilities (site-a PRIMARY,
# site-b SECONDARY) with COPIES (8) volumes of SIZE (1 GiB), filled; one replayer service with the
# default replayer.copy.concurrency (or CONCURRENCY). First one volume alone: cut the link, dirty
# DIRTY_PCT% (10) of its regions with fio through NBD, restore, time restore -> REPLICATING. Then all
# COPIES volumes at once in one outage: the first COPIES-1 at DIRTY_PCT%, the last (listed last in
# the configuration, the worst place for it) at SMALL_PCT% (1). Copy rate = dirty bytes / (time from
# restore to REPLICATING - producer.link.restore.damping). Targets: aggregate >= 0.85x of the single
# volume's rate; the smallest volume reaches REPLICATING first.
#
# Part 2, a facility with VOLUMES (1000) sparse volumes of BIG_SIZE (1 GiB) each, and its peer with
# their SECONDARY copies (started first): time from site-a's process start to every volume served
# (GET /v1/status lists them all and nbdinfo answers on the first, middle and last export), for the
# first start (volumes created) and for a restart of site-a over its state; heap (jcmd GC.heap_info)
# and threads (/proc/PID/status) of each process, per volume. Then fio load (LOAD_IOPS, 5 random
# 4 KiB writes/s each) on LOADED (50) volumes, a link cut of OUTAGE_S (5) s and a restore: every
# volume must be REPLICATING within CONVERGE_S (300) s ("no stall"), and clean once fio stops, and
# the replicas of SHA_CHECK (5) loaded volumes equal their sources. Mind the amplification: each
# random 4 KiB write during the resync dirties a 64 KiB region, so LOADED x LOAD_IOPS x 64 KiB/s
# (16 MiB/s at the defaults) must stay well below the copy rate, or the resync cannot converge
# under the load (on a busy 2-core machine 50 x 20 writes/s did not).
# Targets: start <= 10 s; converges.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PART="${PART:-all}"
SIZE="${SIZE:-1G}"
COPIES="${COPIES:-8}"
DIRTY_PCT="${DIRTY_PCT:-10}"
SMALL_PCT="${SMALL_PCT:-1}"
VOLUMES="${VOLUMES:-1000}"
BIG_SIZE="${BIG_SIZE:-1G}"
LOADED="${LOADED:-50}"
LOAD_IOPS="${LOAD_IOPS:-5}"
OUTAGE_S="${OUTAGE_S:-5}"
CONVERGE_S="${CONVERGE_S:-300}"
SHA_CHECK="${SHA_CHECK:-5}"
DAMPING_MS="${DAMPING_MS:-500}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/many-volumes"
BR="$ROOT/bin/blockrep"
for tool in fio nbdinfo python3 jcmd; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio libnbd-bin python3 openjdk-17-jdk-headless)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT"
"$BR" --version >/dev/null   # builds the jar first if needed

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# many_site_config NODE NBD CTL LINK PEER ROLE SIZE VOLUME...: a facility holding the named volumes
many_site_config() {
  local node=$1 nbd=$2 ctl=$3 link=$4 peer=$5 role=$6 size=$7; shift 7
  local list; list=$(IFS=,; echo "$*")
  cat <<CONF
producer.node.id=$node
producer.state.dir=$OUT/$node
producer.nbd.listen=127.0.0.1:$nbd
producer.nbd.max.connections=4096
producer.control.listen=127.0.0.1:$ctl
producer.link.listen=127.0.0.1:$link
${peer:+producer.link.peer=127.0.0.1:$peer}
producer.link.secret=$SECRET
producer.link.restore.damping=${DAMPING_MS}ms
producer.kafka.bootstrap.servers=127.0.0.1:$KAFKA
producer.volumes=$list
CONF
  local v
  for v in "$@"; do
    printf 'producer.volume.%s.size=%s\nproducer.volume.%s.role=%s\n' "$v" "$size" "$v" "$role"
  done
}

# many_replayer_config ID VOLUME...
many_replayer_config() {
  local id=$1; shift
  local list; list=$(IFS=,; echo "$*")
  cat <<CONF
replayer.id=$id
replayer.kafka.bootstrap.servers=127.0.0.1:$KAFKA
replayer.link.secret=$SECRET
replayer.rate=0
replayer.nodes=site-a,site-b
replayer.node.site-a.link=127.0.0.1:$LINK_A
replayer.node.site-a.control=127.0.0.1:$CTL_A
replayer.node.site-b.link=127.0.0.1:$LINK_B
replayer.node.site-b.control=127.0.0.1:$CTL_B
replayer.volumes=$list
CONF
  [[ -n "${CONCURRENCY:-}" ]] && echo "replayer.copy.concurrency=$CONCURRENCY"
  local v
  for v in "$@"; do echo "replayer.volume.$v.nodes=site-a,site-b"; done
}

# wait_all PORT TIMEOUT_S START_MS [settled]: until every volume of the facility is REPLICATING (and,
# with "settled", clean with no pending era); prints "volume ms" per volume, the ms after START_MS at
# which it was first seen so (polled every 20 ms by one process), slowest last.
wait_all() { "$PY" - "$@" <<'PY' || exit 1
import json, sys, time, urllib.request
port, timeout, start = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
settled = len(sys.argv) > 4
deadline, done, seen = time.monotonic() + timeout, {}, 0
while True:
    try:
        vols = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=30))["volumes"]
    except Exception:
        vols = []
    now = int(time.time() * 1000) - start
    seen = len(vols)
    for v in vols:
        ok = v["mode"] == "REPLICATING" and (not settled or (v.get("dirtyRegions", 0) == 0 and not v.get("pendingEras")))
        if ok and v["volume"] not in done:
            done[v["volume"]] = now
    if vols and len(done) == len(vols):
        break
    if time.monotonic() > deadline:
        left = sorted(v["volume"] + ":" + v["mode"] for v in vols if v["volume"] not in done)
        print(f"bench: {len(left)} of {seen} volumes not {'settled' if settled else 'REPLICATING'} on :{port} "
              f"after {timeout:.0f} s: {' '.join(left[:20])}", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.02)
for v, ms in sorted(done.items(), key=lambda e: e[1]):
    print(v, ms)
PY
}

# wait_all_mode PORT MODE TIMEOUT_S: until every volume of the facility is in MODE
wait_all_mode() { "$PY" - "$@" <<'PY' || exit 1
import json, sys, time, urllib.request
port, want, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + timeout
while True:
    try:
        vols = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=30))["volumes"]
        if vols and all(v["mode"] == want for v in vols):
            sys.exit(0)
    except Exception:
        pass
    if time.monotonic() > deadline:
        print(f"bench: not every volume {want} on :{port}", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.05)
PY
}

# dirty_fio SIZE NAME=URI:IOS ...: one fio run, random 64 KiB writes, IOS of them per volume, all at once
dirty_fio() {
  local size=$1; shift
  local args=(--ioengine=nbd --rw=randwrite --bs=64k --iodepth=16 --size="$size" --randrepeat=0)
  local spec
  for spec in "$@"; do
    local name=${spec%%=*} rest=${spec#*=}
    args+=(--name="$name" --uri="${rest%:*}" --number_ios="${rest##*:}")
  done
  fio "${args[@]}" > "$OUT/dirty-fio.log"
}

sum_check() {   # sum_check VOLUME...: source == replica
  local v
  for v in "$@"; do
    local a b
    a=$(sha256sum < "$OUT/site-a/volumes/$v/data.img"); b=$(sha256sum < "$OUT/site-b/volumes/$v/data.img")
    [[ "$a" == "$b" ]] || { echo "bench: replica of $v differs from its source" >&2; exit 1; }
  done
}

# stop_all: every process this part started, newest first (the replayer and facilities before the broker)
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  pids=()
}

# dirtied FILE: "volume regions" of site-a's dirty regions now (random offsets overlap: fewer than fio's writes)
dirtied() { "$PY" -c "import json,urllib.request as u; [print(v['volume'], v['dirtyRegions']) for v in json.load(u.urlopen('http://127.0.0.1:$CTL_A/v1/status'))['volumes']]" > "$1"; }

# ---------------------------------------------------------------- part 1
part1() {
  local OUT="$OUT/part1"; mkdir -p "$OUT"
  local bytes regions dirty small vols=() i
  bytes=$(bytes_of "$SIZE"); regions=$((bytes / 65536))
  dirty=$((regions * DIRTY_PCT / 100)); small=$((regions * SMALL_PCT / 100)); ((small > 0)) || small=1
  for i in $(seq 1 "$COPIES"); do vols+=("v$i"); done
  start_kafka
  many_site_config site-a "$NBD_A" "$CTL_A" "$LINK_A" "$LINK_B" PRIMARY "$SIZE" "${vols[@]}" > "$OUT/site-a.properties"
  many_site_config site-b "$NBD_B" "$CTL_B" "$LINK_B" "" SECONDARY "$SIZE" "${vols[@]}" > "$OUT/site-b.properties"
  many_replayer_config bench-replayer "${vols[@]}" > "$OUT/replayer.properties"
  start_sites_many
  local fills=() v
  for v in "${vols[@]}"; do fills+=(--name="fill-$v" --uri="nbd://127.0.0.1:$NBD_A/$v"); done
  fio --ioengine=nbd --rw=write --bs=1M --iodepth=8 --size="$SIZE" "${fills[@]}" > /dev/null
  wait_all "$CTL_A" 300 "$(now_ms)" settled > /dev/null

  # warm-up: one outage with every volume dirtied a little (the copy path compiled, the buffers touched)
  "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null; wait_all_mode "$CTL_A" LOGGING 30
  local specs=()
  for v in "${vols[@]}"; do specs+=("w-$v=nbd://127.0.0.1:$NBD_A/$v:$small"); done
  dirty_fio "$SIZE" "${specs[@]}"
  link_restore "$CTL_A"; wait_all "$CTL_A" 600 "$(now_ms)" settled > /dev/null

  # one volume alone
  "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null; wait_all_mode "$CTL_A" LOGGING 30
  dirty_fio "$SIZE" "alone=nbd://127.0.0.1:$NBD_A/v1:$dirty"
  dirtied "$OUT/dirtied-alone.txt"
  sync; wait_quiet
  local t0; t0=$(now_ms); link_restore "$CTL_A"
  wait_all "$CTL_A" 600 "$t0" > "$OUT/alone.txt"
  wait_all "$CTL_A" 600 "$(now_ms)" settled > /dev/null
  ALONE_MS=$(awk '$1=="v1"{print $2}' "$OUT/alone.txt")

  # all at once: the last volume small
  "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null; wait_all_mode "$CTL_A" LOGGING 30
  specs=()
  for i in $(seq 1 "$COPIES"); do
    local n=$dirty; ((i == COPIES)) && n=$small
    specs+=("d-v$i=nbd://127.0.0.1:$NBD_A/v$i:$n")
  done
  dirty_fio "$SIZE" "${specs[@]}"
  # the regions fio actually dirtied (random offsets overlap): from the facility's status
  dirtied "$OUT/dirtied.txt"
  sync; wait_quiet
  t0=$(now_ms); link_restore "$CTL_A"
  wait_all "$CTL_A" 900 "$t0" > "$OUT/together.txt"
  wait_all "$CTL_A" 600 "$(now_ms)" settled > /dev/null
  sum_check "${vols[@]}"
  stop_all

  "$PY" - "$OUT/alone.txt" "$OUT/together.txt" "$OUT/dirtied.txt" "$OUT/dirtied-alone.txt" "$small" "$DAMPING_MS" "$COPIES" "$SIZE" "$DIRTY_PCT" "$SMALL_PCT" <<'PY'
import sys
alone = dict(l.split() for l in open(sys.argv[1]))
together = {k: int(v) for k, v in (l.split() for l in open(sys.argv[2]))}
dirtied = {k: int(v) for k, v in (l.split() for l in open(sys.argv[3]))}
dirty = int(dict(l.split() for l in open(sys.argv[4]))["v1"])
small, damping, copies = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
size, dpct, spct = sys.argv[8], sys.argv[9], sys.argv[10]
mib = lambda regions: regions * 65536 / 2**20
alone_ms = int(alone["v1"])
alone_rate = mib(dirty) / ((alone_ms - damping) / 1000)
total = sum(dirtied.values())
last = max(together.values())
agg_rate = mib(total) / ((last - damping) / 1000)
print(f"part 1: {copies} volumes of {size}, 64 KiB regions; {copies - 1} at {dpct}% dirty, the last at {spct}%; "
      f"times from link restore (damping {damping} ms included; rates exclude it)")
print(f"{'volume':10} {'dirty MiB':>10} {'REPLICATING ms':>15}")
print(f"{'v1 alone':10} {mib(dirty):10.0f} {alone_ms:15d}   {alone_rate:7.1f} MiB/s")
for v, ms in sorted(together.items(), key=lambda e: e[1]):
    print(f"{v:10} {mib(dirtied.get(v, 0)):10.0f} {ms:15d}")
smallest = min(dirtied, key=dirtied.get)
first = min(together, key=together.get)
ratio = agg_rate / alone_rate
print(f"aggregate: {mib(total):.0f} MiB in {last - damping} ms = {agg_rate:.1f} MiB/s = {ratio:.2f}x one volume alone "
      f"(target >= 0.85x){'' if ratio >= 0.85 else '  MISSED'}")
print(f"first to finish: {first}; smallest: {smallest} (target: the smallest first){'' if first == smallest else '  MISSED'}")
PY
}

# start_sites_many: both facilities and the replayer from $OUT/*.properties; waits until all volumes are REPLICATING
start_sites_many() {
  sleep 3   # the broker
  "$BR" producer --config "$OUT/site-b.properties" > "$OUT/site-b.log" 2>&1 & pids+=($!); PID_B=$!
  "$BR" producer --config "$OUT/site-a.properties" > "$OUT/site-a.log" 2>&1 & pids+=($!); PID_A=$!
  "$BR" replayer --config "$OUT/replayer.properties" > "$OUT/replayer.log" 2>&1 & pids+=($!); PID_R=$!
  wait_all "$CTL_A" "${START_TIMEOUT:-300}" "$(now_ms)" > /dev/null
}

# jvm_figures PID NAME VOLUMES: heap used / committed (MiB), threads, threads per volume
jvm_figures() {
  local heap threads
  heap=$(jcmd "$1" GC.heap_info 2>/dev/null | "$PY" -c '
import re, sys
t = sys.stdin.read()
m = re.search(r"total (\d+)K, used (\d+)K", t)
print(f"{int(m[2]) / 1024:.0f} {int(m[1]) / 1024:.0f}" if m else "? ?")')
  threads=$(awk '/^Threads:/{print $2}' "/proc/$1/status")
  echo "$2 $heap $threads $("$PY" -c "print(f'{$threads / $3:.3f}')")"
}

# served: until site-a's status lists every volume and nbdinfo answers on the first, middle and last export
served() {
  "$PY" - "$CTL_A" "$VOLUMES" <<'PY' || exit 1
import json, sys, time, urllib.request
port, n = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        if len(json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=30))["volumes"]) == n:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.05)
sys.exit("bench: the facility did not list every volume within 300 s")
PY
  local v
  for v in m1 "m$(((VOLUMES + 1) / 2))" "m$VOLUMES"; do
    until nbdinfo --size "nbd://127.0.0.1:$NBD_A/$v" > /dev/null 2>&1; do sleep 0.05; done
  done
}

# ---------------------------------------------------------------- part 2
part2() {
  local OUT="$OUT/part2"; mkdir -p "$OUT"
  local vols=() i
  for i in $(seq 1 "$VOLUMES"); do vols+=("m$i"); done
  start_kafka
  many_site_config site-a "$NBD_A" "$CTL_A" "$LINK_A" "$LINK_B" PRIMARY "$BIG_SIZE" "${vols[@]}" > "$OUT/site-a.properties"
  many_site_config site-b "$NBD_B" "$CTL_B" "$LINK_B" "" SECONDARY "$BIG_SIZE" "${vols[@]}" > "$OUT/site-b.properties"
  many_replayer_config bench-replayer "${vols[@]}" > "$OUT/replayer.properties"
  sleep 3   # the broker
  # site-b first, so that site-a's start is timed alone (two facilities creating 1,000 volumes each at
  # once on two cores take several times as long as one)
  "$BR" producer --config "$OUT/site-b.properties" > "$OUT/site-b.log" 2>&1 & pids+=($!); PID_B=$!
  CTL_A=$CTL_B NBD_A=$NBD_B served
  local t0; t0=$(now_ms)
  "$BR" producer --config "$OUT/site-a.properties" > "$OUT/site-a.log" 2>&1 & pids+=($!); PID_A=$!
  served
  local t1; t1=$(now_ms); START_MS=$((t1 - t0))
  "$BR" replayer --config "$OUT/replayer.properties" > "$OUT/replayer.log" 2>&1 & pids+=($!); PID_R=$!
  wait_all "$CTL_A" 600 "$(now_ms)" > /dev/null
  local t2; t2=$(now_ms); REPLICATING_MS=$((t2 - t0))
  sleep 5   # settle before the idle figures
  { jvm_figures "$PID_A" site-a "$VOLUMES"; jvm_figures "$PID_B" site-b "$VOLUMES"; jvm_figures "$PID_R" replayer "$VOLUMES"; } > "$OUT/idle.txt"

  local jobs=()
  for i in $(seq 1 "$LOADED"); do
    jobs+=(--name="load-m$i" --uri="nbd://127.0.0.1:$NBD_A/m$i")
  done
  fio --ioengine=nbd --rw=randwrite --bs=4k --iodepth=4 --size="$BIG_SIZE" --rate_iops="$LOAD_IOPS" \
      --time_based --runtime=3600 "${jobs[@]}" > "$OUT/load-fio.log" 2>&1 & local FIO=$!; pids+=($FIO)
  sleep 3
  "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null
  wait_all_mode "$CTL_A" LOGGING 60
  sleep "$OUTAGE_S"
  { jvm_figures "$PID_A" site-a "$VOLUMES"; jvm_figures "$PID_B" site-b "$VOLUMES"; jvm_figures "$PID_R" replayer "$VOLUMES"; } > "$OUT/logging.txt"
  local t3; t3=$(now_ms); link_restore "$CTL_A"
  local converged=yes
  wait_all "$CTL_A" "$CONVERGE_S" "$t3" > "$OUT/converge.txt" || converged=no
  local t4; t4=$(now_ms); CONVERGE_MS=$((t4 - t3))
  { jvm_figures "$PID_A" site-a "$VOLUMES"; jvm_figures "$PID_B" site-b "$VOLUMES"; jvm_figures "$PID_R" replayer "$VOLUMES"; } > "$OUT/resynced.txt"
  kill "$FIO" 2>/dev/null || true; wait "$FIO" 2>/dev/null || true
  [[ $converged == yes ]] && wait_all "$CTL_A" "$CONVERGE_S" "$(now_ms)" settled > /dev/null || converged=no
  local check=()
  for i in $(seq 1 "$SHA_CHECK"); do check+=("m$i"); done
  [[ $converged == yes ]] && sum_check "${check[@]}"
  # a restart of site-a over its existing state (the usual start: files, bitmaps and topics exist)
  kill "$PID_A"; wait "$PID_A" 2>/dev/null || true
  t0=$(now_ms)
  "$BR" producer --config "$OUT/site-a.properties" >> "$OUT/site-a.log" 2>&1 & pids+=($!); PID_A=$!
  served
  t1=$(now_ms); RESTART_MS=$((t1 - t0))
  stop_all

  "$PY" - "$VOLUMES" "$BIG_SIZE" "$START_MS" "$REPLICATING_MS" "$CONVERGE_MS" "$converged" "$LOADED" "$LOAD_IOPS" "$OUTAGE_S" \
      "$OUT/idle.txt" "$OUT/logging.txt" "$OUT/resynced.txt" "$RESTART_MS" <<'PY'
import sys
n, size, start, repl, conv, ok, loaded, iops, outage = sys.argv[1:10]
restart = sys.argv[13]
print(f"part 2: {n} sparse volumes of {size} on each facility")
print(f"first start, volumes created (process start -> status lists {n}, nbdinfo answers on 3 exports): {start} ms (target <= 10000 ms)"
      f"{'' if int(start) <= 10000 else '  MISSED'}")
print(f"restart of site-a over its state, process start -> served: {restart} ms (target <= 10000 ms)"
      f"{'' if int(restart) <= 10000 else '  MISSED'}")
print(f"every volume REPLICATING (replayer started once site-a served): {repl} ms after site-a's start")
print(f"link cut {outage} s under fio load on {loaded} volumes ({iops} writes/s each), restore -> every volume REPLICATING: "
      f"{conv} ms, converged: {ok} (target: converges, no stall)")
print(f"{'phase':10} {'process':9} {'heap used MiB':>14} {'committed':>10} {'threads':>8} {'threads/volume':>15}")
for phase, path in (("idle", sys.argv[10]), ("logging", sys.argv[11]), ("resynced", sys.argv[12])):
    for line in open(path):
        name, used, committed, threads, per = line.split()
        print(f"{phase:10} {name:9} {used:>14} {committed:>10} {threads:>8} {per:>15}")
PY
}

[[ "$PART" == all || "$PART" == 1 ]] && part1
[[ "$PART" == all || "$PART" == 2 ]] && part2
echo "command: PART=$PART SIZE=$SIZE COPIES=$COPIES DIRTY_PCT=$DIRTY_PCT SMALL_PCT=$SMALL_PCT CONCURRENCY=${CONCURRENCY:-default} VOLUMES=$VOLUMES BIG_SIZE=$BIG_SIZE LOADED=$LOADED LOAD_IOPS=$LOAD_IOPS OUTAGE_S=$OUTAGE_S DAMPING_MS=$DAMPING_MS bench/many-volumes.sh   (logs in $OUT)"
