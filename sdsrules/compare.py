"""What if: the same cases replayed under a current design and a proposed one, side by side (issue 19).

``compare`` replays one set of case logs twice, once under each design (and its rule pack), and says:

* per duty, the rate under each (applied, met, breached, open, excused: the counts of
  ``reporting.aggregate``) and the difference in breach rate (proposed minus current, over the decided cases)
  with its 95% interval (Newcombe's hybrid score interval, method 10 of Newcombe 1998, from the two Wilson
  intervals). The two sides are the same cases, so the interval (made for two independent samples) is on the
  wide side: a difference it calls clear is clear;
* every case whose findings change (a finding added or removed), with the reason: the parameter values in
  force on the trigger's day that differ between the designs, a rule version that differs, or the transition
  that one design allows and the other does not;
* the duties only one side checks.

``propose`` makes a proposal from a design without a file (``--set initial_review="6 weeks"``), and
``design_diff`` says which parameters, states and transitions two designs differ in (also used by
``validate`` for a design that ``extends`` another).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import yaml

from .findings import Finding
from .reporting.aggregate import CodeRate, aggregate, wilson
from .workflow import (
    STAY,
    Parameter,
    ParamValue,
    Transition,
    Workflow,
    build_design,
    load_workflow,
    merge_base,
)

Z95 = 1.959964


# ------------------------------------------------------------------------------------------ the interval

def newcombe(k1: int, n1: int, k0: int, n0: int, z: float = Z95) -> tuple[float, float, float] | None:
    """The difference p1 - p0 (k1 of n1 against k0 of n0) and its hybrid score interval (Newcombe 1998, method
    10: the Wilson interval of each proportion, combined). None when either side has no cases."""
    if n1 <= 0 or n0 <= 0:
        return None
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1, z)
    l0, u0 = wilson(k0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return d, max(-1.0, low), min(1.0, high)


# ------------------------------------------------------------------------------------------ a proposal

class ProposalError(ValueError):
    """A ``--set`` that names no parameter or gives a value its kind does not take (one line, no case data)."""


def propose(wf: Workflow, settings: Iterable[str]) -> Workflow:
    """``wf`` with parameters set: each setting is ``name=value`` (the value replaces every dated value: the
    proposal judges every day by it) or ``name@YYYY-MM-DD=value`` (a new value in force from that date, the
    earlier ones kept). Values are read as YAML scalars and checked as the design loader checks them
    (``6 weeks``, ``1200``, ``[critical, substantial]``, ``{team_manager: 400}``)."""
    params = dict(wf.parameters)
    said: list[str] = []
    for text in settings:
        name, sep, value_text = text.partition("=")
        name, _, since_text = name.strip().partition("@")
        if not sep or not name:
            raise ProposalError(f"--set must be NAME=VALUE or NAME@YYYY-MM-DD=VALUE (got {text!r})")
        if name not in params:
            raise ProposalError(f"--set {name}: workflow {wf.name} has no parameter {name!r} "
                                f"(parameters: {', '.join(sorted(params))})")
        old = params[name]
        try:
            raw = yaml.safe_load(value_text) if value_text.strip() else None
        except yaml.YAMLError:
            raise ProposalError(f"--set {name}: the value is not a YAML scalar, list or mapping") from None
        value = _checked_value(name, old.kind, raw)
        reference = "proposed (--set)"
        if since_text:
            try:
                since = date.fromisoformat(since_text.strip())
            except ValueError:
                raise ProposalError(f"--set {name}@{since_text}: the date must be YYYY-MM-DD") from None
            kept = [v for v in old.values if v.since != since and v.value is not None]
            values = sorted([*kept, ParamValue(name, value, since, reference)], key=lambda v: v.since)
        else:
            since = old.values[0].since
            values = [ParamValue(name, value, since, reference)]
        params[name] = Parameter(name, old.kind, old.description, tuple(values))
        said.append(f"{name}{'@' + since_text.strip() if since_text else ''}={value_text.strip()}")
    if not said:
        return wf
    return attrs.evolve(wf, version=f"{wf.version} + {', '.join(said)}".strip(), parameters=params)


def _checked_value(name: str, kind: str, raw: Any) -> Any:
    """``raw`` as a value of a parameter of ``kind``, checked by the design loader itself (a one-state design
    holding only that value), or a ProposalError with the loader's words."""
    problems: list = []
    design = {"workflow": "proposal", "states": [{"name": "s"}],
              "parameters": {name: {"kind": kind, "values": {date(2000, 1, 1): {"value": raw, "reference": "-"}}}}}
    wf = build_design(design, "--set", problems)
    if problems:
        raise ProposalError(f"--set {name}: {problems[0].message}")
    return wf.parameters[name].values[0].value


