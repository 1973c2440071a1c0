"""Hypothesis strategies kept together: events with valid attributes, and walks the workflow allows."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import strategies as st

from sdsrules.conditions import Clause
from sdsrules.events import ACTIVITIES, BOOL, Day, ListOf, Number, OneOf, Text
from sdsrules.workflow import STAY, Workflow

START = datetime(2023, 1, 2, 9, 0)


def value_for(kind) -> st.SearchStrategy:
    if kind is BOOL:
        return st.booleans()
    if isinstance(kind, OneOf):
        return st.sampled_from(kind.choices)
    if isinstance(kind, ListOf):
        return st.lists(value_for(kind.item), min_size=1, max_size=4, unique=True)
    if isinstance(kind, Number):
        lo = int(kind.minimum or 0)
        hi = int(kind.maximum) if kind.maximum is not None else 2000
        return st.integers(lo, hi)
    if isinstance(kind, Day):
        return st.dates(min_value=datetime(1930, 1, 1).date(), max_value=datetime(2020, 1, 1).date()).map(str)
    if isinstance(kind, Text):
        return st.text("abcdefgh ", min_size=1, max_size=8)
    raise AssertionError(kind)


@st.composite
def attributes(draw, activity: str, optional: bool = True) -> dict:
    out = {}
    for name, (kind, required) in ACTIVITIES[activity].items():
        if required or (optional and draw(st.booleans())):
            out[name] = draw(value_for(kind))
    return out


def _satisfy(clauses: tuple[Clause, ...], attrs: dict) -> dict:
    for c in clauses:
        if c.op == "eq":
            attrs[c.field] = c.value
    return attrs


@st.composite
def walk(draw, wf: Workflow, max_steps: int = 25, case: str = "W1") -> list[dict]:
    """Events of one case along a path the workflow allows (conditions satisfied, anywhere steps mixed in)."""
    state = wf.initial
    at = START + timedelta(days=draw(st.integers(0, 400)))
    out = []
    for n in range(draw(st.integers(1, max_steps))):
        options = [t for t in wf.transitions if t.source == state and not t.unless]
        anywhere = sorted(wf.anywhere) if state != wf.initial and state not in wf.closed_states else []
        choices = [("t", i) for i in range(len(options))] + [("a", a) for a in anywhere]
        if not choices:
            break
        kind, pick = draw(st.sampled_from(choices))
        if kind == "t":
            t = options[pick]
            activity, attrs = t.trigger, _satisfy(t.conditions.clauses, draw(attributes(t.trigger)))
            # the first transition whose conditions hold wins: make sure it is this one
            taken = next(o for o in options if o.trigger == activity and (
                not o.conditions or all(attrs.get(c.field) == c.value for c in o.conditions.clauses)))
            new = state if taken.dest == STAY else taken.dest
        else:
            activity, attrs, new = pick, draw(attributes(pick)), state
        at += timedelta(hours=draw(st.integers(1, 24 * 40)))
        out.append({"id": f"{case}-{n}", "case": case, "at": at.isoformat(timespec="minutes"),
                    "activity": activity, **attrs})
        state = new
    return out
