"""What a replay finds: ``Finding`` (a breach, with its evidence and source), ``Obligation`` (a duty still
open), and the run's ``Summary`` with its accounting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

SEVERITIES = ("high", "medium", "low")


@attrs.frozen(slots=True)
class Evidence:
    """An event a finding rests on: its id, when, what, and its role in the finding."""

    id: str
    at: str
    activity: str
    role: str = ""  # "trigger", "late", "ended by", ...
    file: str = ""
    line: int = 0

    def to_dict(self) -> dict:
        out = {"id": self.id, "at": self.at, "activity": self.activity}
        if self.role:
            out["role"] = self.role
        return out

    @classmethod
    def of(cls, event, role: str = "") -> Evidence:
        return cls(event.id, event.when, event.activity, role, event.file, event.line)


@attrs.frozen(slots=True)
class Finding:
    """One process breach in one case, as a sentence a social worker would understand."""

    code: str
    case: str
    at: str  # the date that mattered: when the breach happened or was judged
    message: str
    events: tuple[Evidence, ...] = ()
    expected: str = ""
    actual: str = ""
    source: tuple[str, ...] = ()
    title: str = ""
    severity: str = "medium"
    rule_version: str = ""
    parameters: tuple[dict, ...] = ()
    workflow: str = ""
    stage: str = ""  # the stage of the case when the duty fell due or was breached (``attribution``)
    team: str = ""  # team of the event that triggered the duty (``attribution.holder``)
    worker: str = ""  # worker (actor id) of that event
    team_due: str = ""  # team holding the case on the date that mattered
    worker_due: str = ""
    due: str = ""  # the duty's last day, where it had one
    outstanding: bool = False  # overdue and still owed: nothing has met or ended the duty yet

    def sort_key(self) -> tuple:
        return (self.case, self.at, self.code, tuple(e.id for e in self.events), self.message)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code, "case": self.case, "at": self.at,
            "events": [e.to_dict() for e in self.events], "message": self.message,
            "source": list(self.source), "title": self.title, "severity": self.severity,
            "expected": self.expected, "actual": self.actual, "stage": self.stage,
            "workflow": self.workflow, "rule_version": self.rule_version,
            "parameters": list(self.parameters),
        }
        if self.team or self.worker:
            out["team"], out["worker"] = self.team, self.worker
        if self.due:
            out["due"] = self.due
        if self.outstanding:
            out["outstanding"] = True
        return out


@attrs.frozen(slots=True)
class Obligation:
    """A duty that is open at the as-of date: what is due, by when, and why."""

    code: str
    case: str
    due: str  # a date, or "" when it is due before an event rather than by a date
    message: str
    trigger: Evidence | None = None
    overdue: bool = False
    title: str = ""
    team: str = ""  # team and worker of the triggering event (``attribution.holder``)
    worker: str = ""

    def to_dict(self) -> dict:
        out = {"code": self.code, "case": self.case, "due": self.due or None, "message": self.message,
               "overdue": self.overdue, "trigger": self.trigger.to_dict() if self.trigger else None}
        if self.title:
            out["title"] = self.title
        if self.team or self.worker:
            out["team"], out["worker"] = self.team, self.worker
        return out


@attrs.frozen(slots=True)
class Unchecked:
    """A case the engine could not check (its worker crashed on every retry): never a silent gap."""

    case: str
    reason: str

    def to_dict(self) -> dict:
        return {"case": self.case, "reason": self.reason}


@attrs.define
class Summary:
    cases: int = 0
    events_read: int = 0
    events_replayed: int = 0
    events_rejected: int = 0
    findings_by_code: Counter = attrs.Factory(Counter)
    as_of: str = ""
    #: which rule chose ``as_of``: "given", "latest accepted event" or "today (no event accepted)"
    as_of_rule: str = ""
    workflow: str = ""
    rules: int = 0
    engine: str = ""
    cases_reordered: int = 0
    cases_unchecked: int = 0
    #: records whose step an activity map ignores (no part of the process), and how many of each step
    events_ignored: int = 0
    ignored: Counter = attrs.Factory(Counter)

    def ignore(self, step: str) -> None:
        self.events_ignored += 1
        self.ignored[step] += 1

    def add_findings(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.findings_by_code[f.code] += 1

    @property
    def findings(self) -> int:
        return sum(self.findings_by_code.values())

    def balanced(self) -> bool:
        return self.events_read == self.events_replayed + self.events_rejected + self.events_ignored

    def to_dict(self) -> dict:
        return {
            "cases": self.cases, "events_read": self.events_read, "events_replayed": self.events_replayed,
            "events_rejected": self.events_rejected,
            "findings_by_code": dict(sorted(self.findings_by_code.items())),
            "findings": self.findings, "as_of": self.as_of, "as_of_rule": self.as_of_rule,
            "workflow": self.workflow,
            "engine": self.engine, "rules": self.rules, "cases_unchecked": self.cases_unchecked,
            **({"events_ignored": self.events_ignored, "ignored": dict(sorted(self.ignored.items()))}
               if self.events_ignored else {}),
        }


def quantity_word(rate: float) -> str:
    """The inspectors' word for a proportion (Care Inspectorate; breaches.md)."""
    if rate < 0.15:
        return "few"
    if rate < 0.5:
        return "less than half"
    if rate < 0.75:
        return "the majority"
    if rate < 0.9:
        return "most"
    return "almost all"
