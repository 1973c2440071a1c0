"""Checking one case while it is being recorded: ``check``, ``assess`` and the incremental ``CaseMonitor``.

A case-management system asks "what is breached or due for this case?" while a worker records a step. The
answer is the same whole-case check the replay makes (:func:`sdsrules.replay.check_case`), on the case's
events so far, judged at an as-of date (default: the latest event's day).

Input: :class:`~sdsrules.events.Event` objects or canonical dicts (``shared/spec/events.md``). A dict that
breaks the contract raises :class:`EventInputError` (a ``ValueError``) naming the event's index and the
field; so do events of more than one case and a repeated event id. The messages never carry case data (no
case ids, no attribute values): they are safe to log.

Every check runs through the one replay driver (``pipeline.drive``) on the "inline" executor. Threads: every call
is safe from any number of threads. durable-rules keeps one global host per process and is a C extension that
is not thread-safe, so all durable-rules work of the process runs on one dedicated engine thread that owns the
checkers (``supervise.DurableThread``); callers hand it a case and wait on a future. The compiled and reference
engines are pure Python and run on the caller's thread (their only shared state is caches of pure lookups).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import attrs

from .engine.names import LIVE_DEFAULT, NAMES
from .events import Event, EventError, build_event, safe_reason
from .findings import Finding, Obligation
from .pipeline import CollectSink, Options, drive
from .replay import CaseResult
from .supervise import CheckTimeout
from .workflow import Workflow, load_workflow

__all__ = ["ENGINES", "Assessment", "CaseMonitor", "CheckTimeout", "EventInputError", "MonitorUpdate", "Setup",
           "assess", "case_result", "check", "event_from", "load_setup", "safe_reason"]

ENGINES = NAMES  # the registry's (engine/names.py)
SOURCE = "<api>"  # the ``file`` of events built from dicts; their derived ids read "<api>:N"


# ------------------------------------------------------------------------------------------------ errors


class EventInputError(ValueError):
    """An event given to :func:`check` or a :class:`CaseMonitor` breaks the contract.

    ``args``: (index, field, reason). ``index`` counts from 0 in the events given; ``reason`` names what was
    allowed and never repeats the value that came (so the message is safe to log).
    """

    def __init__(self, index: int, field: str | None, reason: str):
        super().__init__(index, field, reason)
        self.index, self.field, self.reason = index, field, reason

    def __str__(self) -> str:
        where = f"'{self.field}' " if self.field else ""
        return f"event {self.index}: {where}{self.reason}"


# ------------------------------------------------------------------------------------------------ events


def event_from(record: Event | Mapping[str, Any], index: int, file: str = SOURCE, vocabulary: Any = None) -> Event:
    """An Event from an Event (returned as is) or a canonical dict (validated against ``vocabulary``, a design's
    ``reading_vocabulary``; None: the SDS contract; raises EventInputError)."""
    if isinstance(record, Event):
        return record
    if not isinstance(record, Mapping):
        raise EventInputError(index, None, "must be an event object (a mapping of field names to values)")
    if any(not isinstance(k, str) for k in record):
        raise EventInputError(index, None, "must have text field names")
    try:
        if vocabulary is None:
            return build_event(record, file=file, line=index + 1, seq=index)
        return build_event(record, file=file, line=index + 1, seq=index, vocabulary=vocabulary)
    except EventError as e:
        activity = record.get("activity") if isinstance(record.get("activity"), str) else None
        raise EventInputError(index, e.field, safe_reason(e.field, e.reason, activity)) from None


def one_case(records: Iterable[Event | Mapping[str, Any]], start: int = 0,
             known: Sequence[Event] = (), vocabulary: Any = None) -> list[Event]:
    """Validate records as one case's events (with ``known`` ones already accepted): same case, unique ids;
    ``vocabulary``: as :func:`event_from`'s."""
    events: list[Event] = []
    case = known[0].case if known else None
    ids = {e.id: n for n, e in enumerate(known)}
    for n, rec in enumerate(records, start):
        ev = event_from(rec, n, vocabulary=vocabulary)
        if case is None:
            case = ev.case
        elif ev.case != case:
            raise EventInputError(n, "case", "differs from the earlier events' case: a check takes one case's "
                                             "events (use replay for many cases)")
        if ev.id in ids:
            raise EventInputError(n, "id", f"repeats the id of event {ids[ev.id]}: each event needs its own id")
        ids[ev.id] = n
        events.append(ev)
    return events


