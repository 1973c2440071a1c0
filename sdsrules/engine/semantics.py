"""Event-time semantics of the rule templates: from a case's steps to obligation facts, and their verdicts.

``derive`` searches a case's events and yields one :class:`Fact` per check and trigger: what the trigger was,
the deadline in force on its day, which later event met it (``done``), which event ended it first (``end``:
a ``before`` or ``lapses_on`` event), and which excused it. It does not judge. The judgement, late / missing /
overdue, is the decider's: ``verdict`` below in plain Python (the reference engine), and the compiled
durable-rules conditions of ``engine/durable.py``. The two are tested against each other.

Semantics (the contract the YAML rule tests pin down):

* Episodes: a case's events from one referral to the next closure-and-reopening (the replay numbers them).
* A matcher matches an event of one of its activities whose fields satisfy ``where``; ``preceded_by`` holds
  when the latest earlier event of that activity in the episode satisfies its ``where``; ``not_preceded_by``
  is its negation; ``first`` keeps only the first matching event of the episode.
* response: after a trigger, the first later event (any episode) that matches ``expect`` meets it, late if
  after the due date (``within``, the parameter in force on the trigger's day; ``extension`` lengthens it
  when an extension event is recorded by then). A ``before`` event first makes it missing; a ``lapses_on``
  event first ends it; either is overdue if the due date had already passed. Still open at the end: overdue
  when the as-of date is after the due date. ``judge_open: false`` judges only an expected event that came
  late: never overdue, neither at the end of the log nor when a lapse or ``before`` event ended it.
  ``excused_by`` between trigger and judgement excuses it. ``counts_before`` lets an expected event earlier
  in the episode meet it.
* precedence: an expected event earlier in the episode (after the latest ``since`` event, if given) meets it;
  otherwise missing, unless excused earlier in the episode.
* forbid: every trigger is a breach.
* ``met_if`` (any template but function): a trigger that satisfies it met the duty by itself. The trigger says
  where a duty applies (the denominator of a rate); ``met_if`` says when that event alone fulfils it.
* function: a named, tested function of ``engine/functions.py`` decides.
* A rule's ``effective`` dates are judged on the trigger's day; outside them the fact is ``not_in_force``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import attrs

from ..attribution import applied_codes, attribute, holder_fields
from ..findings import Evidence, Finding, Obligation
from ..workflow import ParamValue, Workflow
from .rules import Check, Matcher, Rule, Rulebook, activity_words

BREACH = frozenset({"late", "overdue", "missing", "breach"})


@attrs.define(slots=True)
class Fact:
    """One trigger of one check and what the search found. ``status`` is set only by functions; the template
    checks are judged by a decider (``verdict``). Internal and short-lived, so not frozen: a frozen attrs
    class pays for every field it sets, and a large log makes millions of these."""

    rule: Rule
    check: Check
    trigger: int  # index into the case's steps
    status: str = ""
    day: date | None = None  # functions: the date that matters
    detail: str = ""
    expected: str = ""
    actual: str = ""
    due: date | None = None
    evidence: tuple[tuple[int, str], ...] = ()  # functions: (step index, role)
    params: tuple[ParamValue, ...] = ()
    done: int | None = None  # index of the event that met it
    end: int | None = None  # index of the before/lapse event that ended it
    end_kind: str = ""  # "before" or "lapse"
    excused: int | None = None  # index of the event that excused it
    since: int | None = None  # precedence: index of the ``since`` event
    met: bool = False  # the trigger met the duty itself (``met_if``)


class CaseView:
    """A case's steps with the indexes the templates need."""

    def __init__(self, steps: Sequence, wf: Workflow, as_of: date):
        self.steps = steps
        self.events = [s.event for s in steps]
        self.days = [e.day for e in self.events]
        self.episodes = [s.episode for s in steps]
        self.wf = wf
        self.as_of = as_of
        self.lookup = wf.param_value
        self.case = self.events[0].case if self.events else ""
        self.by_activity: dict[str, list[int]] = {}
        for i, ev in enumerate(self.events):
            self.by_activity.setdefault(ev.activity, []).append(i)
        self._first: dict[int, dict[int, int]] = {}
        self._merged: dict[frozenset, list[int]] = {}

    # -- indexes
    def indexes_of(self, activities: frozenset[str]) -> list[int]:
        """Every index of any of the activities, in order (cached per activity set)."""
        got = self._merged.get(activities)
        if got is None:
            lists = [self.by_activity[a] for a in activities if a in self.by_activity]
            got = lists[0] if len(lists) == 1 else sorted(i for x in lists for i in x) if lists else []
            self._merged[activities] = got
        return got

    def latest_before(self, activities, i: int, same_episode: bool = True) -> int | None:
        best = None
        for a in activities:
            idx = self.by_activity.get(a)
            if idx:
                k = bisect.bisect_left(idx, i) - 1
                if k >= 0 and (best is None or idx[k] > best):
                    best = idx[k]
        if best is not None and same_episode and self.episodes[best] != self.episodes[i]:
            return None
        return best

    # -- matching
    def prior(self, m: Matcher, i: int) -> bool:
        j = self.latest_before(m.activities, i)
        return j is not None and (not m.has_where or m.where.matches(self.events[j], self.lookup))

    def base_match(self, m: Matcher, i: int) -> bool:
        ev = self.events[i]
        if ev.activity not in m.activities:
            return False
        if m.plain:
            return True
        if m.has_where and not m.where.matches(ev, self.lookup):
            return False
        for p in m.preceded_by:
            if not self.prior(p, i):
                return False
        return not any(self.prior(p, i) for p in m.not_preceded_by)

    def match(self, m: Matcher, i: int) -> bool:
        if not m.first:
            return self.base_match(m, i)
        firsts = self._first.get(id(m))
        if firsts is None:  # the first matching index of each episode, computed once per case
            firsts = {}
            for k in self.indexes_of(m.activities):
                ep = self.episodes[k]
                if ep not in firsts and self.base_match(m, k):
                    firsts[ep] = k
            self._first[id(m)] = firsts
        return firsts.get(self.episodes[i]) == i

    def any_match(self, ms: Sequence[Matcher], i: int) -> bool:
        for m in ms:  # noqa: SIM110 - a loop, not any(generator): the innermost call of the search
            if self.match(m, i):
                return True
        return False

    def episode_start(self, i: int) -> int:
        ep = self.episodes[i]
        lo = i
        while lo > 0 and self.episodes[lo - 1] == ep:
            lo -= 1
        return lo

    def episode_range(self, i: int) -> range:
        return range(self.episode_start(i), i)

    def param(self, name: str, day: date) -> ParamValue:
        return self.wf.param(name, day)


