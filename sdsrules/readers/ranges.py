"""Byte ranges of a JSON Lines file sorted by case, read by the worker that owns them.

A replay's fast path (``pipeline.drive``) cuts one uncompressed JSON Lines file into ranges of about a given size,
each starting at the start of a line (``cut``), numbers their first lines (``numbered``), and hands each to a
worker, which reads it with ``iter_range``: the worker owns exactly the cases whose first line lies in its range.
It skips the leading lines of a case that began before the range (found by reading backwards: ``_prev_case``),
reads on past the range's end to finish its last case, and stops as soon as it sees the file is not sorted by
case (``RangeScan.sorted``), which sends the driver to the general path. Lines are decoded by
``readers.fast.line_decoder``: the same Events and Rejections, with the same messages, as the JSON Lines reader's.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import attrs
import orjson

from ..events import Event, Rejection
from ._io import MAX_LINE
from .fast import line_decoder, too_long

_BLANK = object()  # a blank line: not a record


def _case_of(record: Any) -> str | None:
    """The case id a record would have as an Event (see events.build_event), or None."""
    if not isinstance(record, dict):
        return None
    case = record.get("case")
    if case is None or isinstance(case, bool):
        return None
    if isinstance(case, str):
        case = case.strip()
        return case or None
    if isinstance(case, int):
        return str(case)
    if isinstance(case, float):
        return format(case, "g")
    return None


def _bounded_lines(f, start: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset, line) from ``start`` to the end of the file; line is None for a line longer than MAX_LINE, which is
    skipped in chunks, never held whole (as the JSONL reader does)."""
    f.seek(start)
    pos = start
    limit = MAX_LINE + 1
    readline = f.readline
    while True:
        line = readline(limit)
        if not line:
            return
        if len(line) == limit and not line.endswith(b"\n"):
            n = len(line)
            while True:
                more = readline(limit)
                n += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield pos, None
            pos += n
            continue
        yield pos, line
        pos += len(line)


def cut(path: str, size: int) -> list[tuple[int, int]]:
    """Raw byte ranges of about ``size`` bytes, each starting at the start of a line."""
    total = os.path.getsize(path)
    step = size
    bounds = [0]
    with open(path, "rb") as f:
        pos = step
        while pos < total:
            f.seek(pos)
            while True:  # to the start of the next line, in bounded reads
                chunk = f.readline(MAX_LINE)
                if not chunk or chunk.endswith(b"\n"):
                    break
            nxt = f.tell()
            if nxt >= total:
                break
            if nxt > bounds[-1]:
                bounds.append(nxt)
            pos = nxt + step
    bounds.append(total)
    return list(itertools.pairwise(bounds))


