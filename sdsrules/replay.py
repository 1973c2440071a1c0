"""The replay: group events by case, order each case, step it through the workflow, then check its rules.

One way only: readers -> replay -> engine -> findings. ``check_case`` is the whole work for one case and is a
pure function of its inputs, so cases can be checked in any order, in any process, and give the same answer.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import NamedTuple

import attrs

from .engine.caseview import AS_OF_READS
from .events import Event, Rejection, activity_words, with_article
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


_SEQ = attrgetter("seq")
_AT = attrgetter("at")
_ID = attrgetter("id")
_STEP = tuple.__new__  # Step(...) without NamedTuple's Python-level __new__ (a step is made for every event)


def order_case(events: Sequence[Event]) -> tuple[list[Event], list[Rejection], Finding | None]:
    """Drop duplicate ids (as rejections), order by time then input position, and say if that reordered."""
    by_seq = sorted(events, key=_SEQ)
    dupes: list[Rejection] = []
    if len(set(map(_ID, by_seq))) == len(by_seq):  # no id repeated (nearly every case): nothing to drop
        kept = by_seq
    else:
        seen: dict[str, Event] = {}
        kept = []
        for ev in by_seq:
            first = seen.get(ev.id)
            if first is not None:
                dupes.append(Rejection(ev.file, ev.line, f"'id' {ev.id!r} was already used in case {ev.case} "
                                                         f"({first.file}:{first.line}); the repeat is not replayed",
                                       "id", ev.case, ev.id))
                continue
            seen[ev.id] = ev
            kept.append(ev)
    ordered = sorted(kept, key=_AT)  # stable, and kept is in input order: by time, then input position
    finding = _dat02(kept) if ordered != kept else None
    return ordered, dupes, finding


def step_case(events: Sequence[Event], wf: Workflow) -> tuple[list[Step], list[Finding]]:
    """Drive the workflow's machine through one ordered case: its steps, and SDS-SEQ-01/02 findings."""
    initial = state = wf.initial
    episode = 0
    closed_by: Event | None = None
    steps: list[Step] = []
    findings: list[Finding] = []
    closed_states = wf.closed_states
    step, add, fixed = wf.step, steps.append, wf.fixed_steps.get
    for ev in events:
        hit = fixed((state, ev.activity))
        new, how = step(state, ev) if hit is None else hit
        if new is None:
            add(_STEP(Step, (ev, state, state, episode, False)))
            findings.append(_seq_finding(ev, state, how, closed_by, wf))
            continue
        if how == "moved" and (state == initial or state in closed_states):
            episode += 1
        if new in closed_states:
            closed_by = ev
        add(_STEP(Step, (ev, state, new, episode, True)))
        state = new
    return steps, findings


def _out_of_place(kept: Sequence[Event]) -> list[int]:
    """Input positions of the fewest events that, moved, leave the rest in time order: everything outside one
    longest run of the input that is already in time order (ties keep input order)."""
    tails: list[datetime] = []  # tails[k]: the smallest last time of an ordered run of length k + 1
    tail_at: list[int] = []
    parent = [-1] * len(kept)
    for i, ev in enumerate(kept):
        k = bisect.bisect_right(tails, ev.at)
        if k == len(tails):
            tails.append(ev.at)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = ev.at, i
        parent[i] = tail_at[k - 1] if k else -1
    keep = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return [i for i in range(len(kept)) if i not in keep]


def _dat02(kept: Sequence[Event]) -> Finding:
    """SDS-DAT-02: how many events were out of place, with the first of them and the event it was recorded
    on the wrong side of."""
    moved = _out_of_place(kept)
    m = moved[0]
    x = kept[m]
    later = [e for e in kept[:m] if e.at > x.at]
    if later:  # recorded after an event that happened later: shown against the last of those
        a, b = later[-1], x
    else:  # recorded before events that happened earlier: shown against the first of those
        a, b = x, next(e for e in kept[m + 1:] if e.at < x.at)
    count = len(moved)
    n = f"Of this case's {len(kept)} events, {count} {'was' if count == 1 else 'were'}"
    return Finding(
        code="SDS-DAT-02", case=kept[0].case, at=b.day.isoformat(), title="records out of time order",
        message=(f"{n} recorded out of time order: the {activity_words(b.activity)} of {b.said} comes after the "
                 f"{activity_words(a.activity)} of {a.said} in the input. The case was replayed in time order."),
        events=(Evidence.of(a, "recorded first"), Evidence.of(b, "happened first")),
        expected="events recorded in time order", actual=f"{count} event{'s' if count != 1 else ''} out of place",
        source=DATA_SOURCE, severity="low")


