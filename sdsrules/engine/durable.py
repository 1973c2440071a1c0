"""The durable-rules decider: each check compiled to a single-pattern rule over obligation facts.

How it is run, from ``shared/notes/engines-measured.md``: single-pattern rules that test one fact's own fields
(no joins, no ``none``), one catch-all rule so no batch is ever dropped as unhandled, one session for all
cases, each case's facts asserted as a batch and then retracted, every fact with a unique id, and no
wall-clock timers (deadlines were computed in event time before the facts were made). It is imported only
inside worker processes (``engine/__init__.py``), so a crash in the C engine cannot take the replay down.
"""

from __future__ import annotations

import itertools
import os
from datetime import date

from ..workflow import Workflow
from .reference import decide
from .rules import Rulebook
from .semantics import BREACH, CaseView, derive


class DurableChecker:
    name = "durable"

    def __init__(self, wf: Workflow, book: Rulebook):
        from durable import lang

        self.wf, self.book = wf, book
        self.fired: list[int] = []
        self.ids = itertools.count()
        self.ruleset = f"sdsrules_{book.fingerprint()}_{os.getpid()}_{id(self)}"
        m = lang.m
        fired = self.fired

        def action(name: str):
            def fire(c):
                fired.append(c.m.n)
            fire.__name__ = name  # durable-rules names each rule after its action: one name per check
            return fire

        breach_status = None
        for s in sorted(BREACH):
            cond = m.status == s
            breach_status = cond if breach_status is None else (breach_status | cond)
        with lang.ruleset(self.ruleset):
            for rule, check in book.checks():
                cond = (m.check == check.key) & breach_status
                if rule.effective_from:
                    cond = cond & (m.day >= rule.effective_from.toordinal())
                if rule.effective_until:
                    cond = cond & (m.day <= rule.effective_until.toordinal())
                lang.when_all(cond)(action("r_" + check.key.replace("-", "_").replace("#", "_")))

            @lang.when_all(+m.check)
            def _every_fact(c):  # the catch-all: a batch with an unmatched fact is otherwise dropped
                pass

        self._lang = lang

    def __call__(self, steps, as_of: date):
        view = CaseView(steps, self.wf, as_of)
        facts = list(derive(view, self.book))
        if not facts:
            return decide(view, facts, set())
        base = next(self.ids) * 100_000
        payload = [{"id": str(base + n), "n": n, "check": f.check.key, "status": f.status,
                    "day": view.events[f.trigger].day.toordinal()} for n, f in enumerate(facts)]
        self.fired.clear()
        self._lang.assert_facts(self.ruleset, payload)
        fired = set(self.fired)
        self._lang.retract_facts(self.ruleset, payload)
        self.fired.clear()
        return decide(view, facts, fired)
