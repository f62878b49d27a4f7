# Shared helpers of the bench scripts (sourced, not run).

# The system's Python, not a version-manager shim: a shim forks a dozen shells per call, which on two
# cores steals measurable CPU from the system under test while the bench polls.
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# bytes_of 1G -> 1073741824
bytes_of() { "$PY" -c "import re,sys; m=re.fullmatch(r'(\d+)([KMGT]?)', '$1'); print(int(m[1]) << {'':0,'K':10,'M':20,'G':30,'T':40}[m[2]])"; }


# mode PORT -> "MODE LAST_CUTOVER_HOLD_MS" of the facility's first volume ("DOWN None" when it does not answer)
mode() { "$PY" - "$1" <<'PY'
import json, sys, urllib.request
try:
    doc = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/status", timeout=5))
    v = doc["volumes"][0]
    print(v["mode"], v.get("lastCutoverHoldMillis"))
except Exception:
    print("DOWN None")
PY
}

# wait_mode PORT MODE TIMEOUT_SECONDS: one process polls every 20 ms (no fork per poll)
wait_mode() { "$PY" - "$@" <<'PY' || exit 1
import json, sys, time, urllib.request
port, want, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline, now = time.monotonic() + timeout, "DOWN"
while True:
    try:
        now = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=5))["volumes"][0]["mode"]
    except Exception:
        now = "DOWN"
    if now == want:
        sys.exit(0)
    if time.monotonic() > deadline:
        print(f"bench: {want} not reached on :{port} (now {now})", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.02)
PY
}

# wait_quiet [TIMEOUT_SECONDS]: until the machine is idle (>= 90% idle over one second), so a measurement
# does not share the CPU with the JIT compilers still working through the last phase (on two cores the
# C2 compiler alone took a third of the CPU during a resync started right after a warm-up).
wait_quiet() { "$PY" - "${1:-120}" <<'PY'
import sys, time
def ticks():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return f[3] + f[4], sum(f)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    i0, t0 = ticks(); time.sleep(1); i1, t1 = ticks()
    if (i1 - i0) >= 0.9 * (t1 - t0):
        sys.exit(0)
print("bench: the machine did not become idle; measuring anyway", file=sys.stderr)
PY
}

# link_restore PORT: the facility's link comes back (the control API call the CLI's `link restore` makes,
# without a JVM start inside the measured time: in an outage nothing is started, the network returns)
link_restore() { "$PY" -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$1/v1/link/restore', method='POST', headers={'Content-Type': 'application/json'}), timeout=10).read()"; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# start_kafka: picks the ports of both sites (KAFKA, LINK_A, LINK_B, NBD_A, NBD_B, CTL_A, CTL_B) and
# the link SECRET, and starts the broker (OUT set by the caller)
start_kafka() {
  KAFKA=$(free_port); LINK_A=$(free_port); LINK_B=$(free_port); NBD_A=$(free_port); NBD_B=$(free_port)
  CTL_A=$(free_port); CTL_B=$(free_port)
  SECRET=bench-secret-0123456789abcdef
  "$BR" kafka --dir "$OUT/kafka" --port "$KAFKA" --controller-port "$(free_port)" > "$OUT/kafka.log" 2>&1 & pids+=($!)
}

# site_config NODE NBD_PORT CTL_PORT LINK_LISTEN_PORT PEER_LINK_PORT|"" ROLE: a facility's properties
# (OUT, SIZE, SECRET, KAFKA set by the caller); no peer when PEER_LINK_PORT is empty.
site_config() { cat <<CONF
producer.node.id=$1
producer.state.dir=$OUT/$1
producer.nbd.listen=127.0.0.1:$2
producer.control.listen=127.0.0.1:$3
producer.link.listen=127.0.0.1:$4
${5:+producer.link.peer=127.0.0.1:$5}
producer.link.secret=$SECRET
producer.link.restore.damping=${DAMPING_MS:-500}ms
producer.kafka.bootstrap.servers=127.0.0.1:$KAFKA
producer.volumes=bench
producer.volume.bench.size=$SIZE
producer.volume.bench.role=$6
CONF
}

# replayer_config ID: the replayer's properties for site-a and site-b (LINK_A, CTL_A, LINK_B, CTL_B)
replayer_config() { cat <<CONF
replayer.id=$1
replayer.kafka.bootstrap.servers=127.0.0.1:$KAFKA
replayer.link.secret=$SECRET
replayer.rate=0
replayer.nodes=site-a,site-b
replayer.node.site-a.link=127.0.0.1:$LINK_A
replayer.node.site-a.control=127.0.0.1:$CTL_A
replayer.node.site-b.link=127.0.0.1:$LINK_B
replayer.node.site-b.control=127.0.0.1:$CTL_B
replayer.volumes=bench
replayer.volume.bench.nodes=site-a,site-b
CONF
}

# start_sites: site-b, site-a and a replayer service from $OUT/*.properties; waits for REPLICATING
start_sites() {
  sleep 3   # the broker
  "$BR" producer --config "$OUT/site-b.properties" > "$OUT/site-b.log" 2>&1 & pids+=($!)
  "$BR" producer --config "$OUT/site-a.properties" > "$OUT/site-a.log" 2>&1 & pids+=($!)
  "$BR" replayer --config "$OUT/replayer.properties" > "$OUT/replayer.log" 2>&1 & pids+=($!)
  wait_mode "$CTL_A" REPLICATING 120
}

# fill URI: writes the whole volume through blockrep (replicated), so both sides hold the same non-zero data
fill() { fio --name=fill --ioengine=nbd --uri="$1" --rw=write --bs=1M --iodepth=8 --size="$SIZE" > /dev/null; }

# warm_up URI REGIONS: WARMUP (default 3) outages of site-a's link, each with REGIONS random 64 KiB
# writes through URI and a resync, before anything is measured: a long-running deployment has had
# them, and the copy path's methods reach the C2 compiler only after a few thousand extents (on two
# cores the compiler took a third of the CPU of a resync measured after one pass; the way JMH warms
# up). WARMUP=0 measures the first resync after start.
warm_up() {
  for _ in $(seq 1 "${WARMUP:-3}"); do
    "$BR" link cut --control "127.0.0.1:$CTL_A" > /dev/null
    wait_mode "$CTL_A" LOGGING 30
    fio --name=warmup --ioengine=nbd --uri="$1" --rw=randwrite --bs=64k --iodepth=16 --size="$SIZE" \
        --number_ios="$2" --randrepeat=0 > /dev/null
    link_restore "$CTL_A"
    wait_mode "$CTL_A" REPLICATING 300
  done
}
