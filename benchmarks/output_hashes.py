"""Every output sdsrules writes for one log, by sha256: the before/after check of a refactor.

    python benchmarks/output_hashes.py LOG [--as-of DATE] [--save FILE] [--against FILE]

Runs the installed ``sdsrules`` command for every output format the product has (findings as text, JSON and CSV
on one and two processes, the report's HTML, JSON and CSV exports, the due list in every format, ``convert`` to
every event format with and without ``--annotate``, and the shipped designs' validation in every format) and
prints one line per output: its name, its size and its sha256. ``--save`` keeps the table as JSON;
``--against`` compares with a saved table and exits 1 when any output differs, naming it.

Each output is produced once, with a fixed ``--as-of`` so that nothing depends on today's date; the report's
"generated" stamp and JUnit's elapsed times are blanked before hashing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# The only parts of an output that depend on the clock, not on the log: the report's "generated" stamp and
# JUnit's elapsed time. They are blanked before hashing.
_CLOCK = (
    (re.compile(rb"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC"), b"generated (time)"),
    (re.compile(rb'time="[0-9.]+"'), b'time=""'),
)


def _sha(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    for pattern, blank in _CLOCK:
        data = pattern.sub(blank, data)
    return len(data), hashlib.sha256(data).hexdigest()


def _run(args: list[str], ok: tuple[int, ...] = (0, 1)) -> None:
    done = subprocess.run(["sdsrules", *args], capture_output=True, text=True)
    if done.returncode not in ok:
        sys.exit(f"sdsrules {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-400:]}")


def outputs(log: Path, as_of: str, work: Path) -> dict[str, tuple[int, str]]:
    table: dict[str, tuple[int, str]] = {}
    common = ["--as-of", as_of]

    def keep(name: str, path: Path) -> None:
        table[name] = _sha(path)

    for fmt in ("text", "json", "csv"):
        for jobs in ("1", "2"):
            out = work / f"replay-{jobs}.{fmt}"
            _run(["replay", str(log), "--format", fmt, "--jobs", jobs, "-o", str(out), *common])
            keep(f"replay --format {fmt} --jobs {jobs}", out)

    html, js, csvdir = work / "report.html", work / "report.json", work / "report-csv"
    _run(["report", str(log), "--html", str(html), "--json", str(js), "--csv", str(csvdir), "--no-progress", *common])
    keep("report --html", html)
    keep("report --json", js)
    for part in sorted(csvdir.iterdir()):
        keep(f"report --csv {part.name}", part)

    for fmt in ("text", "csv", "json", "html"):
        out = work / f"due.{fmt}"
        _run(["due", str(log), "--format", fmt, "-o", str(out), "--within", "8 weeks", *common])
        keep(f"due --format {fmt}", out)

    for fmt in ("jsonl", "csv", "xes"):
        out = work / f"convert.{fmt}"
        _run(["convert", str(log), str(out)])
        keep(f"convert --to {fmt}", out)
        out = work / f"annotate.{fmt}"
        _run(["convert", str(log), str(out), "--annotate"])
        keep(f"convert --annotate --to {fmt}", out)

    for design in ("national", "moray"):
        for fmt in ("text", "json", "sarif", "junit"):
            out = work / f"validate-{design}.{fmt}"
            _run(["validate", design, "--format", fmt, "-o", str(out)])
            keep(f"validate {design} --format {fmt}", out)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--as-of", default="2026-06-30")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--against", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = outputs(args.log, args.as_of, Path(tmp))
    width = max(map(len, table))
    for name, (size, sha) in table.items():
        print(f"{name:<{width}}  {size:>12,}  {sha}")
    if args.save:
        args.save.write_text(json.dumps({k: list(v) for k, v in table.items()}, indent=1) + "\n")
    if args.against:
        before = {k: tuple(v) for k, v in json.loads(args.against.read_text()).items()}
        changed = [k for k in sorted(set(before) | set(table)) if before.get(k) != table.get(k)]
        for name in changed:
            print(f"DIFFERS: {name}", file=sys.stderr)
        print(f"{len(table) - len(changed)} of {len(table)} outputs identical to {args.against}")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
