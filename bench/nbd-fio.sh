#!/usr/bin/env bash
# Benchmark: blockrep's NBD server against `nbdkit file`, both on a file on the same disk,
# driven by fio's nbd engine. Prints a table with both figures and the ratio.
#
#   bench/nbd-fio.sh                 # 20 s per job, 1 GiB volumes under bench/out/
#   RUNTIME=60 SIZE=4G bench/nbd-fio.sh
#
# Target (issue 2): blockrep >= 0.8x nbdkit on every row.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNTIME="${RUNTIME:-20}"
SIZE="${SIZE:-1G}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/nbd-fio"
for tool in fio nbdkit python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio nbdkit python3)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench: nothing listens on port $1" >&2; exit 1
}

# blockrep facility with one volume
BR_PORT=$(free_port)
cat > "$OUT/producer.properties" <<CONF
producer.node.id=bench
producer.state.dir=$OUT/blockrep-state
producer.nbd.listen=127.0.0.1:$BR_PORT
producer.volumes=bench
producer.volume.bench.size=$SIZE
CONF
"$ROOT/bin/blockrep" producer --config "$OUT/producer.properties" > "$OUT/blockrep.log" 2>&1 &
pids+=($!)

# nbdkit file plugin on a file of the same size in the same directory
NK_PORT=$(free_port)
truncate -s "$SIZE" "$OUT/nbdkit.img"
nbdkit -f -i 127.0.0.1 -p "$NK_PORT" file "$OUT/nbdkit.img" > "$OUT/nbdkit.log" 2>&1 &
pids+=($!)

wait_port "$BR_PORT"; wait_port "$NK_PORT"

run_fio() { # name uri rw bs iodepth
  fio --name="$1" --ioengine=nbd --uri="$2" --rw="$3" --bs="$4" --iodepth="$5" --size="$SIZE" \
      --time_based --runtime="$RUNTIME" --ramp_time=2 --group_reporting --output-format=json \
      --output="$OUT/$1.json" > /dev/null
}

JOBS=("seqwrite write 1M 8" "randwrite randwrite 4k 16" "randread randread 4k 16")
for server in blockrep nbdkit; do
  if [[ $server == blockrep ]]; then uri="nbd://127.0.0.1:$BR_PORT/bench"; else uri="nbd://127.0.0.1:$NK_PORT/"; fi
  # Fill the volume once so random reads hit allocated data on both servers.
  fio --name=fill --ioengine=nbd --uri="$uri" --rw=write --bs=1M --iodepth=8 --size="$SIZE" > /dev/null
  for job in "${JOBS[@]}"; do
    set -- $job
    run_fio "$server-$1" "$uri" "$2" "$3" "$4"
  done
done

python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
rows = [("seqwrite", "sequential write 1 MiB, iodepth 8", "write"),
        ("randwrite", "random write 4 KiB, iodepth 16", "write"),
        ("randread", "random read 4 KiB, iodepth 16", "read")]
def figures(name, kind):
    job = json.load(open(f"{out}/{name}.json"))["jobs"][0][kind]
    return job["bw_bytes"] / 2**20, job["iops"]
print(f"{'workload':<36} {'blockrep':>20} {'nbdkit file':>20} {'ratio':>7}")
worst = None
for key, label, kind in rows:
    b_mib, b_iops = figures(f"blockrep-{key}", kind)
    n_mib, n_iops = figures(f"nbdkit-{key}", kind)
    ratio = b_iops / n_iops if n_iops else float("nan")
    worst = ratio if worst is None else min(worst, ratio)
    fmt = lambda mib, iops: f"{mib:8.1f} MiB/s {iops:7.0f}/s"
    print(f"{label:<36} {fmt(b_mib, b_iops):>20} {fmt(n_mib, n_iops):>20} {ratio:6.2f}x")
print(f"\nworst ratio {worst:.2f}x (target >= 0.80x)")
PY
echo "command: RUNTIME=$RUNTIME SIZE=$SIZE bench/nbd-fio.sh   (raw fio JSON in $OUT)"