def _tier_of(ev: Event) -> int | None:
    tier = ev.attrs.get("tier") if ev.activity == "triaged" else None
    return tier if isinstance(tier, int) else None


def _state_words(wf: Workflow, state: str) -> str:
    desc = next((st.description for st in wf.states if st.name == state), "")
    return f"the '{state}' stage ({desc})" if desc else f"the '{state}' stage"


def _seq_finding(ev: Event, state: str, how: str, closed_by: Event | None, wf: Workflow) -> Finding:
    words = with_article(activity_words(ev.activity))
    tier = _tier_of(ev)
    if tier is not None:
        words = f"a triage to tier {tier}"
    if how == "closed":
        when = f" on {closed_by.said}" if closed_by else ""
        evidence = (Evidence.of(ev, "after closure"),) + ((Evidence.of(closed_by, "closure"),) if closed_by else ())
        return Finding(
            code="SDS-SEQ-02", case=ev.case, at=ev.day.isoformat(), title="activity recorded after the case was closed",
            message=(f"{words[:1].upper()}{words[1:]} was recorded on {ev.said}, after the case was closed{when}. "
                     f"Only a new referral reopens a closed case."),
            events=evidence, expected="nothing after the case closure but a new referral or a complaint",
            actual=words, source=SEQ_SOURCE, severity="medium", workflow=wf.describe(), stage=state)
    cap = f"{words[:1].upper()}{words[1:]}"
    current = _current_tier(state, wf)
    if tier is not None and current is not None and tier <= current:
        message = (f"{cap} was recorded on {ev.said} while the case was at tier {current}: a case may only be "
                   f"re-triaged to a higher tier.")
        expected = f"a triage to a tier higher than {current}"
    elif state == wf.initial:
        message = f"{cap} was recorded on {ev.said} before any referral was recorded."
        expected = "a referral first"
    else:
        message = (f"{cap} was recorded on {ev.said} while the case was at {_state_words(wf, state)}, where the "
                   f"{wf.name} workflow does not allow it.")
        expected = f"a step the workflow allows at the '{state}' stage"
    return Finding(
        code="SDS-SEQ-01", case=ev.case, at=ev.day.isoformat(), title="a step the workflow does not allow here",
        message=message, events=(Evidence.of(ev, "out of place"),), expected=expected, actual=words,
        source=SEQ_SOURCE, severity="medium", workflow=wf.describe(), stage=state)


def _current_tier(state: str, wf: Workflow) -> int | None:
    """The tier a case is at, for a state reached by triage to that tier alone."""
    tiers = {c.value for t in wf.transitions if t.trigger == "triaged" and t.dest == state
             for c in t.conditions.clauses if c.field == "tier" and c.op == "eq"}
    return tiers.pop() if len(tiers) == 1 else None


def check_case(case: str, events: Sequence[Event], wf: Workflow, as_of: date, checker=None) -> CaseResult:
    """The whole check of one case: order, step, rules. ``checker(steps, as_of) -> (findings, obligations,
    applied)``."""
    return check_cases([(case, events)], wf, as_of, checker)[0]


