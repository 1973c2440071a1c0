"""The library's public calls. The CLI and the HTTP service are thin shells over these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from .events import Event, Rejection
from .findings import Summary
from .maps import ActivityMap, as_map
from .readers import read_all
from .replay import Report, assemble, group, latest_day
from .workflow import Workflow, load_workflow

ENGINES = ("durable", "reference", "none")


def replay_records(records: Iterable[Event | Rejection], workflow: Workflow | str | Path | None = None,
                   as_of: date | None = None, engine: str = "durable", jobs: int = 1,
                   rules: Sequence[str | Path] | None = None, progress=None) -> Report:
    """Replay already-read records (events and rejections) and check them."""
    wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
    summary = Summary(workflow=wf.describe(), engine=engine)
    cases, rejected = group(records, summary)
    day = as_of or latest_day(cases) or date.today()
    summary.as_of = day.isoformat()
    if engine == "none":
        from .replay import check_case
        results = (check_case(c, evs, wf, day) for c, evs in sorted(cases.items()))
    else:
        from .engine import load_rulebook, run_cases
        book = load_rulebook(rules, wf)
        summary.rules = len(book.rules)
        results = run_cases(sorted(cases.items()), wf, book, day, engine=engine, jobs=jobs, progress=progress,
                            rule_paths=rules)
    return assemble(summary, results, rejected)


def replay(paths: Sequence[str | Path], workflow: Workflow | str | Path | None = None, as_of: date | None = None,
           engine: str = "durable", jobs: int = 1, rules: Sequence[str | Path] | None = None,
           input_format: str | None = None, progress=None, activity_map: ActivityMap | str | Path | None = None
           ) -> Report:
    """Read case logs (JSONL, CSV, XES) and replay them: the main job.

    ``activity_map`` (a map or its YAML file) translates a case system's own step and field names first.
    """
    wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
    amap = as_map(activity_map)
    return replay_records(read_all([str(p) for p in paths], input_format, amap), wf, as_of, engine, jobs, rules,
                          progress)
