"""Findings as CSV, one row a finding, for spreadsheets (streams)."""

from __future__ import annotations

import csv
from typing import TextIO

from ..base import Writer as _Base
from ..cells import safe_cell

COLUMNS = ("case", "code", "at", "severity", "title", "message", "expected", "actual", "events", "source",
           "stage", "workflow")


class Writer(_Base):
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.out = csv.writer(stream, lineterminator="\n")
        self.out.writerow(COLUMNS)

    def finding(self, f) -> None:
        cells = (f.case, f.code, f.at, f.severity, f.title, f.message, f.expected, f.actual,
                 ";".join(e.id for e in f.events), " | ".join(f.source), f.stage, f.workflow)
        self.out.writerow([safe_cell(v) for v in cells])

    def close(self, summary, rejected, unchecked) -> None:
        pass
