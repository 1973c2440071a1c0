"""The YAML test cases that sit beside each rule (``rules/**/SDS-*.test.yaml``), run from an installed sdsrules.

``sdsrules rules test [PACK...]`` runs them (as OpenFisca's ``openfisca test`` runs a country package's YAML
tests), so a council can test a rule pack it wrote or changed; the project's own pytest plugin (``conftest.py``)
collects the same cases through this module. A test file holds cases: events in, the rule's findings out. Each
case runs through the replay on every engine, and each must give exactly the expected findings of the rule's
code (other codes the partial journey may raise are ignored)::

    rule: SDS-REV-02           # optional: the code under test (default: from the file name)
    workflow: national         # optional
    given:                     # optional: events every case starts with
      - {at: 2024-01-01, activity: support_started, option: 3}
    cases:
      - name: the review a year later, on the last day, is on time
        as_of: 2025-06-01      # optional (default: the latest event)
        events:
          - {at: 2025-01-01, activity: review_completed}
        findings: []           # or [{at: 2025-01-02}, ...] (code, events also accepted)

A failure names the file, the line of the case, the engine and the findings that differed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs

from .datafile import DataFileError, Problem, load_yaml

FILE_KEYS = frozenset({"rule", "workflow", "given", "cases"})
CASE_KEYS = frozenset({"name", "as_of", "events", "findings", "note"})
#: the engines every case runs on: all of the registry's (engine/names.py)
ENGINES: tuple[str, ...] = ("reference", "compiled", "durable")


@attrs.frozen
class RuleCase:
    """One case of a test file: where it is, the code under test, its events and the findings it expects."""

    file: str
    line: int | None
    name: str
    code: str
    workflow: str | None
    records: tuple[dict, ...]
    as_of: date | None
    expected: tuple[tuple[str, str | None, tuple[str, ...] | None], ...]  # (code, at, evidence ids)


@attrs.frozen
class Outcome:
    """A case's result: ``problems`` is empty when every engine gave exactly the expected findings."""

    case: RuleCase
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def report(self) -> str:
        where = f"{self.case.file}:{self.case.line}" if self.case.line else self.case.file
        return f"{where}: {self.case.code}: {self.case.name}\n" + "\n".join(self.problems)


def _text(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return value


def find_test_files(paths: Sequence[str | Path] | None = None) -> list[Path]:
    """The ``*.test.yaml`` files under the given packs (folders or files; default: the shipped packs)."""
    from .engine.rules import bundled_dir

    roots = [Path(p) for p in paths] if paths else [bundled_dir()]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(sorted(root.rglob("*.test.yaml")))
        elif root.name.endswith(".test.yaml"):
            found.append(root)
    return found


def load_cases(path: str | Path) -> list[RuleCase]:
    """Every case of one test file; a DataFileError naming file, line and key for anything malformed."""
    raw = load_yaml(path)
    file = str(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise DataFileError([Problem(file, getattr(raw, "line", None), "cases", "must hold a list of 'cases'")])
    unknown = set(raw) - FILE_KEYS
    if unknown:
        line = getattr(raw, "line", None)
        raise DataFileError([Problem(file, line, k, "is not a key of a rule test file") for k in sorted(unknown)])
    code = raw.get("rule") or Path(file).name.split(".")[0]
    given = [dict(r) for r in raw.get("given") or []]
    cases = []
    problems = []
    for n, spec in enumerate(raw["cases"]):
        line = getattr(spec, "line", None)
        if not isinstance(spec, dict):
            problems.append(Problem(file, line, f"cases[{n}]", "must be a mapping"))
            continue
        for k in sorted(set(spec) - CASE_KEYS):
            problems.append(Problem(file, line, f"cases[{n}].{k}", "is not a key of a rule test case"))
        expected = []
        for f in spec.get("findings") or []:
            expected.append((f.get("code", code), _text(f["at"]) if "at" in f else None,
                             tuple(f["events"]) if "events" in f else None))
        as_of = spec.get("as_of")
        cases.append(RuleCase(file, line, spec.get("name") or f"case {n + 1}", code, raw.get("workflow"),
                              tuple(_text(dict(r)) for r in [*given, *(spec.get("events") or [])]),
                              as_of if isinstance(as_of, date) else None, tuple(expected)))
    if problems:
        raise DataFileError(problems)
    return cases


class Runner:
    """Runs cases on every engine, with one workflow design and rule book per design name (loaded once)."""

    def __init__(self, rule_paths: Sequence[str | Path] | None = None, engines: Iterable[str] = ENGINES,
                 workflow: str | None = None):
        self.rule_paths = list(rule_paths) if rule_paths else None
        self.engines = tuple(engines)
        self.workflow = workflow
        self._tools: dict[str | None, tuple[Any, Any]] = {}  # design name -> (design, rulebook)

    def tools(self, workflow: str | None):
        key = workflow or self.workflow
        if key not in self._tools:
            from .engine import load_rulebook
            from .workflow import load_workflow

            wf = load_workflow(key)
            self._tools[key] = (wf, load_rulebook(self.rule_paths, wf))
        return self._tools[key]

    def run(self, case: RuleCase) -> Outcome:
        from .events import build_event
        from .pipeline import CollectSink, Options, drive

        wf, book = self.tools(case.workflow)
        events = [build_event({"case": "T", "id": f"e{n + 1}", **rec}, file=case.file, line=case.line or 0, seq=n,
                              vocabulary=wf.reading_vocabulary)  # the design's words (None: SDS)
                  for n, rec in enumerate(case.records)]
        as_of = case.as_of or max(e.day for e in events)
        want = sorted((c, a) for c, a, _ in case.expected)
        problems = []
        for name in self.engines:
            sink = CollectSink()
            drive(sink, Options(wf, name, book=book, as_of=as_of, executor="inline"), records=events)
            mine = [f for f in sink.findings if f.code == case.code]
            got = sorted((f.code, f.at) for f in mine)
            bad = got != want
            for _c, a, ids in case.expected:
                if ids is not None and not any(f.at == a and tuple(e.id for e in f.events) == ids for f in mine):
                    bad = True
            if bad:
                detail = "\n".join(f"    {f.code} {f.at} [{', '.join(e.id for e in f.events)}] {f.message}"
                                   for f in mine) or "    (no findings of this code)"
                expected = [f"{c} {a or ''} {list(i) if i else ''}".strip() for c, a, i in case.expected]
                problems.append(f"  engine {name}: expected {expected or 'no findings'}, got:\n{detail}")
        return Outcome(case, tuple(problems))

    def run_files(self, files: Iterable[Path]) -> Iterator[Outcome]:
        for f in files:
            for case in load_cases(f):
                yield self.run(case)
