"""End-to-end replay throughput and memory, measured against peers in one run on one log (issue 7).

    python benchmarks/replay_bench.py --cases 240000 --jobs 2        # about 3M events
    python benchmarks/replay_bench.py --log /tmp/log3m.jsonl --engines reference,durable,compiled --skip-pm4py

Engines the installed sdsrules does not know (``sdsrules.api.ENGINES``) are named and skipped, so the same
command runs before and after an engine is added. The floor is ``/work/shared/tools/floor.py`` (``--floor``) run as
a subprocess when it exists, else the copy below; the target is judged against it in the same run.

For each approach it prints events/s (input events / wall time of the whole process, as the engines note
measures them), CPU seconds, and peak RSS summed over the process and all its workers (sampled every 50 ms
from /proc), then the ratios. Approaches:

* ``sdsrules replay --engine compiled`` (the bulk default), ``--engine reference`` and ``--engine durable`` (the
  live default), full rule pack and state machine, ``--jobs N``, JSON written to a file;
* the plain floor: orjson, group by case, six checks in one pass (``shared/notes/engines-measured.md``);
* PM4Py Declare conformance on the constraints Declare can express (precedence and response), when PM4Py is
  installed, timed with and without loading the log into a DataFrame.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SDSRULES = [sys.executable, "-c", "from sdsrules.cli.main import main; main()"]


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, in KB."""
    total = 0
    stack = [pid]
    seen = set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{p}/task/{p}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run a command; wall time, CPU time of it and its children, peak RSS of its process tree."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=None if env is None else {**os.environ, **env})
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    stop.set()
    t.join()
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall": wall, "cpu": cpu, "peak_mb": peak / 1024, "exit": proc.returncode, "stderr": err.decode()[-500:]}


# ----------------------------------------------------------------------------------- the plain floor

FLOOR = r'''
import sys, orjson
from collections import defaultdict
from datetime import date, timedelta
cases = defaultdict(list)
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            r = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(r, dict) and "case" in r:
            cases[r["case"]].append(r)
LIMIT = {"team_manager": 300, "service_manager": 600, "head_of_service": 1000}
found = 0
for evs in cases.values():
    evs.sort(key=lambda r: str(r.get("at")))
    seen = set()
    start = review = None
    for r in evs:
        a = r.get("activity")
        d = str(r.get("at"))[:10]
        if a == "support_started":
            found += "options_offered" not in seen
            found += "support_plan_agreed" not in seen
            start = start or d
        elif a == "review_completed" and start and review is None:
            review = d
        elif a == "assessment_completed":
            found += "budget_approved" in seen
        elif a == "budget_approved":
            role = r.get("approver_role")
            found += role != "panel" and (r.get("amount") or 0) > LIMIT.get(role, 0)
        elif a == "complaint_responded":
            found += 0
        seen.add(a)
    try:
        if start and (review is None or date.fromisoformat(review) > date.fromisoformat(start) + timedelta(days=365)):
            found += 1
    except ValueError:  # an invalid date: sdsrules rejects such records; the floor skips them
        pass
print(found)
'''


# ------------------------------------------------------------------------------------------ PM4Py

