"""The durable-rules decider: each check's verdict compiled to single-pattern rules over obligation facts.

The search for events (``semantics.derive``) is Python; the judgement is durable-rules'. Each fact carries the
trigger's day, the due date, the day of the event that met it, the day and kind of the event that ended it,
whether it was excused, and the as-of date, all as day numbers; each check compiles to rules such as
``check == 'SDS-REV-02#0' and excused == 0 and done > 0 and due > 0 and done > due`` (late). The reference
decider (``semantics.verdict``) judges the same facts in plain Python; the differential tests hold them equal.

How it is run, from ``shared/notes/engines-measured.md``: single-pattern rules that test one fact's own fields
(no joins, no ``none``), one catch-all rule so no batch is ever dropped as unhandled, one session for all
cases, each case's facts asserted as a batch and then retracted, every fact with a unique id, and no
wall-clock timers (deadlines are event-time day numbers). It is imported only inside worker processes or
one dedicated thread, so a crash in the C engine cannot take the replay down.
"""

from __future__ import annotations

import itertools
import os
from datetime import date

from ..workflow import Workflow
from .rules import Check, Rule, Rulebook
from .semantics import BREACH, CaseView, Fact, decide, derive, settle


def _verdict_rules(m, rule: Rule, check: Check) -> list[tuple[str, object]]:
    """(status, condition) pairs: the breach verdicts of one check as durable-rules conditions."""
    base = m.check == check.key
    if rule.effective_from:
        base = base & (m.day >= rule.effective_from.toordinal())
    if rule.effective_until:
        base = base & (m.day <= rule.effective_until.toordinal())
    t = check.template
    if t == "function":
        return [(s, base & (m.fst == s)) for s in sorted(BREACH)]
    base = base & (m.met == 0)
    if t == "forbid":
        return [("breach", base)]
    if t == "precedence":
        return [("missing", base & (m.exc == 0) & (m.done == 0))]
    live = base & (m.exc == 0)
    out = [
        ("late", live & (m.done > 0) & (m.due > 0) & (m.done > m.due)),
        ("missing", live & (m.done == 0) & (m.endk == "before") & ((m.due == 0) | (m.end <= m.due))),
    ]
    if check.judge_open and check.within:
        out.append(("overdue", live & (m.done == 0) & (m.end > 0) & (m.due > 0) & (m.end > m.due)))
        out.append(("overdue", live & (m.done == 0) & (m.end == 0) & (m.due > 0) & (m.asof > m.due)))
    return out


class DurableChecker:
    name = "durable"

    def __init__(self, wf: Workflow, book: Rulebook):
        from durable import lang

        self.wf, self.book = wf, book
        self.fired: dict[int, str] = {}
        self.ids = itertools.count()
        self.ruleset = f"sdsrules_{book.fingerprint()}_{os.getpid()}_{id(self)}"
        m = lang.m
        fired = self.fired

        def action(name: str, status: str):
            def fire(c):
                fired[c.m.n] = status
            fire.__name__ = name  # durable-rules names each rule after its action: one name per rule
            return fire

        with lang.ruleset(self.ruleset):
            for rule, check in book.checks():
                for n, (status, cond) in enumerate(_verdict_rules(m, rule, check)):
                    name = f"r_{check.key}_{n}_{status}".replace("-", "_").replace("#", "_")
                    lang.when_all(cond)(action(name, status))

            @lang.when_all(+m.check)
            def _every_fact(c):  # the catch-all: a batch with an unmatched fact is otherwise dropped
                pass

        self._lang = lang

    def _payload(self, view: CaseView, facts: list[Fact]) -> list[dict]:
        base = next(self.ids) * 100_000
        asof = view.as_of.toordinal()
        days = view.days
        out = []
        for n, f in enumerate(facts):
            out.append({
                "id": str(base + n), "n": n, "check": f.check.key, "day": days[f.trigger].toordinal(),
                "due": f.due.toordinal() if f.due else 0,
                "done": days[f.done].toordinal() if f.done is not None else 0,
                "end": days[f.end].toordinal() if f.end is not None else 0, "endk": f.end_kind,
                "exc": 0 if f.excused is None else 1, "asof": asof, "fst": f.status, "met": int(f.met),
            })
        return out

    def __call__(self, steps, as_of: date):
        view = CaseView(steps, self.wf, as_of)
        facts = list(derive(view, self.book))
        if not facts:
            return decide(view, facts, [])
        payload = self._payload(view, facts)
        self.fired.clear()
        self._lang.assert_facts(self.ruleset, payload)
        fired = dict(self.fired)
        self._lang.retract_facts(self.ruleset, payload)
        self.fired.clear()
        statuses = [fired.get(n) or settle(view, f) for n, f in enumerate(facts)]
        return decide(view, facts, statuses)
