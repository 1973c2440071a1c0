"""The shared ground of a case being built: randomness, events, truth, and deadline-aware timing."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..calendar import Duration, add_working_days
from .people import DAYS, Draft, PendingTruth

if TYPE_CHECKING:
    from .run import Generator


class CaseBase:
    """What every stage of a case being built shares: its random source, its events and truth so far, the people
    on it, and the helpers that time steps by the design's deadlines in force on the triggering day."""

    # set while the journey is built (``CaseBuilder.build`` and the stages)
    group: str
    age: int
    team: str
    access: dict
    worker: dict
    finance: dict
    manager: dict[str, dict]
    panel: dict
    mental_disorder: bool
    terminal: bool
    born: date | None
    referral: Draft
    R: date
    moved_in: Draft | None
    triage: Draft
    capacity: bool | None
    dp_ineligible: bool
    pending_close: tuple[str, dict]

    def __init__(self, gen: Generator, n: int):
        self.gen, self.wf, self.s = gen, gen.wf, gen.settings
        self.rng = random.Random(self.s.seed * 1_000_003 + n)
        self.rand = self.rng.random
        self.rates = gen.rates
        self.name = f"C-{n:06d}"
        self.evs: list[Draft] = []
        self.truth: list[PendingTruth] = []
        self.seq = 0
        self.horizon = self.s.horizon

    # -- helpers
    def hit(self, code: str) -> bool:
        rate = self.rates[code]
        return rate > 0 and self.rand() < rate

    def ri(self, lo: int, hi: int) -> int:
        """A whole number from ``lo`` to ``hi`` (faster than ``randint``; the run stays deterministic)."""
        return lo + int(self.rand() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]

    def weighted(self, seq, weights):
        x = self.rand() * sum(weights)
        for item, w in zip(seq, weights, strict=True):
            x -= w
            if x < 0:
                return item
        return seq[-1]

    def add(self, day: date, activity: str, actor: dict, **attrs) -> Draft:
        ev = Draft(day, self.seq, activity, actor, attrs)
        self.seq += 1
        self.evs.append(ev)
        return ev

    def inject(self, code: str, *evidence: Draft, anchor: Draft | None = None, anchor_acts=(), after=None,
               every=False) -> None:
        self.truth.append(PendingTruth(code, evidence, anchor, anchor_acts, after, every))

    def dur(self, name: str, day: date) -> Duration:
        fixed = self.gen.fixed.get(name)
        return fixed if fixed is not None else self.wf.param_value(name, day)

    def due(self, name: str, day: date) -> date:
        return self.dur(name, day).after(day)

    def ontime(self, name: str, start: date, lo: int = 1, share: float = 1.0) -> date:
        """A day from ``start + lo`` to two days before the deadline (one working day for working-day ones);
        ``share`` < 1 keeps to the early part of that span."""
        d = self.dur(name, start)
        last = add_working_days(start, d.count - 1) if d.unit == "working days" else d.after(start) - timedelta(2)
        span = max(0, (last - start).days - lo)
        return start + timedelta(days=lo + self.ri(0, int(span * share)))

    def late(self, name: str, start: date, lo: int, hi: int) -> date:
        """A day ``lo``..``hi`` days (working days, for working-day deadlines) after the deadline."""
        d = self.dur(name, start)
        deadline = d.after(start)
        k = self.ri(lo, hi)
        return add_working_days(deadline, k) if d.unit == "working days" else deadline + timedelta(days=k)

    def gap(self, day: date, lo: int, hi: int) -> date:
        return day + DAYS[lo + int(self.rand() * (hi - lo + 1))]

    def fits(self, day: date, before: date | None = None) -> bool:
        """A late event may be injected only where it stays in the log (and before ``before``)."""
        return day <= self.horizon and (before is None or day < before)

    # -- the journey
