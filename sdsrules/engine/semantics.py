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
from datetime import date, datetime, timedelta

import msgspec

from ..attribution import applied_codes, attribute, holder_fields
from ..conditions import ParamRef, field_value
from ..findings import Evidence, Finding, Obligation
from ..workflow import ParamValue, money
from .caseview import BREACH, CaseView, Fact
from .functions import FUNCTIONS
from .rules import Check, Matcher, Rule, Rulebook, activity_words, with_article


def derive(view: CaseView, book: Rulebook) -> Iterator[Fact]:
    """Every fact of every check the case's activities can trigger, in rulebook order."""
    for rule, check in book.checks_for(view.by_activity):
        plain = check.trigger_plain
        for i in view.indexes_of(check.trigger_activities):
            if not plain and not view.any_match(check.trigger, i):
                continue
            if check.met_if and check.met_if.matches(view.events[i], view.lookup):
                yield Fact(rule, check, i, met=True)  # the duty applied, and the trigger itself met it
            elif check.template == "response":
                yield with_trigger_params(view, check, _response(view, rule, check, i))
            elif check.template == "precedence":
                yield with_trigger_params(view, check, _precedence(view, rule, check, i))
            elif check.template == "forbid":
                yield with_trigger_params(view, check, Fact(rule, check, i))
            else:
                yield from FUNCTIONS[check.function or ""](view, rule, check, i)


def with_trigger_params(view: CaseView, check: Check, fact: Fact) -> Fact:
    """The values in force that the trigger's conditions compared with (SDS-BUD-02's panel threshold), named by
    the finding beside any deadline."""
    names = check.trigger_params()
    if names:
        day = view.days[fact.trigger]
        fact.params = tuple(view.param(n, day) for n in names) + fact.params
    return fact


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
    due = due_at = None
    if check.within:
        pv = view.param(check.within, day)
        params.append(pv)
        due, due_at = due_of(pv, view.events[i].at, day)

    done = end = None
    end_kind = ""
    stop = view.episode_end(i)  # spec 1.1: a duty is met, ended or excused only by events of its own episode
    if check.counts_before:
        for k in range(view.episode_start(i), i):
            if view.any_match(expect, k):
                done = k
                break
    if done is None:
        scan = view.indexes_of(check.scan_activities)
        for k in scan[bisect.bisect_right(scan, i):]:
            if k >= stop:
                break
            if view.any_match(expect, k):
                done = k
                break
            if check.before and view.any_match(check.before, k):
                end, end_kind = k, "before"
                break
            if check.lapses_on and view.any_match(check.lapses_on, k):
                end, end_kind = k, "lapse"
                break
    last = done if done is not None and done > i else end if end is not None else stop - 1
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
                due, due_at = due_of(pv, view.events[i].at, day)
                break
    return Fact(rule, check, i, due=due, due_at=due_at, params=tuple(params), done=done, end=end,
                end_kind=end_kind, excused=excused)


def due_of(pv: ParamValue, at: datetime, day: date) -> tuple[date, datetime | None]:
    """The due day of a deadline starting at the trigger (instant ``at``, day ``day``), and for a deadline in hours
    the instant it falls due."""
    value = pv.value
    if getattr(value, "exact", False):
        due_at = value.instant_after(at)
        return due_at.date(), due_at
    return value.after(day), None


def after_due(view: CaseView, f: Fact, k: int) -> bool:
    """Whether event ``k`` came after the duty fell due: on a later day, or for a deadline in hours at a later
    instant."""
    if f.due_at is not None:
        return view.events[k].at > f.due_at
    return f.due is not None and view.days[k] > f.due


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
    if check.accumulate:
        done = accumulated(view, check, expect, start, i)
    else:
        for k in view.indexes_of(check.scan_activities):
            if k >= i:
                break
            if k >= start and view.any_match(expect, k):
                done = k
                break
    excused = None
    if done is None and check.excused_by:
        # an exception recorded earlier in the episode, or on the trigger's own day in any order (spec 1.1: the
        # events of one day are often entered in any order)
        stop, day = view.episode_end(i), view.days[i]
        for k in view.indexes_of(check.excused_activities):
            if k >= stop or (k > i and view.days[k] != day):
                break
            if k >= first and k != i and view.any_match(check.excused_by, k):
                excused = k
                break
    return Fact(rule, check, i, done=done, excused=excused, since=since)


