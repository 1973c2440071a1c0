"""The access team's tiers: information and signposting (1), short-term help (2), assessment and eligibility (3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..events import BANDS
from .budget import BudgetStage
from .people import ELIGIBLE_ACTS, PendingTruth, make_actor


class AccessStage(BudgetStage):
    def tier1(self, T: date) -> date:
        rng = self.rng
        info = []
        if rng.random() < 0.7:
            info.append(self.add(self.gap(T, 0, 3), "information_given", self.access,
                                 topics=rng.sample(("community", "finance", "carers", "advocacy"), self.ri(1, 2))))
        if not info or rng.random() < 0.5:
            info.append(self.add(self.gap(T, 0, 5), "signposted", self.access,
                                 to=self.pick(("community_group", "day_centre", "citizens_advice", "gp"))))
        close = self.gap(max(e.day for e in info), 1, 14)
        if self.hit("SDS-ACC-01"):
            for e in info:
                self.evs.remove(e)
            self.inject("SDS-ACC-01", self.triage, anchor_acts=("case_closed",), after=self.triage)
        self.pending_close = ("signposted", self.access)
        return close

    def tier2(self, T: date) -> tuple[date, date | None]:
        rng = self.rng
        kind = self.pick(("reablement", "reablement", "crisis", "enablement"))
        ot = make_actor("access_team", "occupational_therapist", self.ri(1, 5))
        start = self.gap(T, 1, 7)
        self.add(start, "short_term_support_started", ot, kind=kind)
        end = self.gap(start, 14, 42)
        self.add(end, "short_term_support_ended", ot, kind=kind,
                 outcome=self.pick(("independent", "reduced_need", "ongoing_need")))
        if rng.random() < 0.35:
            T3 = self.gap(end, 0, 4)
            self.add(T3, "triaged", self.access, tier=3)
            return T3, None
        self.pending_close = ("no_further_need", ot)
        return T, self.gap(end, 1, 10)

    def tier3(self, T: date) -> date | None:
        rng, wf = self.rng, self.wf
        fast = self.moved_in is not None
        w = self.worker
        # the assessment: within the wait, or late
        if not fast and self.hit("SDS-ACC-02") and self.fits(late := self.late("tier3_wait", T, 3, 21)):
            A0 = late
            acc02 = PendingTruth("SDS-ACC-02", (self.triage,))
            self.truth.append(acc02)
        else:
            A0 = self.gap(T, 1, 3) if fast else self.ontime("tier3_wait", T, lo=2)
            acc02 = None
        started = self.add(A0, "assessment_started", w)
        if acc02 is not None:
            acc02.anchor = started
        g = (lambda d, lo, hi: self.gap(d, 0, 1)) if fast else self.gap

        band = self.weighted(BANDS, (20, 45, 25, 10))
        if self.group == "children_families":
            band = self.pick(("critical", "substantial"))
        bands = wf.param_value("eligible_bands", A0)
        override = band not in bands and rng.random() < 0.04
        eligible = band in bands or override
        if fast and not eligible:
            band, eligible, override = "substantial", True, False

        # independent support, before options (advocacy for a mental disorder)
        adv_left_out = not self.mental_disorder and self.hit("SDS-ADV-01")
        kind = "advocacy" if self.mental_disorder else self.weighted(("advice", "advocacy", "brokerage"), (5, 2, 3))
        adv02 = self.mental_disorder and eligible and self.hit("SDS-ADV-02")
        if adv02:
            kind = "advice"
        offer_day = A0 if fast else self.gap(A0, 0, 1)  # before the outcomes, so always before the options
        if not adv_left_out:
            provider = {"advocacy": "Moray Independent Advocacy", "advice": "SDS Scotland advice line",
                        "brokerage": "Support brokerage service"}[kind]
            offer = self.add(offer_day, "independent_support_offered", w, provider=provider, kind=kind)
            self.add(g(offer_day, 0, 6), "independent_support_referred" if rng.random() < 0.3
                     else "independent_support_declined", w, provider=provider)
            if adv02:
                self.inject("SDS-ADV-02", offer, anchor_acts=("options_offered",), after=offer)
        else:
            self.inject("SDS-ADV-01", anchor_acts=("options_offered", "case_closed"), after=started)

        day = g(A0, 1, 6)
        if eligible and self.hit("SDS-ASM-01"):
            self.inject("SDS-ASM-01", anchor_acts=("budget_calculated",), after=started, every=True)
        else:
            self.add(day, "outcomes_agreed", w, count=self.ri(2, 6))
        day = g(day, 0, 5)
        areas = ["finance", *rng.sample(("natural", "community", "technology"), self.ri(1, 3))]
        if rng.random() < 0.5:
            areas += rng.sample(("own", "adaptations"), self.ri(1, 2))
        assets = self.add(day, "assets_explored", w, areas=areas)
        if eligible and self.hit("SDS-ASM-02"):
            areas.remove("finance")
            self.inject("SDS-ASM-02", assets, anchor_acts=("budget_calculated",), after=started, every=True)

        # capacity (older people and learning disability mostly)
        self.capacity: bool | None = None
        if self.group in ("older_people", "learning_disability") and rng.random() < 0.12 and eligible:
            day = g(day, 0, 3)
            concern = self.add(day, "capacity_concern_raised", w)
            has = rng.random() < 0.55
            self.capacity = has
            if has and self.hit("SDS-CAP-01"):
                self.inject("SDS-CAP-01", concern, anchor_acts=("option_chosen",), after=concern)
            else:
                day = g(day, 1, 5)
                assessed = self.add(day, "capacity_assessed", w, has_capacity=has)
                if not has:
                    if self.hit("SDS-CAP-02"):
                        self.inject("SDS-CAP-02", assessed, anchor_acts=("option_chosen",), after=assessed)
                    else:
                        day = g(day, 0, 4)
                        self.add(day, "proxy_recorded", w, kind=self.pick(
                            ("welfare_attorney", "guardian", "continuing_attorney", "intervention_order")))

        day = g(day, 0, 6)
        elg_attrs: dict[str, Any] = {"band": band, "eligible": eligible}
        if override:
            elg_attrs["override_reason"] = "risk to independence without support (panel view)"
        elg05 = eligible and not override and not fast and self.hit("SDS-ELG-05")
        if elg05:
            elg_attrs["band"] = band = "moderate"
        determined = self.add(day, "eligibility_determined", w, **elg_attrs)
        if elg05:
            self.inject("SDS-ELG-05", anchor=determined)
        if self.hit("SDS-ELG-01"):
            self.inject("SDS-ELG-01", determined, anchor_acts=ELIGIBLE_ACTS, after=determined)
        else:
            self.add(day, "eligibility_communicated", w, reasons_given=True)
        # a family carer recognised during the assessment
        if self.group != "carer" and not self.referral.attrs["unpaid_carer"] and rng.random() < 0.08:
            young = rng.random() < 0.25
            ident = self.add(g(A0, 0, 10), "carer_identified", w, young_carer=young,
                             **({"cared_for_terminal": True} if self.terminal else {}))
            self.carer_thread(ident, ident.day, self.terminal, young)
        AC = g(day, 0, 4)
        self.add(AC, "assessment_completed", w)

        if not eligible:
            signs = [self.add(g(AC, 0, 5), "signposted", w, to=self.pick(("community_group", "day_centre",
                                                                              "carers_centre")))]
            if rng.random() < 0.5:
                signs.append(self.add(g(signs[0].day, 0, 3), "information_given", w, topics=["community"]))
            if self.hit("SDS-ELG-03"):
                for e in signs:
                    self.evs.remove(e)
                self.inject("SDS-ELG-03", determined, anchor_acts=("case_closed",), after=determined)
            self.pending_close = ("no_further_need", w)
            return self.gap(max(e.day for e in self.evs), 1, 10)
        return self.budget_and_support(AC, band, determined, fast)