def numbered(path: str, raw: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
    """(start, end, line number at start) of each range, counting newlines as the ranges are handed out (a plain
    byte count at memory speed, not a parse: this is all the driver reads of the file)."""
    line = 1
    buf = bytearray(1 << 20)  # one buffer read into again and again: no new megabyte (and its page faults) a read
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        for start, end in raw:
            yield start, end, line
            f.seek(start)
            left = end - start
            while left > 0:
                n = f.readinto(view[:min(left, len(buf))])
                if not n:
                    break
                line += buf.count(b"\n", 0, n)
                left -= n


@attrs.frozen(slots=True)
class Range:
    """A range of a JSONL file (perhaps sorted by case): the worker owns the cases whose first line lies in it."""

    path: str
    start: int
    end: int
    first_line: int  # the line number of the line at ``start``
    name: str | None = None  # the file's name in records (default: ``path``; differs where a Dask worker opens it)


def _raw_case(raw: bytes) -> str | None:
    """The case id of a line (without its newline) that was not accepted as an event, or None."""
    try:
        rec = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return _case_of(rec) if type(rec) is dict else None


def _line_case(line: bytes | None, offset: int) -> Any:
    """What a raw line is for ownership: _BLANK, or the case id of a readable line (None if it has none)."""
    if line is None:
        return None
    try:
        rec = orjson.loads(line)  # JSON allows the line's own whitespace and newline around it
    except orjson.JSONDecodeError:
        raw = line.rstrip(b"\r\n")
        if offset == 0 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            return _BLANK
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    return _case_of(rec) if type(rec) is dict else None


def _prev_case(f, start: int) -> str | None:
    """The case of the last readable line before ``start`` (None: no such line), read backwards in chunks."""
    pos, tail = start, b""
    while pos > 0:
        step = min(pos, 64 * 1024)
        pos -= step
        f.seek(pos)
        data = f.read(step) + tail
        parts = data.split(b"\n")
        # parts[0] may be a partial line (unless pos is 0); the last part is empty (start is a line start)
        first_whole = 0 if pos == 0 else 1
        offsets = []
        at = pos
        for p in parts:
            offsets.append(at)
            at += len(p) + 1
        for i in range(len(parts) - 1, first_whole - 1, -1):
            if i == len(parts) - 1 and not parts[i]:
                continue
            p = parts[i]
            if len(p) + 1 > MAX_LINE + 1:
                continue  # too long to read: not a readable line
            case = _line_case(p + b"\n", offsets[i])
            if case is not None and case is not _BLANK:
                return case
        tail = parts[0] if pos > 0 else b""
        if len(tail) > MAX_LINE + 1:
            tail = tail[: MAX_LINE + 2]  # over the limit either way: unreadable; keep it bounded
    return None


@attrs.define
class RangeScan:
    """What reading a range learned besides its cases: for the order check and the as-of date."""

    read: int = 0
    latest: date | None = None  # the latest day of an accepted event of the cases the range owns
    first_case: str | None = None
    last_case: str | None = None
    sorted: bool = True


def iter_range(r: Range, scan: RangeScan | None = None, keep_order: bool = True) -> Iterator[tuple[str, Any]]:
    """("case", (case, events)) and ("rejection", Rejection) items of the cases the range owns, in file order;
    then ("read", n): the number of records read. ``scan`` (if given) is filled in as it goes; reading stops early
    when the file is found not sorted by case. ``keep_order`` False: an event's attributes need not be in the
    record's order (``readers.fast.line_decoder``; for the checks of a findings-only replay, which never show
    them)."""
    scan = scan if scan is not None else RangeScan()
    name = r.name or r.path
    number = r.first_line - 1
    read = 0
    current: str | None = None
    events: list[Event] = []
    latest = scan.latest
    with open(r.path, "rb") as f:
        prev = _prev_case(f, r.start) if r.start > 0 else None
        last_seen = prev
        # every range but the first skips what belongs to the case before it: that case's lines, and the blank or
        # unreadable lines among and after them (the owner of a case reads on over those; see the module doc)
        skipping = r.start > 0
        decode = line_decoder(keep_order)
        for offset, line in _bounded_lines(f, r.start):
            number += 1
            item: Event | Rejection
            if line is None:
                item, case = too_long(name, number), None
            else:
                raw = line.rstrip(b"\r\n")
                if offset == 0 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw or raw.isspace():
                    continue  # a blank line is not a record (nor a case's end)
                item = decode(raw, name, number, offset)
                case = item.case if type(item) is Event else _raw_case(raw)
            if case is not None:
                if last_seen is not None and case < last_seen:
                    scan.sorted = False
                    break
                last_seen = case
            if skipping:
                if case is None or case == prev:
                    continue  # a line of the case that began before this range (or between its lines)
                skipping = False
            if offset >= r.end and case is not None and case != current:
                break  # past the end, and the last case is finished
            read += 1
            if type(item) is not Event:
                yield "rejection", item
                continue
            if case != current:
                if events:
                    yield "case", (current, events)
                current, events = case, []
                if scan.first_case is None:
                    scan.first_case = current
                scan.last_case = current
            if latest is None or item.day > latest:
                latest = item.day
            events.append(item)
    scan.latest = latest
    scan.read = read
    if events and scan.sorted:
        yield "case", (current, events)
    yield "read", read
