"""Findings as CSV, one row a finding, for spreadsheets (streams)."""

from __future__ import annotations

from typing import TextIO

from ..base import Writer as _Base
from ..cells import row_writer

COLUMNS = ("case", "code", "at", "severity", "title", "message", "expected", "actual", "events", "source",
           "stage", "workflow")


class Writer(_Base):
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.row = row_writer(stream)
        self.row(COLUMNS)

    def finding(self, f) -> None:
        cells = (f.case, f.code, f.at, f.severity, f.title, f.message, f.expected, f.actual,
                 ";".join(e.id for e in f.events), " | ".join(f.source), f.stage, f.workflow)
        self.row(cells)

    def close(self, summary, rejected, unchecked) -> None:
        pass
