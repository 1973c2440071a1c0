"""Readers: one module per format, each a generator of ``Event`` or ``Rejection`` with file and line.

Readers stream: a file is read line by line (or element by element) and never loaded whole. Every record
read becomes exactly one Event or one Rejection, so ``events_read == events_replayed + events_rejected``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..events import Event, Rejection
from ..maps import ActivityMap
from . import csv as csv_reader
from . import jsonl as jsonl_reader

READERS = {"jsonl": jsonl_reader.read, "csv": csv_reader.read}
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".xes": "xes"}


class ReaderError(ValueError):
    """A whole input cannot be read (missing file, unknown format). ``args``: (file, reason)."""

    def __init__(self, file: str, reason: str):
        super().__init__(file, reason)
        self.file, self.reason = file, reason

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def format_of(path: str, given: str | None = None) -> str:
    if given:
        return given
    if path == "-":
        return "jsonl"
    name = path.lower().removesuffix(".gz")
    fmt = SUFFIXES.get(Path(name).suffix)
    if fmt is None:
        raise ReaderError(path, "unknown format: name it .jsonl, .csv or .xes, or say --input-format")
    return fmt


def read_one(path: str, fmt: str | None = None, seq: Iterator[int] | None = None,
             activity_map: ActivityMap | None = None, vocabulary: Mapping | None = None) -> Iterator[Event | Rejection]:
    """Every record of one input; with ``activity_map``, their names are translated before validation."""
    fmt = format_of(path, fmt)
    seq = seq if seq is not None else itertools.count()
    if fmt == "xes":
        try:
            from . import xes as xes_reader
        except ImportError:
            raise ReaderError(path, "XES reading is not available in this build") from None
        return xes_reader.read(path, seq, activity_map, vocabulary)
    reader = READERS.get(fmt)
    if reader is None:
        raise ReaderError(path, f"unknown format {fmt!r} (known: {', '.join(sorted(READERS))}, xes)")
    if path != "-" and not Path(path).is_file():
        raise ReaderError(path, "no such file")
    return reader(path, seq, activity_map, vocabulary)


def read_all(paths: Iterable[str], fmt: str | None = None,
             activity_map: ActivityMap | None = None, vocabulary: Mapping | None = None) -> Iterator[Event | Rejection]:
    """Every record of every input in order, numbered across the whole input (``Event.seq``); ``vocabulary``: the
    design's activity table to judge by (default: the SDS contract)."""
    seq = itertools.count()
    for p in paths:
        yield from read_one(str(p), fmt, seq, activity_map, vocabulary)
