"""The library's public calls. The CLI and the HTTP service are thin shells over these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs

from .duelist import DueItem, due_items
from .engine.names import BULK_DEFAULT, WITH_NONE
from .events import Event, Rejection
from .findings import Summary
from .maps import ActivityMap, as_map
from .pipeline import CollectSink, Options, Sink, drive
from .replay import Report
from .workflow import Workflow, load_workflow

ENGINES = WITH_NONE  # the registry's names (engine/names.py), and "none"


class DueList(list):
    """A list of ``DueItem`` that also says the date it was judged at (``as_of``)."""

    def __init__(self, items: Iterable[DueItem], as_of: date):
        super().__init__(items)
        self.as_of = as_of


def _options(workflow, engine: str, jobs: int, rules, as_of, progress, complete: bool = False,
             scheduler: str | None = None, executor: str | None = None) -> Options:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
    if complete and not wf.complete:
        wf = attrs.evolve(wf, complete=True)  # each case's log is its complete history
    book = None
    if engine != "none":
        from .engine import load_rulebook
        book = load_rulebook(rules, wf)  # refuse a broken rule pack before any worker starts
    return Options(wf, engine, jobs, [str(r) for r in rules] if rules else None, as_of, progress, book,
                   executor=executor, scheduler=scheduler)


def run(paths: Sequence[str | Path], sink: Sink, workflow: Workflow | str | Path | None = None,
        as_of: date | None = None, engine: str = BULK_DEFAULT, jobs: int = 1, rules: Sequence[str | Path] | None = None,
        input_format: str | None = None, progress=None, activity_map: ActivityMap | str | Path | None = None,
        scheduler: str | None = None, complete: bool = False) -> Summary:
    """Replay case logs into ``sink`` (a streaming formatter, or CollectSink) and return the summary.

    Memory does not grow with the number of cases: one JSON Lines file sorted by case is read in parallel
    ranges; anything else is sorted by case on disk first (see ``pipeline``). With ``scheduler`` (a Dask
    scheduler address such as tcp://127.0.0.1:8786) the cases are checked on that cluster instead of local
    worker processes, with the same output (see ``distributed``).
    """
    opts = _options(workflow, engine, jobs, rules, as_of, progress, complete, scheduler)
    return drive(sink, opts, paths=[str(p) for p in paths], input_format=input_format,
                 activity_map=as_map(activity_map, opts.workflow.vocabulary))


def replay_records(records: Iterable[Event | Rejection], workflow: Workflow | str | Path | None = None,
                   as_of: date | None = None, engine: str = BULK_DEFAULT, jobs: int = 1,
                   rules: Sequence[str | Path] | None = None, progress=None, complete: bool = False) -> Report:
    """Replay already-read records (events and rejections) and check them (``complete``: each case's log is its
    complete history, so a duty still open at its last event is breached)."""
    sink = CollectSink()
    drive(sink, _options(workflow, engine, jobs, rules, as_of, progress, complete), records=records)
    return sink.report()


def replay(paths: Sequence[str | Path], workflow: Workflow | str | Path | None = None, as_of: date | None = None,
           engine: str = BULK_DEFAULT, jobs: int = 1, rules: Sequence[str | Path] | None = None,
           input_format: str | None = None, progress=None, activity_map: ActivityMap | str | Path | None = None,
           complete: bool = False) -> Report:
    """Read case logs (JSONL, CSV, XES) and replay them: the main job, as a Report in memory.

    ``activity_map`` (a map or its YAML file) translates a case system's own step and field names first.
    """
    sink = CollectSink()
    run(paths, sink, workflow, as_of, engine, jobs, rules, input_format, progress, activity_map, complete=complete)
    return sink.report()


def due(events: Iterable[Event | Mapping[str, Any]], within: str | int | timedelta | None = None,
        as_of: date | str | None = None, *, workflow: Workflow | str | Path | None = None, by: str | None = None,
        engine: str = "durable", rules: Sequence[str | Path] | None = None) -> DueList:
    """Every duty still owed in these events (one case or several), judged at ``as_of`` (a date or an ISO
    string; default today in Europe/London): overdue ones first, then those due within ``within`` ('28d', '4w',
    '3m', a number of days; default: all), soonest first. The answer is a list of ``DueItem`` that says the date
    used (``.as_of``). Raises ``EventInputError`` for an event that breaks the contract, ValueError for a bad
    ``as_of``, ``within`` or ``by``."""
    from .duelist import window_end
    from .monitor import as_of_day, assess

    day = as_of_day(as_of)
    window_end(day, within)  # refuse a bad window before any work
    by_case: dict[str, list] = {}
    for ev in events:
        key = ev.case if isinstance(ev, Event) else str(ev.get("case")) if isinstance(ev, Mapping) else ""
        by_case.setdefault(key, []).append(ev)
    findings: list = []
    obligations: list = []
    for evs in by_case.values():
        result = assess(evs, workflow, day, engine=engine, rules=rules)
        if result is not None:
            findings.extend(result.findings)
            obligations.extend(result.obligations)
    return DueList(due_items(findings, obligations, day, within, by), day)
