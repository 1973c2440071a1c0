"""The JSON report: one object with summary, findings and rejected (issue 2's contract)."""

from __future__ import annotations

from typing import TextIO

import orjson


def dumps(report) -> str:
    return orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def write(report, stream: TextIO) -> None:
    stream.write(dumps(report))
