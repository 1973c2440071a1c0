"""Event-time semantics of the rule templates: from a case's steps to obligation facts.

For every check and every trigger event this derives one :class:`Fact`: the trigger, what was expected, the
deadline in force on the trigger's day, what happened (met, late, overdue, missing, excused, lapsed, open)
and the evidence. Engines then decide which facts are breaches (``engine/reference.py`` in plain Python,
``engine/durable.py`` with durable-rules); both consume exactly these facts.

Semantics (the contract the YAML rule tests pin down):

* Episodes: a case's events from one referral to the next closure-and-reopening (the replay numbers them).
* A matcher matches an event of one of its activities whose fields satisfy ``where``; ``preceded_by`` holds
  when the latest earlier event of that activity in the episode satisfies its ``where``; ``not_preceded_by``
  is its negation; ``first`` keeps only the first matching event of the episode.
* response: after a trigger, the first later event (any episode) that matches ``expect`` meets it, late if
  after the due date (``within``, the parameter in force on the trigger's day; ``extension`` lengthens it
  when an extension event is recorded). A ``before`` event first makes it missing; a ``lapses_on`` event
  first ends it (overdue if the due date had already passed). Still open at the end: overdue when the as-of
  date is after the due date. ``excused_by`` between trigger and judgement excuses it. ``counts_before``
  lets an expected event earlier in the episode meet it. ``judge_open: false`` never judges it open.
* precedence: an expected event earlier in the episode (after the latest ``since`` event, if given) meets it;
  otherwise missing, unless excused earlier in the episode.
* forbid: every trigger is a breach.
* function: a named, tested function of ``engine/functions.py`` decides.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import attrs

from ..findings import Evidence, Finding, Obligation
from ..workflow import ParamValue, Workflow
from .rules import Check, Matcher, Rule, Rulebook, activity_words

BREACH = frozenset({"late", "overdue", "missing", "breach"})
STATUSES = ("met", "late", "overdue", "missing", "breach", "excused", "lapsed", "open", "ok")


@attrs.frozen(slots=True)
class Fact:
    """One trigger of one check and what became of it."""

    rule: Rule
    check: Check
    trigger: int  # index into the case's steps
    status: str
    day: date  # the date that matters: breach date, or the trigger's day
    detail: str = ""
    expected: str = ""
    actual: str = ""
    due: date | None = None
    evidence: tuple[tuple[int, str], ...] = ()  # (step index, role)
    params: tuple[ParamValue, ...] = ()


class CaseView:
    """A case's steps with the indexes the templates need."""

    def __init__(self, steps: Sequence, wf: Workflow, as_of: date):
        self.steps = steps
        self.events = [s.event for s in steps]
        self.episodes = [s.episode for s in steps]
        self.wf = wf
        self.as_of = as_of
        self.lookup = wf.param_value
        self.case = self.events[0].case if self.events else ""
        self.by_activity: dict[str, list[int]] = {}
        for i, ev in enumerate(self.events):
            self.by_activity.setdefault(ev.activity, []).append(i)
        self._first_cache: dict[tuple[int, int], bool] = {}

    # -- matching
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

    def prior(self, m: Matcher, i: int) -> bool:
        j = self.latest_before(m.activities, i)
        return j is not None and m.where.matches(self.events[j], self.lookup)

    def base_match(self, m: Matcher, i: int) -> bool:
        ev = self.events[i]
        if ev.activity not in m.activities or not m.where.matches(ev, self.lookup):
            return False
        if not all(self.prior(p, i) for p in m.preceded_by):
            return False
        return not any(self.prior(p, i) for p in m.not_preceded_by)

    def match(self, m: Matcher, i: int) -> bool:
        if not self.base_match(m, i):
            return False
        if not m.first:
            return True
        ep = self.episodes[i]
        for a in m.activities:
            for k in self.by_activity.get(a, ()):
                if k >= i:
                    break
                if self.episodes[k] == ep and self.base_match(m, k):
                    return False
        return True

    def any_match(self, ms: Sequence[Matcher], i: int) -> bool:
        return any(self.match(m, i) for m in ms)

    def indexes(self, ms: Sequence[Matcher]) -> list[int]:
        """Candidate indexes for any of the matchers, in order."""
        acts = set().union(*(m.activities for m in ms)) if ms else set()
        return sorted(i for a in acts for i in self.by_activity.get(a, ()))

    def episode_range(self, i: int) -> range:
        ep = self.episodes[i]
        lo = i
        while lo > 0 and self.episodes[lo - 1] == ep:
            lo -= 1
        return range(lo, i)

    def param(self, name: str, day: date) -> ParamValue:
        return self.wf.param(name, day)


