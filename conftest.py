"""Collects the YAML test cases that sit beside each rule (``rules/**/SDS-*.test.yaml``).

A test file holds cases: events in, the rule's findings out. Each case runs through the replay with the
reference engine, the compiled engine and durable-rules (in-process, for speed) and each must give exactly the
expected findings of the rule's code (other codes the partial journey may raise are ignored). A failure names the
file, the case and the difference::

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
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sdsrules.datafile import load_yaml

_CACHE: dict = {}


def pytest_collect_file(parent, file_path):
    if file_path.name.endswith(".test.yaml") and file_path.name.startswith("SDS-"):
        return RuleCaseFile.from_parent(parent, path=file_path)
    return None


class RuleCaseFile(pytest.File):
    def collect(self):
        raw = load_yaml(self.path)
        code = raw.get("rule") or self.path.name.split(".")[0]
        unknown = set(raw) - {"rule", "workflow", "given", "cases"}
        if unknown:
            raise ValueError(f"{self.path}: unknown key(s) {sorted(unknown)}")
        for n, case in enumerate(raw["cases"]):
            name = case.get("name") or f"case {n + 1}"
            yield RuleCase.from_parent(self, name=name, code=code, spec=case, given=raw.get("given") or [],
                                       workflow=raw.get("workflow"), line=case.line)


def _text(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return value


def _tools(workflow):
    key = workflow or "national"
    if key not in _CACHE:
        from sdsrules.engine import load_rulebook
        from sdsrules.engine.compiled import CompiledChecker
        from sdsrules.engine.durable import DurableChecker
        from sdsrules.engine.reference import ReferenceChecker
        from sdsrules.workflow import load_workflow

        wf = load_workflow(workflow)
        book = load_rulebook(None, wf)
        _CACHE[key] = (wf, ReferenceChecker(wf, book), CompiledChecker(wf, book), DurableChecker(wf, book))
    return _CACHE[key]


class RuleCase(pytest.Item):
    def __init__(self, *, code, spec, given, workflow, line, **kw):
        super().__init__(**kw)
        self.code, self.spec, self.given, self.workflow, self.line = code, spec, given, workflow, line

    def runtest(self):
        from sdsrules.events import build_event
        from sdsrules.replay import check_case

        unknown = set(self.spec) - {"name", "as_of", "events", "findings", "note"}
        if unknown:
            raise RuleCaseError(f"unknown key(s) {sorted(unknown)}")
        wf, *engines = _tools(self.workflow)
        records = [*self.given, *self.spec.get("events", [])]
        events = []
        for n, rec in enumerate(records):
            rec = {"case": "T", "id": f"e{n + 1}", **_text(dict(rec))}
            events.append(build_event(rec, file=str(self.path), line=self.line, seq=n))
        as_of = self.spec.get("as_of") or max(e.day for e in events)
        want = sorted(self._expected())
        for checker in engines:
            result = check_case("T", events, wf, as_of, checker)
            mine = [f for f in result.findings if f.code == self.code]
            got = sorted((f.code, f.at) for f in mine)
            problem = got != sorted((c, a) for c, a, _ in want)
            for _c, a, ids in want:
                if ids is not None and not any(f.at == a and tuple(e.id for e in f.events) == ids for f in mine):
                    problem = True
            if problem:
                detail = "\n".join(f"  {f.code} {f.at} [{', '.join(e.id for e in f.events)}] {f.message}" for f in mine)
                raise RuleCaseError(f"engine {checker.name}: expected {[w[:2] for w in want]}, got {got}\n"
                                    f"{detail or '  (no findings of this code)'}")

    def _expected(self):
        out = []
        for f in self.spec.get("findings") or []:
            code = f.get("code", self.code)
            at = _text(f["at"]) if "at" in f else None
            ids = tuple(f["events"]) if "events" in f else None
            out.append((code, at, ids))
        return out

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, RuleCaseError):
            return f"{self.path}:{self.line}: {self.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.line, f"{self.code}: {self.name}"


class RuleCaseError(AssertionError):
    pass
