"""Who held a duty and where the case stood: the one definition of a finding's team, worker and stage.

* **Team and worker of the trigger** (the default of reports): the team and worker of the event that
  triggered the duty (the one who held it when it arose). Where that event names no team (or no worker), the
  latest team (or worker) recorded before it in the case.
* **Team and worker at the date that mattered** (``--team-of due``): the latest recorded on or before the date
  the duty fell due or was breached.
* **Stage**: the stage of the case when the duty fell due or was breached. For a duty with a deadline, the
  stage at the end of its last day (the last step on or before the due date, not before the trigger): a tier 3
  wait (SDS-ACC-02) is at ``tier3``, whenever the assessment came. For a duty with no deadline that an event
  ended (a ``before`` or lapse event), the stage that event was recorded in; otherwise the stage the trigger
  was recorded in (a precedence or forbidden step).

Pure functions of a case's replay steps (``replay.Step``), shared by the engines' ``to_finding``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypedDict


class Holder(TypedDict):
    team: str
    worker: str


def holders(steps: Sequence[Any]) -> list[tuple[str, str]]:
    """(team, worker) holding the case at each step: the event's own actor first, then the latest recorded before
    it; in one pass (``CaseView.holder`` keeps them for a case, where a walk back for every duty went over the
    same steps again and again)."""
    out: list[tuple[str, str]] = []
    team = worker = ""
    for st in steps:
        actor = st.event.actor
        if actor is not None:
            team = actor.team or team
            worker = actor.id or worker
        out.append((team, worker))
    return out


def holder_fields(view: Any, i: int) -> Holder:
    """``CaseView.holder`` as the ``team`` and ``worker`` fields of an ``Obligation``."""
    team, worker = view.holder(i)
    return Holder(team=team, worker=worker)


def last_step_by(steps: Sequence[Any], start: int, day: date) -> int:
    """The index of the last step from ``start`` on whose day is on or before ``day`` (``start`` at least)."""
    k = start
    for j in range(start + 1, len(steps)):
        if steps[j].event.day > day:
            break
        k = j
    return k


def stage_of(steps: Sequence[Any], trigger: int, due: date | None, end: int | None = None) -> str:
    """The stage of the case when the duty fell due (see the module's text)."""
    if due is not None:
        return str(steps[last_step_by(steps, trigger, due)].after)
    if end is not None:
        return str(steps[end].state)
    return str(steps[trigger].state)


def attribute(view: Any, fact: Any, status: str, day: date, evidence: Sequence[tuple[int, str]]) -> dict:
    """The attribution fields of a ``Finding`` for a judged fact: stage, team, worker, the team and worker at the
    date that mattered, the due date, and whether the duty is still owed (overdue, not ended)."""
    steps = view.steps
    i = fact.trigger
    end = fact.end
    if end is None:
        end = next((k for k, role in evidence if role in ("ended by", "deadline event")), None)
    team, worker = view.holder(i)
    team_due, worker_due = view.holder(last_step_by(steps, i, day))
    return {"stage": stage_of(steps, i, fact.due, end), "team": team, "worker": worker, "team_due": team_due,
            "worker_due": worker_due, "due": fact.due.isoformat() if fact.due else "",
            "outstanding": status == "overdue" and end is None}


class Applied(set):
    """The codes whose duty applied to a case (a set, as the engines always gave), that also carries, per code,
    the team of the first applied duty's trigger and the team holding the case when it was met (``teams``):
    the attribution of duties met, which have no finding or obligation to carry it."""

    teams: dict[str, tuple[str, str]]
    excused: frozenset[str]  # codes whose every duty in the case was excused (a recorded exception)


def applied_codes(view: Any, facts: Sequence[Any], statuses: Sequence[str]) -> Applied:
    """The codes that applied (every fact not excused and in force), with their teams (see ``Applied``)."""
    out = Applied()
    out.teams = {}
    excused: set[str] = set()
    steps = view.steps
    for f, s in zip(facts, statuses, strict=True):
        if s == "excused":
            excused.add(f.rule.code)
            out.teams.setdefault(f.rule.code, (view.holder(f.trigger)[0],) * 2)
        if s in ("excused", "not_in_force"):
            continue
        code = f.rule.code
        if code not in out:  # the first duty of the code that applied gives its teams
            out.add(code)
            trigger_team = view.holder(f.trigger)[0]
            done = f.done if f.done is not None else f.trigger
            out.teams[code] = (trigger_team, view.holder(done)[0] if done < len(steps) else trigger_team)
    out.excused = frozenset(excused - out)
    return out
