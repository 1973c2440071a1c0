"""In-process latency of ``sdsrules.check`` on one 60-event case: p50 and p99 over many calls.

    python benchmarks/check_latency.py [--calls 2000] [--engine compiled|durable|reference] [--events 60]

The case is ``tests/test_monitor.long_case``: a tier 3 journey to a direct payment and years of reviews,
complaints and changes, with breaches and open duties. Each call validates the 60 dicts, replays the case
and runs the rules (durable-rules on its engine thread), as a case system calling the API would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sdsrules import check
from sdsrules.engine import names as engines
from tests.test_monitor import long_case


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--engine", choices=engines.NAMES, default=engines.LIVE_DEFAULT)
    ap.add_argument("--events", type=int, default=60)
    args = ap.parse_args()
    case = long_case(n=args.events)
    findings = check(case, engine=args.engine)  # warm-up: loads the rules, compiles the ruleset
    for _ in range(20):
        check(case, engine=args.engine)
    times = []
    for _ in range(args.calls):
        t = time.perf_counter()
        check(case, engine=args.engine)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"check() of one {args.events}-event case, engine {args.engine}, {args.calls} calls, "
          f"{len(findings)} findings each")
    print(f"  p50 {percentile(times, 0.50):.2f} ms   p90 {percentile(times, 0.90):.2f} ms   "
          f"p99 {percentile(times, 0.99):.2f} ms   max {times[-1]:.2f} ms   mean {statistics.fmean(times):.2f} ms")


if __name__ == "__main__":
    main()