def derive(view: CaseView, book: Rulebook) -> Iterator[Fact]:
    """Every fact of every check the case's activities can trigger, in rulebook order."""
    from .functions import FUNCTIONS

    for rule, check in book.checks_for(view.by_activity):
        plain = check.trigger_plain
        for i in view.indexes_of(check.trigger_activities):
            if not plain and not view.any_match(check.trigger, i):
                continue
            if check.met_if and check.met_if.matches(view.events[i], view.lookup):
                yield Fact(rule, check, i, met=True)  # the duty applied, and the trigger itself met it
            elif check.template == "response":
                yield _response(view, rule, check, i)
            elif check.template == "precedence":
                yield _precedence(view, rule, check, i)
            elif check.template == "forbid":
                yield Fact(rule, check, i)
            else:
                yield from FUNCTIONS[check.function](view, rule, check, i)


def _expect_matchers(view: CaseView, check: Check, i: int) -> tuple[Matcher, ...]:
    trig = view.events[i]
    for case in check.expect:
        if not case.when or case.when.matches(trig, view.lookup):
            return case.any
    return ()


def _response(view: CaseView, rule: Rule, check: Check, i: int) -> Fact:
    day = view.days[i]
    expect = _expect_matchers(view, check, i)
    params: list[ParamValue] = []
    due = None
    if check.within:
        pv = view.param(check.within, day)
        params.append(pv)
        due = pv.value.after(day)

    done = end = None
    end_kind = ""
    if check.counts_before:
        for k in range(view.episode_start(i), i):
            if view.any_match(expect, k):
                done = k
                break
    if done is None:
        scan = view.indexes_of(check.scan_activities)
        for k in scan[bisect.bisect_right(scan, i):]:
            if view.any_match(expect, k):
                done = k
                break
            if check.before and view.any_match(check.before, k):
                end, end_kind = k, "before"
                break
            if check.lapses_on and view.any_match(check.lapses_on, k):
                end, end_kind = k, "lapse"
                break
    last = done if done is not None and done > i else end if end is not None else len(view.events) - 1
    excused = None
    if check.excused_by:
        for k in view.indexes_of(check.excused_activities):
            if i < k <= last and view.any_match(check.excused_by, k):
                excused = k
                break
    if check.extension_within and due is not None:
        for k in view.indexes_of(check.extension_activities):
            if i < k <= last and view.any_match(check.extension_by, k):
                pv = view.param(check.extension_within, day)
                params.append(pv)
                due = pv.value.after(day)
                break
    return Fact(rule, check, i, due=due, params=tuple(params), done=done, end=end, end_kind=end_kind,
                excused=excused)


