"""One generated case: who the person is, how they arrive, and which tier their journey takes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..calendar import add_months
from ..events import MANAGER_ROLES
from .access import AccessStage
from .people import AGES, GROUP_NAMES, GROUP_WEIGHTS, PANEL, SOURCES, TEAMS, Draft, age_on, make_actor


class CaseBuilder(AccessStage):
    """Builds one case, stage by stage (each stage a class of its own, in ``access``, ``budget``, ``support``
    and ``later``)."""

    def build(self) -> None:
        rng, s = self.rng, self.s
        span = (self.horizon - s.start).days - 45
        R = s.start + timedelta(days=rng.randrange(max(1, span)))
        group = self.weighted(GROUP_NAMES, GROUP_WEIGHTS)
        self.group = group
        age = self.ri(*AGES[group])
        self.age = age
        team = TEAMS.get(group)
        if team is None or (group == "older_people" and self.rand() >= 0.3):  # a third of older people: north
            team = self.pick(("east_long_term", "west_long_term"))
        self.team = team
        self.access = make_actor("access_team", "access_officer", self.ri(1, 6))
        self.worker = make_actor(self.team, "social_worker", self.ri(1, 14))
        self.finance = make_actor("finance", "finance_officer", self.ri(1, 3))
        self.manager = {role: make_actor(self.team, role, i + 90)
                        for i, role in enumerate(MANAGER_ROLES)}
        self.panel = PANEL

        self.mental_disorder = group == "mental_health" or (group == "learning_disability" and rng.random() < 0.2) \
            or rng.random() < 0.04
        self.terminal = group in ("older_people", "physical_disability") and rng.random() < 0.05
        unpaid_carer = group not in ("carer",) and rng.random() < (0.45 if group == "older_people" else 0.25)
        attrs_: dict[str, Any] = {"source": self.pick(SOURCES), "age": age, "client_group": group}
        if group == "children_families" or rng.random() < 0.5:
            born = add_months(R, -12 * age) - timedelta(days=self.ri(1, 360))
            while age_on(born, R) != age:  # 29 February and the like
                born += timedelta(days=1 if age_on(born, R) > age else -1)
            attrs_["date_of_birth"] = born.isoformat()
            self.born: date | None = born
        else:
            self.born = None
        attrs_["unpaid_carer"] = unpaid_carer
        if group == "carer":
            attrs_["is_carer"] = True
        if self.mental_disorder:
            attrs_["mental_disorder"] = True
        if self.terminal:
            attrs_["terminal_illness"] = True
        self.referral = self.add(R, "referral_received", self.access, **attrs_)
        self.R = R
        moved_in = group != "carer" and rng.random() < 0.04
        self.moved_in: Draft | None = None
        if moved_in:
            had = rng.random() < 0.75
            self.moved_in = self.add(R, "moved_in", self.access, authority=self.pick(
                ("Aberdeenshire", "Highland", "Fife", "Glasgow City")), had_support=had)
            if not had:
                self.moved_in = None

        if unpaid_carer:
            self.carer_thread(self.referral, R, self.terminal, young=False)

        tier = 3 if group == "children_families" or moved_in else self.weighted((1, 2, 3), (40, 25, 35))
        T = self.gap(R, 0, 1 if moved_in else 3)
        self.triage = self.add(T, "triaged", self.access, tier=tier)
        closed = None
        if tier == 1:
            closed = self.tier1(T)
        else:
            if tier == 2:
                T, closed = self.tier2(T)
            if closed is None:
                closed = self.tier3(T)
        self.close(closed)