# ------------------------------------------------------------------------------------------ design diff

@attrs.frozen(slots=True)
class ParamChange:
    name: str
    change: str  # "added", "removed", "changed"
    before: tuple[ParamValue, ...]
    after: tuple[ParamValue, ...]

    def sentence(self) -> str:
        if self.change == "added":
            return f"parameter {self.name} is added: {_values(self.after)}"
        if self.change == "removed":
            return f"parameter {self.name} is removed (was {_values(self.before)})"
        if len(self.before) == 1 and len(self.after) == 1 and self.before[0].since == self.after[0].since:
            return f"parameter {self.name}: {self.before[0].shown()} -> {self.after[0].shown()}"
        was = {v.since: v for v in self.before}
        now = {v.since: v for v in self.after}
        parts = []
        for day in sorted(was.keys() | now.keys()):
            a, b = was.get(day), now.get(day)
            if b is None and a is not None:
                parts.append(f"the value from {day} ({a.shown()}) is dropped")
            elif b is not None and (a is None or a.value != b.value):
                old = a or _at(self.before, day)
                parts.append(f"from {day}: {b.shown()}" + (f" (was {old.shown()})" if old is not None else ""))
        return f"parameter {self.name}: " + "; ".join(parts)

    def to_dict(self) -> dict:
        return {"name": self.name, "change": self.change, "before": [v.to_dict() for v in self.before],
                "after": [v.to_dict() for v in self.after], "words": self.sentence()}


def _at(values: Sequence[ParamValue], day: date) -> ParamValue | None:
    """The value of a parameter in force on ``day`` (before the first date, the first), as ``Parameter.at``."""
    hit = [v for v in values if v.since <= day]
    return hit[-1] if hit else (values[0] if values else None)


def _values(values: Sequence[ParamValue]) -> str:
    if len(values) == 1:
        return values[0].shown()
    return "; ".join(f"{v.shown()} from {v.since}" for v in values)


def transition_words(trigger: str, sources: Iterable[str], dest: str, t: Transition | None = None) -> str:
    """``at budgeting, panel_referred moves the case to sds_panel unless panel is resource_allocation_group``."""
    src = sorted(sources)
    where = f"at {src[0]}" if len(src) == 1 else f"at {', '.join(src[:-1])} or {src[-1]}"
    to = "keeps the stage" if dest == STAY else f"moves the case to {dest}"
    cond = ""
    if t is not None and t.conditions:
        cond += f" if {t.conditions.describe()}"
    if t is not None and t.unless:
        cond += f" unless {t.unless.describe()}"
    return f"{where}, {trigger} {to}{cond}"


def _tkey(t: Transition) -> tuple[str, str, str, str, str]:
    return (t.trigger, t.source, t.dest, t.conditions.describe() if t.conditions else "",
            t.unless.describe() if t.unless else "")


def _grouped(ts: Iterable[Transition]) -> list[str]:
    """Transitions in words, those that differ only in their source state said once."""
    groups: dict[tuple, tuple[list[str], Transition]] = {}
    for t in ts:
        k = _tkey(t)
        key = (k[0], k[2], k[3], k[4])
        groups.setdefault(key, ([], t))[0].append(t.source)
    return [transition_words(key[0], srcs, key[1], t) for key, (srcs, t) in sorted(groups.items())]


