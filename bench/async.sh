#!/usr/bin/env bash
# Benchmark: async mirroring against sync mirroring and against no mirroring at all.
#
#   bench/async.sh                     # 20 s per job, 3 alternated rounds, 1 GiB volume under bench/out/
#   RUNTIME=5 ROUNDS=1 SIZE=256M bench/async.sh     # smoke run
#
# fio's nbd engine writes through site-a's NBD export: random write 4 KiB iodepth 16 and sequential
# write 1 MiB iodepth 8, with the volume STANDALONE (no peer), REPLICATING sync and REPLICATING async,
# the link to site-b on loopback and through a delaying TCP proxy started here (RTT_MS, default 20 ms
# added round trip). Each (mode, link) runs on freshly started facilities, the configurations
# alternate within a round, and the figure is the median of ROUNDS rounds.
# Targets (issue 17): async >= 0.9x STANDALONE on loopback, >= 0.8x with the added RTT (sync's
# fraction is printed); the async queue's high-water mark stays under its cap; no dirty region after
# a load that fits the queue (LOAD_FIT, default 32M with the 64M default cap, over the delayed link).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNTIME="${RUNTIME:-20}"
ROUNDS="${ROUNDS:-3}"
SIZE="${SIZE:-1G}"
RTT_MS="${RTT_MS:-20}"
QUEUE="${QUEUE:-64M}"
LOAD_FIT="${LOAD_FIT:-32M}"
OUT="${BENCH_DIR:-$ROOT/bench/out}/async"
BR="$ROOT/bin/blockrep"
for tool in fio python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y fio python3)" >&2; exit 69; }
done
rm -rf "$OUT"; mkdir -p "$OUT"
"$BR" --version >/dev/null   # builds the jar first if needed

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

LINK_A=$(free_port); LINK_B=$(free_port); NBD_A=$(free_port); NBD_B=$(free_port)
CTL_A=$(free_port); CTL_B=$(free_port); PROXY=$(free_port)
SECRET=bench-secret-0123456789abcdef
URI="nbd://127.0.0.1:$NBD_A/bench"

# A delaying TCP proxy on 127.0.0.1:$PROXY -> site-b's link: every chunk is forwarded RTT_MS/2 after
# it was read, in each direction, in order and pipelined (latency added, throughput not capped).
"$PY" - "$PROXY" "$LINK_B" "$RTT_MS" > "$OUT/proxy.log" 2>&1 <<'PY' & pids+=($!)
import asyncio, sys
listen, target, one_way = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 2000

async def pipe(reader, writer):
    q = asyncio.Queue()
    loop = asyncio.get_running_loop()
    async def send():
        while True:
            due, data = await q.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()
    task = asyncio.create_task(send())
    try:
        while data := await reader.read(1 << 16):
            q.put_nowait((loop.time() + one_way, data))
    except ConnectionError:
        pass
    q.put_nowait((0, None))
    try:
        await task
    except ConnectionError:
        pass

async def handle(creader, cwriter):
    try:
        ureader, uwriter = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cwriter.close()
        return
    await asyncio.gather(pipe(creader, uwriter), pipe(ureader, cwriter))

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY

# config MODE PEER_PORT|"" : site-a's properties; MODE sync|async
site_a_config() { cat <<CONF
producer.node.id=site-a
producer.state.dir=$OUT/state/site-a
producer.nbd.listen=127.0.0.1:$NBD_A
producer.control.listen=127.0.0.1:$CTL_A
producer.link.listen=127.0.0.1:$LINK_A
${2:+producer.link.peer=127.0.0.1:$2}
producer.link.secret=$SECRET
producer.link.restore.damping=300ms
producer.link.sync.mode=$1
producer.link.async.queue.bytes=$QUEUE
producer.volumes=bench
producer.volume.bench.size=$SIZE
producer.volume.bench.role=PRIMARY
CONF
}
site_b_config() { cat <<CONF
producer.node.id=site-b
producer.state.dir=$OUT/state/site-b
producer.nbd.listen=127.0.0.1:$NBD_B
producer.control.listen=127.0.0.1:$CTL_B
producer.link.listen=127.0.0.1:$LINK_B
producer.link.secret=$SECRET
producer.volumes=bench
producer.volume.bench.size=$SIZE
producer.volume.bench.role=SECONDARY
CONF
}

# status_json: site-a's first volume as JSON
status_json() { "$PY" -c "import json,urllib.request as u; print(json.dumps(json.load(u.urlopen('http://127.0.0.1:$CTL_A/v1/status', timeout=5))['volumes'][0]))"; }

