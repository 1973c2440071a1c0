"""The durable-rules decider: each check's verdict compiled to single-pattern rules over obligation facts.

The search for events (``semantics.derive``) is Python; the judgement is durable-rules'. Each fact carries the
trigger's day, the due date, the day of the event that met it, the day and kind of the event that ended it,
whether it was excused, and the as-of date, all as day numbers; each check compiles to rules such as
``check == 'SDS-REV-02#0' and excused == 0 and done > 0 and due > 0 and done > due`` (late). The reference
decider (``semantics.verdict``) judges the same facts in plain Python; the differential tests hold them equal.

How it is run, from ``shared/notes/engines-measured.md``: single-pattern rules that test one fact's own fields
(no ``none``), one session for all cases, the facts of many cases asserted as one batch and then retracted,
every fact with a unique id, no wall-clock timers (deadlines are event-time day numbers), and the host's
dispatch thread given nothing to do, so every action runs on the thread that asserted its facts. It is imported
only inside worker processes or one dedicated thread, so a crash in the C engine cannot take the replay down.

A batch holding a fact that no rule matches is dropped whole (``MessageNotHandledException``), so every fact
must reach some rule. The catch-all that ensures it is a join whose second pattern never arrives: every fact
enters it, so none is unhandled, and it never completes, so it never fires. (A catch-all that fired for every
fact cost a Python action per fact: about half of this engine's time, measured in ``benchmarks/``.) Only a
breach verdict runs a Python action.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from ..workflow import Workflow
from .caseview import BREACH, CaseView, Fact
from .rules import Check, Rule, Rulebook
from .semantics import decide, derive, settle


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    """An instant as whole microseconds since 1970 (UTC), exactly (below 2**53, so a double holds it exactly),
    for deadlines in hours: durable-rules compares them as the reference compares the instants."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def _no_dispatch() -> None:
    """A ruleset's ``dispatch`` for the host's timer thread: our actions run only on the asserting thread."""


