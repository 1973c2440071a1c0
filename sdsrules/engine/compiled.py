"""The compiled decider: each check of the rule packs compiled once into a closure that searches and judges.

``--engine compiled``, the default for bulk replay. It gives exactly the findings, open obligations and
applicable codes of the reference engine (``semantics.derive`` + ``semantics.verdict`` + ``semantics.decide``);
the differential tests (``tests/test_engines_equal.py``, the YAML rule cases in ``conftest.py``) hold them equal.
The structure mirrors ``semantics.py`` function for function, so a change there has one obvious place here:

* ``_response`` / ``_precedence`` / ``_forbid`` / ``_function`` mirror ``semantics._response`` /
  ``_precedence`` / ``derive``'s forbid and function branches, each followed by its branch of ``verdict``;
* ``_matchers`` mirrors ``CaseView.any_match``, ``_matcher`` ``CaseView.match``/``base_match`` (``first`` memoised
  per case), ``_prior`` ``CaseView.prior``, ``_where`` ``Where.matches`` (a plain equality inline, anything else
  by ``Where.matches`` itself); matchers that test the activity alone (``plain``) become one set lookup, and a
  forward scan whose expected, ``before`` and ``lapses_on`` events are all plain walks the case's activities.

Where the time is saved: no :class:`~sdsrules.engine.semantics.Fact` is made for a trigger whose verdict
is neither a breach nor open (most of them: met, lapsed, ok), the verdict is decided where the search ends, the
rule's effective dates are tested before the search (a trigger outside them is ``not_in_force`` whatever the
search finds), each deadline parameter is looked up once per (parameter, day), and each set of checks a case can
trigger is resolved once per set of activities. Facts that become findings or obligations are worded by the
reference's own words (``semantics.to_finding`` / ``to_obligation``, as its ``decide`` does), and ``template:
function`` rules call the reference ``FUNCTIONS``, so changes to the words and the functions flow here unchanged.

The vocabulary (activities, fields, parameters) is the design's and the rule packs': nothing here names an
activity.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ..attribution import Applied
from ..conditions import MISSING, Where
from ..workflow import ParamValue, Workflow
from .caseview import BREACH, CaseView, Fact
from .rules import Check, Matcher, Rule, Rulebook
from .semantics import accumulated, to_finding, to_obligation
from .semantics import due_of as exact_due

#: a compiled check: (view, trigger index, sink of (fact, status) for breaches and open duties) -> the index that
#: attributes the duty (the event that met it, else the trigger), or NOT_APPLIED / EXCUSED
Run = Callable[[CaseView, int, list], int]
NOT_APPLIED = -1  # not in force (the duty did not apply)
EXCUSED = -2  # a recorded exception excused it
#: a compiled set of matchers: (view, index) -> does any match
Pred = Callable[[CaseView, int], bool]

_NOT_APPLIED = frozenset({"excused", "not_in_force"})
_NONE_APPLIED = Applied()  # findings_only: no codes (never changed: the caller only reads it)


def _never(view: CaseView, i: int) -> bool:
    return False


class _View(CaseView):
    """The reference's ``CaseView`` (so explain, to_finding and the named functions get exactly what they expect)
    plus what the compiled closures use: a per-case memo (``first``)."""

    def __init__(self, steps: Sequence, wf: Workflow, as_of: date):
        super().__init__(steps, wf, as_of)
        self.memo: dict[object, dict[int, int]] = {}


_EMPTY: list[int] = []


def _index_of(activities: frozenset[str]) -> Callable[[CaseView], list[int]]:
    """``view.indexes_of(activities)``, without the merge when there is one activity (most sets)."""
    if len(activities) == 1:
        (only,) = activities
        return lambda view: view.by_activity.get(only, _EMPTY)
    return lambda view: view.indexes_of(activities)


def _where(where: Where) -> Callable[[Any, Callable], bool]:
    """``Where.matches(event, lookup)``; a conjunction of plain equalities (``Clause.fast``) tested inline, exactly
    as ``Where.matches`` tests them, anything else asked of ``Where.matches`` itself."""
    if len(where.clauses) == 1 and where.clauses[0].fast is not None:
        name = where.clauses[0].field
        value, kind = where.clauses[0].fast

        def eq(event: Any, lookup: Callable) -> bool:
            got = event.attrs.get(name, MISSING)
            return got == value and type(got) is kind
        return eq
    return where.matches


def _prior(p: Matcher) -> Pred:
    """``CaseView.prior``: the latest earlier event of the activities, in the episode, satisfies ``where``."""
    acts = p.activities
    where = _where(p.where) if p.has_where else None
    if len(acts) == 1:
        (only,) = acts

        def prior_one(view: CaseView, i: int) -> bool:
            idx = view.by_activity.get(only)
            if not idx:
                return False
            k = bisect_left(idx, i) - 1
            if k < 0:
                return False
            j = idx[k]
            if view.episodes[j] != view.episodes[i]:
                return False
            return where is None or where(view.events[j], view.lookup)
        return prior_one

    def prior(view: CaseView, i: int) -> bool:
        j = view.latest_before(acts, i)
        return j is not None and (where is None or where(view.events[j], view.lookup))
    return prior


def _matcher(m: Matcher) -> Pred:
    """``CaseView.match`` of one matcher that is not plain: ``base_match`` and the per-episode ``first``."""
    acts = m.activities
    where = _where(m.where) if m.has_where else None
    pre = tuple(_prior(p) for p in m.preceded_by)
    not_pre = tuple(_prior(p) for p in m.not_preceded_by)

    def base(view: CaseView, i: int) -> bool:
        ev = view.events[i]
        if ev.activity not in acts:
            return False
        if where is not None and not where(ev, view.lookup):
            return False
        for p in pre:
            if not p(view, i):
                return False
        for p in not_pre:  # noqa: SIM110 - the innermost call of the search
            if p(view, i):
                return False
        return True
    if not m.first:
        return base
    key = object()  # this matcher's entry in the case's memo
    index_of = _index_of(acts)

    def first(view: CaseView, i: int) -> bool:
        memo = view.memo  # type: ignore[attr-defined]
        firsts = memo.get(key)
        if firsts is None:  # the first matching index of each episode, computed once per case
            firsts = {}
            eps = view.episodes
            for k in index_of(view):
                ep = eps[k]
                if ep not in firsts and base(view, k):
                    firsts[ep] = k
            memo[key] = firsts
        return firsts.get(view.episodes[i]) == i
    return first


def _plain(ms: Sequence[Matcher]) -> frozenset[str] | None:
    """The activities, when every matcher tests the activity alone (then membership is the whole test)."""
    if all(m.plain and not m.first for m in ms):
        return frozenset(a for m in ms for a in m.activities)
    return None


def _matchers(ms: Sequence[Matcher]) -> Pred:
    """``CaseView.any_match(ms, i)`` as one closure: the plain matchers as one activity test, then the others
    (matching has no side effects beyond per-case caches, so the order cannot change the answer)."""
    if not ms:
        return _never
    plain = frozenset(a for m in ms if m.plain and not m.first for a in m.activities)
    rich = tuple(_matcher(m) for m in ms if not (m.plain and not m.first))
    if not rich:
        def any_plain(view: CaseView, i: int) -> bool:
            return view.events[i].activity in plain
        return any_plain
    rich_acts = frozenset(a for m in ms if not (m.plain and not m.first) for a in m.activities)
    if len(rich) == 1:
        only = rich[0]

        def any_one(view: CaseView, i: int) -> bool:
            a = view.events[i].activity
            if a in plain:
                return True
            return a in rich_acts and only(view, i)
        return any_one

    def any_of(view: CaseView, i: int) -> bool:
        a = view.events[i].activity
        if a in plain:
            return True
        if a not in rich_acts:
            return False
        for m in rich:  # noqa: SIM110 - the innermost call of the search
            if m(view, i):
                return True
        return False
    return any_of


def _expect(check: Check) -> Callable[[CaseView, int], tuple[Pred, frozenset[str] | None]]:
    """``semantics._expect_matchers``: the expected matchers of the first ``when`` case the trigger satisfies, as
    (test, its activities when the test is the activity alone)."""
    cases = tuple((c.when if c.when else None, (_matchers(c.any), _plain(c.any))) for c in check.expect)
    nothing: tuple[Pred, frozenset[str] | None] = (_never, frozenset())
    if len(cases) == 1 and cases[0][0] is None:
        only = cases[0][1]
        return lambda view, i: only

    def pick(view: CaseView, i: int) -> tuple[Pred, frozenset[str] | None]:
        trig = view.events[i]
        for when, got in cases:
            if when is None or when.matches(trig, view.lookup):
                return got
        return nothing
    return pick


class _Params:
    """The design's parameters, each looked up once per (name, day): the value in force and a deadline from it."""

    def __init__(self, wf: Workflow):
        self.wf = wf
        self._due: dict[tuple[str, date], tuple[ParamValue, date]] = {}

    def due_param(self, name: str, day: date) -> ParamValue:
        """The value in force (any kind of parameter, not only a deadline)."""
        return self.wf.param(name, day)

    def due(self, name: str, day: date) -> tuple[ParamValue, date]:
        """The value in force on ``day`` and the due day it gives (a deadline in hours: ``exact``, see
        ``semantics.due_of``; its due day is then the trigger's instant's, not this)."""
        key = (name, day)
        got = self._due.get(key)
        if got is None:
            pv = self.wf.param(name, day)
            got = (pv, pv.value.after(day))
            if len(self._due) >= 65536:
                self._due.clear()
            self._due[key] = got
        return got


