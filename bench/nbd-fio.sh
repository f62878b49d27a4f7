#!/usr/bin/env bash
# End-to-end NBD throughput: the three fio jobs of the NBD performance target, against one URI.
# Usage: bench/nbd-fio.sh nbd://127.0.0.1:PORT/vol [runtime-seconds]
# Compare runs against blockrep's server (NbdBenchServer, test classes) and against
# `nbdkit -f -p PORT -i 127.0.0.1 file FILE` on the same file system.
set -euo pipefail
uri=${1:?usage: $0 nbd://host:port/export [seconds]}
secs=${2:-10}
run() {
  local name=$1; shift
  fio --name="$name" --ioengine=nbd --uri="$uri" --size=1G --time_based --runtime="$secs" \
      --output-format=terse --terse-version=3 "$@" |
    awk -F';' -v n="$name" 'NF > 50 { printf "%-22s read %8.1f MiB/s %8d IOPS | write %8.1f MiB/s %8d IOPS\n", n, $7/1024, $8, $48/1024, $49 }'
}
echo "uri=$uri runtime=${secs}s fio=$(fio --version)"
run seqwrite-1m-qd8    --rw=write     --bs=1M --iodepth=8
run randwrite-4k-qd16  --rw=randwrite --bs=4k --iodepth=16
run randread-4k-qd16   --rw=randread  --bs=4k --iodepth=16
