"""CSV: columns case, at, activity; optional id, actor_id, actor_role, actor_team; one column per attribute.

Lists are written ``1;2;4``, booleans ``true``/``false``; an empty cell means absent. Each row is decoded on
its own, so one row of bad bytes is one rejection and the rest of the file still replays.
"""

from __future__ import annotations

import collections
import csv
import io
import re
import zlib
from collections.abc import Iterator, Mapping

from ..events import Event, EventError, Rejection, build_event
from ..formats.cells import plain_cell
from ..maps import ActivityMap
from ._io import MAX_LINE, lines, open_bytes

REQUIRED = ("case", "at", "activity")
LOOKAHEAD = 1_000  # lines an open quoted cell may span before it is taken for a stray quote
_SURROGATE = re.compile("[\udc80-\udcff]")


def read(path: str, seq: Iterator[int],
         activity_map: ActivityMap | None = None, vocabulary: Mapping | None = None) -> Iterator[Event | Rejection]:
    name = "<stdin>" if path == "-" else path
    stream = open_bytes(path)
    try:
        yield from _rows(name, lines(stream), seq, activity_map, vocabulary)
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt .gz
        yield Rejection(name, 0, f"reading stopped: {e}")
    finally:
        if path != "-":
            stream.close()


class _Width:
    """The header's number of cells, once known: what a line must parse to, to count as a row of its own."""

    __slots__ = ("cells",)

    def __init__(self) -> None:
        self.cells: int | None = None


def _records(numbered: Iterator[tuple[int, bytes | None]], width: _Width | None = None,
             lookahead: int = LOOKAHEAD) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line, cells, problem): whole CSV records, which may span lines inside quotes.

    A quoted cell may hold line breaks, so an odd number of quotes keeps a record open. A stray quote would
    then swallow the rows after it, so an open record is held for at most ``lookahead`` lines (and 1 MiB), and
    when it does not end as one row of the header's width (or the file ends, or the bound is reached) it is
    given up: the lines from its start up to the next line that parses as a row on its own are one rejection,
    and reading resumes at that line.
    """
    queue: collections.deque[tuple[int, str | None]] = collections.deque()  # lines to read again after a give-up
    source = iter(numbered)
    pending: list[tuple[int, str]] = []
    size = quotes = 0  # size and quote count of the pending lines, kept as they come (no re-joining)

    def give_up(reason: str) -> tuple[int, None, str]:
        """The pending record rejected up to the next line that is a row of its own; the rest read again."""
        nonlocal pending
        cut = next((i for i in range(1, len(pending)) if _is_row(pending[i][1], width)), len(pending))
        start, last = pending[0][0], pending[cut - 1][0]
        where = f"line {start}" if last == start else f"lines {start}-{last}"
        queue.extendleft(reversed(pending[cut:]))
        pending = []
        return start, None, f"{reason}; {where} skipped, reading goes on at the next line that is a row"

    while True:
        if queue:
            number, text = queue.popleft()
        else:
            got = next(source, None)
            if got is None:
                if not pending:
                    return
                yield give_up("the file ends inside a quoted cell")
                continue
            number = got[0]
            text = None if got[1] is None else got[1].decode("utf-8", errors="surrogateescape")
        if text is None:
            if pending:
                queue.appendleft((number, None))
                yield give_up("a quoted cell opened here is not closed before an over-long line")
                continue
            yield number, None, f"the line is longer than {MAX_LINE // 1024} KiB"
            continue
        if not pending:
            size, quotes = -1, 0
            if not text.strip():
                continue
        pending.append((number, text))
        size += len(text) + 1
        quotes += text.count('"')
        if quotes % 2:  # inside a quoted cell: the record goes on
            if size > MAX_LINE or len(pending) > lookahead:
                yield give_up(f"a quoted cell opened here is still open after {len(pending)} lines "
                              f"(a stray quote?)")
            continue
        joined = "\n".join(t for _, t in pending)
        if _SURROGATE.search(joined):
            start = pending[0][0]
            pending = []
            yield start, None, "the row is not UTF-8 text"
            continue
        try:
            cells = next(csv.reader(io.StringIO(joined)))
        except (csv.Error, StopIteration) as e:
            if len(pending) > 1:
                yield give_up(f"the record is not valid CSV ({e})")
                continue
            start = pending[0][0]
            pending = []
            yield start, None, f"the row is not valid CSV ({e})"
            continue
        if len(pending) > 1 and width is not None and width.cells is not None and len(cells) != width.cells:
            yield give_up(f"a quoted cell opened here spans {len(pending)} lines but does not end a row of "
                          f"{width.cells} cells (a stray quote?)")
            continue
        start = pending[0][0]
        pending = []
        yield start, cells, None


def _is_row(text: str, width: _Width | None) -> bool:
    """Whether one line, alone, parses as a row of the header's width."""
    if width is None or width.cells is None or text.count('"') % 2 or not text.strip():
        return False
    try:
        return len(next(csv.reader((text,)))) == width.cells
    except (csv.Error, StopIteration):
        return False


def _rows(name: str, numbered, seq: Iterator[int], activity_map: ActivityMap | None = None,
          vocabulary: Mapping | None = None) -> Iterator[Event | Rejection]:
    width = _Width()
    records = _records(numbered, width)
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
            dupes = sorted(c for c, n in collections.Counter(header).items() if n > 1 and c)  # linear
            if missing:
                header_problem = f"the header has no column {', '.join(map(repr, missing))} (it has: " \
                                 f"{', '.join(header[:12])})"
            elif dupes:
                header_problem = f"the header names column(s) {', '.join(map(repr, dupes))} twice"
            width.cells = len(header)
            continue
        position = next(seq)
        if header_problem is not None:
            yield Rejection(name, number, header_problem, "header")
            continue
        if cells is None or header is None:
            yield Rejection(name, number, problem or "unreadable row")
            continue
        if len(cells) != len(header):
            yield Rejection(name, number, f"the row has {len(cells)} cells but the header has {len(header)}")
            continue
        record = {h: plain_cell(c) for h, c in zip(header, cells, strict=True) if h}
        try:
            if activity_map is not None:
                activity_map.apply(record, text_cells=True)  # in place: their steps and values to ours
            yield build_event(record, file=name, line=number, seq=position, text_cells=True, vocabulary=vocabulary)
        except EventError as e:
            case = record.get("case") or None
            yield Rejection(name, number, f"'{e.field}' {e.reason}", e.field, case, record.get("id") or None)
