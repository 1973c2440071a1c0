"""What the event formats share: their base class, attaching findings to events, and the error for an event a
format cannot hold."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TextIO

from ...events import Event
from ..base import Base


class WriteError(ValueError):
    """An event cannot be written in this format. ``args``: (event id, field, reason)."""

    def __init__(self, event_id: str, field: str, reason: str):
        super().__init__(event_id, field, reason)
        self.event_id, self.field, self.reason = event_id, field, reason

    def __str__(self) -> str:
        return f"event {self.event_id}: '{self.field}' {self.reason}"


class Unwritable(Exception):
    """Raised inside a writer for an event its format cannot hold. ``args``: (field, reason); the writer passes
    them to ``EventsWriter.skip``."""


def findings_by_event(findings: Iterable | None) -> tuple[dict[tuple[str, str], list], dict[str, list]]:
    """(case, event id) -> the findings that cite the event as evidence; case -> all the case's findings."""
    by_event: dict[tuple[str, str], list] = {}
    by_case: dict[str, list] = {}
    for f in findings or ():
        by_case.setdefault(f.case, []).append(f)
        seen = set()
        for ev in f.events:
            if ev.id in seen:
                continue
            seen.add(ev.id)
            by_event.setdefault((f.case, ev.id), []).append(f)
    return by_event, by_case


def codes(findings: Iterable) -> str:
    """Finding codes, each once, in order: ``SDS-SEQ-01, SDS-DAT-02``."""
    return ", ".join(dict.fromkeys(f.code for f in findings))


class EventsWriter(Base):
    """The events kind: ``item(event)`` for each event in input order, then ``close()`` -> how many were written.

    ``findings`` (a replay's) are attached to their evidence events. An event the format cannot hold is passed to
    ``skipped(event, field, reason)``, or raises :class:`WriteError` when no ``skipped`` is given."""

    kind: ClassVar[str] = "events"

    def __init__(self, stream: TextIO, findings: Iterable | None = None,
                 skipped: Callable[[Event, str, str], Any] | None = None):
        super().__init__(stream)
        self.by_event, self.by_case = findings_by_event(findings)
        self.skipped = skipped
        self.count = 0

    def skip(self, ev: Event, field: str, reason: str) -> None:
        if self.skipped is None:
            raise WriteError(ev.id, field, reason) from None
        self.skipped(ev, field, reason)

    def item(self, ev: Event) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> int:
        return self.count
