"""Output formatters for replay results: one module per format behind one interface.

A formatter is a streaming ``Writer(stream)``: ``finding(f)`` for each finding in order (or ``case(result)`` for
each case), then ``close(summary, rejected, unchecked)``. ``write(report, fmt, stream)`` feeds a whole Report
through the same writer, so a streamed run and an in-memory run give byte-identical output.
"""

from __future__ import annotations

from typing import TextIO

from . import csv as csv_format
from . import json as json_format
from . import text as text_format

WRITERS = {"text": text_format.Writer, "json": json_format.Writer, "csv": csv_format.Writer}
FORMATTERS = WRITERS  # the formats the replay command offers


def writer(fmt: str, stream: TextIO):
    try:
        return WRITERS[fmt](stream)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(WRITERS)})") from None


def write(report, fmt: str, stream: TextIO) -> None:
    w = writer(fmt, stream)
    for f in report.findings:
        w.finding(f)
    w.close(report.summary, report.rejected, report.unchecked)
