"""JSON Lines, the canonical format: one JSON object a line, UTF-8. Blank lines are not records."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import orjson

from ..events import Event, EventError, Rejection, build_event
from ..maps import ActivityMap
from ._io import MAX_LINE, lines, open_bytes


def read(path: str, seq: Iterator[int],
         activity_map: ActivityMap | None = None) -> Iterator[Event | Rejection]:
    name = "<stdin>" if path == "-" else path
    stream = open_bytes(path)
    try:
        for number, raw in lines(stream):
            if raw is None:
                next(seq)
                yield Rejection(name, number, f"the line is longer than {MAX_LINE // 1024} KiB")
                continue
            if not raw.strip():
                continue
            position = next(seq)
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                reason = "is not UTF-8 text" if "utf-8" in str(e).lower() else f"is not valid JSON ({_short(e)})"
                yield Rejection(name, number, f"the line {reason}")
                continue
            if not isinstance(record, dict):
                yield Rejection(name, number, f"the line must be a JSON object (got a {_kind(record)})")
                continue
            try:
                if activity_map is not None:
                    activity_map.apply(record)  # in place: their names to ours, before validation
                yield build_event(record, file=name, line=number, seq=position)
            except EventError as e:
                yield Rejection(name, number, f"'{e.field}' {e.reason}", e.field, _case(record), _id(record))
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt .gz
        yield Rejection(name, 0, f"reading stopped: {e}")
    finally:
        if stream is not None and path != "-":
            stream.close()


def _short(e: Exception) -> str:
    text = str(e).split(":", 1)[0]
    return text[:80]


def _kind(value) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


def _case(record: dict) -> str | None:
    c = record.get("case")
    return str(c) if isinstance(c, str | int) and not isinstance(c, bool) and str(c).strip() else None


def _id(record: dict) -> str | None:
    i = record.get("id")
    return str(i) if isinstance(i, str | int) and not isinstance(i, bool) else None