PM4PY = r'''
import sys, time, json
import pandas as pd
import pm4py
import orjson
t0 = time.perf_counter()
rows = []
with open(sys.argv[1], "rb") as f:  # line by line, skipping unreadable lines as sdsrules rejects them
    for line in f:
        try:
            r = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(r, dict) and r.get("case") is not None and r.get("activity") and r.get("at"):
            rows.append((str(r["case"]), r["activity"], r["at"]))
df = pd.DataFrame(rows, columns=["case", "activity", "at"])
df["at"] = pd.to_datetime(df["at"], utc=True, errors="coerce", format="mixed")
df = df[df["at"].notna()]
df = pm4py.format_dataframe(df, case_id="case", activity_key="activity", timestamp_key="at")
t1 = time.perf_counter()
rule = {"support": 1.0, "confidence": 1.0}
model = {
    "precedence": {("options_offered", "support_started"): rule, ("support_plan_agreed", "support_started"): rule,
                   ("outcomes_agreed", "budget_calculated"): rule, ("assets_explored", "budget_calculated"): rule,
                   ("independent_support_offered", "options_offered"): rule,
                   ("budget_approved", "options_offered"): rule},
    "response": {("support_started", "review_completed"): rule, ("triaged", "assessment_started"): rule,
                 ("complaint_received", "complaint_responded"): rule,
                 ("eligibility_determined", "eligibility_communicated"): rule,
                 ("material_change_recorded", "options_offered"): rule},
}
res = pm4py.conformance_declare(df, model, return_diagnostics_dataframe=True)
t2 = time.perf_counter()
cases = int(df["case:concept:name"].nunique())
print(json.dumps({"load": t1 - t0, "check": t2 - t1, "events": len(df), "cases": cases}))
'''


FLOOR_ROW = "plain floor (floor.py: orjson, group, 6 checks)"


def _same_report(baseline: Path, ours: Path) -> bool:
    """The same report, but for summary keys the baseline does not have."""
    a, b = json.loads(baseline.read_bytes()), json.loads(ours.read_bytes())
    b["summary"] = {k: v for k, v in b["summary"].items() if k in a["summary"]}
    return a == b


