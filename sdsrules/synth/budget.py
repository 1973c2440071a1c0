"""Budget, approval, options, choice and the support plan, up to the start of support."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..calendar import add_working_days
from .people import Draft, draw_amount
from .settings import GeneratorError
from .support import SupportStage


class BudgetStage(SupportStage):
    def budget_and_support(self, AC: date, band: str, determined: Draft, fast: bool) -> date | None:
        rng, wf, w = self.rng, self.wf, self.worker
        g = (lambda d, lo, hi: self.gap(d, 0, 1)) if fast else self.gap
        amount = draw_amount(rng, self.group)
        B = g(AC, 1, 4)
        self.add(B, "budget_calculated", w, amount=amount, period="week",
                 method=self.pick(("ras", "ras", "saq", "equivalency", "costed_plan")))
        limits = sorted(wf.param_value("delegated_limits", B).items(), key=lambda kv: kv[1])
        threshold = min(wf.param_value("panel_threshold", B), limits[-1][1])
        day = B
        # a reduction by a manager, with reasons and appeal rights (a few)
        decision_late = False
        if amount > 200 and amount <= threshold and rng.random() < 0.07:
            new = round(amount * self.pick((0.8, 0.85, 0.9)))
            rattrs: dict[str, Any] = {"amount": new, "period": "week",
                                      "reasons": "the outcomes can be met at a lower cost with community support"}
            bud03 = self.hit("SDS-BUD-03")
            if bud03:
                del rattrs["reasons"]
            day = g(day, 0, 2)
            reduced = self.add(day, "budget_reduced", self.manager["service_manager"], **rattrs)
            if bud03:
                self.inject("SDS-BUD-03", anchor=reduced)
            amount = new
            if not fast and self.hit("SDS-BUD-04") and self.fits(self.late("appeal_rights_notice", day, 1, 4)):
                decision_late = True
                told = add_working_days(self.due("appeal_rights_notice", day), self.ri(1, 4))
                # the rest of the journey hurries, so the personal-care wait still holds
                g = lambda d, lo, hi: self.gap(d, 0, 1)  # noqa: E731
            else:
                told = self.ontime("appeal_rights_notice", day, lo=0, share=0.5)
            decision_at = (told, reduced)
        else:
            decision_at = None
        panel = amount > threshold
        bud05 = False
        if panel:
            day = g(day, 1, 3)
            top = limits[-1][0]
            if self.hit("SDS-BUD-02"):  # approved by the top of the scheme of delegation, no panel
                approved = self.add(day, "budget_approved", self.manager.get(top, w), amount=amount,
                                    period="week", approver_role=top)
                self.inject("SDS-BUD-02", anchor=approved)
                self.inject("SDS-BUD-01", anchor=approved)
            else:
                self.add(day, "panel_referred", w, panel=self.pick(("sds_panel", "resource_allocation_group")))
                day = g(day, 2, 5)
                self.add(day, "panel_decided", self.panel, decision="approved", amount=amount, period="week")
                self.add(day, "budget_approved", self.panel, amount=amount, period="week", approver_role="panel")
        else:
            role = next(r for r, lim in limits if amount <= lim)
            lower = [r for r, lim in limits if lim < amount]
            day = g(day, 0, 4)
            if lower and self.hit("SDS-BUD-01"):
                role = self.pick(lower)
                approved = self.add(day, "budget_approved", self.manager.get(role, w), amount=amount,
                                    period="week", approver_role=role)
                self.inject("SDS-BUD-01", anchor=approved)
            elif decision_at is None and not fast and self.hit("SDS-BUD-05"):
                bud05 = True  # the approval is left out and the offer will not state the budget
            else:
                self.add(day, "budget_approved", self.manager.get(role, w), amount=amount,
                                    period="week", approver_role=role)
        if decision_at is not None:
            told, reduced = decision_at
            told = max(told, day)
            told_ev = self.add(told, "decision_communicated", w, reasons_given=True, appeal_rights_given=True)
            if decision_late:
                self.inject("SDS-BUD-04", reduced, anchor=told_ev)
            day = told

        # an eligible case closed without the options (declined after the budget)
        # (closed inside the personal-care wait: the closure proves only that the options never came)
        close = self.gap(max(e.day for e in self.evs), 2, 20)
        if not fast and self.hit("SDS-ELG-02") and close < self.due("personal_care_wait", AC) - timedelta(days=2):
            self.inject("SDS-ELG-02", determined, anchor_acts=("case_closed",), after=determined)
            self.pending_close = ("declined", w)
            return close

        # written information and the four options
        inf01 = self.hit("SDS-INF-01")
        extra = rng.sample(("advocacy", "carers", "complaints", "community"), self.ri(0, 2))
        topics = ["sds_options", "finance", *extra]
        if inf01:
            topics.remove("sds_options")
        day = g(day, 0, 2)
        self.add(day, "information_given", w, topics=topics)
        dp_ineligible = rng.random() < 0.04
        options = [2, 3, 4] if dp_ineligible else [1, 2, 3, 4]
        chosen = self.weighted(options, [20, 12, 60, 8][-len(options):])
        opt01 = not dp_ineligible and self.hit("SDS-OPT-01")
        if opt01:
            options.remove(self.pick([o for o in options if o != chosen]))
        oattrs: dict[str, Any] = {"options": options, "budget_stated": not bud05, "information_given": not inf01}
        day = g(day, 0, 2)
        offered = self.add(day, "options_offered", w, **oattrs)
        if inf01:
            self.inject("SDS-INF-01", anchor=offered)
        if bud05 and not dp_ineligible:  # spec 1.1: the same-day exception below would excuse the offer
            self.inject("SDS-BUD-05", anchor=offered)
        if dp_ineligible:
            self.add(day, "options_exception", w, reason="dp_ineligible", written_reasons=True)
        self.dp_ineligible = dp_ineligible
        chosen_by = "person"
        if self.capacity is False:
            chosen_by = "proxy"
        elif chosen == 3 and rng.random() < 0.05:
            chosen_by = "deemed"
        day = g(day, 0, 5)
        self.add(day, "option_chosen", w, option=chosen, chosen_by=chosen_by)
        contingency = not self.hit("SDS-PLN-02")
        if self.hit("SDS-PLN-01"):
            self.inject("SDS-PLN-01", anchor_acts=("support_started",), after=self.evs[-1])
        else:
            day = g(day, 0, 4)
            plan = self.add(day, "support_plan_agreed", w, contingency=contingency, risk_enablement=rng.random() < 0.4,
                            outcomes=self.ri(2, 6))
            if not contingency:
                self.inject("SDS-PLN-02", anchor=plan)
        start_option = chosen
        opt02 = self.hit("SDS-OPT-02")
        if opt02:
            others = [o for o in (2, 3, 4) if o != chosen and not (chosen_by == "deemed" and o == 3)]
            start_option = self.pick(others)
        personal_care = band in ("critical", "substantial")
        begin = g(day, 1, 6)
        limit = self.due("personal_care_wait", AC) - timedelta(days=2)
        if begin > limit:  # never reached with these gaps; kept as a guard
            raise GeneratorError(f"{self.name}: support would start after the personal-care wait")
        if self.moved_in is not None:
            limit_in = self.due("move_in_support", self.moved_in.day) - timedelta(days=2)
            if begin > limit_in:
                begin = max(day, limit_in)
            if begin > limit_in:
                raise GeneratorError(f"{self.name}: a move-in path too slow for the move-in target")
            if self.hit("SDS-TRN-02"):
                late = self.late("move_in_support", self.moved_in.day, 3, 12)
                if self.fits(late) and late <= self.due("personal_care_wait", AC) - timedelta(days=2):
                    begin = late
                    self.inject("SDS-TRN-02", self.moved_in, anchor_acts=("support_started",), after=self.evs[-1])
        elif personal_care and self.hit("SDS-ELG-04"):
            late = self.late("personal_care_wait", AC, 3, 20)
            if self.fits(late):
                begin = late
                self.inject("SDS-ELG-04", anchor_acts=("support_started",), after=self.evs[-1])
        sattrs: dict[str, Any] = {"option": start_option}
        if personal_care:
            sattrs["personal_care"] = True
        started = self.add(begin, "support_started", w, **sattrs)
        if opt02:
            self.inject("SDS-OPT-02", anchor=started)
        if opt01:
            self.inject("SDS-OPT-01", offered, anchor=started)
        return self.supported(started, start_option)
