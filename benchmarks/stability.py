"""durable-rules stability (issue 3): one large log replayed N times in a row with the default engine.

    python benchmarks/stability.py --cases 100000 --runs 5 --jobs 2

Each run is a fresh ``sdsrules replay`` process. Printed per run: wall time, CPU time, peak RSS of the process
tree (parent and workers), exit code, cases the engine could not check (a worker crash that recurred), and a
hash of the JSON output, which must be the same every run. Memory is "flat" when the peaks do not climb from
run to run and stay the same for a log twice the size (``--cases`` 200000).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from replay_bench import SDSRULES, measure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--engine", default="durable")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sdsrules-stability-"))
    log = Path(args.log) if args.log else tmp / "log.jsonl"
    if not args.log:
        subprocess.run([*SDSRULES, "generate", "--cases", str(args.cases), "--seed", "11", "--no-check", "--out",
                        str(log)], check=True, stderr=subprocess.DEVNULL)
    with open(log, "rb") as f:
        events = sum(1 for line in f if line.strip())
    print(f"{log}: {events:,} records; engine {args.engine}; jobs {args.jobs}; {args.runs} runs")
    print(f"{'run':>3} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'exit':>5} {'unchecked':>9} {'findings':>9}"
          "  output sha256")
    hashes = set()
    crashes = 0
    for n in range(1, args.runs + 1):
        out = tmp / "out.json"
        r = measure([*SDSRULES, "replay", str(log), "--engine", args.engine, "--jobs", str(args.jobs),
                     "--format", "json", "--output", str(out)])
        body = out.read_bytes() if out.exists() else b""
        digest = hashlib.sha256(body).hexdigest()[:16]
        summary = json.loads(body)["summary"] if body else {}
        unchecked = summary.get("cases_unchecked", "?")
        crashes += r["exit"] not in (0, 1) or unchecked not in (0, "?")
        hashes.add(digest)
        print(f"{n:>3} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['peak_mb']:>8.0f} {r['exit']:>5} {unchecked:>9} "
              f"{summary.get('findings', '?'):>9}  {digest}")
        out.unlink(missing_ok=True)
    print(f"\nruns with a crash or an unchecked case: {crashes}; distinct outputs: {len(hashes)} (1 means identical)")


if __name__ == "__main__":
    main()