def derive(view: CaseView, book: Rulebook) -> Iterator[Fact]:
    """Every fact of every check of the rulebook for one case."""
    from .functions import FUNCTIONS

    for rule, check in book.checks():
        triggers = [i for i in view.indexes(check.trigger) if view.any_match(check.trigger, i)]
        for i in triggers:
            if not rule.in_force(view.events[i].day):
                continue
            if check.template == "response":
                yield _response(view, rule, check, i)
            elif check.template == "precedence":
                yield _precedence(view, rule, check, i)
            elif check.template == "forbid":
                ev = view.events[i]
                yield Fact(rule, check, i, "breach", ev.day, detail=f"({activity_words(ev.activity)} of {ev.when})",
                           expected="not this", actual=ev.activity, evidence=((i, "trigger"),))
            else:
                yield from FUNCTIONS[check.function](view, rule, check, i)


def _expect_matchers(view: CaseView, check: Check, i: int) -> tuple[Matcher, ...]:
    trig = view.events[i]
    for case in check.expect:
        if case.when.matches(trig, view.lookup):
            return case.any
    return ()


def _response(view: CaseView, rule: Rule, check: Check, i: int) -> Fact:
    ev = view.events[i]
    expect = _expect_matchers(view, check, i)
    words = check.expect_words()
    trig_words = activity_words(ev.activity)
    params: list[ParamValue] = []
    due = None
    within = None
    if check.within:
        pv = view.param(check.within, ev.day)
        params.append(pv)
        within = pv.value
        due = within.after(ev.day)

    if check.counts_before:
        for k in view.episode_range(i):
            if any(view.match(m, k) for m in expect):
                return Fact(rule, check, i, "met", ev.day, evidence=((i, "trigger"), (k, "met")), params=tuple(params))

    n = len(view.events)
    outcome, j = None, None
    for k in range(i + 1, n):
        if any(view.match(m, k) for m in expect):
            outcome, j = "done", k
            break
        if check.before and view.any_match(check.before, k):
            outcome, j = "before", k
            break
        if check.lapses_on and view.any_match(check.lapses_on, k):
            outcome, j = "lapse", k
            break
    last = j if j is not None else n - 1
    if check.excused_by:
        for k in range(i + 1, last + 1):
            if view.any_match(check.excused_by, k):
                return Fact(rule, check, i, "excused", ev.day, evidence=((i, "trigger"), (k, "excused by")),
                            params=tuple(params))
    if check.extension_within and due is not None:
        for k in range(i + 1, last + 1):
            if view.any_match(check.extension_by, k):
                pv = view.param(check.extension_within, ev.day)
                params.append(pv)
                within, due = pv.value, pv.value.after(ev.day)
                break
    since = f"{within} after the {trig_words} of {ev.when}" if within else f"after the {trig_words} of {ev.when}"
    expected = f"{words} by {due}" if due else f"{words} after the {trig_words}"
    ps = tuple(params)
    if outcome == "done":
        done = view.events[j]
        if due is not None and done.day > due:
            late = (done.day - due).days
            return Fact(rule, check, i, "late", done.day, due=due, params=ps,
                        detail=f"{_cap(words)} was due by {due} ({since}) and happened on {done.when}, "
                               f"{late} day{'s' if late != 1 else ''} late.",
                        expected=expected, actual=f"on {done.day}",
                        evidence=((i, "trigger"), (j, "late")))
        return Fact(rule, check, i, "met", ev.day, due=due, params=ps, evidence=((i, "trigger"), (j, "met")))
    if outcome == "before":
        end = view.events[j]
        if due is not None and end.day > due:
            pass  # judged like a missed deadline below
        else:
            return Fact(rule, check, i, "missing", end.day, due=due, params=ps,
                        detail=f"{_cap(words)} should have followed the {trig_words} of {ev.when} before the "
                               f"{activity_words(end.activity)} of {end.when}, and did not.",
                        expected=expected if due else f"{words} before the {activity_words(end.activity)}",
                        actual=f"none before the {activity_words(end.activity)} of {end.day}",
                        evidence=((i, "trigger"), (j, "deadline event")))
    if outcome in ("lapse", "before"):
        end = view.events[j]
        if due is not None and end.day > due:
            return Fact(rule, check, i, "overdue", due + timedelta(days=1), due=due, params=ps,
                        detail=f"{_cap(words)} was due by {due} ({since}) and had not happened when the "
                               f"{activity_words(end.activity)} of {end.when} ended the duty.",
                        expected=expected, actual=f"none by {end.day}",
                        evidence=((i, "trigger"), (j, "ended by")))
        return Fact(rule, check, i, "lapsed", ev.day, due=due, params=ps, evidence=((i, "trigger"), (j, "ended by")))
    # still open at the end of the log
    if due is not None and view.as_of > due and check.judge_open:
        return Fact(rule, check, i, "overdue", due + timedelta(days=1), due=due, params=ps,
                    detail=f"{_cap(words)} was due by {due} ({since}) and had not happened by {view.as_of}.",
                    expected=expected, actual=f"none by {view.as_of}", evidence=((i, "trigger"),))
    return Fact(rule, check, i, "open", ev.day, due=due, params=ps, expected=expected,
                detail=f"{_cap(words)} is due {'by ' + str(due) if due else 'next'} ({since}).",
                evidence=((i, "trigger"),))


