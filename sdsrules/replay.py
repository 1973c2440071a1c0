"""The replay: group events by case, order each case, step it through the workflow, then check its rules.

One way only: readers -> replay -> engine -> findings. ``check_case`` is the whole work for one case and is a
pure function of its inputs, so cases can be checked in any order, in any process, and give the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import NamedTuple

import attrs

from .events import Event, Rejection
from .findings import Evidence, Finding, Obligation, Summary, Unchecked
from .workflow import Workflow

SEQ_SOURCE = ("the workflow design",)
DATA_SOURCE = ("data quality",)


class Step(NamedTuple):
    """One event of a case in replay order, with the stage before and after it and its episode number.

    Immutable like the attrs classes, but a NamedTuple: one is made per event replayed, and a tuple is made in a
    third of the time of a frozen attrs instance. Internal to one case's check; never compared or reported."""

    event: Event
    state: str
    after: str
    episode: int
    allowed: bool


@attrs.frozen(slots=True)
class CaseResult:
    case: str
    findings: tuple[Finding, ...]
    rejected: tuple[Rejection, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    replayed: int = 0
    reordered: bool = False
    unchecked: Unchecked | None = None
    #: breach codes whose duty applied to this case (a rule was triggered), the denominators of rates
    applicable: frozenset[str] = frozenset()
    #: who and what the case is, for breakdowns: team, tier, client_group, option (absent keys: unknown)
    profile: tuple[tuple[str, object], ...] = ()


@attrs.frozen(slots=True)
class Report:
    """Everything a run found, sorted, with its accounting."""

    summary: Summary
    findings: tuple[Finding, ...]
    rejected: tuple[Rejection, ...]
    obligations: tuple[Obligation, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()
    cases: tuple[CaseResult, ...] = ()

    def to_dict(self) -> dict:
        return {
            "summary": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "rejected": [r.to_dict() for r in self.rejected],
            "unchecked": [u.to_dict() for u in self.unchecked],
        }


def order_case(events: Sequence[Event]) -> tuple[list[Event], list[Rejection], Finding | None]:
    """Drop duplicate ids (as rejections), order by time then input position, and say if that reordered."""
    seen: dict[str, Event] = {}
    kept: list[Event] = []
    dupes: list[Rejection] = []
    for ev in sorted(events, key=lambda e: e.seq):
        first = seen.get(ev.id)
        if first is not None:
            dupes.append(Rejection(ev.file, ev.line, f"'id' {ev.id!r} was already used in case {ev.case} "
                                                     f"({first.file}:{first.line}); the repeat is not replayed",
                                   "id", ev.case, ev.id))
            continue
        seen[ev.id] = ev
        kept.append(ev)
    ordered = sorted(kept, key=lambda e: (e.at, e.seq))
    finding = None
    if ordered != kept:
        # the events recorded after a later one: those the sort had to move back
        latest = kept[0]
        moved = []
        for ev in kept[1:]:
            if ev.at < latest.at:
                moved.append((latest, ev))
            else:
                latest = ev
        a, b = moved[0]
        count = len(moved)
        finding = Finding(
            code="SDS-DAT-02", case=ordered[0].case, at=b.day.isoformat(),
            title="records out of time order",
            message=(f"{count} of this case's {len(kept)} events were recorded out of time order: {b.activity} "
                     f"of {b.when} comes after {a.activity} of {a.when} in the input. They were replayed in "
                     f"time order."),
            events=(Evidence.of(a, "recorded first"), Evidence.of(b, "happened first")),
            expected="events in time order", actual=f"{count} events out of order",
            source=DATA_SOURCE, severity="low")
    return ordered, dupes, finding


def step_case(events: Sequence[Event], wf: Workflow) -> tuple[list[Step], list[Finding]]:
    """Drive the workflow's machine through one ordered case: its steps, and SDS-SEQ-01/02 findings."""
    state = wf.initial
    episode = 0
    closed_by: Event | None = None
    steps: list[Step] = []
    findings: list[Finding] = []
    closed_states = wf.closed_states
    for ev in events:
        new, how = wf.step(state, ev)
        if new is None:
            steps.append(Step(ev, state, state, episode, False))
            findings.append(_seq_finding(ev, state, how, closed_by, wf))
            continue
        if how == "moved" and (state == wf.initial or state in closed_states):
            episode += 1
        if new in closed_states:
            closed_by = ev
        steps.append(Step(ev, state, new, episode, True))
        state = new
    return steps, findings


def _seq_finding(ev: Event, state: str, how: str, closed_by: Event | None, wf: Workflow) -> Finding:
    if how == "closed":
        when = f" on {closed_by.when}" if closed_by else ""
        reopen = ", ".join(wf.allowed_in(state)) or "nothing"
        evidence = (Evidence.of(ev, "after closure"),) + ((Evidence.of(closed_by, "closure"),) if closed_by else ())
        return Finding(
            code="SDS-SEQ-02", case=ev.case, at=ev.day.isoformat(), title="activity recorded after the case was closed",
            message=(f"{ev.activity} was recorded on {ev.when} after the case was closed{when}. Only {reopen} "
                     f"reopens a closed case."),
            events=evidence, expected=f"nothing after closure but {reopen}", actual=ev.activity,
            source=SEQ_SOURCE, severity="medium", workflow=wf.describe(), stage=state)
    allowed = wf.allowed_in(state)
    shown = ", ".join(allowed[:8]) + (f" and {len(allowed) - 8} more" if len(allowed) > 8 else "")
    where = "before any referral was recorded" if state == wf.initial else f"while the case was at stage '{state}'"
    return Finding(
        code="SDS-SEQ-01", case=ev.case, at=ev.day.isoformat(), title="a step the workflow does not allow here",
        message=(f"{ev.activity} was recorded on {ev.when} {where}, where the {wf.name} workflow does not allow it."),
        events=(Evidence.of(ev, "out of place"),), expected=f"one of: {shown}" if allowed else "a referral first",
        actual=ev.activity, source=SEQ_SOURCE, severity="medium", workflow=wf.describe(), stage=state)


def check_case(case: str, events: Sequence[Event], wf: Workflow, as_of: date, checker=None) -> CaseResult:
    """The whole check of one case: order, step, rules. ``checker(steps, as_of) -> (findings, obligations,
    applied)``."""
    return check_cases([(case, events)], wf, as_of, checker)[0]


def check_cases(cases: Sequence[tuple[str, Sequence[Event]]], wf: Workflow, as_of: date,
                checker=None) -> list[CaseResult]:
    """:func:`check_case` for several cases at once, with the same results. A checker with a ``many(list of
    (steps, as_of))`` method judges them in one call (durable-rules: one batch of facts for all of them)."""
    prepared = []
    for case, events in cases:
        ordered, dupes, dat02 = order_case(events)
        steps, findings = step_case(ordered, wf)
        if dat02 is not None:
            findings.append(dat02)
        prepared.append((case, ordered, dupes, dat02, steps, findings))
    judged: list = [None] * len(prepared)
    if checker is not None:
        todo = [n for n, p in enumerate(prepared) if p[4]]
        many = getattr(checker, "many", None)
        if many is not None and len(todo) > 1:
            for n, out in zip(todo, many([(prepared[n][4], as_of) for n in todo]), strict=True):
                judged[n] = out
        else:
            for n in todo:
                judged[n] = checker(prepared[n][4], as_of)
    results = []
    for (case, ordered, dupes, dat02, steps, findings), out in zip(prepared, judged, strict=True):
        obligations: list[Obligation] = []
        applicable: set[str] = {"SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-02"} if steps else set()
        duty_teams: dict = {}
        excused: frozenset[str] = frozenset()
        if out is not None:
            more, obligations, applied = out
            findings.extend(more)
            applicable |= applied
            duty_teams = getattr(applied, "teams", {})
            excused = getattr(applied, "excused", frozenset())
        findings.sort(key=Finding.sort_key)
        results.append(CaseResult(case, tuple(findings), tuple(dupes), tuple(obligations), len(ordered),
                                  dat02 is not None, applicable=frozenset(applicable),
                                  profile=case_profile(ordered, duty_teams, excused)))
    return results


def case_profile(events: Sequence[Event], duty_teams: dict | None = None, excused: frozenset[str] = frozenset()
                 ) -> tuple[tuple[str, object], ...]:
    """The case's team (latest recorded), tier (highest triage), client group (latest referral), option
    (latest support started) and quarter (of its first event: the cohort of trends by quarter), for breakdowns in
    reports. A finding's own team is the trigger's (``Finding.team``); this team is the ``--team-of latest``.
    ``duty_teams`` (code -> (team of the trigger, team when met), from ``attribution.applied_codes``) is kept as
    ``duty_teams``: the attribution of duties met. ``excused``: codes whose every duty was excused (a recorded
    exception), counted apart in rates."""
    profile: dict[str, object] = {}
    if duty_teams:
        profile["duty_teams"] = tuple(sorted(duty_teams.items()))
    if excused:
        profile["duty_excused"] = tuple(sorted(excused))
    if events:
        first = events[0].day
        profile["quarter"] = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    for ev in events:
        if ev.actor is not None and ev.actor.team:
            profile["team"] = ev.actor.team
        a = ev.activity
        if a == "triaged":
            profile["tier"] = max(ev.attrs["tier"], profile.get("tier", 0))
        elif a == "referral_received" and "client_group" in ev.attrs:
            profile["client_group"] = ev.attrs["client_group"]
        elif a == "support_started":
            profile["option"] = ev.attrs["option"]
    return tuple(sorted(profile.items()))


def group(records: Iterable[Event | Rejection], summary: Summary) -> tuple[dict[str, list[Event]], list[Rejection]]:
    """Group events by case in first-seen order; count every record read."""
    cases: dict[str, list[Event]] = {}
    rejected: list[Rejection] = []
    for r in records:
        summary.events_read += 1
        if isinstance(r, Rejection):
            rejected.append(r)
        else:
            cases.setdefault(r.case, []).append(r)
    return cases, rejected


def latest_day(cases: dict[str, list[Event]]) -> date | None:
    days = (ev.day for evs in cases.values() for ev in evs)
    return max(days, default=None)


def assemble(summary: Summary, results: Iterator[CaseResult], rejected: list[Rejection]) -> Report:
    findings: list[Finding] = []
    obligations: list[Obligation] = []
    unchecked: list[Unchecked] = []
    kept: list[CaseResult] = []
    for res in results:
        summary.cases += 1
        summary.events_replayed += res.replayed
        summary.cases_reordered += res.reordered
        rejected.extend(res.rejected)
        findings.extend(res.findings)
        obligations.extend(res.obligations)
        if res.unchecked is not None:
            unchecked.append(res.unchecked)
        kept.append(res)
    summary.events_rejected = len(rejected)
    summary.cases_unchecked = len(unchecked)
    findings.sort(key=Finding.sort_key)
    summary.add_findings(findings)
    rejected.sort(key=lambda r: (r.file, r.line))
    kept.sort(key=lambda r: r.case)
    unchecked.sort(key=lambda u: u.case)
    return Report(summary, tuple(findings), tuple(rejected), tuple(obligations), tuple(unchecked), tuple(kept))
