"""Output formatters for a replay ``Report``: one module per format behind one interface.

A formatter is ``write(report, stream)``; text formats get a text stream. Output is deterministic: the same
report gives byte-identical output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from . import csv as csv_format
from . import json as json_format
from . import text as text_format

FORMATTERS: dict[str, Callable[[object, TextIO], None]] = {
    "text": text_format.write,
    "json": json_format.write,
    "csv": csv_format.write,
}


def write(report, fmt: str, stream: TextIO) -> None:
    try:
        formatter = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATTERS)})") from None
    formatter(report, stream)
