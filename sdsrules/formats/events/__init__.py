"""A log of events back out as JSONL, CSV or XES, one module per format behind one interface.

Each format is an events formatter (:class:`common.EventsWriter`): ``item(event)`` for each event, then
``close()`` -> how many it wrote; :func:`write` drives one over an iterable. The canonical fields (id, case, at
with its offset or date-only-ness, activity, actor and the activity's typed attributes) survive a trip through
any of the three and back. ``findings`` attaches a replay's findings to their evidence events (XES: as event and
trace attributes a process-mining tool can filter on). An event a format cannot hold (XES cannot carry some
control characters) is passed to ``skipped(event, field, reason)``, or raises :class:`WriteError` when no
``skipped`` is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from ...events import Event
from .common import WriteError, findings_by_event

__all__ = ["WriteError", "findings_by_event", "write"]


def write(events: Iterable[Event], stream: TextIO, fmt: str, findings=None, skipped=None) -> int:
    """Write ``events`` to ``stream`` in format ``fmt`` (jsonl, csv or xes); how many were written."""
    from .. import formatter

    out = formatter("events", fmt, stream, findings=findings, skipped=skipped)
    for ev in events:
        out.item(ev)
    count: int = out.close()
    return count
