"""``attribution.holders`` (a case's holders in one pass, kept by ``CaseView.holder``) gives, for every step, what
the definition says: the event's own team and worker first, else the latest recorded before it (the walk back it
replaced, kept here as the oracle), on cases with sparse, partial and missing actors."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from sdsrules.attribution import holders
from sdsrules.engine.caseview import CaseView
from sdsrules.events import Actor
from sdsrules.readers import read_all
from sdsrules.replay import order_case, step_case
from sdsrules.workflow import load_workflow

from .test_driver import SAMPLE

WF = load_workflow(None)


def holder(steps, i: int) -> tuple[str, str]:
    """The definition, step by step: walk back from ``i`` to the latest team and the latest worker recorded."""
    team = worker = ""
    for k in range(i, -1, -1):
        actor = steps[k].event.actor
        if actor is not None:
            team = team or (actor.team or "")
            worker = worker or (actor.id or "")
        if team and worker:
            break
    return team, worker


class _Ev:
    def __init__(self, actor):
        self.actor = actor


class _Step:
    def __init__(self, actor):
        self.event = _Ev(actor)


_ACTOR = st.none() | st.builds(Actor, st.sampled_from([None, "", "W1", "W2"]), st.none(),
                               st.sampled_from([None, "", "T1", "T2"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ACTOR, max_size=30))
def test_holders_is_holder_at_every_step(actors):
    steps = [_Step(a) for a in actors]
    assert holders(steps) == [holder(steps, i) for i in range(len(steps))]


def test_the_case_view_answers_as_holder_on_the_sample():
    cases: dict[str, list] = {}
    for ev in read_all([str(SAMPLE)]):
        if hasattr(ev, "activity"):
            cases.setdefault(ev.case, []).append(ev)
    checked = 0
    for evs in cases.values():
        steps, _ = step_case(order_case(evs)[0], WF)
        view = CaseView(steps, WF, date(2025, 1, 1))
        assert [view.holder(i) for i in range(len(steps))] == [holder(steps, i) for i in range(len(steps))]
        checked += len(steps)
    assert checked > 3000