# ------------------------------------------------------------------------------------------------ engines


@attrs.frozen(slots=True)
class Setup:
    """A workflow and its rulebook, loaded once and shared by every call that names them."""

    key: tuple
    wf: Workflow
    book: Any


_setups: dict[tuple, Setup] = {}
_setups_lock = threading.Lock()


def load_setup(workflow: Workflow | str | Path | None = None, rules: Sequence[str | Path] | None = None) -> Setup:
    """The workflow and rulebook for these names, loaded on first use and then shared (by name, or by the
    Workflow object given)."""
    from .engine import load_rulebook

    rules_key = tuple(str(r) for r in rules) if rules else ()
    wf_key = ("object", id(workflow)) if isinstance(workflow, Workflow) else ("name", str(workflow or ""))
    key = (wf_key, rules_key)
    with _setups_lock:
        found = _setups.get(key)
        if found is not None:
            return found
        wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
        setup = Setup(key, wf, load_rulebook(list(rules) if rules else None, wf))
        _setups[key] = setup
        return setup


def _run(setup: Setup, engine: str, events: Sequence[Event], as_of: date, timeout: float | None) -> CaseResult:
    """One case through the replay driver, in this process (durable-rules on its engine thread)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    opts = Options(setup.wf, engine, book=setup.book, as_of=as_of, executor="inline",
                   deadline=None if timeout is None else time.monotonic() + timeout)
    sink = CollectSink()
    drive(sink, opts, records=events)
    (result,) = sink.cases
    return result


def case_result(events: Sequence[Event], workflow: Workflow | str | Path | None, as_of: date, *,
                engine: str = LIVE_DEFAULT, rules: Sequence[str | Path] | None = None,
                timeout: float | None = None) -> CaseResult:
    """The replay's own check of one case's events (as :func:`sdsrules.replay.check_case`, duplicates rejected
    rather than refused), on the engine thread for durable-rules."""
    return _run(load_setup(workflow, rules), engine, events, as_of, timeout)


# ------------------------------------------------------------------------------------------------ checks


@attrs.frozen(slots=True)
class Assessment:
    """One case judged at ``as_of``: its breaches and the duties still open, with their due dates."""

    case: str
    as_of: date
    findings: tuple[Finding, ...]
    obligations: tuple[Obligation, ...]
    events: int
    applicable: frozenset[str] = frozenset()

    def to_dict(self) -> dict:
        return {"case": self.case, "as_of": self.as_of.isoformat(), "events": self.events,
                "findings": [f.to_dict() for f in self.findings],
                "obligations": [o.to_dict() for o in self.obligations]}


def as_of_day(as_of: date | str | None) -> date:
    """The date a live answer judges at: ``as_of`` (a date, or an ISO 8601 date or date-time string), or today's
    date in Scotland (Europe/London). Raises ValueError for anything else. (The replay of a log keeps its own
    default, the log's latest event: a history is judged at its end.)"""
    from .duelist import as_day, today

    return as_day(as_of) or today()


def _assess(events: Sequence[Event], setup: Setup, engine: str, as_of: date | str | None,
            timeout: float | None) -> Assessment:
    day = as_of_day(as_of)
    res = _run(setup, engine, events, day, timeout)
    obligations = tuple(sorted(res.obligations, key=lambda o: (o.due or "9999", o.code, o.message)))
    return Assessment(res.case, day, res.findings, obligations, res.replayed, res.applicable)


def assess(events: Iterable[Event | Mapping[str, Any]], workflow: Workflow | str | Path | None = None,
           as_of: date | str | None = None, *, engine: str = LIVE_DEFAULT, rules: Sequence[str | Path] | None = None,
           timeout: float | None = None) -> Assessment | None:
    """Check one case's events: findings and open obligations, judged at ``as_of`` (a date or an ISO string;
    default today in Europe/London; the answer's ``as_of`` says which). None when there are no events.

    Raises :class:`EventInputError` for an event that breaks the contract, for events of more than one case
    and for a repeated id; :class:`CheckTimeout` when the engine does not answer within ``timeout`` seconds.
    """
    as_of_day(as_of)  # a bad as_of is refused before any work
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    setup = load_setup(workflow, rules)
    evs = one_case(events, vocabulary=setup.wf.reading_vocabulary)  # in the design's words
    if not evs:
        return None
    return _assess(evs, setup, engine, as_of, timeout)


class Findings(list):
    """A list of findings that also says the date they were judged at (``as_of``)."""

    as_of: date

    def __init__(self, items: Iterable[Finding] = (), as_of: date | None = None):
        super().__init__(items)
        self.as_of = as_of or as_of_day(None)


def check(events: Iterable[Event | Mapping[str, Any]], workflow: Workflow | str | Path | None = None,
          as_of: date | str | None = None, *, engine: str = LIVE_DEFAULT, rules: Sequence[str | Path] | None = None
          ) -> Findings:
    """The breaches in one case's history, judged at ``as_of``: a date or an ISO 8601 string, default today's
    date in Scotland (Europe/London), so a review due last month is overdue to someone asking today. The
    answer is a list that says the date used (``.as_of``).

    ``events``: Event objects or canonical dicts. The same findings the replay reports for this case when it is
    judged at the same date.
    """
    day = as_of_day(as_of)
    result = assess(events, workflow, day, engine=engine, rules=rules)
    return Findings((), day) if result is None else Findings(result.findings, result.as_of)


# ------------------------------------------------------------------------------------------------ monitor


def identity(f: Finding) -> tuple:
    """What makes a finding the same finding across re-checks: code, evidence event ids and date."""
    return (f.code, tuple(e.id for e in f.events), f.at)


@attrs.frozen(slots=True)
class MonitorUpdate:
    """What one step changed: findings not returned before, and every duty open now."""

    new_findings: tuple[Finding, ...]
    obligations: tuple[Obligation, ...]
    findings: tuple[Finding, ...]  # every current finding of the case, new or not
    as_of: date | None  # the date judged at: the one given, else today in Europe/London


class CaseMonitor:
    """One case's events, taken one at a time; each step re-checks the case (cases are small).

    ``add`` returns the findings not returned before (by code, evidence ids and date) and the open obligations
    ("review due by 2025-03-05"). An event refused by the contract raises :class:`EventInputError` and is not
    kept. A monitor may be shared between threads: its steps are taken one at a time.
    """

    def __init__(self, workflow: Workflow | str | Path | None = None, *, engine: str = LIVE_DEFAULT,
                 rules: Sequence[str | Path] | None = None):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
        self._setup = load_setup(workflow, rules)
        self._engine = engine
        self._events: list[Event] = []
        self._seen: set[tuple] = set()
        self._lock = threading.Lock()

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    @property
    def case(self) -> str | None:
        return self._events[0].case if self._events else None

    def add(self, event: Event | Mapping[str, Any], as_of: date | str | None = None) -> MonitorUpdate:
        """Record one event and re-check the case at ``as_of`` (default: today in Europe/London)."""
        return self.extend([event], as_of)

    def extend(self, events: Iterable[Event | Mapping[str, Any]], as_of: date | str | None = None
               ) -> MonitorUpdate:
        """Record several events (all or none) and re-check the case once."""
        day = as_of_day(as_of)  # a bad as_of is refused before any event is kept
        with self._lock:
            added = one_case(events, start=len(self._events), known=self._events,
                             vocabulary=self._setup.wf.reading_vocabulary)
            self._events.extend(added)
            return self._update(day)

    def status(self, as_of: date | str | None = None) -> MonitorUpdate:
        """Re-check without a new event, e.g. on a later day: duties that fell overdue come back as new."""
        with self._lock:
            return self._update(as_of)

    def _update(self, as_of: date | str | None) -> MonitorUpdate:
        if not self._events:
            return MonitorUpdate((), (), (), as_of_day(as_of))
        result = _assess(self._events, self._setup, self._engine, as_of, None)
        new = []
        for f in result.findings:
            key = identity(f)
            if key not in self._seen:
                self._seen.add(key)
                new.append(f)
        return MonitorUpdate(tuple(new), result.obligations, result.findings, result.as_of)
