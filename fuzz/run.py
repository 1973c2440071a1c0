"""Run the atheris fuzz targets and report, per reader, inputs run, inputs a second and unhandled exceptions.

    python fuzz/run.py                       # every reader, 1,000,000 inputs each, one after another
    python fuzz/run.py csv --runs 200000     # one reader
    python fuzz/run.py jsonl csv --parallel  # readers side by side (one core each)

Each reader runs ``fuzz/fuzz_<reader>.py WORK SEEDS -runs=N`` with a wall-clock bound, its working corpus in
``fuzz/.work/<reader>`` (not committed) and the committed seeds in ``fuzz/seeds/<reader>`` read only. A crash
(an exception that escaped, or a record lost or invented) stops that reader; libFuzzer writes the input to
``fuzz/.work/crash-*`` and the traceback is in ``fuzz/.work/<reader>.log``. The exit status is 1 when any reader
crashed or did not finish its runs.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
READERS = ("jsonl", "csv", "xes")
MAX_LEN = {"jsonl": 1024, "csv": 1024, "xes": 2048}


def command(reader: str, runs: int, seconds: int) -> list[str]:
    work = HERE / ".work" / reader
    work.mkdir(parents=True, exist_ok=True)
    return [sys.executable, str(HERE / f"fuzz_{reader}.py"), str(work), str(HERE / "seeds" / reader),
            f"-runs={runs}", f"-max_len={MAX_LEN[reader]}", f"-max_total_time={seconds}", "-timeout=10",
            "-rss_limit_mb=2048", "-print_final_stats=1", f"-artifact_prefix={HERE / '.work'}/"]


def summarise(reader: str, log: Path, code: int, elapsed: float, runs: int) -> dict:
    text = log.read_text(errors="replace")
    done = re.findall(r"Done (\d+) runs in (\d+) second", text)
    counted = re.findall(r"^#(\d+)\s", text, re.M)
    inputs = int(done[-1][0]) if done else int(counted[-1]) if counted else 0
    crashes = text.count("=== Uncaught Python exception: ===")
    if done:  # libFuzzer's own clock: the time spent fuzzing, without start-up
        elapsed = max(int(done[-1][1]), 1)
    return {"reader": reader, "inputs": inputs, "seconds": round(elapsed), "per_second": round(inputs / elapsed),
            "unhandled": crashes, "exit": code, "complete": bool(done) and inputs >= runs and crashes == 0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("readers", nargs="*", default=list(READERS), choices=READERS)
    ap.add_argument("--runs", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=3600, help="wall-clock bound per reader")
    ap.add_argument("--parallel", action="store_true")
    args = ap.parse_args()
    procs = []
    for reader in args.readers:
        log = HERE / ".work" / f"{reader}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            p = subprocess.Popen(command(reader, args.runs, args.seconds), stdout=out, stderr=subprocess.STDOUT,
                                 cwd=HERE / ".work")
        procs.append((reader, log, p, time.monotonic()))
        if not args.parallel:
            p.wait(timeout=args.seconds + 120)
            procs[-1] = (reader, log, p, procs[-1][3], time.monotonic())
    results = []
    for reader, log, p, start, *end in procs:
        code = p.wait(timeout=args.seconds + 120)
        results.append(summarise(reader, log, code, (end[0] if end else time.monotonic()) - start, args.runs))
    print(f"{'reader':7} {'inputs':>10} {'seconds':>8} {'inputs/s':>9} {'unhandled':>9}  complete")
    for r in results:
        print(f"{r['reader']:7} {r['inputs']:>10,} {r['seconds']:>8} {r['per_second']:>9} {r['unhandled']:>9}  "
              f"{'yes' if r['complete'] else 'NO (see fuzz/.work/' + r['reader'] + '.log)'}")
    return 0 if all(r["complete"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
