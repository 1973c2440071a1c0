"""Findings as CSV, one row a finding, for spreadsheets (streams)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from ..base import Writer as _Base
from ..cells import row_text, row_writer

COLUMNS = ("case", "code", "at", "severity", "title", "message", "expected", "actual", "events", "source",
           "stage", "workflow")


def render(f) -> str:
    """One finding as a row."""
    return row_text((f.case, f.code, f.at, f.severity, f.title, f.message, f.expected, f.actual,
                     ";".join(e.id for e in f.events), " | ".join(f.source), f.stage, f.workflow))


class Writer(_Base):
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"
    render = staticmethod(render)

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        row_writer(stream)(COLUMNS)

    def finding(self, f) -> None:
        self.stream.write(render(f))

    def texts(self, texts: Sequence[str]) -> None:
        self.stream.write("".join(texts))

    def close(self, summary, rejected, unchecked) -> None:
        pass