def _trigger_params(check: Check, params: _Params) -> Callable[[CaseView, int], tuple[ParamValue, ...]]:
    """``semantics.with_trigger_params``: the values the trigger's conditions compared with, on its day."""
    names = check.trigger_params()
    if not names:
        return lambda view, i: ()

    def values(view: CaseView, i: int) -> tuple[ParamValue, ...]:
        day = view.days[i]
        return tuple(params.due_param(n, day) for n in names)
    return values


def _in_force(rule: Rule) -> Callable[[date], bool] | None:
    return rule.in_force if rule.effective_from or rule.effective_until else None


def _response(rule: Rule, check: Check, params: _Params) -> Run:
    """``semantics._response`` and the response branch of ``semantics.verdict``."""
    dated = _in_force(rule)
    met_if = check.met_if if check.met_if else None
    expect_for = _expect(check)
    within = check.within
    counts_before = check.counts_before
    scan_of = _index_of(check.scan_activities)
    before = _matchers(check.before) if check.before else None
    lapses = _matchers(check.lapses_on) if check.lapses_on else None
    # when the ends are tested by activity alone, the forward scan is three set lookups an event
    before_set, lapses_set = _plain(check.before), _plain(check.lapses_on)
    plain_ends = before_set is not None and lapses_set is not None
    scan_set = check.scan_activities
    excused_by = _matchers(check.excused_by) if check.excused_by else None
    excused_of = _index_of(check.excused_activities)
    ext_within = check.extension_within
    ext_by = _matchers(check.extension_by) if check.extension_by else None
    ext_of = _index_of(check.extension_activities)
    judge_open = check.judge_open
    due_of = params.due
    trigger_params = _trigger_params(check, params)

    def run(view: CaseView, i: int, sink: list) -> int:
        days = view.days
        day = days[i]
        if dated is not None and not dated(day):
            return NOT_APPLIED
        if met_if is not None and met_if.matches(view.events[i], view.lookup):
            return i  # met
        expect, exp_set = expect_for(view, i)
        pvs: tuple[ParamValue, ...] = ()
        due = due_at = None
        if within:
            pv, due = due_of(within, day)
            pvs = (pv,)
            if getattr(pv.value, "exact", False):  # a deadline in hours: from the trigger's instant
                due, due_at = exact_due(pv, view.events[i].at, day)
        done = end = None
        end_kind = ""
        stop = view.episode_end(i)  # spec 1.1: only events of the trigger's episode meet, end or excuse it
        if counts_before:
            for k in range(view.episode_start(i), i):
                if expect(view, k):
                    done = k
                    break
        if done is None and exp_set is not None and plain_ends:
            acts = view.acts
            for k in range(i + 1, stop):  # cases are short: a walk is cheaper than merging index lists
                a = acts[k]
                if a not in scan_set:
                    continue
                if a in exp_set:
                    done = k
                    break
                if a in before_set:  # type: ignore[operator]
                    end, end_kind = k, "before"
                    break
                if a in lapses_set:  # type: ignore[operator]
                    end, end_kind = k, "lapse"
                    break
        elif done is None:
            scan = scan_of(view)
            for k in scan[bisect_right(scan, i):]:
                if k >= stop:
                    break
                if expect(view, k):
                    done = k
                    break
                if before is not None and before(view, k):
                    end, end_kind = k, "before"
                    break
                if lapses is not None and lapses(view, k):
                    end, end_kind = k, "lapse"
                    break
        last = done if done is not None and done > i else end if end is not None else stop - 1
        excused = None
        if excused_by is not None:
            idx = excused_of(view)
            for k in idx[bisect_right(idx, i):]:
                if k > last:
                    break
                if excused_by(view, k):
                    excused = k
                    break
        if ext_by is not None and ext_within and due is not None:
            idx = ext_of(view)
            for k in idx[bisect_right(idx, i):]:
                if k > last:
                    break
                if ext_by(view, k):
                    pv, due = due_of(ext_within, day)
                    pvs = (*pvs, pv)
                    due_at = None
                    if getattr(pv.value, "exact", False):
                        due, due_at = exact_due(pv, view.events[i].at, day)
                    break
        # the verdict (semantics.verdict, response branch)
        if excused is not None:
            return EXCUSED
        if done is not None:
            if due is not None and (view.events[done].at > due_at if due_at is not None else days[done] > due):
                status = "late"
            else:
                return done  # met
        elif end is not None:
            if due is not None and (view.events[end].at > due_at if due_at is not None else days[end] > due):
                if not judge_open:
                    return i  # lapsed
                status = "overdue"
            elif end_kind == "before":
                status = "missing"
            else:
                return i  # lapsed
        elif due is not None and view.as_of > due and judge_open:
            status = "overdue"
        else:
            status = "open"
        sink.append((Fact(rule, check, i, due=due, due_at=due_at, params=trigger_params(view, i) + pvs, done=done,
                          end=end, end_kind=end_kind, excused=excused), status))
        return done if done is not None else i
    return run


