#!/bin/bash
# The measurements of docs/performance.md, one after the other, into OUT (default ./bench-out):
#
#   bash benchmarks/series.sh LOG_3M LOG_1M LOG_10M [OUT]
#
# (logs: `sdsrules generate --cases 240000 --seed 7 --no-check --out LOG_3M`, and 80000 / 800000 cases for the
# others). Three runs of the replay benchmark (every engine, the floor, PM4Py when installed), memory at 1M and
# 10M events, XES against JSON Lines, the live check's latency on every engine, the service at 200 req/s on the
# compiled and the durable engine. Each line of OUT/*.txt says when it ran and the load at the time.
set -u
LOG3M=$1 LOG1M=$2 LOG10M=$3 OUT=${4:-bench-out}
mkdir -p "$OUT"
stamp() { echo "=== $1 $(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) commit $(git log --oneline -1 | cut -c1-7)"; }
for run in 1 2 3; do
  stamp "replay run $run" >> "$OUT/replay.txt"
  python benchmarks/replay_bench.py --log "$LOG3M" --jobs 2 --engines compiled,reference,durable >> "$OUT/replay.txt" 2>&1
done
for log in "$LOG1M" "$LOG10M"; do
  stamp "memory $log" >> "$OUT/memory.txt"
  python benchmarks/stability.py --log "$log" --runs 1 --engine compiled >> "$OUT/memory.txt" 2>&1
done
stamp xes >> "$OUT/xes.txt"
python benchmarks/xes_bench.py --repeat 3 --sds "$LOG1M" >> "$OUT/xes.txt" 2>&1
for e in compiled reference durable; do
  python benchmarks/check_latency.py --engine $e --calls 1000 >> "$OUT/latency.txt" 2>&1
done
for e in compiled durable; do
  stamp "service $e" >> "$OUT/service.txt"
  python benchmarks/service_load.py --engine $e >> "$OUT/service.txt" 2>&1
done