@attrs.frozen(slots=True)
class DesignDiff:
    """How design ``after`` differs from ``before``: parameters, states, transitions and the anywhere list."""

    before: str
    after: str
    parameters: tuple[ParamChange, ...] = ()
    states_added: tuple[str, ...] = ()
    states_removed: tuple[str, ...] = ()
    transitions_added: tuple[str, ...] = ()
    transitions_removed: tuple[str, ...] = ()
    anywhere_added: tuple[str, ...] = ()
    anywhere_removed: tuple[str, ...] = ()
    #: changes left out of the lists above (each list keeps at most ``design_diff``'s ``limit``)
    omitted: int = 0
    limit: int = 50

    def __bool__(self) -> bool:
        return bool(self.parameters or self.states_added or self.states_removed or self.transitions_added
                    or self.transitions_removed or self.anywhere_added or self.anywhere_removed or self.omitted)

    def lines(self) -> list[str]:
        out = [p.sentence() for p in self.parameters]
        out += [f"state {s} is added" for s in self.states_added]
        out += [f"state {s} is removed" for s in self.states_removed]
        out += [f"transition added: {t}" for t in self.transitions_added]
        out += [f"transition removed: {t}" for t in self.transitions_removed]
        out += [f"allowed at any open stage: {a} (added)" for a in self.anywhere_added]
        out += [f"no longer allowed at any open stage: {a}" for a in self.anywhere_removed]
        if self.omitted:
            out.append(f"... and {self.omitted:,} more changes not listed (at most {self.limit:,} of each kind)")
        return out

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "parameters": [p.to_dict() for p in self.parameters],
                "states_added": list(self.states_added), "states_removed": list(self.states_removed),
                "transitions_added": list(self.transitions_added),
                "transitions_removed": list(self.transitions_removed),
                "anywhere_added": list(self.anywhere_added), "anywhere_removed": list(self.anywhere_removed),
                "omitted": self.omitted}


def _same_values(a: Parameter, b: Parameter) -> bool:
    return a.kind == b.kind and [(v.since, v.value) for v in a.values] == [(v.since, v.value) for v in b.values]


#: changes of each kind a design diff lists (the rest are counted), so an answer stays small for a huge design
DIFF_LIMIT = 50


def design_diff(before: Workflow, after: Workflow, limit: int = DIFF_LIMIT) -> DesignDiff:
    """What ``after`` changes of ``before`` (a proposal of a current design, or a design of the one it
    extends). Parameter values are compared by date and value (a changed reference alone is no change). Each
    kind of change lists at most ``limit``; ``omitted`` counts the rest."""
    params = []
    for name in sorted(set(before.parameters) | set(after.parameters)):
        a, b = before.parameters.get(name), after.parameters.get(name)
        if a is None and b is not None:
            params.append(ParamChange(name, "added", (), b.values))
        elif b is None and a is not None:
            params.append(ParamChange(name, "removed", a.values, ()))
        elif a is not None and b is not None and not _same_values(a, b):
            params.append(ParamChange(name, "changed", a.values, b.values))
    ka = {_tkey(t): t for t in before.transitions}
    kb = {_tkey(t): t for t in after.transitions}
    sa, sb = set(before.state_names), set(after.state_names)
    words: list[list[str]] = [sorted(sb - sa), sorted(sa - sb), _grouped(kb[k] for k in kb.keys() - ka.keys()),
                              _grouped(ka[k] for k in ka.keys() - kb.keys()), sorted(after.anywhere - before.anywhere),
                              sorted(before.anywhere - after.anywhere)]
    omitted = max(0, len(params) - limit) + sum(max(0, len(k) - limit) for k in words)
    sa_, sr_, ta_, tr_, aa_, ar_ = (tuple(k[:limit]) for k in words)
    return DesignDiff(before.describe(), after.describe(), tuple(params[:limit]), sa_, sr_, ta_, tr_, aa_, ar_,
                      omitted, limit)


