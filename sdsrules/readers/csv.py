"""CSV: columns case, at, activity; optional id, actor_id, actor_role, actor_team; one column per attribute.

Lists are written ``1;2;4``, booleans ``true``/``false``; an empty cell means absent. Each row is decoded on
its own, so one row of bad bytes is one rejection and the rest of the file still replays.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from collections.abc import Iterator

from ..events import Event, EventError, Rejection, build_event
from ..formats.cells import plain_cell
from ..maps import ActivityMap
from ._io import MAX_LINE, lines, open_bytes

REQUIRED = ("case", "at", "activity")
_SURROGATE = re.compile("[\udc80-\udcff]")


def read(path: str, seq: Iterator[int],
         activity_map: ActivityMap | None = None) -> Iterator[Event | Rejection]:
    name = "<stdin>" if path == "-" else path
    stream = open_bytes(path)
    try:
        yield from _rows(name, lines(stream), seq, activity_map)
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt .gz
        yield Rejection(name, 0, f"reading stopped: {e}")
    finally:
        if path != "-":
            stream.close()


def _records(numbered: Iterator[tuple[int, bytes | None]]) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line, cells, problem): whole CSV records, which may span lines inside quotes."""
    pending: list[str] = []
    start = size = quotes = 0  # size and quote count of the pending lines, kept as they come (no re-joining)
    for number, raw in numbered:
        if raw is None:
            pending = []
            yield number, None, f"the line is longer than {MAX_LINE // 1024} KiB"
            continue
        text = raw.decode("utf-8", errors="surrogateescape")
        if not pending:
            start, size, quotes = number, -1, 0
            if not text.strip():
                continue
        pending.append(text)
        size += len(text) + 1
        quotes += text.count('"')
        if quotes % 2:  # inside a quoted cell: the record goes on
            if size > MAX_LINE:
                pending = []
                yield start, None, f"the record is longer than {MAX_LINE // 1024} KiB (an unclosed quote?)"
            continue
        joined = "\n".join(pending)
        pending = []
        if _SURROGATE.search(joined):
            yield start, None, "the row is not UTF-8 text"
            continue
        try:
            cells = next(csv.reader(io.StringIO(joined)))
        except (csv.Error, StopIteration) as e:
            yield start, None, f"the row is not valid CSV ({e})"
            continue
        yield start, cells, None
    if pending:
        yield start, None, "the file ends inside a quoted cell"


def _rows(name: str, numbered, seq: Iterator[int], activity_map: ActivityMap | None = None
          ) -> Iterator[Event | Rejection]:
    records = _records(numbered)
    header: list[str] | None = None
    header_problem = None
    for number, cells, problem in records:
        if header is None and header_problem is None:
            if cells is None:
                header_problem = f"the header row is unusable ({problem})"
                continue
            header = [plain_cell(c.strip()) for c in cells]
            if activity_map is not None:  # their column names to ours before the header is checked
                header = [activity_map.column(c) for c in header]
            missing = [c for c in REQUIRED if c not in header]
            dupes = sorted({c for c in header if header.count(c) > 1 and c})
            if missing:
                header_problem = f"the header has no column {', '.join(map(repr, missing))} (it has: " \
                                 f"{', '.join(header[:12])})"
            elif dupes:
                header_problem = f"the header names column(s) {', '.join(map(repr, dupes))} twice"
            continue
        position = next(seq)
        if header_problem is not None:
            yield Rejection(name, number, header_problem, "header")
            continue
        if cells is None:
            yield Rejection(name, number, problem or "unreadable row")
            continue
        if len(cells) != len(header):
            yield Rejection(name, number, f"the row has {len(cells)} cells but the header has {len(header)}")
            continue
        record = {h: plain_cell(c) for h, c in zip(header, cells, strict=True) if h}
        try:
            if activity_map is not None:
                activity_map.apply(record, text_cells=True)  # in place: their steps and values to ours
            yield build_event(record, file=name, line=number, seq=position, text_cells=True)
        except EventError as e:
            case = record.get("case") or None
            yield Rejection(name, number, f"'{e.field}' {e.reason}", e.field, case, record.get("id") or None)