def _agreement(outs: list[Path]) -> str:
    """Whether the engines' reports agree in everything but the engine's name: a fast engine that finds other
    things is not a faster engine."""
    if len(outs) < 2 or not all(o.exists() for o in outs):
        return ""
    digests = []
    for o in outs:
        report = json.loads(o.read_bytes())
        report["summary"].pop("engine", None)
        digests.append(hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()[:16])
    if len(set(digests)) == 1:
        return f"the engines' reports are identical but for the engine's name (sha256 {digests[0]})"
    return "THE ENGINES' REPORTS DIFFER: " + ", ".join(f"{o.stem} {d}" for o, d in zip(outs, digests, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log", help="an existing JSONL log (default: generate one)")
    ap.add_argument("--cases", type=int, default=240_000, help="cases to generate (about 12.6 events each)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--engines", "--engine", default="reference,durable,compiled",
                    help="comma-separated engines; unknown ones are skipped")
    ap.add_argument("--floor", default="/work/shared/tools/floor.py", help="the floor script (LOG as argument)")
    ap.add_argument("--skip-pm4py", action="store_true")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also time another sdsrules source tree (its package importable from DIR, e.g. an older "
                         "commit's sdsrules/ with cli/ as sdsrules/cli) with each engine it knows, same log, same run")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sdsrules-bench-"))
    log = Path(args.log) if args.log else tmp / "log.jsonl"
    if not args.log:
        print(f"generating {args.cases:,} cases ...", flush=True)
        subprocess.run([*SDSRULES, "generate", "--cases", str(args.cases), "--seed",
                        str(args.seed), "--no-check", "--out", str(log)], check=True, stderr=subprocess.DEVNULL)
    with open(log, "rb") as f:
        events = sum(1 for line in f if line.strip())
    size = log.stat().st_size / 1e6
    print(f"log: {log} ({events:,} records, {size:,.0f} MB); machine: {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}; jobs {args.jobs}")
    known = subprocess.run([sys.executable, "-c", "from sdsrules.api import ENGINES; print(','.join(ENGINES))"],
                           capture_output=True, text=True, check=True).stdout.strip().split(",")
    engines = []
    for engine in filter(None, (e.strip() for e in args.engines.split(","))):
        if engine in known:
            engines.append(engine)
        else:
            print(f"engine {engine!r} is not in this sdsrules (known: {', '.join(known)}): skipped")
    rows = []
    for engine in engines:
        out = tmp / f"out-{engine}.json"
        r = measure([*SDSRULES, "replay", str(log), "--engine", engine,
                     "--jobs", str(args.jobs), "--format", "json", "--output", str(out)])
        ok = r["exit"] in (0, 1)
        summary = json.loads(out.read_text())["summary"] if ok and out.exists() else {}
        rows.append((f"sdsrules {engine} (jobs {args.jobs})", r, summary))
        if not ok:
            print(f"  {engine} failed: exit {r['exit']}: {r['stderr']}")
    if args.baseline:
        for engine in engines:
            out = tmp / f"baseline-{engine}.json"
            r = measure([*SDSRULES, "replay", str(log), "--engine", engine, "--jobs", str(args.jobs), "--format",
                         "json", "--output", str(out)], env={"PYTHONPATH": args.baseline})
            if r["exit"] == 2 and "engine" in r["stderr"]:
                continue  # an engine the baseline does not have
            ok = r["exit"] in (0, 1) and out.exists()
            same = ok and (tmp / f"out-{engine}.json").exists() and \
                _same_report(out, tmp / f"out-{engine}.json")
            rows.append((f"sdsrules {engine} baseline (jobs {args.jobs})", r,
                         json.loads(out.read_text())["summary"] if ok else {}))
            print(f"baseline {engine}: report {'identical to' if same else 'DIFFERS from'} this tree's (summary keys "
                  "the baseline lacks, such as as_of_rule, aside)")
    agree = _agreement([tmp / f"out-{engine}.json" for engine in engines])
    floor_py = Path(args.floor)
    if not floor_py.is_file():
        print(f"{floor_py} not found: using this script's copy of the floor")
        floor_py = tmp / "floor.py"
        floor_py.write_text(FLOOR)
    rows.append((FLOOR_ROW, measure([sys.executable, str(floor_py), str(log)]), {}))
    pm = None
    if not args.skip_pm4py:
        if importlib.util.find_spec("pm4py") is None:
            print("PM4Py not installed: its row is skipped (pip install pm4py)")
        else:  # not imported here: it prints a licence banner on import
            pm_py = tmp / "pm4py_declare.py"
            pm_py.write_text(PM4PY)
            res = subprocess.run([sys.executable, str(pm_py), str(log)], capture_output=True, text=True)
            pm = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else None
            r = measure([sys.executable, str(pm_py), str(log)])
            rows.append(("PM4Py Declare (11 constraints), load + check", r, {}))

    print(f"\n{'approach':<46} {'events/s':>10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
    rates = {}
    for name, r, summary in rows:
        failed = r["exit"] not in ((0, 1) if name.startswith("sdsrules") else (0,))
        if failed:  # a crashed run has no rate: never time a failure
            print(f"{name:<46} FAILED (exit {r['exit']}): {r['stderr'].strip().splitlines()[-1:]}")
            continue
        rate = events / r["wall"]
        rates[name] = rate
        print(f"{name:<46} {rate:>10,.0f} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['peak_mb']:>8.0f}")
        if summary:
            print(f"    {summary['cases']:,} cases, {summary['events_replayed']:,} replayed, "
                  f"{summary['events_rejected']:,} rejected, {summary['findings']:,} findings, "
                  f"{summary.get('cases_unchecked', 0)} unchecked")
    if pm:
        print(f"    PM4Py: load {pm['load']:.1f} s, conformance {pm['check']:.1f} s "
              f"({pm['events'] / pm['check']:,.0f} events/s without loading)")
    if agree:
        print(f"\n{agree}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores; other work on the machine skews rates)")
    print("\nratios:")
    ours = [n for n in rates if n.startswith("sdsrules")]
    peers = [n for n in rates if not n.startswith("sdsrules")]
    for a in ours:
        for b in [*ours[ours.index(a) + 1:], *peers]:
            print(f"  {a} / {b}: {rates[a] / rates[b]:.2f}")
    print(f"\n(target, issue 16: >= 200,000 events/s with --jobs 2 on a 3M-event log and >= 1.0x the floor in the same "
          f"run; >= 4x PM4Py; peak <= 500 MB)"
          f"\nlog kept at {log}" if not args.log else "")


if __name__ == "__main__":
    main()