def check_cases(cases: Sequence[tuple[str, Sequence[Event]]], wf: Workflow, as_of: date,
                checker=None, whole: bool = True, read_as_of: list[bool] | None = None) -> list[CaseResult]:
    """:func:`check_case` for several cases at once, with the same results. A checker with a ``many(list of
    (steps, as_of))`` method judges them in one call (durable-rules: one batch of facts for all of them).
    ``whole`` False: results with what a list of findings needs (findings, rejections, counts, unchecked) and
    nothing else: no open obligations, applicable codes or profile (a bulk replay's writers never read them, and
    they were most of what a worker sent back). ``read_as_of`` (a list, filled in): whether each case's check read
    the as-of date (``CaseView.as_of``); a case that did not has the same result at any as-of date. (A checker
    that judges several cases in one call, durable-rules, marks all of them when it read it for any.)"""
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
        lean = None if whole else getattr(checker, "findings_only", None)  # a checker that can skip the rest
        track = read_as_of is not None
        reads = [False] * len(prepared)
        if lean is not None or many is None or len(todo) <= 1:
            one = lean if lean is not None else checker
            for n in todo:
                before = AS_OF_READS.n
                judged[n] = one(prepared[n][4], as_of)
                if track:
                    reads[n] = AS_OF_READS.n != before
        else:
            before = AS_OF_READS.n
            for n, out in zip(todo, many([(prepared[n][4], as_of) for n in todo]), strict=True):
                judged[n] = out
            if track and AS_OF_READS.n != before:
                for n in todo:
                    reads[n] = True
        if track:
            read_as_of.extend(reads)  # type: ignore[union-attr]
    elif read_as_of is not None:
        read_as_of.extend([False] * len(prepared))
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
            if obligations and steps:
                closed, obligations = close_at_closure(case, steps, obligations, checker, wf)
                findings.extend(closed)
            if wf.complete and obligations and ordered:
                closed, obligations = close_history(case, ordered[-1].day, obligations, checker, wf)
                findings.extend(closed)
        findings.sort(key=Finding.sort_key)
        if not whole:
            results.append(CaseResult(case, tuple(findings), tuple(dupes), (), len(ordered), dat02 is not None))
            continue
        results.append(CaseResult(case, tuple(findings), tuple(dupes), tuple(obligations), len(ordered),
                                  dat02 is not None, applicable=frozenset(applicable),
                                  profile=case_profile(ordered, duty_teams, excused)))
    return results


def close_at_closure(case: str, steps: Sequence[Step], obligations: Sequence[Obligation], checker, wf: Workflow
                     ) -> tuple[list[Finding], list[Obligation]]:
    """A response with neither a deadline nor a ``before`` is breached when its episode reaches a state the design
    marks closed without it (issue 15): the duty open at the as-of date becomes a finding dated the closure.
    (Every shipped SDS response names its ``before`` or a deadline, so this never changes an SDS answer.)"""
    book = getattr(checker, "book", None)
    if book is None or not any(not o.due for o in obligations):
        return [], list(obligations)
    episode_of = {st.event.id: st.episode for st in steps}
    closing: dict[int, Event] = {}
    for st in steps:
        if st.allowed and st.after in wf.closed_states and st.episode not in closing:
            closing[st.episode] = st.event
    out: list[Finding] = []
    kept: list[Obligation] = []
    for o in obligations:
        rule = book.by_code(o.code) if not o.due and o.trigger is not None else None
        open_ended = rule is not None and all(c.template == "response" and not c.within and not c.before
                                              for c in rule.checks)
        end = closing.get(episode_of.get(o.trigger.id, -1)) if open_ended and o.trigger is not None else None
        if end is None or rule is None:
            kept.append(o)
            continue
        detail = o.message.removeprefix(f"{o.title}: ")
        said = rule.checks[0].message if len(rule.checks) == 1 else f"{o.title[:1].upper()}{o.title[1:]}."
        evidence = (*((o.trigger,) if o.trigger is not None else ()),
                    Evidence(end.id, end.when, end.activity, "ended by", end.file, end.line))
        out.append(Finding(
            o.code, case, end.day.isoformat(),
            f"{said} {detail.replace(' is due next ', ' was owed ')} The case was closed by the "
            f"{activity_words(end.activity)} of {end.said} without it.",
            events=evidence, source=rule.sources, title=o.title, severity=rule.severity,
            rule_version=rule.version, workflow=wf.describe(), team=o.team, worker=o.worker))
    return out, kept


def close_history(case: str, last: date, obligations: Sequence[Obligation], checker, wf: Workflow
                  ) -> tuple[list[Finding], list[Obligation]]:
    """``--complete``: the duties still open when the case's log ends, as findings dated its last event (the
    overdue ones are findings already and stay obligations)."""
    book = getattr(checker, "book", None)
    out: list[Finding] = []
    kept: list[Obligation] = []
    for o in obligations:
        if o.overdue or book is None:
            kept.append(o)
            continue
        rule = book.by_code(o.code)
        detail = o.message.removeprefix(f"{o.title}: ")
        said = rule.checks[0].message if len(rule.checks) == 1 else f"{o.title[:1].upper()}{o.title[1:]}."
        out.append(Finding(
            o.code, case, last.isoformat(),
            f"{said} {detail} The case's log ends on {last} without it (judged as its complete history).",
            events=(o.trigger,) if o.trigger is not None else (), source=rule.sources, title=o.title,
            severity=rule.severity, rule_version=rule.version, workflow=wf.describe(), team=o.team, worker=o.worker,
            due=o.due, outstanding=True))
    return out, kept


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
