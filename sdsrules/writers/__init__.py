"""Writers: a log of events back out as JSONL, CSV or XES, one module per format behind one interface.

``write(events, stream, findings=None, skipped=None) -> int`` writes the events to a text stream and returns
how many it wrote. The canonical fields (id, case, at with its offset or date-only-ness, activity, actor and
the activity's typed attributes) survive a trip through any of the three and back. ``findings`` attaches a
replay's findings to their evidence events (XES: as event and trace attributes a process-mining tool can
filter on). An event a format cannot hold (XES cannot carry some control characters) is passed to
``skipped(event, field, reason)``, or raises :class:`WriteError` when no ``skipped`` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from ..events import Event
from . import csv as csv_writer
from . import jsonl as jsonl_writer
from . import xes as xes_writer
from ._common import WriteError, findings_by_event

WRITERS: dict[str, Callable[..., int]] = {"jsonl": jsonl_writer.write, "csv": csv_writer.write,
                                          "xes": xes_writer.write}
FORMATS = tuple(WRITERS)

__all__ = ["FORMATS", "WRITERS", "WriteError", "findings_by_event", "write"]


def write(events: Iterable[Event], stream: TextIO, fmt: str, findings=None, skipped=None) -> int:
    """Write ``events`` to ``stream`` in format ``fmt`` (jsonl, csv or xes)."""
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r} (known: {', '.join(FORMATS)})") from None
    return writer(events, stream, findings=findings, skipped=skipped)
