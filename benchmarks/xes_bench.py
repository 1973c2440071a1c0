"""XES reading speed against the same events as JSON Lines (issue 16 item 4).

BPIC 2012 cannot be fetched here (no network), so a log of the same size is built from the public receipt log
(/work/shared/data/receipt.xes, 1,434 traces, 8,577 events): its traces repeated with new case ids until the
log holds ``--events`` events (262,000 by default, BPIC 2012's size), written as ``.xes.gz``. Its 27 steps are
mapped onto SDS activities that need no attributes (the map is written next to it), and ``sdsrules convert``
writes the same events as JSON Lines. Everything goes to ``--dir`` (default /tmp/sdsrules-xes-bench), never into
the repository.

Then each command runs ``--repeat`` times in a fresh process, timed with its peak RSS summed over its process
tree (sampled every 50 ms, as ``replay_bench.py`` does); a command that fails (exit other than 0, or 1 for
findings, or an error on stderr) stops the benchmark rather than be timed:

* ``convert`` of the XES (``.xes.gz``, through the map) and of the JSON Lines to JSON Lines: reading speed;
* ``replay --engine none --jobs 1`` of both, and of the JSON Lines sorted by case (which takes the byte-range
  path of a sorted file): reading, grouping and the sequence checks;
* ``replay --jobs 2`` (the bulk default engine, every rule) of the XES and of the JSON Lines sorted by case.

Run: ``python benchmarks/xes_bench.py [--events 262000] [--repeat 3] [--exe SDSRULES]`` (``--exe``: another
build's command, for a before and after). The ratios compare runs made one after the other on the same machine;
on a shared machine read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_bench import measure  # the sibling script's tree-RSS sampler

RECEIPT = Path("/work/shared/data/receipt.xes")
SDSRULES = str(Path(sys.executable).with_name("sdsrules"))

#: the receipt log's steps onto SDS activities that need no attributes (the mapping means nothing: it only
#: makes every event a valid SDS event, so both inputs carry the same events through the same checks)
TARGETS = ["referral_received", "assessment_started", "assessment_completed", "carer_conversation_held",
           "dp_means_test_completed", "financial_review_completed", "transition_planning_started",
           "carer_support_accepted", "capacity_concern_raised"]


_SORT_BY_CASE = """
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
lines.sort(key=lambda raw: json.loads(raw)["case"])
open(sys.argv[2], "wb").write(b"".join(lines))
"""


def build(out_dir: Path, events: int) -> tuple[Path, Path]:
    """The big ``.xes.gz`` and its map; reused when already there with the same size."""
    text = RECEIPT.read_text(encoding="utf-8")
    first = text.index("<trace>")
    head, body = text[:first], text[first:text.rindex("</log>")]
    traces = re.findall(r"<trace>.*?</trace>", body, flags=re.S)
    per_trace = [t.count("<event>") for t in traces]
    steps = sorted(set(re.findall(r'<event>.*?key="concept:name" value="([^"]*)"', body, flags=re.S)))
    amap = out_dir / "receipt-map.yaml"
    lines = ["map: receipt-bench", "description: benchmark only; receipt steps onto attribute-free SDS steps",
             "activities:"]
    lines += [f'  "{s}": {TARGETS[i % len(TARGETS)]}' for i, s in enumerate(steps)]
    amap.write_text("\n".join(lines) + "\n", encoding="utf-8")
    xes = out_dir / f"receipt-x{events}.xes.gz"
    if xes.exists():
        return xes, amap
    written = rep = 0
    with gzip.open(xes, "wt", encoding="utf-8", compresslevel=6) as f:
        f.write(head)
        while written < events:
            for trace, n in zip(traces, per_trace, strict=True):
                if written >= events:
                    break
                # the trace's own concept:name is its first one before any <event>
                cut = trace.index("<event>") if "<event>" in trace else len(trace)
                named = re.sub(r'(key="concept:name" value=")([^"]*)"', rf'\g<1>\g<2>-r{rep}"', trace[:cut], count=1)
                f.write("\t" + named + trace[cut:] + "\n")
                written += n
            rep += 1
        f.write("</log>\n")
    return xes, amap


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS of the process tree in MB, exit code) of one command in a fresh process; a
    failure ends the benchmark."""
    got = measure(cmd)
    if got["exit"] not in (0, 1) or "Traceback" in got["stderr"] or "Error" in got["stderr"]:
        sys.exit(f"{' '.join(cmd)} failed (exit {got['exit']}): {got['stderr'].strip()[-300:]}")
    return got["wall"], got["peak_mb"], got["exit"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=262_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/sdsrules-xes-bench")
    ap.add_argument("--no-replay", action="store_true", help="time convert only")
    ap.add_argument("--exe", default=SDSRULES, help="the sdsrules command to time (another build: before/after)")
    ap.add_argument("--sds", default=None, help="also an SDS case log (JSON Lines): written as .xes.gz and read "
                                                "back to JSON Lines (the same events), both replayed with every rule")
    args = ap.parse_args()
    exe = args.exe
    out_dir = Path(args.dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    xes, amap = build(out_dir, args.events)
    jsonl = out_dir / f"receipt-x{args.events}.jsonl"
    if not jsonl.exists():
        subprocess.run([exe, "convert", str(xes), str(jsonl), "--map", str(amap)], check=False,
                       stderr=subprocess.DEVNULL)
    ordered = out_dir / f"receipt-x{args.events}-by-case.jsonl"
    if not ordered.exists():  # the same events sorted by case (stable), as a case system's export often is; in
        # a child process, so that this one stays small (a child's peak RSS counts what it was forked with)
        subprocess.run([sys.executable, "-c", _SORT_BY_CASE, str(jsonl), str(ordered)], check=True)
    n = sum(1 for _ in jsonl.open("rb"))
    print(f"{xes} ({xes.stat().st_size / 1e6:.1f} MB gz, {n} events) vs {jsonl} ({jsonl.stat().st_size / 1e6:.1f} MB)")
    sink = out_dir / "out.jsonl"
    runs = {
        "convert xes.gz": [exe, "convert", str(xes), str(sink), "--map", str(amap)],
        "convert jsonl": [exe, "convert", str(jsonl), str(sink)],
    }
    if not args.no_replay:
        runs["replay xes.gz"] = [exe, "replay", str(xes), "--map", str(amap), "--engine", "none",
                                 "--jobs", "1", "--format", "json", "-o", str(out_dir / "r.json")]
        runs["replay jsonl"] = [exe, "replay", str(jsonl), "--engine", "none", "--jobs", "1",
                                "--format", "json", "-o", str(out_dir / "r.json")]
        runs["replay jsonl by case"] = [exe, "replay", str(ordered), "--engine", "none", "--jobs", "1",
                                        "--format", "json", "-o", str(out_dir / "r.json")]
        runs["rules xes.gz"] = [exe, "replay", str(xes), "--map", str(amap), "--jobs", "2",
                                "--format", "json", "-o", str(out_dir / "r.json")]
        runs["rules jsonl by case"] = [exe, "replay", str(ordered), "--jobs", "2",
                                       "--format", "json", "-o", str(out_dir / "r.json")]
    if args.sds:  # an SDS log's own shape: typed attributes, lists, many steps a case
        sds_xes = out_dir / (Path(args.sds).stem + ".xes.gz")
        sds_jsonl = out_dir / (Path(args.sds).stem + "-from-xes.jsonl")
        if not sds_xes.exists():
            subprocess.run([exe, "convert", args.sds, str(sds_xes)], check=False, stderr=subprocess.DEVNULL)
        if not sds_jsonl.exists():
            subprocess.run([exe, "convert", str(sds_xes), str(sds_jsonl)], check=False, stderr=subprocess.DEVNULL)
        runs["sds xes.gz"] = [exe, "replay", str(sds_xes), "--jobs", "2", "--format", "json",
                              "-o", str(out_dir / "r.json")]
        runs["sds jsonl"] = [exe, "replay", str(sds_jsonl), "--jobs", "2", "--format", "json",
                             "-o", str(out_dir / "r.json")]
    for r in range(args.repeat):
        got = {label: timed(cmd) for label, cmd in runs.items()}
        parts = [f"{label} {w:.2f}s {rss:.0f}MB (exit {rc})" for label, (w, rss, rc) in got.items()]
        ratio = got["convert xes.gz"][0] / got["convert jsonl"][0]
        line = f"run {r + 1}: " + "; ".join(parts) + f"; convert ratio xes/jsonl {ratio:.2f}"
        if not args.no_replay:
            xes_s = got["replay xes.gz"][0]
            line += (f"; replay ratio {xes_s / got['replay jsonl'][0]:.2f}, against the JSON Lines sorted by case "
                     f"(the byte-range path) {xes_s / got['replay jsonl by case'][0]:.2f}; with every rule on 2 "
                     f"workers {got['rules xes.gz'][0] / got['rules jsonl by case'][0]:.2f}")
        if args.sds:
            line += f"; the SDS log as XES against it as JSON Lines {got['sds xes.gz'][0] / got['sds jsonl'][0]:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
