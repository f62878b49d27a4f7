#!/usr/bin/env bash
# Benchmark: what each mode costs a write. fio through NBD against one volume of a PRIMARY facility in
# REPLICATING (its SECONDARY on loopback) and in LOGGING (the first RUNTIME seconds after a link cut,
# first touches included), against a STANDALONE facility (no peer) and `nbdkit file` — all four on
# files on the same disk, all in the same run, rounds alternated, medians.
#
#   bench/mode-cost.sh                      # 1 GiB volumes, 10 s per job, 3 rounds
#   RUNTIME=20 ROUNDS=5 SIZE=4G bench/mode-cost.sh
#   ONLY_TARGETS="standalone replicating" ONLY_JOBS="seqwrite randwrite" bench/mode-cost.sh   # a subset
#
# Also counts the Kafka records the PRIMARY published in each LOGGING run (from its Prometheus
# endpoint) against the NBD writes fio issued: one record per region per era, not per write.
# Targets (issue 16): LOGGING >= 0.95x STANDALONE on the write rows; REPLICATING >= 0.5x STANDALONE on
# the write rows (both facilities share two cores here); STANDALONE >= 1.0x nbdkit on every row.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE="${SIZE:-1G}"
RUNTIME="${RUNTIME:-10}"
ROUNDS="${ROUNDS:-3}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/mode-cost"
BR="$ROOT/bin/blockrep"
for tool in fio nbdkit python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio nbdkit python3 curl)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT/runs"
"$BR" --version >/dev/null   # builds the jar first if needed

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

start_kafka
METRICS_A=$(free_port)
{ site_config site-a "$NBD_A" "$CTL_A" "$LINK_A" "$LINK_B" PRIMARY; echo "producer.metrics.listen=127.0.0.1:$METRICS_A"; } \
    > "$OUT/site-a.properties"
