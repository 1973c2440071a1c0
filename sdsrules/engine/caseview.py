"""A case as the rule templates see it (``CaseView``: its steps, episodes and indexes) and what the search finds
for one trigger of one check (``Fact``). Shared by the templates (``semantics``) and the named functions
(``functions``), so neither imports the other's internals."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date, datetime
from operator import attrgetter, itemgetter

import attrs

from ..attribution import holders
from ..workflow import ParamValue, Workflow
from .rules import Check, Matcher, Rule

_EVENT = itemgetter(0)  # a Step's event (replay.Step is a NamedTuple: event, state, after, episode, allowed)
_EPISODE = itemgetter(3)
_DAY = attrgetter("day")
_ACTIVITY = attrgetter("activity")

BREACH = frozenset({"late", "overdue", "missing", "breach"})


@attrs.define(slots=True)
class Fact:
    """One trigger of one check and what the search found. ``status`` is set only by functions; the template
    checks are judged by a decider (``verdict``). Internal and short-lived, so not frozen: a frozen attrs
    class pays for every field it sets, and a large log makes millions of these."""

    rule: Rule
    check: Check
    trigger: int  # index into the case's steps
    status: str = ""
    day: date | None = None  # functions: the date that matters
    detail: str = ""
    expected: str = ""
    actual: str = ""
    due: date | None = None
    due_at: datetime | None = None  # a deadline in hours: the instant it falls due (``due`` is its day)
    evidence: tuple[tuple[int, str], ...] = ()  # functions: (step index, role)
    params: tuple[ParamValue, ...] = ()
    done: int | None = None  # index of the event that met it
    end: int | None = None  # index of the before/lapse event that ended it
    end_kind: str = ""  # "before" or "lapse"
    excused: int | None = None  # index of the event that excused it
    since: int | None = None  # precedence: index of the ``since`` event
    met: bool = False  # the trigger met the duty itself (``met_if``)


class _Reads:
    """A count that can grow without touching a class (a class attribute written on every read would change the
    class's version each time, and the interpreter's caches of every attribute of every view with it: 7% of a
    bulk replay's time, measured)."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


#: reads of any view's as-of date, ever (compared before and after a case's check)
AS_OF_READS = _Reads()


class CaseView:
    """A case's steps with the indexes the templates need.

    ``as_of`` is read through a property that counts the reads (``AS_OF_READS``, one count for every view): a
    case whose check never read it has the same answer at any as-of date (``replay.check_cases`` asks, for a bulk
    replay that judges cases before the log's last day is known)."""

    @property
    def as_of(self) -> date:
        AS_OF_READS.n += 1
        return self._as_of

    def __init__(self, steps: Sequence, wf: Workflow, as_of: date):
        self.steps = steps
        self.events = events = list(map(_EVENT, steps))
        self.days = list(map(_DAY, events))
        self.episodes = list(map(_EPISODE, steps))
        self.wf = wf
        self._as_of = as_of
        self.lookup = wf.param_value
        self.case = self.events[0].case if self.events else ""
        #: each event's activity, by index
        self.acts = acts = list(map(_ACTIVITY, events))
        self.by_activity: dict[str, list[int]] = {}
        by = self.by_activity
        for i, a in enumerate(acts):
            got = by.get(a)
            if got is None:
                by[a] = [i]
            else:
                got.append(i)
        self._first: dict[int, dict[int, int]] = {}
        self._merged: dict[frozenset, list[int]] = {}
        self._ends: list[int] | None = None
        self._starts: list[int] | None = None
        self._holders: list[tuple[str, str]] | None = None

    def holder(self, i: int) -> tuple[str, str]:
        """(team, worker) holding the case at step ``i``, from the case's holders found once
        (``attribution.holders``)."""
        h = self._holders
        if h is None:
            h = self._holders = holders(self.steps)
        return h[i]

    # -- indexes
    def indexes_of(self, activities: frozenset[str]) -> list[int]:
        """Every index of any of the activities, in order (cached per activity set)."""
        got = self._merged.get(activities)
        if got is None:
            lists = [self.by_activity[a] for a in activities if a in self.by_activity]
            got = lists[0] if len(lists) == 1 else sorted(i for x in lists for i in x) if lists else []
            self._merged[activities] = got
        return got

    def latest_before(self, activities, i: int, same_episode: bool = True) -> int | None:
        best = None
        for a in activities:
            idx = self.by_activity.get(a)
            if idx:
                k = bisect.bisect_left(idx, i) - 1
                if k >= 0 and (best is None or idx[k] > best):
                    best = idx[k]
        if best is not None and same_episode and self.episodes[best] != self.episodes[i]:
            return None
        return best

    # -- matching
    def prior(self, m: Matcher, i: int) -> bool:
        j = self.latest_before(m.activities, i)
        return j is not None and (not m.has_where or m.where.matches(self.events[j], self.lookup))

    def base_match(self, m: Matcher, i: int) -> bool:
        ev = self.events[i]
        if ev.activity not in m.activities:
            return False
        if m.plain:
            return True
        if m.has_where and not m.where.matches(ev, self.lookup):
            return False
        for p in m.preceded_by:
            if not self.prior(p, i):
                return False
        return not any(self.prior(p, i) for p in m.not_preceded_by)

    def match(self, m: Matcher, i: int) -> bool:
        if not m.first:
            return self.base_match(m, i)
        firsts = self._first.get(id(m))
        if firsts is None:  # the first matching index of each episode, computed once per case
            firsts = {}
            for k in self.indexes_of(m.activities):
                ep = self.episodes[k]
                if ep not in firsts and self.base_match(m, k):
                    firsts[ep] = k
            self._first[id(m)] = firsts
        return firsts.get(self.episodes[i]) == i

    def any_match(self, ms: Sequence[Matcher], i: int) -> bool:
        for m in ms:  # noqa: SIM110 - a loop, not any(generator): the innermost call of the search
            if self.match(m, i):
                return True
        return False

    def episode_start(self, i: int) -> int:
        """The index of the first event of ``i``'s episode."""
        starts = self._starts
        if starts is None:  # computed once per case: for each index, where its episode begins
            eps = self.episodes
            starts = [0] * len(eps)
            for k in range(1, len(eps)):
                starts[k] = k if eps[k] != eps[k - 1] else starts[k - 1]
            self._starts = starts
        return starts[i]

    def episode_range(self, i: int) -> range:
        return range(self.episode_start(i), i)

    def episode_end(self, i: int) -> int:
        """The index just past the last event of ``i``'s episode (the next referral after a closure, or the end)."""
        ends = self._ends
        if ends is None:  # computed once per case: for each index, where its episode stops
            n = len(self.episodes)
            ends = [n] * n
            for k in range(n - 2, -1, -1):
                ends[k] = k + 1 if self.episodes[k + 1] != self.episodes[k] else ends[k + 1]
            self._ends = ends
        return ends[i]

    def param(self, name: str, day: date) -> ParamValue:
        return self.wf.param(name, day)