class DurableChecker:
    name = "durable"

    def __init__(self, wf: Workflow, book: Rulebook):
        from durable import lang

        self.wf, self.book = wf, book
        self.ids = itertools.count()
        self.ruleset = f"sdsrules_{book.fingerprint()}_{os.getpid()}_{id(self)}"
        m = lang.m
        self._dated = {check.key: bool(rule.effective_from or rule.effective_until) for rule, check in book.checks()}

        def action(name: str, status: str):
            def fire(c):  # pragma: no cover - durable-rules needs an action; _run_actions reads the verdict instead
                raise AssertionError(f"{name}: verdicts are read by DurableChecker._run_actions, never run")
            fire.__name__ = name
            fire.verdict = status  # type: ignore[attr-defined]
            return fire

        with lang.ruleset(self.ruleset):
            for rule, check in book.checks():
                for n, (status, cond) in enumerate(_verdict_rules(m, rule, check)):
                    name = f"r_{check.key}_{n}_{status}".replace("-", "_").replace("#", "_")
                    lang.when_all(cond)(action(name, status))

            @lang.when_all(lang.c.fact << +m.check, lang.c.never << (m.sdsrules_never == 1))
            def _every_fact(c):  # pragma: no cover - the catch-all: every fact enters it, none completes it
                raise AssertionError("no fact carries sdsrules_never")

        import durable_rules_engine

        self._host = lang.get_host()
        self._rules = self._host.get_ruleset(self.ruleset)
        self._engine = durable_rules_engine
        # durable-rules' host runs a timer thread that calls every ruleset's ``dispatch`` every 0.2 s, which starts
        # any pending action on that thread. Racing ``assert_facts``' own ``do_actions`` it took a batch's actions
        # away from it, and verdicts that fired after the batch was read were lost: 35 of 35,474 findings in one
        # of three runs of a million events. This ruleset has no timers and runs its actions itself, so the
        # thread is given nothing to do (``tests/test_engine.py`` hammers ``dispatch`` from another thread).
        self._rules.dispatch = _no_dispatch
        # the engine names rules r_0, r_1, ...: the verdict each gives, from the action registered for it
        self._status = {name: getattr(promise._func, "verdict", "") for name, promise in self._rules._actions.items()}

    #: facts asserted in one call at most: throughput is flat from about 100 facts a call up (about 120k facts/s a
    #: core), and a chunk bounds the JSON text of one call. (Before the timer thread was disarmed, see above, larger
    #: chunks lost more verdicts: a call into the engine that outlasts Python's 5 ms switch interval hands the GIL
    #: to a timer thread that woke during it, right before this thread runs the actions. With it disarmed, chunks
    #: of 500 to 8,000 facts all gave the reference's verdicts on 133,877 facts.)
    CHUNK = 500

    def _payload(self, out: list[dict], view: CaseView, facts: list[Fact]) -> None:
        """Each fact as the JSON object the compiled conditions test, with only the fields its check's conditions
        name (the engine's cost grows with every field it parses). ``id`` is unique and numbers the fact."""
        ids = self.ids
        asof = view.as_of.toordinal()
        days = view.days
        for f in facts:
            check = f.check
            d: dict[str, Any] = {"id": str(next(ids)), "check": check.key}
            if self._dated[check.key]:
                d["day"] = days[f.trigger].toordinal()
            t = check.template
            if t == "function":
                d["fst"] = f.status
            else:
                d["met"] = int(f.met)
                if t != "forbid":
                    d["exc"] = 0 if f.excused is None else 1
                    d["done"] = days[f.done].toordinal() if f.done is not None else 0
                    if t == "response" and f.due_at is not None:
                        # a deadline in hours: the same conditions on instants (the as-of day from its start)
                        events = view.events
                        d["done"] = _micros(events[f.done].at) if f.done is not None else 0
                        d["due"] = _micros(f.due_at)
                        d["end"] = _micros(events[f.end].at) if f.end is not None else 0
                        d["endk"] = f.end_kind
                        if check.judge_open and check.within:
                            start = datetime.combine(view.as_of, time(0), f.due_at.tzinfo)
                            d["asof"] = _micros(start)
                    elif t == "response":
                        d["due"] = f.due.toordinal() if f.due else 0
                        d["end"] = days[f.end].toordinal() if f.end is not None else 0
                        d["endk"] = f.end_kind
                        if check.judge_open and check.within:
                            d["asof"] = asof
            out.append(d)

    def _judge(self, payload: list[dict]) -> dict[int, str]:
        """Assert the facts (in chunks), collect the breach verdicts that fired (fact number -> status), retract.

        This is what ``durable.lang.assert_facts`` / ``retract_facts`` do (the C engine's call, then the actions
        it starts, one after another, on this thread), with two costs taken out: the batch is encoded by orjson
        rather than the standard library's json (the same text), and each action that fires is read straight off
        the engine's result instead of through ``Closure``, ``Content`` and a state write-back that our actions
        never need (``_run_actions``). durable-rules is pinned (2.0.28)."""
        fired: dict[int, str] = {}
        rules, engine = self._rules, self._engine
        handle = rules._handle
        for k in range(0, len(payload), self.CHUNK):
            chunk = payload[k:k + self.CHUNK]
            text = orjson.dumps(chunk).decode()
            for call in (engine.assert_facts, engine.retract_facts):
                state = rules._handle_result(call(handle, text), chunk)
                if state:
                    self._run_actions(handle, state, fired)
        return fired

    def _run_actions(self, handle: int, state: int, fired: dict[int, str]) -> None:
        """Every action the last call started, in the engine's order: each is one breach verdict of one fact,
        ``{rule name: {"m": fact}}``. ``Ruleset.do_actions`` and ``_flush_actions`` in durable/engine.py, less
        what a verdict does not use. If anything goes wrong the action is abandoned, as durable-rules does, so
        the session is not left locked, and the error propagates (a worker crash: the cases are retried)."""
        engine, status = self._engine, self._status
        result = engine.start_action_for_state(handle, state)
        text = result[1] if result else None
        try:
            while text:
                for name, frame in orjson.loads(text).items():
                    fired[int(frame["m"]["id"])] = status[name]
                text = engine.complete_and_start_action(handle, state)
        except BaseException:
            engine.abandon_action(handle, state)
            raise

    def many(self, items):
        """Check several cases' steps, ``[(steps, as_of), ...]``, with one batch of facts for them all."""
        prepared = []
        payload: list[dict] = []
        for steps, as_of in items:
            view = CaseView(steps, self.wf, as_of)
            facts = list(derive(view, self.book))
            prepared.append((view, facts, len(payload)))
            self._payload(payload, view, facts)
        fired = self._judge(payload) if payload else {}
        first = int(payload[0]["id"]) if payload else 0
        out = []
        for view, facts, start in prepared:
            start += first
            statuses = [fired.get(start + k) or settle(view, f) for k, f in enumerate(facts)]
            out.append(decide(view, facts, statuses))
        return out

    def __call__(self, steps, as_of: date):
        return self.many([(steps, as_of)])[0]