def _precedence(rule: Rule, check: Check, params: _Params) -> Run:
    """``semantics._precedence`` and the precedence branch of ``semantics.verdict``."""
    dated = _in_force(rule)
    met_if = check.met_if if check.met_if else None
    expect_for = _expect(check)
    since_acts = check.since.activities if check.since is not None else None
    scan_acts = check.scan_activities
    scan_of = _index_of(scan_acts)
    excused_by = _matchers(check.excused_by) if check.excused_by else None
    excused_of = _index_of(check.excused_activities)
    accumulate = check.accumulate
    trigger_params = _trigger_params(check, params)

    def expect_ms(view: CaseView, i: int) -> tuple[Matcher, ...]:
        trig = view.events[i]
        for case in check.expect:
            if not case.when or case.when.matches(trig, view.lookup):
                return case.any
        return ()

    def run(view: CaseView, i: int, sink: list) -> int:
        if dated is not None and not dated(view.days[i]):
            return NOT_APPLIED
        if met_if is not None and met_if.matches(view.events[i], view.lookup):
            return i  # met
        expect, exp_set = expect_for(view, i)
        first = view.episode_start(i)
        start = first
        since = None
        if since_acts is not None:
            since = view.latest_before(since_acts, i)
            if since is not None:
                start = since + 1
        if accumulate:
            got = accumulated(view, check, expect_ms(view, i), start, i)
            if got is not None:
                return got  # met
        else:
            scan = scan_of(view)
            lo, hi = bisect_left(scan, start), bisect_left(scan, i)
            if exp_set is not None and exp_set >= scan_acts:  # every event scanned is one expected
                if lo < hi:
                    return scan[lo]  # met
            else:
                for k in scan[lo:hi]:
                    if expect(view, k):
                        return k  # met
        if excused_by is not None:
            # earlier in the episode, or on the trigger's own day in any order (spec 1.1)
            idx = excused_of(view)
            stop, days = view.episode_end(i), view.days
            day = days[i]
            for k in idx[bisect_left(idx, first):]:
                if k >= stop or (k > i and days[k] != day):
                    break
                if k != i and excused_by(view, k):
                    return EXCUSED
        sink.append((Fact(rule, check, i, since=since, params=trigger_params(view, i)), "missing"))
        return i
    return run


