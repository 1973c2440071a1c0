"""The people and events a generated case is made of: events being drafted, truth still to pin, the
teams, ages and amounts cases are drawn from."""

from __future__ import annotations

import operator
import random
from datetime import date, timedelta

from ..calendar import birthday


class Draft:
    """An event being built: its day, its order of creation, and its canonical fields."""

    __slots__ = ("activity", "actor", "attrs", "day", "id", "seq")

    def __init__(self, day: date, seq: int, activity: str, actor: dict, attrs: dict):
        self.day, self.seq, self.activity, self.actor, self.attrs = day, seq, activity, actor, attrs
        self.id = ""


class PendingTruth:
    """A truth record still to be pinned to the log: its evidence, and the event that dates the finding
    (``anchor``) or the activities that do (the first of ``anchor_acts`` after ``after``)."""

    __slots__ = ("after", "anchor", "anchor_acts", "code", "every", "evidence")

    def __init__(self, code, evidence=(), anchor=None, anchor_acts=(), after=None, every=False):
        self.code, self.evidence, self.anchor = code, tuple(evidence), anchor
        self.anchor_acts, self.after, self.every = anchor_acts, after, every


GROUPS = (("older_people", 42), ("physical_disability", 17), ("learning_disability", 12),
           ("mental_health", 12), ("carer", 8), ("children_families", 9))
AGES = {"older_people": (65, 98), "children_families": (14, 17), "learning_disability": (18, 70),
         "mental_health": (18, 80), "carer": (25, 85), "physical_disability": (18, 85)}
TEAMS = {"older_people": "older_people_north", "learning_disability": "learning_disability",
          "mental_health": "mental_health", "children_families": "children_transitions"}
GROUP_NAMES = tuple(g for g, _ in GROUPS)
GROUP_WEIGHTS = tuple(w for _, w in GROUPS)
TEAM_PREFIX = {"access_team": "A", "east_long_term": "E", "west_long_term": "W", "older_people_north": "N",
                "learning_disability": "L", "mental_health": "M", "children_transitions": "T", "finance": "F"}
SOURCES = ("self", "gp", "hospital", "family", "other_professional")
ELIGIBLE_ACTS = ("budget_calculated", "budget_approved", "budget_refused", "budget_reduced", "panel_referred",
                  "panel_decided", "options_offered", "options_exception", "case_closed")
CLOSING_REASONS = ("died", "no_further_need", "moved")


BY_TIME = operator.attrgetter("day", "seq")
PANEL = {"id": "SDS-PANEL", "role": "panel", "team": "sds_panel"}
_ACTORS: dict[tuple[str, str, int], dict] = {}
DAYS = tuple(timedelta(days=i) for i in range(1200))


def make_actor(team: str, role: str, n: int) -> dict:
    """The actor object (shared between events: they are only ever read)."""
    key = (team, role, n)
    actor = _ACTORS.get(key)
    if actor is None:
        actor = _ACTORS[key] = {"id": f"{TEAM_PREFIX.get(team, 'X')}{n:02d}", "role": role, "team": team}
    return actor


CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60))


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def nth_birthday(born: date, years: int) -> date:
    """The day the person attains ``years`` (29 February births: 1 March in a common year, as the rules read)."""
    return birthday(born, years)


def draw_amount(rng: random.Random, group: str) -> float:
    lo, mode, hi = {"older_people": (60, 240, 900), "physical_disability": (80, 320, 1300),
                    "learning_disability": (150, 520, 1700), "mental_health": (50, 180, 650),
                    "carer": (25, 70, 250), "children_families": (90, 300, 1100)}[group]
    return round(rng.triangular(lo, hi, mode) / 5) * 5.0