def _precedence(view: CaseView, rule: Rule, check: Check, i: int) -> Fact:
    expect = _expect_matchers(view, check, i)
    first = view.episode_start(i)
    start = first
    since = None
    if check.since is not None:
        since = view.latest_before(check.since.activities, i)
        if since is not None:
            start = since + 1
    done = None
    for k in view.indexes_of(check.scan_activities):
        if k >= i:
            break
        if k >= start and view.any_match(expect, k):
            done = k
            break
    excused = None
    if done is None and check.excused_by:
        for k in view.indexes_of(check.excused_activities):
            if k >= i:
                break
            if k >= first and view.any_match(check.excused_by, k):
                excused = k
                break
    return Fact(rule, check, i, done=done, excused=excused, since=since)


# ------------------------------------------------------------------------------------------- the verdict

def verdict(view: CaseView, f: Fact) -> str:
    """The reference judgement of a fact, in plain Python: late, missing, overdue, breach (the breaches), or
    met, excused, lapsed, open, ok, not_in_force."""
    if not f.rule.in_force(view.days[f.trigger]):
        return "not_in_force"
    t = f.check.template
    if t == "function":
        return f.status
    if f.met:
        return "met"
    if t == "forbid":
        return "breach"
    if f.excused is not None:
        return "excused"
    if t == "precedence":
        return "met" if f.done is not None else "missing"
    if f.done is not None:
        return "late" if f.due is not None and view.days[f.done] > f.due else "met"
    if f.end is not None:
        if f.due is not None and view.days[f.end] > f.due:
            return "overdue" if f.check.judge_open else "lapsed"
        return "missing" if f.end_kind == "before" else "lapsed"
    if f.due is not None and view.as_of > f.due and f.check.judge_open:
        return "overdue"
    return "open"


def settle(view: CaseView, f: Fact) -> str:
    """The status of a fact a decider did NOT find to be a breach: labels only, never a breach."""
    if not f.rule.in_force(view.days[f.trigger]):
        return "not_in_force"
    t = f.check.template
    if t == "function":
        return f.status if f.status not in BREACH else "ok"
    if f.met:
        return "met"
    if t == "forbid":
        return "ok"
    if f.excused is not None:
        return "excused"
    if f.done is not None:
        return "met"
    if f.end is not None:
        return "lapsed"
    return "open" if t == "response" else "met"


# ---------------------------------------------------------------------------------------- the words