def accumulated(view: CaseView, check: Check, expect: Sequence[Matcher], start: int, i: int) -> int | None:
    """The earlier event at which the union of ``check.accumulate`` over the episode's expected events (from
    ``start``) first satisfies an expected matcher, or None."""
    name = check.accumulate
    gathered: dict[frozenset[str], list] = {}
    for k in view.indexes_of(check.scan_activities):
        if k >= i:
            break
        if k < start:
            continue
        ev = view.events[k]
        for m in expect:
            if ev.activity not in m.activities:
                continue
            union = gathered.setdefault(m.activities, [])
            union.extend(v for v in ev.attrs.get(name, ()) if v not in union)
            probe = msgspec.structs.replace(ev, attrs={**ev.attrs, name: tuple(union)})
            if not m.has_where or m.where.matches(probe, view.lookup):
                return k
    return None


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
        return "late" if after_due(view, f, f.done) else "met"
    if f.end is not None:
        if after_due(view, f, f.end):
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
    values = _values_sentence(view, f)
    if check.template == "forbid":
        need = check.describe
        return (ev.day, f"The {trig} of {ev.said} was recorded without {need}.{values}" if need else
                f"The {trig} of {ev.said} was recorded.{values}",
                need or f"no {trig}", f"{with_article(trig)} of {ev.day}" + (f" without {need}" if need else ""),
                ((f.trigger, "trigger"),))
    words = check.expect_words()
    if check.template == "precedence":
        since = f" after the {activity_words(view.events[f.since].activity)} of {view.events[f.since].said}" \
            if f.since is not None else ""
        return (ev.day, f"The {trig} of {ev.said} was not preceded by {words}{since}.{values}",
                f"{words} before the {trig}", _what_came_before(view, f, words), ((f.trigger, "trigger"),))
    by_name = {p.name: p.value for p in f.params}
    within = by_name.get(check.extension_within or "") or by_name.get(check.within or "")
    since = f"{within} after the {trig} of {ev.said}" if within else f"after the {trig} of {ev.said}"
    if check.extension_within in by_name and check.within in by_name:
        since += f", extended from {by_name[check.within]}"
    by = f.due_at.strftime("%Y-%m-%d %H:%M") if f.due_at is not None else f.due
    expected = f"{words} by {by}" if f.due else f"{words} after the {trig}"
    cap = words[:1].upper() + words[1:]
    if status == "late":
        assert f.done is not None and f.due is not None  # a late verdict has both
        done = view.events[f.done]
        if f.due_at is not None:  # a deadline in hours: late by the hours begun past it
            hours = -int(-(done.at - f.due_at).total_seconds() // 3600)
            late_words = f"{hours} hour{'s' if hours != 1 else ''} late"
        else:
            late = (done.day - f.due).days
            late_words = f"{late} day{'s' if late != 1 else ''} late"
        return (done.day, f"{cap} was due by {by} ({since}) and happened on {done.said}, {late_words}.{values}",
                expected, f"on {done.day}", ((f.trigger, "trigger"), (f.done, "late")))
    if status == "missing":
        assert f.end is not None  # a missing verdict is ended by a 'before' event
        end = view.events[f.end]
        ended = activity_words(end.activity)
        due = f" It was due by {by} ({since})." if f.due else ""
        return (end.day, f"{cap} should have followed the {trig} of {ev.said} before the {ended} of {end.said}, "
                         f"and did not.{due}{values}",
                expected if f.due else f"{words} before the {ended}", f"no {words} before the {ended} of {end.day}",
                ((f.trigger, "trigger"), (f.end, "deadline event")))
    if status == "overdue" and f.end is not None:
        assert f.due is not None  # only a deadline can be overdue
        end = view.events[f.end]
        return (f.due if f.due_at is not None else f.due + timedelta(days=1),
                f"{cap} was due by {by} ({since}) and had not happened when the {activity_words(end.activity)} "
                f"of {end.said} ended the duty.{values}",
                expected, f"no {words} by {end.day}", ((f.trigger, "trigger"), (f.end, "ended by")))
    if status == "overdue":
        assert f.due is not None  # only a deadline can be overdue
        return (f.due if f.due_at is not None else f.due + timedelta(days=1),
                f"{cap} was due by {by} ({since}) and had not happened by {view.as_of}.{values}",
                expected, f"no {words} by {view.as_of}", ((f.trigger, "trigger"),))
    return ev.day, f"{cap} is due {'by ' + str(by) if f.due else 'next'} ({since}).", expected, "", \
        ((f.trigger, "trigger"),)


def _values_sentence(view: CaseView, f: Fact) -> str:
    """The trigger's recorded values set against the parameters they were compared with, in force that day:
    " The weekly amount approved was £1,200, against a panel threshold of £1,000 in force on 2024-03-05." """
    names = f.check.trigger_params()
    if not names:
        return ""
    ev = view.events[f.trigger]
    by_name = {p.name: p for p in f.params}
    parts = []
    for m in f.check.trigger:
        if ev.activity not in m.activities:
            continue
        for c in m.where.clauses:
            if not isinstance(c.value, ParamRef) or c.value.name not in by_name:
                continue
            pv = by_name[c.value.name]
            value = field_value(ev, c.field)
            shown = money(value) if c.field == "weekly_amount" and isinstance(value, int | float) else value
            what = "the weekly amount" if c.field == "weekly_amount" else f"the {c.field.replace('_', ' ')}"
            parts.append(f"{what} was {shown}, against a {pv.name.replace('_', ' ')} of {pv.shown()} in force "
                         f"on {ev.day} (since {pv.since})")
        break
    return (" " + "; ".join(parts)[:1].upper() + "; ".join(parts)[1:] + ".") if parts else ""


def _what_came_before(view: CaseView, f: Fact, words: str) -> str:
    """What the episode held instead of the expected event: nothing of that kind, or events of that kind that
    did not meet its conditions."""
    ev = view.events[f.trigger]
    acts = {a for case in f.check.expect for m in case.any for a in m.activities}
    start = view.episode_start(f.trigger) if f.since is None else f.since + 1
    near = [k for k in view.indexes_of(frozenset(acts)) if start <= k < f.trigger]
    if not near:
        return f"no {words} before {ev.day}"
    k = near[-1]
    found = with_article(activity_words(view.events[k].activity))
    return f"only {found} of {view.days[k]}, which did not meet the conditions"


def to_finding(view: CaseView, fact: Fact, status: str) -> Finding:
    rule = fact.rule
    day, detail, expected, actual, evidence = explain(view, fact, status)
    events = tuple(Evidence.of(view.events[k], role) for k, role in evidence)
    message = f"{fact.check.message} {detail}{_version_words(rule)}".strip()
    return Finding(code=rule.code, case=view.case, at=day.isoformat(), message=message, events=events,
                   expected=expected, actual=actual, source=rule.sources, title=rule.title,
                   severity=rule.severity, rule_version=rule.version,
                   parameters=tuple(p.to_dict() for p in fact.params), workflow=view.wf.describe(),
                   **attribute(view, fact, status, day, evidence))


def _version_words(rule: Rule) -> str:
    """A rule with dated versions names the version that judged the duty (the one in force on the trigger's day);
    a rule with one version (dated or not) says nothing more: there is no other it could have been."""
    if not rule.versioned:
        return ""
    since = f" from {rule.effective_from}" if rule.effective_from else ""
    until = f" until {rule.effective_until}" if rule.effective_until else ""
    return f" Judged by version {rule.version} of the rule, in force{since}{until}."


def to_obligation(view: CaseView, fact: Fact) -> Obligation:
    trig = view.events[fact.trigger]
    _, detail, _, _, _ = explain(view, fact, "open")
    return Obligation(code=fact.rule.code, case=view.case, due=fact.due.isoformat() if fact.due else "",
                      message=f"{fact.rule.title}: {detail}", trigger=Evidence.of(trig, "trigger"),
                      title=fact.rule.title, **holder_fields(view, fact.trigger))


def decide(view: CaseView, facts: Sequence[Fact], statuses: Sequence[str]):
    """Findings, open obligations and the codes that applied, from facts and their statuses."""
    findings = [to_finding(view, f, s) for f, s in zip(facts, statuses, strict=True) if s in BREACH]
    obligations = [to_obligation(view, f) for f, s in zip(facts, statuses, strict=True) if s == "open"]
    applied = applied_codes(view, facts, statuses)  # a set of codes, with the teams of their duties
    return findings, obligations, applied