def base_design(raw: Any, path: str | Path) -> Workflow | None:
    """The design that a design's YAML ``extends``, found and merged as the loader finds it (a shipped name or a
    file beside it); None when it extends nothing or the base does not load (the loader says why)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("extends"), str):
        return None
    problems: list = []
    name = raw["extends"]
    merged = merge_base({"workflow": name, "extends": name}, Path(path), problems)
    if problems:
        return None
    base = build_design(merged, name, problems)
    return None if problems else base


# ------------------------------------------------------------------------------------------ the comparison

@attrs.frozen(slots=True)
class DutyComparison:
    """One duty's rates under the current and the proposed design (None: that side never applied it)."""

    code: str
    title: str
    current: CodeRate | None
    proposed: CodeRate | None
    checked_by: str  # "both", "current", "proposed": which rule packs hold the duty

    @property
    def difference(self) -> tuple[float, float, float] | None:
        """Breach rate proposed minus current over the decided cases, with its 95% interval."""
        c, p = self.current, self.proposed
        if c is None or p is None:
            return None
        return newcombe(p.breached, p.decided, c.breached, c.decided)

    @property
    def changed(self) -> bool:
        c, p = self.current, self.proposed
        if c is None or p is None:
            return c is not p
        return (c.applied, c.breached, c.open, c.excused, c.findings) != \
            (p.applied, p.breached, p.open, p.excused, p.findings)

    def to_dict(self) -> dict:
        d = self.difference
        return {"code": self.code, "title": self.title, "checked_by": self.checked_by,
                "current": _rate_dict(self.current), "proposed": _rate_dict(self.proposed),
                "difference": None if d is None else {"breach_rate": round(d[0], 4), "low": round(d[1], 4),
                                                      "high": round(d[2], 4)}}


def _rate_dict(r: CodeRate | None) -> dict | None:
    if r is None:
        return None
    return {"applied": r.applied, "met": r.met, "breached": r.breached, "open": r.open, "excused": r.excused,
            "findings": r.findings, "breach_rate": None if r.breach_rate is None else round(r.breach_rate, 4)}


@attrs.frozen(slots=True)
class CaseChange:
    """A finding one side has and the other has not, with why."""

    case: str
    code: str
    change: str  # "added" (only under the proposal) or "removed" (only under the current design)
    finding: Finding
    reasons: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"case": self.case, "code": self.code, "change": self.change, "at": self.finding.at,
                "title": self.finding.title, "message": self.finding.message, "reasons": list(self.reasons),
                "rule_version": self.finding.rule_version, "parameters": list(self.finding.parameters)}


@attrs.frozen(slots=True)
class Comparison:
    current: Workflow
    proposed: Workflow
    as_of: str
    cases: int
    events_read: int
    events_rejected: int
    duties: tuple[DutyComparison, ...]
    changes: tuple[CaseChange, ...]
    design: DesignDiff
    rules_current: str = ""
    rules_proposed: str = ""
    #: for whom: per dimension (team, tier, client group, option), (value, cases whose findings change, cases)
    groups: Mapping[str, tuple[tuple[str, int, int], ...]] = attrs.field(factory=dict)

    @property
    def only_current(self) -> tuple[DutyComparison, ...]:
        """Duties only the current side's rule pack checks."""
        return tuple(d for d in self.duties if d.checked_by == "current")

    @property
    def only_proposed(self) -> tuple[DutyComparison, ...]:
        """Duties only the proposed side's rule pack checks."""
        return tuple(d for d in self.duties if d.checked_by == "proposed")

    @property
    def cases_changed(self) -> int:
        return len({c.case for c in self.changes})

    def to_dict(self) -> dict:
        return {
            "current": self.current.describe(), "proposed": self.proposed.describe(), "as_of": self.as_of,
            "cases": self.cases, "events_read": self.events_read, "events_rejected": self.events_rejected,
            "design": self.design.to_dict(), "rules": {"current": self.rules_current, "proposed": self.rules_proposed},
            "duties": [d.to_dict() for d in self.duties],
            "only_current": [d.code for d in self.only_current],
            "only_proposed": [d.code for d in self.only_proposed],
            "cases_changed": self.cases_changed,
            "cases_changed_by": {d: [{"value": v, "changed": n, "cases": t} for v, n, t in rows]
                                 for d, rows in self.groups.items()},
            "changes": [c.to_dict() for c in self.changes],
        }


