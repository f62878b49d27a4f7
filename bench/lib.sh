# Shared helpers of the bench scripts (sourced, not run).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# bytes_of 1G -> 1073741824
bytes_of() { python3 -c "import re,sys; m=re.fullmatch(r'(\d+)([KMGT]?)', '$1'); print(int(m[1]) << {'':0,'K':10,'M':20,'G':30,'T':40}[m[2]])"; }

# mode PORT -> "MODE LAST_CUTOVER_HOLD_MS" of the facility's first volume ("DOWN None" when it does not answer)
mode() { python3 - "$1" <<'PY'
import json, sys, urllib.request
try:
    doc = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/status", timeout=5))
    v = doc["volumes"][0]
    print(v["mode"], v.get("lastCutoverHoldMillis"))
except Exception:
    print("DOWN None")
PY
}

# wait_mode PORT MODE TIMEOUT_SECONDS
wait_mode() {
  local deadline=$((SECONDS + $3))
  until [[ "$(mode "$1" | cut -d' ' -f1)" == "$2" ]]; do
    (( SECONDS < deadline )) || { echo "bench: $2 not reached on :$1 (now $(mode "$1"))" >&2; exit 1; }
    sleep 0.05
  done
}

now_ms() { python3 -c 'import time; print(int(time.time()*1000))'; }
