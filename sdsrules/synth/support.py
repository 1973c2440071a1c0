"""Support under way: reviews, direct-payment monitoring, changes, moves and the end of support."""

from __future__ import annotations

from datetime import date, timedelta

from .later import LaterStages
from .people import CLOSING_REASONS, Draft


class SupportStage(LaterStages):
    def supported(self, started: Draft, option: int) -> date | None:
        """Reviews, direct-payment monitoring, changes and transitions while support lasts; the closure day
        (None: still open at the horizon)."""
        rng, w = self.rng, self.worker
        begin = started.day
        # direct payments and young people's cases stay open; some others end (every event so far before)
        E: date | None = None
        if option != 1 and self.group != "children_families" and rng.random() < 0.3:
            E = max(begin + timedelta(days=self.ri(40, 640)), max(e.day for e in self.evs) + timedelta(days=1))
        end = min(E, self.horizon + timedelta(days=1)) if E else self.horizon + timedelta(days=1)
        # reviews
        first = True
        prev = begin
        reviews = []
        while True:
            name = "initial_review" if first else "review_interval"
            code = "SDS-REV-01" if first else "SDS-REV-02"
            day = self.ontime(name, prev, lo=(28 if first else 200))
            if self.hit(code):
                late = self.late(name, prev, 3, 30 if first else 200)
                if self.fits(late, end):
                    day = late
                    ev = self.add(day, "review_completed", w, kind="initial" if first else "scheduled",
                                  outcomes_met=self.pick(("all", "some", "some", "none")))
                    self.inject(code, anchor=ev)
                    reviews.append(ev)
                    prev, first = day, False
                    continue
            if day >= end:
                break
            ev = self.add(day, "review_completed", w, kind="initial" if first else "scheduled",
                          outcomes_met=self.pick(("all", "all", "some", "none")))
            reviews.append(ev)
            prev, first = day, False
        if reviews and self.hit("SDS-SEQ-01"):
            ev = self.add(reviews[0].day, "outcomes_agreed", w, count=self.ri(1, 4))
            self.inject("SDS-SEQ-01", anchor=ev)
        # direct payments: means test and financial reviews
        if option == 1:
            mt = self.ontime("dp_means_test", begin, lo=14, share=0.5)
            if self.hit("SDS-DPY-01") and self.fits(late := self.late("dp_means_test", begin, 3, 40), end):
                ev = self.add(late, "dp_means_test_completed", self.finance)
                self.inject("SDS-DPY-01", started, anchor=ev)
            elif mt < end:
                self.add(mt, "dp_means_test_completed", self.finance)
            first_year = self.due("dp_financial_review_first_period", begin)
            prev = begin
            while True:
                name = "dp_financial_review_early" if prev < first_year else "dp_financial_review_interval"
                day = self.ontime(name, prev, lo=(40 if name.endswith("early") else 200))
                # keep clear of the first-year boundary, where "less than 12 months after" is decided
                if abs((day - first_year).days) <= 3:
                    day = first_year - timedelta(days=4)
                if self.hit("SDS-REV-03"):
                    late = self.late(name, prev, 3, 30)
                    if self.fits(late, end) and abs((late - first_year).days) > 3:
                        ev = self.add(late, "financial_review_completed", self.finance)
                        self.inject("SDS-REV-03", anchor=ev)
                        prev = late
                        continue
                if day >= end:
                    break
                self.add(day, "financial_review_completed", self.finance)
                prev = day
        # a material change, and the options put again
        if rng.random() < 0.12:
            m = begin + timedelta(days=self.ri(30, 400))
            if m + timedelta(days=60) < end:
                self.add(m, "material_change_recorded", w,
                         what=self.pick(("carer no longer able to help", "hospital admission",
                                          "moved to sheltered housing", "deterioration in health")))
                offer = self.ontime("options_reoffer", m, lo=2)
                late_offer = self.late("options_reoffer", m, 3, 20)
                opts = [2, 3, 4] if self.dp_ineligible else [1, 2, 3, 4]
                if self.hit("SDS-OPT-03") and self.fits(late_offer, end):
                    ev = self.add(late_offer, "options_offered", w, options=opts, budget_stated=True,
                                  information_given=True)
                    self.inject("SDS-OPT-03", anchor=ev)
                else:
                    self.add(offer, "options_offered", w, options=opts, budget_stated=True, information_given=True)
        # a young person: transition planning, then adult services at 18
        if self.group == "children_families" and self.born is not None:
            self.transition(begin, end)
        self.complaints(begin, end)
        if E is None:
            return None
        reason = self.pick(CLOSING_REASONS)
        if reason == "moved":
            self.add(E, "moved_out", w, authority=self.pick(("Aberdeen City", "Highland", "Perth and Kinross")))
        if reason != "died":
            self.add(E, "support_ended", w, option=option, reason=reason)
        self.pending_close = (reason, w)
        return E