def _finding_key(f: Finding) -> tuple[str, str]:
    """A finding's duty in its case: its code and the event that triggered it (else its first evidence)."""
    trig = next((e.id for e in f.events if e.role == "trigger"), f.events[0].id if f.events else f.at)
    return f.code, trig


def _trigger_day(f: Finding) -> date:
    e = next((e for e in f.events if e.role == "trigger"), f.events[0] if f.events else None)
    try:
        return date.fromisoformat((e.at if e else f.at)[:10])
    except ValueError:
        return date.fromisoformat(f.at[:10])


def _rule_for(book, code: str, day: date):
    """The version of rule ``code`` in force on ``day`` in ``book`` (None: the book has no such rule)."""
    if book is None:
        return None
    try:
        return book.by_code(code, day)
    except KeyError:
        return None


def reasons_for(f: Finding, current: Workflow, proposed: Workflow, book_c, book_p) -> tuple[str, ...]:
    """Why a finding is on one side only: the parameters of its duty that differ on the trigger's day, a rule
    version that differs, or (a sequence finding) how the two transition tables treat the step."""
    day = _trigger_day(f)
    if f.code in ("SDS-SEQ-01", "SDS-SEQ-02"):
        ev = next((e for e in f.events if e.role in ("out of place", "after closure")), None)
        if ev is None:
            return ("the case took a different path through the two designs",)
        out = []
        for label, wf in (("current", current), ("proposed", proposed)):
            ts = [t for t in wf.transitions if t.trigger == ev.activity and t.source == f.stage]
            if ts:
                out.append(f"the {label} design allows it ({_grouped(ts)[0]})")
            elif ev.activity in wf.anywhere and f.stage not in wf.closed_states and f.stage != wf.initial:
                out.append(f"the {label} design allows {ev.activity} at any open stage")
            else:
                out.append(f"the {label} design does not allow {ev.activity} at {f.stage or 'that stage'}")
        return tuple(out)
    rc, rp = _rule_for(book_c, f.code, day), _rule_for(book_p, f.code, day)
    out = []
    if rc is None or rp is None:
        side = "current" if rp is None else "proposed"
        return (f"only the {side} rule pack checks {f.code}",)
    if rc.version != rp.version or rc.checks != rp.checks:
        out.append(f"the rule differs: {f.code} version {rc.version} (current) and {rp.version} (proposed) "
                   f"in force on {day}")
    for name in sorted(rc.parameters() | rp.parameters()):
        try:
            a, b = current.param(name, day), proposed.param(name, day)
        except KeyError:
            continue
        if a.value != b.value:
            out.append(f"{name} in force on {day}: {a.shown()} (current, since {a.since}) and {b.shown()} "
                       f"(proposed, since {b.since})")
    if not out:
        diff = design_diff(current, proposed)
        if diff.transitions_added or diff.transitions_removed or diff.states_added or diff.states_removed:
            out.append("no value of this duty differs on that day: the case took a different path through the "
                       "changed transitions")
        else:
            out.append(f"no value of this duty differs on {day}: another value of the case changed its course")
    return tuple(out)


def diff_findings(current_cases, proposed_cases, current: Workflow, proposed: Workflow, book_c, book_p
                  ) -> list[CaseChange]:
    """The findings of each case that only one side has, as added (proposal only) or removed (current only)."""
    by_case_p = {c.case: c for c in proposed_cases}
    out: list[CaseChange] = []
    for c in current_cases:
        p = by_case_p.get(c.case)
        fc = {_finding_key(f): f for f in c.findings}
        fp = {_finding_key(f): f for f in p.findings} if p is not None else {}
        for key in sorted(fc.keys() - fp.keys()):
            f = fc[key]
            out.append(CaseChange(c.case, f.code, "removed", f, reasons_for(f, current, proposed, book_c, book_p)))
        for key in sorted(fp.keys() - fc.keys()):
            f = fp[key]
            out.append(CaseChange(c.case, f.code, "added", f, reasons_for(f, current, proposed, book_c, book_p)))
    return out


