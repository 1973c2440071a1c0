"""What every fuzz target checks, whoever generates the input (atheris, or the hypothesis-driven fallback).

``check(fmt, data)`` feeds ``data`` to one reader through the public ``-`` (stdin) path, so no file is written,
then replays what was read with ``engine="none"``. It raises ``AccountingError`` when a record is lost or
invented, and lets any other exception escape: for the fuzzer, an escaping exception *is* the bug.

What a record is, per format (the accounting the readers promise):

* JSONL: every line that is not blank (only ASCII whitespace) after the newline is cut off; a byte-order mark
  at the start of the file is not part of the first line.
* CSV: every record after the header, the header being the first non-blank record. Without a quote character
  a record is a non-blank line; with quotes a record may span lines, so the fuzz check there is a bound.
* XES: every ``<event>`` element that is a child of the root ``<log>`` or of a ``<trace>`` child of it. When
  the file stops being well-formed (or declares a DTD), the records before the break are accounted for and
  one rejection says where reading stopped.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import defusedxml.ElementTree as DefusedET

from sdsrules.api import replay_records
from sdsrules.events import Event, Rejection
from sdsrules.readers import read_one
from sdsrules.workflow import load_workflow

WORKFLOW = load_workflow()
STOPPED = ("reading stopped", "file ends inside a quoted cell")


class AccountingError(AssertionError):
    """A record was lost, invented, or reported without file, line and reason."""


class _Stdin:
    """Stands in for ``sys.stdin``: the readers read ``sys.stdin.buffer`` for the path ``-``."""

    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def read(fmt: str, data: bytes) -> list[Event | Rejection]:
    saved = sys.stdin
    sys.stdin = _Stdin(data)  # type: ignore[assignment]
    try:
        return list(read_one("-", fmt))
    finally:
        sys.stdin = saved


def _lines(data: bytes) -> Iterator[bytes]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for p in parts:
        yield p.rstrip(b"\r")


def jsonl_records(data: bytes) -> int:
    return sum(1 for line in _lines(data) if line.strip())


def csv_records(data: bytes) -> int | None:
    """Records after the header, or None when quotes make the count depend on CSV parsing."""
    if b'"' in data:
        return None
    return max(0, sum(1 for line in _lines(data) if line.decode("utf-8", "replace").strip()) - 1)


def xes_records(data: bytes) -> int | None:
    """<event> elements under the root <log> or one of its <trace>s; None when the file is not usable XML."""
    try:
        root = DefusedET.fromstring(data, forbid_dtd=True)
    except Exception:
        return None
    if _local(root.tag) != "log":
        return 0
    count = 0
    for child in root:
        if _local(child.tag) == "event":
            count += 1
        elif _local(child.tag) == "trace":
            count += sum(1 for e in child if _local(e.tag) == "event")
    return count


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def check(fmt: str, data: bytes, replay: bool = True) -> tuple[int, int]:
    """Read ``data`` as ``fmt``, check the accounting, replay it. Returns (events, rejections)."""
    records = read(fmt, data)
    for r in records:
        if isinstance(r, Rejection):
            if not r.reason or not r.file or r.line < 0 or (r.line == 0 and "reading stopped" not in r.reason):
                raise AccountingError(f"a rejection without file, line or reason: {r!r}")
        elif not isinstance(r, Event):
            raise AccountingError(f"a reader yielded {type(r).__name__}, not an Event or Rejection")
    stopped = bool(records) and isinstance(records[-1], Rejection) and any(s in records[-1].reason for s in STOPPED)
    got = len(records)
    if fmt == "jsonl":
        want = jsonl_records(data)
        if got != want:
            raise AccountingError(f"JSONL: {want} records in, {got} out")
    elif fmt == "csv":
        want = csv_records(data)
        nonblank = sum(1 for line in _lines(data) if line.strip())
        if (want is not None and got != want) or got > nonblank:
            raise AccountingError(f"CSV: {want} records in ({nonblank} non-blank lines), {got} out")
    else:
        want = xes_records(data)
        if want is None:
            if not stopped:
                raise AccountingError("XES: the file is not usable XML but no rejection says reading stopped")
        elif got != want and not (stopped and got == want + 1 and _root_is_not_log(data)):
            raise AccountingError(f"XES: {want} <event> records in, {got} out")
    events = sum(isinstance(r, Event) for r in records)
    if replay:
        report = replay_records(records, WORKFLOW, engine="none")
        s = report.summary
        if s.events_read != got or s.events_read != s.events_replayed + s.events_rejected:
            raise AccountingError(f"replay: read {s.events_read}, replayed {s.events_replayed}, "
                                  f"rejected {s.events_rejected} of {got} records")
    return events, got - events


def _root_is_not_log(data: bytes) -> bool:
    root = DefusedET.fromstring(data, forbid_dtd=True)
    return _local(root.tag) != "log"