def explain(view: CaseView, f: Fact, status: str) -> tuple[date, str, str, str, tuple[tuple[int, str], ...]]:
    """(date that matters, detail sentence, expected, actual, evidence) of a fact judged ``status``."""
    if f.check.template == "function":
        return f.day or view.days[f.trigger], f.detail, f.expected, f.actual, f.evidence
    ev = view.events[f.trigger]
    check = f.check
    trig = activity_words(ev.activity)
    if check.template == "forbid":
        return ev.day, f"Recorded on {ev.when} ({trig}).", "not this", ev.activity, ((f.trigger, "trigger"),)
    words = check.expect_words()
    if check.template == "precedence":
        since = f" after the {activity_words(view.events[f.since].activity)} of {view.events[f.since].when}" \
            if f.since is not None else ""
        return (ev.day, f"The {trig} of {ev.when} was not preceded by {words}{since}.",
                f"{words} before the {trig}", f"none before {ev.day}", ((f.trigger, "trigger"),))
    within = f.params[-1].value if f.params else None
    since = f"{within} after the {trig} of {ev.when}" if within else f"after the {trig} of {ev.when}"
    expected = f"{words} by {f.due}" if f.due else f"{words} after the {trig}"
    cap = words[:1].upper() + words[1:]
    if status == "late":
        done = view.events[f.done]
        late = (done.day - f.due).days
        return (done.day, f"{cap} was due by {f.due} ({since}) and happened on {done.when}, "
                          f"{late} day{'s' if late != 1 else ''} late.",
                expected, f"on {done.day}", ((f.trigger, "trigger"), (f.done, "late")))
    if status == "missing":
        end = view.events[f.end]
        ended = activity_words(end.activity)
        return (end.day, f"{cap} should have followed the {trig} of {ev.when} before the {ended} of {end.when}, "
                         f"and did not.",
                expected if f.due else f"{words} before the {ended}", f"none before the {ended} of {end.day}",
                ((f.trigger, "trigger"), (f.end, "deadline event")))
    if status == "overdue" and f.end is not None:
        end = view.events[f.end]
        return (f.due + timedelta(days=1),
                f"{cap} was due by {f.due} ({since}) and had not happened when the {activity_words(end.activity)} "
                f"of {end.when} ended the duty.",
                expected, f"none by {end.day}", ((f.trigger, "trigger"), (f.end, "ended by")))
    if status == "overdue":
        return (f.due + timedelta(days=1), f"{cap} was due by {f.due} ({since}) and had not happened by {view.as_of}.",
                expected, f"none by {view.as_of}", ((f.trigger, "trigger"),))
    return ev.day, f"{cap} is due {'by ' + str(f.due) if f.due else 'next'} ({since}).", expected, "", \
        ((f.trigger, "trigger"),)


def to_finding(view: CaseView, fact: Fact, status: str) -> Finding:
    rule = fact.rule
    day, detail, expected, actual, evidence = explain(view, fact, status)
    events = tuple(Evidence.of(view.events[k], role) for k, role in evidence)
    message = f"{fact.check.message} {detail}".strip()
    return Finding(code=rule.code, case=view.case, at=day.isoformat(), message=message, events=events,
                   expected=expected, actual=actual, source=rule.sources, title=rule.title,
                   severity=rule.severity, rule_version=rule.version,
                   parameters=tuple(p.to_dict() for p in fact.params), workflow=view.wf.describe(),
                   **attribute(view, fact, status, day, evidence))


def to_obligation(view: CaseView, fact: Fact) -> Obligation:
    trig = view.events[fact.trigger]
    _, detail, _, _, _ = explain(view, fact, "open")
    return Obligation(code=fact.rule.code, case=view.case, due=fact.due.isoformat() if fact.due else "",
                      message=f"{fact.rule.title}: {detail}", trigger=Evidence.of(trig, "trigger"),
                      title=fact.rule.title, **holder_fields(view.steps, fact.trigger))


def decide(view: CaseView, facts: Sequence[Fact], statuses: Sequence[str]):
    """Findings, open obligations and the codes that applied, from facts and their statuses."""
    findings = [to_finding(view, f, s) for f, s in zip(facts, statuses, strict=True) if s in BREACH]
    obligations = [to_obligation(view, f) for f, s in zip(facts, statuses, strict=True) if s == "open"]
    applied = applied_codes(view, facts, statuses)  # a set of codes, with the teams of their duties
    return findings, obligations, applied