def _forbid(rule: Rule, check: Check, params: _Params) -> Run:
    """The forbid branch of ``semantics.derive`` and ``verdict``: every trigger is a breach."""
    dated = _in_force(rule)
    met_if = check.met_if if check.met_if else None
    trigger_params = _trigger_params(check, params)

    def run(view: CaseView, i: int, sink: list) -> int:
        if dated is not None and not dated(view.days[i]):
            return NOT_APPLIED
        if met_if is not None and met_if.matches(view.events[i], view.lookup):
            return i  # met
        sink.append((Fact(rule, check, i, params=trigger_params(view, i)), "breach"))
        return i
    return run


def _function(rule: Rule, check: Check, params: _Params) -> Run:
    """The function branch: the reference's named function decides, the fact keeps the status it gives."""
    from .functions import FUNCTIONS

    fn = FUNCTIONS[check.function or ""]
    dated = _in_force(rule)
    met_if = check.met_if if check.met_if else None

    def run(view: CaseView, i: int, sink: list) -> int:
        if met_if is not None and met_if.matches(view.events[i], view.lookup):
            return i if dated is None or dated(view.days[i]) else NOT_APPLIED  # met, or not_in_force
        applied = NOT_APPLIED
        in_force = dated is None or dated(view.days[i])
        for f in fn(view, rule, check, i):  # run even out of force, as the reference does (it may raise)
            if not in_force:
                continue
            status = f.status
            if status in BREACH or status == "open":
                sink.append((f, status))
            if status == "excused":
                applied = EXCUSED if applied == NOT_APPLIED else applied
            elif status not in _NOT_APPLIED and applied < 0:
                applied = f.done if f.done is not None else f.trigger
        return applied
    return run


