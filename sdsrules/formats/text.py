"""The plain-text report: a summary a person reads first, then findings grouped by case."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO


def write(report, stream: TextIO) -> None:
    s = report.summary
    w = stream.write
    w(f"sdsrules replay: {s.cases} cases, {s.events_read} events read, {s.events_replayed} replayed, "
      f"{s.events_rejected} rejected\n")
    w(f"workflow {s.workflow}; judged as of {s.as_of}; engine {s.engine or 'none'}; {s.rules} rules\n")
    if s.cases_unchecked:
        w(f"WARNING: {s.cases_unchecked} case(s) could not be checked (see below)\n")
    if not report.findings:
        w("No findings.\n")
    else:
        w(f"\n{s.findings} findings:\n")
        for code, n in sorted(s.findings_by_code.items()):
            title = next((f.title for f in report.findings if f.code == code), "")
            w(f"  {code}  {n:>6}  {title}\n")
        for case, items in groupby(report.findings, key=lambda f: f.case):
            w(f"\nCase {case}\n")
            for f in items:
                w(f"  {f.at}  {f.code}  {f.message}\n")
                if f.events:
                    w("      evidence: " + ", ".join(f"{e.id} ({e.activity}, {e.at})" for e in f.events) + "\n")
                if f.source:
                    w("      source: " + "; ".join(f.source) + "\n")
    if report.rejected:
        w(f"\n{len(report.rejected)} records rejected (SDS-DAT-01, not replayed):\n")
        for r in report.rejected[:200]:
            w(f"  {r}\n")
        if len(report.rejected) > 200:
            w(f"  ... and {len(report.rejected) - 200} more (use --format json for all)\n")
    for u in report.unchecked:
        w(f"\nUNCHECKED case {u.case}: {u.reason}\n")