def compare(paths: Sequence[str | Path], current: Workflow | str | Path | None,
            proposed: Workflow | str | Path | None, *, as_of: date | None = None, engine: str | None = None,
            jobs: int = 1, rules: Sequence[str | Path] | None = None,
            proposed_rules: Sequence[str | Path] | None = None, input_format: str | None = None,
            activity_map=None) -> Comparison:
    """Replay the case logs at ``paths`` under ``current`` and ``proposed`` (designs, or their files or shipped
    names; ``proposed_rules``: the proposal's own rule pack, default the same as ``rules``) and compare."""
    from . import api
    from .engine import load_rulebook
    from .engine.names import BULK_DEFAULT

    engine = engine or BULK_DEFAULT
    wc = current if isinstance(current, Workflow) else load_workflow(current)
    wp = proposed if isinstance(proposed, Workflow) else load_workflow(proposed)
    rules_p = proposed_rules if proposed_rules else rules
    book_c = load_rulebook(rules, wc) if engine != "none" else None
    book_p = load_rulebook(rules_p, wp) if engine != "none" else None
    rep_c = api.replay(paths, wc, as_of, engine, jobs, rules, input_format, activity_map=activity_map)
    if as_of is None and rep_c.summary.as_of:  # judge both sides on the same day, whatever the proposal
        as_of = date.fromisoformat(rep_c.summary.as_of)
    rep_p = api.replay(paths, wp, as_of, engine, jobs, rules_p, input_format, activity_map=activity_map)
    agg_c, agg_p = aggregate(rep_c).rates_by_code, aggregate(rep_p).rates_by_code
    codes_c = {r.code for r in book_c.rules} if book_c else set()
    codes_p = {r.code for r in book_p.rules} if book_p else set()
    duties = []
    for code in sorted(set(agg_c) | set(agg_p) | codes_c | codes_p):
        c, p = agg_c.get(code), agg_p.get(code)
        builtin = code.startswith(("SDS-SEQ-", "SDS-DAT-"))
        checked = "both" if builtin or (code in codes_c) == (code in codes_p) else \
            "current" if code in codes_c else "proposed"
        either = c or p
        title = either.title if either is not None and either.title else _title_of(code, book_c, book_p)
        duties.append(DutyComparison(code, title, c, p, checked))
    changes = diff_findings(rep_c.cases, rep_p.cases, wc, wp, book_c, book_p)
    s = rep_c.summary
    return Comparison(wc, wp, s.as_of, s.cases, s.events_read, s.events_rejected, tuple(duties), tuple(changes),
                      design_diff(wc, wp), _pack_words(rules), _pack_words(rules_p),
                      changed_by_group(rep_c.cases, {c.case for c in changes}))


def changed_by_group(cases, changed: set[str]) -> dict[str, tuple[tuple[str, int, int], ...]]:
    """For whom the findings change: per profile dimension (the case's team, highest tier, client group and
    option, as the report breaks cases down), each value with its cases whose findings change and all its
    cases, most changed first."""
    from .reporting.aggregate import PROFILE_DIMENSIONS, profile_value

    out: dict[str, tuple[tuple[str, int, int], ...]] = {}
    for dim in PROFILE_DIMENSIONS:
        total: dict[str, int] = {}
        hit: dict[str, int] = {}
        for c in cases:
            v = profile_value(c.profile, dim)
            total[v] = total.get(v, 0) + 1
            if c.case in changed:
                hit[v] = hit.get(v, 0) + 1
        out[dim] = tuple(sorted(((v, hit.get(v, 0), n) for v, n in total.items()), key=lambda r: (-r[1], r[0])))
    return out


def _title_of(code: str, *books) -> str:
    for b in books:
        if b is not None:
            for r in b.rules:
                if r.code == code:
                    return r.title
    return ""


def _pack_words(rules: Sequence[str | Path] | None) -> str:
    return ", ".join(map(str, rules)) if rules else "the shipped rule packs"


def by_code(duties: Sequence[DutyComparison]) -> Mapping[str, DutyComparison]:
    return {d.code: d for d in duties}