def _precedence(view: CaseView, rule: Rule, check: Check, i: int) -> Fact:
    ev = view.events[i]
    expect = _expect_matchers(view, check, i)
    window = view.episode_range(i)
    start = window.start
    since_text = ""
    if check.since is not None:
        s = view.latest_before(check.since.activities, i)
        if s is not None:
            start = s + 1
            since_text = f" after the {activity_words(view.events[s].activity)} of {view.events[s].when}"
    for k in range(start, i):
        if any(view.match(m, k) for m in expect):
            return Fact(rule, check, i, "met", ev.day, evidence=((i, "trigger"), (k, "met")))
    if check.excused_by:
        for k in window:
            if view.any_match(check.excused_by, k):
                return Fact(rule, check, i, "excused", ev.day, evidence=((i, "trigger"), (k, "excused by")))
    words = check.expect_words()
    return Fact(rule, check, i, "missing", ev.day,
                detail=f"The {activity_words(ev.activity)} of {ev.when} was not preceded by {words}{since_text}.",
                expected=f"{words} before the {activity_words(ev.activity)}",
                actual=f"none before {ev.day}", evidence=((i, "trigger"),))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def to_finding(view: CaseView, fact: Fact) -> Finding:
    rule = fact.rule
    events = tuple(Evidence.of(view.events[k], role) for k, role in fact.evidence)
    message = f"{fact.check.message} {fact.detail}".strip()
    return Finding(code=rule.code, case=view.case, at=fact.day.isoformat(), message=message, events=events,
                   expected=fact.expected, actual=fact.actual, source=rule.sources, title=rule.title,
                   severity=rule.severity, rule_version=rule.version,
                   parameters=tuple(p.to_dict() for p in fact.params), workflow=view.wf.describe(),
                   stage=view.steps[fact.trigger].state)


def to_obligation(view: CaseView, fact: Fact) -> Obligation:
    trig = view.events[fact.trigger]
    return Obligation(code=fact.rule.code, case=view.case, due=fact.due.isoformat() if fact.due else "",
                      message=f"{fact.rule.title}: {fact.detail}", trigger=Evidence.of(trig, "trigger"))