_TEMPLATES: dict[str, Callable[[Rule, Check, _Params], Run]] = {
    "response": _response, "precedence": _precedence, "forbid": _forbid, "function": _function}


class _Compiled:
    """One check, compiled: its code, the activities that trigger it, the trigger test and the run."""

    __slots__ = ("code", "one", "run", "trigger", "trigger_acts")

    def __init__(self, rule: Rule, check: Check, params: _Params):
        self.code = rule.code
        self.trigger_acts = check.trigger_activities
        #: the trigger activity when there is one (most checks): its index list is the case's own
        self.one = next(iter(self.trigger_acts)) if len(self.trigger_acts) == 1 else None
        self.trigger: Pred | None = None if check.trigger_plain else _matchers(check.trigger)
        self.run = _TEMPLATES[check.template](rule, check, params)


class CompiledChecker:
    """``checker(steps, as_of)`` for ``replay.check_case``: the rule packs compiled once, then run per case."""

    name = "compiled"

    def __init__(self, wf: Workflow, book: Rulebook):
        self.wf, self.book = wf, book
        self._params = _Params(wf)
        self._compiled = {check.key: _Compiled(rule, check, self._params) for rule, check in book.checks()}
        self._for: dict[frozenset[str], list[_Compiled]] = {}
        #: whether a replay can turn open obligations into findings (see ``findings_only``)
        self._closes_open = wf.complete or any(
            all(c.template == "response" and not c.within and not c.before for c in rule.checks)
            for rule in book.rules)

    def _checks_for(self, activities) -> list[_Compiled]:
        """The compiled checks a case with these activities can trigger, in rulebook order (``derive``'s)."""
        key = frozenset(activities)
        hit = self._for.get(key)
        if hit is None:
            hit = [self._compiled[check.key] for _, check in self.book.checks_for(key)]
            if len(self._for) >= 4096:
                self._for.clear()
            self._for[key] = hit
        return hit

    def _search(self, view: _View, applied: Applied | None) -> list[tuple[Fact, str]]:
        """Every compiled check the case can trigger, run on each trigger: the breaches and open duties found.
        ``applied`` (when given) is filled as ``attribution.applied_codes`` fills it for the reference: a code
        applied, with the teams of its first duty (trigger, and the event that met it), and the codes whose every
        duty was excused."""
        sink: list[tuple[Fact, str]] = []
        excused: set[str] = set()
        by_activity = view.by_activity
        last = len(view.steps)
        for c in self._checks_for(by_activity):
            trigger, run, code = c.trigger, c.run, c.code
            one = c.one
            for i in by_activity.get(one, _EMPTY) if one is not None else view.indexes_of(c.trigger_acts):
                if trigger is not None and not trigger(view, i):
                    continue
                got = run(view, i, sink)
                if applied is None:  # findings only: no bookkeeping of which codes applied
                    continue
                if got == EXCUSED:
                    excused.add(code)
                    applied.teams.setdefault(code, (view.holder(i)[0],) * 2)
                elif got >= 0 and code not in applied:
                    applied.add(code)
                    team = view.holder(i)[0]
                    applied.teams[code] = (team, view.holder(got)[0] if got < last else team)
        if applied is not None:
            applied.excused = frozenset(excused - applied)
        return sink

    def __call__(self, steps, as_of: date) -> tuple[list, list, set[str]]:
        view = _View(steps, self.wf, as_of)
        applied = Applied()
        applied.teams = {}
        sink = self._search(view, applied)
        # semantics.decide's findings and obligations (its applied codes are the ones found above, by the search)
        return ([to_finding(view, f, st) for f, st in sink if st in BREACH],
                [to_obligation(view, f) for f, st in sink if st == "open"], applied)

    def findings_only(self, steps, as_of: date) -> tuple[list, list, set[str]]:
        """``self(steps, as_of)`` for a bulk replay whose output is a list of findings (``replay.check_cases``
        with ``whole`` False): the same findings, without what such an output never reads (which codes applied and
        whose duties they were); the open obligations only when the replay turns some into findings (a design
        judged ``complete``, or a rule pack with an open-ended duty: ``replay.close_at_closure``)."""
        view = _View(steps, self.wf, as_of)
        sink = self._search(view, None)
        findings = [to_finding(view, f, st) for f, st in sink if st in BREACH]
        obligations = [to_obligation(view, f) for f, st in sink if st == "open"] if self._closes_open else []
        return findings, obligations, _NONE_APPLIED
