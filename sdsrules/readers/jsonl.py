"""JSON Lines, the canonical format: one JSON object a line, UTF-8. Blank lines are not records.

Each line is decoded by ``readers.fast.decode_line``, the one decoder of JSON Lines (the byte ranges of
``pipeline`` use it too)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping

from ..events import Event, Rejection
from ..maps import ActivityMap
from ._io import lines, open_bytes
from .fast import decode_line, too_long

__all__ = ["read"]


def read(path: str, seq: Iterator[int],
         activity_map: ActivityMap | None = None, vocabulary: Mapping | None = None) -> Iterator[Event | Rejection]:
    name = "<stdin>" if path == "-" else path
    stream = open_bytes(path)
    try:
        for number, raw in lines(stream):
            if raw is None:
                next(seq)
                yield too_long(name, number)
                continue
            if not raw.strip():
                continue
            yield decode_line(raw, name, number, next(seq), activity_map, vocabulary)
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt .gz
        yield Rejection(name, 0, f"reading stopped: {e}")
    finally:
        if stream is not None and path != "-":
            stream.close()