site_config site-b "$NBD_B" "$CTL_B" "$LINK_B" "" SECONDARY > "$OUT/site-b.properties"
replayer_config bench-replayer > "$OUT/replayer.properties"
NBD_S=$(free_port); CTL_S=$(free_port)
cat > "$OUT/standalone.properties" <<CONF
producer.node.id=solo
producer.state.dir=$OUT/solo
producer.nbd.listen=127.0.0.1:$NBD_S
producer.control.listen=127.0.0.1:$CTL_S
producer.volumes=bench
producer.volume.bench.size=$SIZE
CONF
"$BR" config check "$OUT"/*.properties > "$OUT/config-check.log" || { cat "$OUT/config-check.log" >&2; exit 1; }
"$BR" producer --config "$OUT/standalone.properties" > "$OUT/solo.log" 2>&1 & pids+=($!)
NK_PORT=$(free_port)
truncate -s "$SIZE" "$OUT/nbdkit.img"
nbdkit -f -i 127.0.0.1 -p "$NK_PORT" file "$OUT/nbdkit.img" > "$OUT/nbdkit.log" 2>&1 & pids+=($!)
start_sites
wait_mode "$CTL_S" STANDALONE 60

declare -A URI=([nbdkit]="nbd://127.0.0.1:$NK_PORT/" [standalone]="nbd://127.0.0.1:$NBD_S/bench"
                [replicating]="nbd://127.0.0.1:$NBD_A/bench" [logging]="nbd://127.0.0.1:$NBD_A/bench")
# Every volume is written in full first, so reads hit data and writes overwrite allocated blocks everywhere.
for target in nbdkit standalone replicating; do fill "${URI[$target]}"; done
wait_mode "$CTL_A" REPLICATING 120

records_sent() { curl -fsS "http://127.0.0.1:$METRICS_A/metrics" | "$PY" -c '
import sys
print(int(sum(float(l.split()[-1]) for l in sys.stdin if l.startswith("blockrep_kafka_records_sent"))))'; }

run_fio() { # out uri rw bs iodepth
  fio --name=job --ioengine=nbd --uri="$2" --rw="$3" --bs="$4" --iodepth="$5" --size="$SIZE" \
      --time_based --runtime="$RUNTIME" --randrepeat=0 --output-format=json --output="$1" > /dev/null
}

ALL_JOBS=("seqwrite write 1M 8" "randwrite randwrite 4k 16" "randread randread 4k 16")
JOBS=(); for j in "${ALL_JOBS[@]}"; do [[ " ${ONLY_JOBS:-seqwrite randwrite randread} " == *" ${j%% *} "* ]] && JOBS+=("$j"); done
read -r -a TARGETS <<< "${ONLY_TARGETS:-nbdkit standalone replicating logging}"
for round in $(seq 1 "$ROUNDS"); do
  for job in "${JOBS[@]}"; do
    set -- $job
    # the targets in a different order each round, so none always runs first (or right after a resync)
    for i in "${!TARGETS[@]}"; do
      target=${TARGETS[$(( (i + round + ${#1}) % ${#TARGETS[@]} ))]}
      wait_quiet "${QUIET_S:-60}"
      if [[ $target == logging ]]; then
        "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null
        wait_mode "$CTL_A" LOGGING 30
        before=$(records_sent)
      fi
      run_fio "$OUT/runs/$target-$1-$round.json" "${URI[$target]}" "$2" "$3" "$4"
      if [[ $target == logging ]]; then
        echo $(( $(records_sent) - before )) > "$OUT/runs/$target-$1-$round.records"
        link_restore "$CTL_A"
        wait_mode "$CTL_A" REPLICATING 300
      fi
    done
  done
done

A_SUM=$(sha256sum < "$OUT/site-a/volumes/bench/data.img"); B_SUM=$(sha256sum < "$OUT/site-b/volumes/bench/data.img")
[[ "$A_SUM" == "$B_SUM" ]] || { echo "bench: replica differs from source after the last resync" >&2; exit 1; }

"$PY" - "$OUT/runs" "$ROUNDS" "${TARGETS[*]}" "${JOBS[*]}" <<'PY'
import json, os, statistics, sys
runs, rounds, present, jobs = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
rows = [r for r in [("seqwrite", "seq write 1 MiB, iodepth 8", "write"),
        ("randwrite", "randwrite 4 KiB, iodepth 16", "write"),
        ("randread", "randread 4 KiB, iodepth 16", "read")] if r[0] in jobs.split()]
targets = [t for t in ["nbdkit", "standalone", "replicating", "logging"] if t in present]
def iops(t, key, kind, r):
    return json.load(open(f"{runs}/{t}-{key}-{r}.json"))["jobs"][0][kind]["iops"]
def ios(t, key, kind, r):
    return json.load(open(f"{runs}/{t}-{key}-{r}.json"))["jobs"][0][kind]["total_ios"]
med, spread = {}, {}
for key, _, kind in rows:
    for t in targets:
        xs = [iops(t, key, kind, r) for r in range(1, rounds + 1)]
        med[t, key], spread[t, key] = statistics.median(xs), (min(xs), max(xs))
print(f"median IOPS of {rounds} rounds (min-max); ratios against STANDALONE, STANDALONE against nbdkit")
names = {"nbdkit": "nbdkit file", "standalone": "STANDALONE", "replicating": "REPLICATING", "logging": "LOGGING"}
print(f"{'workload':<30}" + "".join(f"{names[t]:>20}" for t in targets))
def ratio(t, key):
    if t == "nbdkit" or "standalone" not in targets:
        return ""
    if t == "standalone":
        return f"{med['standalone', key] / med['nbdkit', key]:.2f}x" if "nbdkit" in targets else ""
    return f"{med[t, key] / med['standalone', key]:.2f}x"
for key, label, _ in rows:
    cells = [f"{med[t, key]:9.0f} ({spread[t, key][0]:.0f}-{spread[t, key][1]:.0f})" for t in targets]
    print(f"{label:<30}" + "".join(f"{c:>20}" for c in cells))
    print(f"{'':<30}" + "".join(f"{ratio(t, key):>20}" for t in targets))
checks = []
for key, label, kind in rows:
    if "standalone" not in targets:
        continue
    s = med["standalone", key]
    if "nbdkit" in targets:
        checks.append((f"STANDALONE >= 1.0x nbdkit, {label}", s / med["nbdkit", key], 1.0))
    if kind == "write" and "replicating" in targets:
        checks.append((f"REPLICATING >= 0.5x STANDALONE, {label}", med["replicating", key] / s, 0.5))
    if kind == "write" and "logging" in targets:
        checks.append((f"LOGGING >= 0.95x STANDALONE, {label}", med["logging", key] / s, 0.95))
print("\ntargets (issue 16 item 1)")
for name, got, want in checks:
    print(f"  {'met   ' if got >= want else 'MISSED'} {name}: {got:.2f}x")
if "logging" in targets:
    print("\nKafka records published in the LOGGING runs against NBD writes issued")
    for key, label, kind in rows:
        if kind != "write":
            continue
        for r in range(1, rounds + 1):
            rec = int(open(f"{runs}/logging-{key}-{r}.records").read())
            w = ios("logging", key, kind, r)
            print(f"  {label}, round {r}: {w} writes, {rec} records ({rec / w if w else 0:.4f} per write)")
PY
echo "command: SIZE=$SIZE RUNTIME=$RUNTIME ROUNDS=$ROUNDS DAMPING_MS=${DAMPING_MS:-500}${ONLY_TARGETS:+ ONLY_TARGETS=\"$ONLY_TARGETS\"}${ONLY_JOBS:+ ONLY_JOBS=\"$ONLY_JOBS\"} bench/mode-cost.sh   (fio JSON in $OUT/runs)"