site_pids=()
# start CONFIG: fresh facilities (state wiped) for one configuration: STANDALONE | sync-loop | async-loop | sync-rtt | async-rtt
start() {
  rm -rf "$OUT/state"; mkdir -p "$OUT/state"
  local mode=${1%-*} link=${1#*-} peer=""
  if [[ $1 != STANDALONE ]]; then
    peer=$LINK_B; [[ $link == rtt ]] && peer=$PROXY
    site_b_config > "$OUT/site-b.properties"
    "$BR" producer --config "$OUT/site-b.properties" > "$OUT/site-b-$1.log" 2>&1 & site_pids+=($!); pids+=($!)
  else
    mode=sync
  fi
  site_a_config "$mode" "$peer" > "$OUT/site-a.properties"
  "$BR" producer --config "$OUT/site-a.properties" > "$OUT/site-a-$1.log" 2>&1 & site_pids+=($!); pids+=($!)
  if [[ $1 == STANDALONE ]]; then wait_mode "$CTL_A" STANDALONE 120; else wait_mode "$CTL_A" REPLICATING 120; fi
}
stop() {
  for p in "${site_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${site_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  site_pids=()
}

run_fio() { # name rw bs iodepth
  fio --name="$1" --ioengine=nbd --uri="$URI" --rw="$2" --bs="$3" --iodepth="$4" --size="$SIZE" \
      --time_based --runtime="$RUNTIME" --ramp_time=2 --group_reporting --output-format=json \
      --output="$OUT/$1.json" > /dev/null
}

CONFIGS=(STANDALONE sync-loop async-loop sync-rtt async-rtt)
for round in $(seq 1 "$ROUNDS"); do
  # alternate the order from round to round, so no configuration always runs first on a cold disk
  order=("${CONFIGS[@]}"); (( round % 2 == 0 )) && order=($(printf '%s\n' "${CONFIGS[@]}" | tac))
  for c in "${order[@]}"; do
    start "$c"
    run_fio "$c-randwrite-$round" randwrite 4k 16
    run_fio "$c-seqwrite-$round" write 1M 8
    status_json > "$OUT/$c-status-$round.json"
    stop
  done
done

# A load that fits the queue, async over the delayed link: afterwards nothing may be dirty.
start async-rtt
fio --name=fit --ioengine=nbd --uri="$URI" --rw=randwrite --bs=64k --iodepth=16 --size="$LOAD_FIT" --output-format=json \
    --output="$OUT/fit.json" > /dev/null
sleep 1
status_json > "$OUT/fit-status.json"
stop

"$PY" - "$OUT" "$ROUNDS" "$RTT_MS" <<'PY'
import json, statistics, sys
out, rounds, rtt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
configs = [("STANDALONE", "STANDALONE"), ("sync-loop", "sync, loopback"), ("async-loop", "async, loopback"),
           ("sync-rtt", f"sync, +{rtt} ms RTT"), ("async-rtt", f"async, +{rtt} ms RTT")]
jobs = [("randwrite", "randwrite 4 KiB qd16"), ("seqwrite", "write 1 MiB qd8")]
def fig(c, j):
    vals = []
    for r in range(1, rounds + 1):
        w = json.load(open(f"{out}/{c}-{j}-{r}.json"))["jobs"][0]["write"]
        vals.append((w["iops"], w["bw_bytes"] / 2**20))
    return statistics.median(v[0] for v in vals), statistics.median(v[1] for v in vals)
def status(c):
    return [json.load(open(f"{out}/{c}-status-{r}.json")) for r in range(1, rounds + 1)]
print(f"median of {rounds} round(s)")
print(f"{'configuration':<22}" + "".join(f"{label:>34}" for _, label in jobs) + f"{'mode after':>14}{'dirty':>8}")
base = {j: fig("STANDALONE", j) for j, _ in jobs}
ratios = {}
for c, label in configs:
    row = f"{label:<22}"
    for j, _ in jobs:
        iops, mib = fig(c, j)
        ratios[(c, j)] = iops / base[j][0] if base[j][0] else float("nan")
        row += f"{iops:9.0f}/s {mib:8.1f} MiB/s {ratios[(c, j)]:5.2f}x"
    st = status(c)
    row += f"{st[-1]['mode']:>14}{max(s['dirtyRegions'] for s in st):>8}"
    print(row)
print()
ok = True
for c, target in (("async-loop", 0.9), ("async-rtt", 0.8)):
    for j, label in jobs:
        met = ratios[(c, j)] >= target
        ok &= met
        print(f"target {c:<11} {label:<22} {ratios[(c, j)]:.2f}x of STANDALONE (>= {target}x) {'MET' if met else 'NOT MET'}")
for j, label in jobs:
    print(f"sync fraction      {label:<22} loopback {ratios[('sync-loop', j)]:.2f}x, +{rtt} ms RTT {ratios[('sync-rtt', j)]:.2f}x of STANDALONE")
for c in ("async-loop", "async-rtt"):
    st = status(c)
    hw = max(s["async"]["highWaterBytes"] for s in st)
    cap = st[0]["async"]["queueCapBytes"]
    over = sum(s["async"]["overflowLogging"] for s in st)
    met = hw <= cap and over == 0
    ok &= met
    print(f"max lag {c:<11} high-water {hw / 2**20:.1f} MiB of the {cap / 2**20:.0f} MiB cap, overflows {over} "
          f"{'MET' if met else 'NOT MET (the load outran the link: the volume went to LOGGING)'}")
fit = json.load(open(f"{out}/fit-status.json"))
fit_mib = json.load(open(f"{out}/fit.json"))["jobs"][0]["write"]["io_bytes"] / 2**20
met = fit["dirtyRegions"] == 0 and fit["mode"] == "REPLICATING"
ok &= met
print(f"load that fits     {fit_mib:.0f} MiB async +{rtt} ms RTT: mode {fit['mode']}, dirty regions {fit['dirtyRegions']} "
      f"(target 0), high-water {fit['async']['highWaterBytes'] / 2**20:.1f} MiB, lag now {fit['async']['lagBytes']} bytes "
      f"{'MET' if met else 'NOT MET'}")
print("\nall targets met" if ok else "\nsome targets NOT met (figures above; this machine may be shared and noisy)")
PY
echo "command: RUNTIME=$RUNTIME ROUNDS=$ROUNDS SIZE=$SIZE RTT_MS=$RTT_MS QUEUE=$QUEUE LOAD_FIT=$LOAD_FIT bench/async.sh   (fio JSON and status in $OUT)"
