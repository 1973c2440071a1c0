"""Opening inputs as byte streams, and reading lines with a length limit."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from typing import BinaryIO

MAX_LINE = 1024 * 1024  # a record longer than 1 MiB is rejected, not loaded


def open_bytes(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def lines(stream: BinaryIO, limit: int = MAX_LINE) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the newline), or (line number, None) for a line over ``limit``.

    A long line is skipped in chunks, never held whole. A byte-order mark on the first line is dropped.
    """
    number = 0
    while True:
        chunk = stream.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(limit + 1)
            yield number, None
            continue
        if number == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        yield number, chunk.rstrip(b"\r\n")
