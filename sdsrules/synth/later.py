"""Threads that run beside the main journey or end it: transitions to adult services, complaints, carers, closure."""

from __future__ import annotations

from datetime import date, timedelta

from ..calendar import add_working_days
from .base import CaseBase
from .people import Draft, age_on, make_actor, nth_birthday


class LaterStages(CaseBase):
    def transition(self, begin: date, end: date) -> None:
        """Transition planning soon after support starts (or late), then adult services at 18."""
        born, w = self.born, self.worker
        if born is None:  # only children with a date of birth get transition planning (support.py)
            return
        eighteen = nth_birthday(born, int(self.wf.param_value("adult_age", begin)))
        planned = self.gap(begin, 7, 60)
        if age_on(born, begin) <= 16 and self.hit("SDS-TRN-01"):
            due = max(nth_birthday(born, int(self.wf.param_value("transition_plan_age", begin))),
                      self.due("transition_after_support", begin))
            late = due + timedelta(days=self.ri(3, 40))
            if self.fits(late, min(end, eighteen)):
                planned = late
                self.inject("SDS-TRN-01", anchor=self.add(late, "transition_planning_started", w))
            else:
                self.add(planned, "transition_planning_started", w)
        elif planned < end:
            self.add(planned, "transition_planning_started", w)
        transfer = max(eighteen, planned + timedelta(days=30))
        if transfer < end and planned < end:
            self.add(transfer, "transferred_to_adult_services", w)

    def complaints(self, begin: date, end: date) -> None:
        rng, w = self.rng, self.worker
        if rng.random() >= 0.07:
            return
        got = begin + timedelta(days=self.ri(5, 300))
        complaints = make_actor("access_team", "access_officer", 50)
        if got + timedelta(days=80) >= end:
            return
        self.add(got, "complaint_received", complaints, stage=1)
        extended = rng.random() < 0.1
        name = "complaint_stage1_extended" if extended else "complaint_stage1_response"
        if not extended and self.hit("SDS-APL-01"):
            ans = add_working_days(self.due(name, got), self.ri(1, 5))
            ev = self.add(ans, "complaint_responded", w, stage=1)
            self.inject("SDS-APL-01", anchor=ev)
        else:
            ans = self.ontime(name, got, lo=1)
            self.add(ans, "complaint_responded", w, stage=1, **({"extended": True} if extended else {}))
        if rng.random() < 0.3:
            got2 = self.gap(ans, 1, 10)
            self.add(got2, "complaint_received", complaints, stage=2)
            if self.hit("SDS-APL-02"):
                ack = add_working_days(self.due("complaint_stage2_acknowledge", got2), self.ri(1, 4))
                ev = self.add(ack, "complaint_acknowledged", complaints, stage=2)
                self.inject("SDS-APL-02", anchor=ev)
            else:
                self.add(self.ontime("complaint_stage2_acknowledge", got2, lo=0), "complaint_acknowledged",
                         complaints, stage=2)
            if self.hit("SDS-APL-03"):
                resp = add_working_days(self.due("complaint_stage2_response", got2), self.ri(1, 8))
                ev = self.add(resp, "complaint_responded", self.manager["service_manager"], stage=2)
                self.inject("SDS-APL-03", anchor=ev)
            else:
                resp = self.ontime("complaint_stage2_response", got2, lo=5)
                self.add(resp, "complaint_responded", self.manager["service_manager"], stage=2)

    def carer_thread(self, ident: Draft, day: date, terminal: bool, young: bool) -> None:
        """An identified carer: offer (adult plan or young carer statement), the answer, and for a terminal
        illness the conversation and plan within their working-day limits."""
        rng, w = self.rng, self.worker
        plan = "young_carer_statement" if young else "adult_carer_support_plan"
        if terminal:
            late = add_working_days(day, self.ri(3, 8))
            if self.hit("SDS-CAR-02") and self.fits(late):
                offer_day = late
                ev = self.add(offer_day, "carer_support_offered", w, plan=plan)
                self.inject("SDS-CAR-02", ident, anchor=ev)
            else:
                offer_day = self.ontime("carer_terminal_offer", day, lo=0)
                self.add(offer_day, "carer_support_offered", w, plan=plan)
            acc = self.gap(offer_day, 0, 1)
            self.add(acc, "carer_support_accepted", w)
            self.add(self.ontime("carer_terminal_conversation", acc, lo=0), "carer_conversation_held", w)
            self.add(self.ontime("carer_terminal_plan", acc, lo=3), "carer_support_plan_completed", w)
            return
        late = self.late("carer_support_offer", day, 3, 20)
        if self.hit("SDS-CAR-01") and self.fits(late):
            offer_day = late
            ev = self.add(offer_day, "carer_support_offered", w, plan=plan)
            self.inject("SDS-CAR-01", ident, anchor=ev)
        else:
            offer_day = self.ontime("carer_support_offer", day, lo=0, share=0.7)
            self.add(offer_day, "carer_support_offered", w, plan=plan)
        if rng.random() < 0.55:
            acc = self.gap(offer_day, 0, 10)
            self.add(acc, "carer_support_accepted", w)
            conv = self.gap(acc, 3, 30)
            self.add(conv, "carer_conversation_held", w)
            self.add(self.gap(conv, 5, 40), "carer_support_plan_completed", w)
        else:
            self.add(self.gap(offer_day, 0, 14), "carer_support_declined", w)

    def close(self, day: date | None) -> None:
        if day is None:
            return
        reason, actor = self.pending_close
        day = max(day, max(e.day for e in self.evs))
        closed = self.add(day, "case_closed", actor, reason=reason)
        if self.hit("SDS-SEQ-02"):
            ev = self.add(self.gap(day, 1, 30), "information_given", actor, topics=["community"])
            self.inject("SDS-SEQ-02", closed, anchor=ev)
