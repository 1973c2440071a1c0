"""Findings as CSV, one row a finding, for spreadsheets."""

from __future__ import annotations

import csv
from typing import TextIO

COLUMNS = ("case", "code", "at", "severity", "title", "message", "expected", "actual", "events", "source",
           "stage", "workflow")


def write(report, stream: TextIO) -> None:
    out = csv.writer(stream, lineterminator="\n")
    out.writerow(COLUMNS)
    for f in report.findings:
        out.writerow([f.case, f.code, f.at, f.severity, f.title, f.message, f.expected, f.actual,
                      ";".join(e.id for e in f.events), " | ".join(f.source), f.stage, f.workflow])
