"""Checking a workflow design before it goes live: structure, the SWS standards, and the parameters rules use.

A design is a graph: its states, and for each state the activities that may be recorded there and where they
lead. Transitions come from the design; the ``anywhere`` activities are self-loops in every open state (not
closed, not the initial state) where no unconditional transition for that activity exists, because that is
how :meth:`Workflow.step` replays them. Data conditions are read only to tell transitions apart: any
transition whose conditions can hold at all may fire.

The path checks are exhaustive breadth-first searches over a product graph (state, a small flag such as
"options still owed"), so a reported problem carries the *shortest* path that shows it, written
``start -referral_received-> referred -triaged[tier is 3]-> tier3 ...``. A design cannot force a step that
is only allowed (an ``anywhere`` activity happens on some paths, not all), so every "on every path" check
asks whether a path *exists* that avoids the step; such a path is the counterexample.

Each check has a code, a title, a source (the standard or section it comes from) and a description of what
it means for a design (:data:`CHECKS`). Checks yield problems; none raises. Loading problems (unknown or
duplicated keys, unknown activities, bad values) are problems too. Only a file that cannot be read or
parsed at all, or is not a mapping, is unusable (exit 2 at the command line).
"""

from __future__ import annotations

import functools
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs

from .calendar import Duration
from .conditions import Clause, ParamRef, Where
from .datafile import DataFileError, Problem, line_of, load_yaml
from .events import MANAGER_ROLES
from .workflow import (
    STAY,
    Transition,
    Workflow,
    build_design,
    bundled_dir,
    merge_base,
    money,
    resolve,
    resolve_existing,
)

# ------------------------------------------------------------------------------------------- the catalogue


@attrs.frozen(slots=True)
class Check:
    """One design check: its code, what it is called, where the duty comes from and what it means here."""

    code: str
    title: str
    source: str
    description: str
    severity: str = "error"


CHECKS: dict[str, Check] = {c.code: c for c in (
    Check("WF-FILE-01", "design file unusable", "the workflow design format",
          "The file cannot be read, is not YAML, or is not a mapping; nothing else can be checked."),
    Check("WF-KEY-01", "unknown key", "the workflow design format",
          "A key the design format does not know (often a misspelling); loading would reject the design."),
    Check("WF-KEY-02", "duplicated key", "the workflow design format",
          "A key written twice in one mapping; YAML would silently keep only the last, so it is refused."),
    Check("WF-ACT-01", "unknown activity", "the event contract (docs/contract.md)",
          "A transition or anywhere list names an activity that is not in the event contract."),
    Check("WF-LOAD-01", "design does not load", "the workflow design format",
          "Any other loading problem: a bad value, a state that does not exist, a missing key."),
    Check("WF-REACH-01", "state unreachable", "the workflow design",
          "A state no sequence of transitions leads to from the initial state; its steps could never be "
          "recorded."),
    Check("WF-TRAP-01", "trap state", "the workflow design",
          "A reachable open state from which no sequence of transitions reaches a closed state: a case that "
          "gets there can never be closed."),
    Check("WF-FIRE-01", "transition can never fire", "the workflow design",
          "A transition whose conditions contradict themselves, whose 'unless' holds whenever its conditions "
          "do, or which an earlier unconditional transition from the same state on the same activity to the "
          "same place always takes first."),
    Check("WF-DET-01", "nondeterministic transition", "the workflow design",
          "One activity in one state leads to two different places and nothing in the data conditions "
          "tells them apart (conditions both empty, identical, or able to hold together); the replay would "
          "silently take whichever is listed first."),
    Check("WF-SWS1-01", "support can start without the options offered",
          "SWS standard 1; Act s.5 (adults), s.7 (carers), s.8 (children)",
          "On every path to a support_started step, a step triggered by options_offered must come after the "
          "start of the episode (referral) and after the latest eligibility decision that can be 'eligible'. "
          "A path that avoids it is the counterexample; an options_offered allowed on the way does not count "
          "unless every path has to take it."),
    Check("WF-SWS1-02", "no chance to offer independent support before the options",
          "SWS standard 1; Act s.9(2)",
          "The design cannot force an offer of independent support, but it must allow one: every path from "
          "the referral to an options_offered step must pass a state where independent_support_offered may "
          "be recorded (a transition or the anywhere list)."),
    Check("WF-SWS5-01", "no route to challenge a refusal or reduction",
          "SWS standard 5; SDS statutory guidance (complaints and challenge)",
          "After every step that can refuse or reduce funding (budget_refused, budget_reduced, or "
          "panel_decided refused or reduced), every path to closure must pass a state where the decision can "
          "be communicated (decision_communicated, which carries the appeal rights) and a state where a "
          "complaint can be received (complaint_received)."),
    Check("WF-SWS4-01", "support does not lead into a review loop",
          "SWS standard 4; SDS statutory guidance §12",
          "While support continues (after support_started, before support_ended or closure), a "
          "review_completed must stay reachable from every state the case can be in, so reviews can repeat "
          "for as long as the support lasts."),
    Check("WF-SWS10-01", "no transition route for children's cases",
          "SWS standard 10; Principles of Good Transitions 3",
          "While support continues, transition_planning_started must stay reachable from every state the case "
          "can be in, with transferred_to_adult_services reachable after it, so a young person's move to adult "
          "services can be planned and recorded."),
    Check("WF-SWS8-01", "delegated authority ladder inverted",
          "SWS standard 8; local scheme of delegation",
          "In every dated value of delegated_limits, team_manager < service_manager < head_of_service (the "
          "roles the design lists): a more senior role may approve strictly more."),
    Check("WF-SWS8-02", "gap in the delegated authority ladder",
          "SWS standard 8; local scheme of delegation",
          "On every date either parameter changes, the highest delegated limit must reach the panel threshold "
          "in force, so every amount up to the threshold has an approver below the panel."),
    Check("WF-SWS8-03", "a manager may approve above the panel threshold",
          "SWS standard 8; local policy (SDS panel)",
          "Above the panel threshold only a panel approves: no role but panel may have a delegated limit above "
          "the threshold in force on the same date."),
    Check("WF-PARAM-01", "parameter used but not defined", "the rule packs; the workflow design",
          "Every parameter a shipped rule pack or a transition condition ({param: name}) uses must be defined "
          "by the design."),
    Check("WF-PARAM-02", "parameter not positive", "the workflow design",
          "Every dated value of a parameter must be positive: a deadline of more than nothing, an amount or "
          "number above 0, at least one band, every limit above 0."),
    Check("WF-PARAM-03", "parameter values overlap", "the workflow design",
          "No two dated values of one parameter may take effect on the same day, or the value in force would "
          "be ambiguous. (Dates are mapping keys in YAML, so a loaded file rarely shows this; the check guards "
          "designs built in code and merged designs.)"),
    Check("WF-PARAM-04", "parameter unfit for a rule", "the rule packs",
          "A shipped rule pack cannot be used with this design for a reason other than a missing parameter "
          "(for example a deadline parameter that is not a duration)."),
)}

ORDERED_ROLES = MANAGER_ROLES
REFUSALS = ("budget_refused", "budget_reduced")


# ------------------------------------------------------------------------------------------- results


@attrs.frozen(slots=True)
class Step:
    """One move in a counterexample: from a state, on an activity (with its transition's conditions), to one."""

    source: str
    activity: str
    dest: str
    when: str = ""

    def __str__(self) -> str:
        return f"-{self.activity}{f'[{self.when}]' if self.when else ''}-> {self.dest}"


@attrs.frozen(slots=True)
class DesignProblem:
    """One thing wrong with a design: which check, where (file, line, key), a sentence, and the path showing it."""

    code: str
    message: str
    file: str
    line: int | None = None
    key: str = ""
    path: tuple[Step, ...] = ()
    #: steps before ``path`` left out of a long counterexample (only the last MAX_STEPS are kept)
    omitted: int = 0

    @property
    def check(self) -> Check:
        return CHECKS[self.code]

    @property
    def severity(self) -> str:
        return self.check.severity

    def trail(self) -> str:
        """The counterexample as ``state -activity-> state ...`` (empty when the problem has no path)."""
        if not self.path:
            return ""
        head = [f"({self.omitted:,} earlier steps)"] if self.omitted else []
        return " ".join([*head, self.path[0].source, *(str(s) for s in self.path)])

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        key = f" {self.key}:" if self.key else ""
        return f"{self.where()}:{key} {self.code} {self.message}"

    def to_dict(self) -> dict:
        return {"code": self.code, "title": self.check.title, "severity": self.severity, "source": self.check.source,
                "file": self.file, "line": self.line, "key": self.key, "message": self.message,
                "path": [attrs.asdict(s) for s in self.path], "counterexample": self.trail(),
                **({"steps_omitted": self.omitted} if self.omitted else {})}


@attrs.frozen(slots=True)
class DesignResult:
    """The checks of one design file."""

    file: str
    workflow: str
    problems: tuple[DesignProblem, ...]
    usable: bool = True
    states: int = 0
    transitions: int = 0
    seconds: float = 0.0
    #: for a design that extends another: what it changes of it (``compare.DesignDiff``), else None
    extends: Any = None

    @property
    def clean(self) -> bool:
        return self.usable and not self.problems


def exit_code(results: Iterable[DesignResult]) -> int:
    """0 every design clean, 1 design problems found, 2 a file could not be used at all."""
    results = list(results)
    if any(not r.usable for r in results):
        return 2
    return 1 if any(r.problems for r in results) else 0


# ------------------------------------------------------------------------------------------- entry points

ParametersUsed = Mapping[str, Iterable[str]]


def validate_files(paths: Iterable[str | Path], parameters_used: ParametersUsed | None = None) -> list[DesignResult]:
    """Validate each design (a path or a shipped name). ``parameters_used`` (parameter -> breach codes)
    defaults to what the shipped rule packs use."""
    return [validate_file(p, parameters_used) for p in paths]


def validate_file(name_or_path: str | Path, parameters_used: ParametersUsed | None = None) -> DesignResult:
    started = time.perf_counter()
    path = resolve(name_or_path)
    file = str(path)
    try:
        raw = load_yaml(resolve_existing(name_or_path))
    except DataFileError as e:
        dup = [p for p in e.problems if "duplicate key" in p.message]
        if dup:  # the file parses but for a key written twice: a design problem, not unusable input
            problems = tuple(_load_problem(p) for p in dup)
            return DesignResult(file, "", problems, True, seconds=time.perf_counter() - started)
        return DesignResult(file, "", tuple(_unusable(p) for p in e.problems), False,
                            seconds=time.perf_counter() - started)
    if not isinstance(raw, dict):
        p = DesignProblem("WF-FILE-01", "The file must be a mapping with a 'workflow' key; it is not a mapping.",
                          file, getattr(raw, "line", None))
        return DesignResult(file, "", (p,), False, seconds=time.perf_counter() - started)
    # load_workflow's own steps, on the YAML already read (a large design is parsed once, not twice)
    loading: list[Problem] = []
    merged = merge_base(raw, path, loading)
    wf = None if loading else build_design(merged, file, loading)
    if wf is None or loading:
        return DesignResult(file, str(raw.get("workflow", "")), tuple(_load_problem(p) for p in loading),
                            seconds=time.perf_counter() - started)
    problems = tuple(validate(wf, parameters_used, raw))
    return DesignResult(file, wf.name, problems, True, len(wf.states), len(wf.transitions),
                        time.perf_counter() - started, _extends_diff(raw, path, wf))


def _extends_diff(raw: dict, path: Path, wf: Workflow) -> Any:
    """What a design changes of the design it ``extends`` (issue 19): parameters, states and transitions."""
    if "extends" not in raw:
        return None
    from .compare import base_design, design_diff

    base = base_design(raw, path)
    return None if base is None else design_diff(base, wf)


#: problems listed per check and design; the rest are counted in one closing problem of that check
MAX_PER_CHECK = 25
#: steps kept of a counterexample path (the last ones, nearest the problem); earlier steps are counted
MAX_STEPS = 30


def validate(wf: Workflow, parameters_used: ParametersUsed | None = None, raw: Any = None,
             limit: int = MAX_PER_CHECK) -> Iterator[DesignProblem]:
    """Every problem of a loaded design, structural checks first, then the standards, then the parameters,
    at most ``limit`` a check (the rest counted), so an answer never grows with the square of the design.
    ``raw`` is the design's YAML when the caller has read it already (for lines)."""
    counts: dict[str, int] = defaultdict(int)
    files: dict[str, str] = {}
    for p in _every_problem(wf, parameters_used, raw):
        counts[p.code] += 1
        if counts[p.code] <= limit:
            yield p
        else:
            files.setdefault(p.code, p.file)
    for code, n in counts.items():
        if n > limit:
            yield DesignProblem(code, f"{n - limit:,} more problems of this check are not listed (at most {limit} "
                                      f"a check and design); fix those shown and validate again.", files[code])


def _every_problem(wf: Workflow, parameters_used: ParametersUsed | None, raw: Any) -> Iterator[DesignProblem]:
    origins = _Origins.of(wf, raw)
    graph = _Graph(wf)
    yield from graph.never_fire(origins)
    yield from graph.nondeterminism(origins)
    yield from check_reachable(graph, origins)
    yield from check_traps(graph, origins)
    if wf.vocabulary.sds:  # the SDS standards judge designs in SDS words; structure and parameters, every design
        yield from check_options_before_support(graph, origins)
        yield from check_independent_support(graph, origins)
        yield from check_challenge(graph, origins)
        yield from check_review_loop(graph, origins)
        yield from check_transition_route(graph, origins)
        yield from check_ladder(wf, origins)
    if parameters_used is None and not wf.vocabulary.sds:
        used: dict[str, set[str]] = {}  # the shipped packs speak SDS; say --rules to judge by the packs it runs
    elif parameters_used is None:
        used, rule_problems = _rulebook_parameters(wf)
        for p in rule_problems:
            yield DesignProblem("WF-PARAM-04", _sentence(p.message), p.file, p.line, p.key)
    else:
        used = {k: set(v) for k, v in parameters_used.items()}
    yield from check_parameters(wf, origins, used)


# ------------------------------------------------------------------------------------------- loading problems


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!", ")")) else text + "."


def _unusable(p: Problem) -> DesignProblem:
    return DesignProblem("WF-FILE-01", _sentence(f"The design file {p.message}"), p.file, p.line, p.key)


def _load_problem(p: Problem) -> DesignProblem:
    m = p.message
    if m.startswith("unknown key"):
        code = "WF-KEY-01"
    elif "duplicate key" in m:
        code = "WF-KEY-02"
    elif "is not an activity" in m:
        code = "WF-ACT-01"
    else:
        code = "WF-LOAD-01"
    if code == "WF-KEY-02":
        m = m.removeprefix("is not valid YAML: ").replace("duplicate key", "the key", 1) + \
            " is written twice in one mapping; YAML would keep only the last"
    elif p.key and code != "WF-KEY-01":
        m = f"in {p.key}, {m}"
    return DesignProblem(code, _sentence(m), p.file, p.line, p.key)


# ------------------------------------------------------------------------------------------- where things are


@attrs.frozen
class _Origins:
    """The design file and the designs it extends, to find the file and line each part was written in."""

    chain: tuple[tuple[str, Any], ...]  # (file, raw YAML), the design first

    @classmethod
    def of(cls, wf: Workflow, first: Any = None) -> _Origins:
        chain: list[tuple[str, Any]] = []
        path = Path(wf.file)
        for _ in range(6):
            try:
                raw = first if first is not None and not chain else _read(path)
            except DataFileError:
                break
            if not isinstance(raw, dict):
                break
            chain.append((str(path), raw))
            base = raw.get("extends")
            if not isinstance(base, str):
                break
            sibling = path.parent / (base if base.endswith((".yaml", ".yml")) else base + ".yaml")
            path = sibling if sibling.is_file() and sibling.resolve() != path.resolve() else \
                bundled_dir() / f"{base.removesuffix('.yaml')}.yaml"
        return cls(tuple(chain) or ((wf.file, {}),))

    def _owner(self, *keys: Any) -> tuple[str, Any]:
        for file, raw in self.chain:
            node = raw
            for k in keys:
                if not isinstance(node, dict) or k not in node:
                    break
                node = node[k]
            else:
                return file, raw
        return self.chain[0]

    def at(self, *keys: Any) -> tuple[str, int | None]:
        """(file, line) of a key path such as ("parameters", "panel_threshold")."""
        file, raw = self._owner(*keys[:2])
        return file, line_of(raw, list(keys))

    def state(self, name: str) -> tuple[str, int | None, str]:
        file, raw = self._owner("states")
        for i, s in enumerate(raw.get("states") or []):
            if isinstance(s, dict) and s.get("name") == name:
                return file, line_of(raw, ["states", i]), f"states[{i}]"
        return file, line_of(raw, ["states"]), "states"

    def transition(self, t: Transition) -> tuple[str, int | None, str]:
        file, raw = self._owner("transitions")
        lines = getattr(raw.get("transitions"), "lines", None) or []
        key = f"transitions[{lines.index(t.line)}]" if t.line in lines else "transitions"
        return file, t.line, key


def _read(path: Path) -> Any:
    """A base design's YAML, read once per version of the file (shipped bases are read for every design)."""
    st = path.stat()
    return _read_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, mtime_ns: int, size: int) -> Any:
    return load_yaml(path)


# ------------------------------------------------------------------------------------------- conditions


def _probe(field: str, value: Any) -> SimpleNamespace:
    return SimpleNamespace(attrs={field: value}, weekly_amount=None, actor=None, day=None)


def _consistent(clauses: Iterable[Clause]) -> bool:
    """Whether some event could satisfy every clause at once (literal values only; a parameter could be
    anything, so a clause on one never contradicts)."""
    by_field: dict[str, list[Clause]] = defaultdict(list)
    for c in clauses:
        if not isinstance(c.value, ParamRef):
            by_field[c.field].append(c)
    for field, cs in by_field.items():
        exists = {c.value for c in cs if c.op == "exists"}
        if exists == {True, False}:
            return False
        if False in exists and any(c.op not in ("ne", "not_in", "exists") for c in cs):
            return False
        finite = [c for c in cs if c.op in ("eq", "in")]
        if finite:
            candidates = [finite[0].value] if finite[0].op == "eq" else list(finite[0].value)
            if not any(Where(tuple(cs)).matches(_probe(field, v)) for v in candidates):
                return False
            continue
        low, high = None, None  # (value, strict)
        for c in cs:
            if c.op in ("gt", "ge") and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                b = (c.value, c.op == "gt")
                low = b if low is None or b > low else low
            if c.op in ("lt", "le") and isinstance(c.value, int | float) and not isinstance(c.value, bool):
                b = (c.value, c.op == "lt")
                high = b if high is None or (b[0], not b[1]) < (high[0], not high[1]) else high
        if low and high and (low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1]))):
            return False
    return True


def _implied(unless: Where, conditions: Where) -> bool:
    """Whether ``unless`` holds whenever ``conditions`` do (every clause of it is one of theirs)."""
    return bool(unless) and set(unless.clauses) <= set(conditions.clauses)


def _overlap(a: Transition, b: Transition) -> bool:
    """Whether one event could satisfy both transitions."""
    both = Where(a.conditions.clauses + b.conditions.clauses)
    return _consistent(both.clauses) and not _implied(a.unless, both) and not _implied(b.unless, both)


def _may(t: Transition | None, field: str, values: tuple) -> bool:
    """Whether the step could carry ``field`` in ``values`` (always, for an anywhere step)."""
    if t is None:
        return True
    both = Where((*t.conditions.clauses, Clause(field, "in", values)))
    return _consistent(both.clauses) and not _implied(t.unless, both)


# ------------------------------------------------------------------------------------------- the graph


@attrs.frozen(slots=True)
class _Edge:
    source: str
    activity: str
    dest: str
    transition: Transition | None  # None for an anywhere step

    def step(self) -> Step:
        when = self.transition.conditions.describe() if self.transition is not None else ""
        return Step(self.source, self.activity, self.dest, when)


class _Graph:
    """States x activities of one design, with the transitions that can fire and the anywhere self-loops."""

    def __init__(self, wf: Workflow):
        self.wf = wf
        self.dead: dict[int, str] = {}  # index of a transition that can never fire -> why
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, t in enumerate(wf.transitions):
            groups[(t.source, t.trigger)].append(i)
            if not _consistent(t.conditions.clauses):
                self.dead[i] = f"its conditions ({t.conditions.describe()}) cannot all hold"
            elif _implied(t.unless, t.conditions):
                self.dead[i] = f"its 'unless' ({t.unless.describe()}) holds whenever its conditions do"
        self.groups = groups
        self.pairs: list[tuple[int, int]] = []  # nondeterministic (earlier, later)
        for idx in groups.values():
            for n, j in enumerate(idx):
                if j in self.dead:
                    continue
                for i in idx[:n]:
                    if i in self.dead:
                        continue
                    a, b = wf.transitions[i], wf.transitions[j]
                    if not _overlap(a, b):
                        continue
                    if _dest(a) != _dest(b):
                        self.pairs.append((i, j))
                        break
                    if not a.conditions and not a.unless:
                        self.dead[j] = (f"the transition at line {a.line} from {a.source} on {a.trigger} to "
                                        f"{_dest(a)} has no conditions and always goes first")
                        break
        self.closed = wf.closed_states
        self.out: dict[str, list[_Edge]] = defaultdict(list)
        unconditional: set[tuple[str, str]] = set()
        for i, t in enumerate(wf.transitions):
            if i in self.dead:
                continue
            self.out[t.source].append(_Edge(t.source, t.trigger, _dest(t), t))
            if not t.conditions and not t.unless:
                unconditional.add((t.source, t.trigger))
        for s in wf.state_names:
            if s in self.closed or s == wf.initial:
                continue
            for act in sorted(wf.anywhere):
                if (s, act) not in unconditional:
                    self.out[s].append(_Edge(s, act, s, None))
        self.allowed = {s: frozenset(e.activity for e in self.out.get(s, ())) for s in wf.state_names}
        self.reach_path = self._paths_from_initial()

    def _paths_from_initial(self) -> _Paths:
        links: dict[Hashable, tuple[Hashable, _Edge, int] | None] = {self.wf.initial: None}
        queue = deque([self.wf.initial])
        while queue:
            s = queue.popleft()
            link = links[s]
            depth = link[2] if link else 0
            for e in self.out.get(s, ()):
                if e.dest not in links:
                    links[e.dest] = (s, e, depth + 1)
                    queue.append(e.dest)
        return _Paths(links)

    def never_fire(self, origins: _Origins) -> Iterator[DesignProblem]:
        for i, why in sorted(self.dead.items()):
            t = self.wf.transitions[i]
            file, line, key = origins.transition(t)
            yield DesignProblem(
                "WF-FIRE-01", f"The transition from {t.source} on {t.trigger} to {_dest(t)} can never fire: {why}.",
                file, line, key, *self.reach_path.get(t.source))

    def nondeterminism(self, origins: _Origins) -> Iterator[DesignProblem]:
        for i, j in self.pairs:
            a, b = self.wf.transitions[i], self.wf.transitions[j]
            file, line, key = origins.transition(b)
            tell = "neither has data conditions" if not (a.conditions or b.conditions or a.unless or b.unless) \
                else "their data conditions can both hold"
            yield DesignProblem(
                "WF-DET-01",
                f"In state {a.source}, {a.trigger} leads both to {_dest(a)} (line {a.line}) and to {_dest(b)} "
                f"(line {b.line}) and {tell}, so the replay would always take {_dest(a)}, the first listed.",
                file, line, key, *self.reach_path.get(a.source, Step(a.source, a.trigger, _dest(a))))

    def search(self, init: Hashable, step: Callable[[Hashable, _Edge], tuple[Hashable, bool]]
               ) -> list[tuple[_Edge, tuple[tuple[Step, ...], int]]]:
        """Breadth-first over (state, flag) from the initial state. ``step(flag, edge)`` gives the flag after
        the edge and whether taking it shows the problem. Returns each offending (state, activity, dest)
        once, with its shortest path, shortest first."""
        start = (self.wf.initial, init)
        parent: dict[Hashable, tuple[Hashable, _Edge, int] | None] = {start: None}
        queue = deque([start])
        found: dict[tuple[str, str, str], tuple[_Edge, tuple]] = {}
        while queue:
            node = queue.popleft()
            state, flag = node
            for e in self.out.get(state, ()):
                new, bad = step(flag, e)
                if bad:
                    k = (e.source, e.activity, e.dest)
                    if k not in found:
                        found[k] = (e, node)
                nxt = (e.dest, new)
                if nxt not in parent:
                    link = parent[node]
                    parent[nxt] = (node, e, (link[2] if link else 0) + 1)
                    queue.append(nxt)
        paths = _Paths(parent)
        # only the shortest offending path is shown (the others are named by their edge): built once, bounded
        return [(e, paths.get(node, e.step()) if n == 0 else ((), 0)) for n, (e, node) in enumerate(found.values())]


class _Paths:
    """Shortest paths from the initial state as parent links with depths: a path is rebuilt on demand and only
    its last MAX_STEPS steps are kept, so N states with paths of length N cost N, not N squared."""

    def __init__(self, links: Mapping[Hashable, tuple[Hashable, _Edge, int] | None]):
        self.links = links

    def __contains__(self, node: Hashable) -> bool:
        return node in self.links

    def get(self, node: Hashable, *last: Step) -> tuple[tuple[Step, ...], int]:
        """(the path's kept steps with ``last`` appended, the number of earlier steps left out)."""
        steps: list[Step] = []
        link = self.links.get(node)
        depth = link[2] if link else 0
        while link is not None and len(steps) < MAX_STEPS:
            node, e, _ = link
            steps.append(e.step())
            link = self.links.get(node)
        kept = (*reversed(steps), *last)
        omitted = depth - len(steps)
        if len(kept) > MAX_STEPS:
            omitted += len(kept) - MAX_STEPS
            kept = kept[len(kept) - MAX_STEPS:]
        return kept, omitted


def _dest(t: Transition) -> str:
    return t.source if t.dest == STAY else t.dest


def _others(found: list, shown: int = 4) -> str:
    rest = [f"{e.source} -{e.activity}->" for e, _ in found[1:]]
    if not rest:
        return ""
    more = f" and {len(rest) - shown} more" if len(rest) > shown else ""
    return f" The same happens at {', '.join(rest[:shown])}{more}."


# ------------------------------------------------------------------------------------------- structure


def check_reachable(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    wf = g.wf
    for s in wf.state_names:
        if s in g.reach_path:
            continue
        into = sorted({e.source for edges in g.out.values() for e in edges if e.dest == s and e.source != s})
        why = (f"only transitions from states that are themselves unreachable ({', '.join(into)}) lead into it"
               if into else "no transition leads into it")
        file, line, key = origins.state(s)
        yield DesignProblem("WF-REACH-01", f"State {s} cannot be reached from the initial state {wf.initial}: {why}.",
                            file, line, key)


def check_traps(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    wf = g.wf
    if not g.closed:
        file, line = origins.at("states")
        yield DesignProblem("WF-TRAP-01", "No state is marked 'closed: true', so no case can ever be closed.",
                            file, line, "states")
        return
    into: dict[str, set[str]] = defaultdict(set)
    for edges in g.out.values():
        for e in edges:
            into[e.dest].add(e.source)
    can_close = set(g.closed)
    queue = deque(g.closed)
    while queue:
        s = queue.popleft()
        for p in into[s]:
            if p not in can_close:
                can_close.add(p)
                queue.append(p)
    for s in wf.state_names:
        if s in g.reach_path and s not in can_close:
            file, line, key = origins.state(s)
            yield DesignProblem(
                "WF-TRAP-01", f"State {s} is a trap: a case that reaches it can never get to a closed state "
                              f"({', '.join(sorted(g.closed))}).", file, line, key, *g.reach_path.get(s))


# ------------------------------------------------------------------------------------------- SWS standards


def check_options_before_support(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    def step(owed, e: _Edge):
        bad = owed and e.activity == "support_started"
        if e.activity == "referral_received" or (e.activity == "eligibility_determined"
                                                 and _may(e.transition, "eligible", (True,))):
            return True, bad
        if e.activity == "options_offered":
            return False, bad
        return owed, bad

    found = g.search(True, step)
    if found:
        e, (path, omitted) = found[0]
        file, line, key = _edge_origin(e, origins)
        yield DesignProblem(
            "WF-SWS1-01", f"The step support_started is reachable without options_offered: support can start in "
                          f"{e.dest} from {e.source} with no options offered since the referral or the last "
                          f"eligibility decision.{_others(found)}", file, line, key, path, omitted)


def check_independent_support(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    def can(state: str) -> bool:
        return "independent_support_offered" in g.allowed.get(state, ())

    def step(had, e: _Edge):
        bad = e.activity == "options_offered" and not had
        had = (False if e.activity == "referral_received" else had) or can(e.dest)
        return had, bad

    found = g.search(can(g.wf.initial), step)
    if found:
        e, (path, omitted) = found[0]
        file, line, key = _allowing(origins)
        yield DesignProblem(
            "WF-SWS1-02", f"The step options_offered is reachable in {e.source} on a path where "
                          f"independent_support_offered could never be recorded, so the person cannot be offered "
                          f"independent support before the options.{_others(found)}", file, line, key, path, omitted)


def check_challenge(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    def seen(state: str) -> tuple[bool, bool]:
        a = g.allowed.get(state, frozenset())
        return "decision_communicated" in a, "complaint_received" in a

    def step(pending, e: _Edge):
        if e.activity in REFUSALS or (e.activity == "panel_decided"
                                      and _may(e.transition, "decision", ("refused", "reduced"))):
            pending = (False, False)
        if pending is None:
            return None, False
        comm, complaint = seen(e.dest)
        pending = (pending[0] or comm, pending[1] or complaint)
        if all(pending):
            return None, False
        return (None, True) if e.dest in g.closed else (pending, False)

    found = g.search(None, step)
    if found:
        e, (path, omitted) = found[0]
        file, line, key = _allowing(origins)
        missing = _missing_challenge(path, g)
        yield DesignProblem(
            "WF-SWS5-01", f"After a refusal or reduction the case can reach {e.dest} from {e.source} with no "
                          f"chance to record {missing}, so the person has no route to challenge the decision."
                          f"{_others(found)}", file, line, key, path, omitted)


def _missing_challenge(path: tuple[Step, ...], g: _Graph) -> str:
    refusal = max(i for i, s in enumerate(path) if s.activity in (*REFUSALS, "panel_decided"))
    states = {s.dest for s in path[refusal:]}
    missing = [a for a in ("decision_communicated", "complaint_received")
               if not any(a in g.allowed.get(s, ()) for s in states)]
    return " or ".join(missing) or "decision_communicated and complaint_received"


def _allowing(origins: _Origins) -> tuple[str, int | None, str]:
    """Where a design says what may be recorded in any open stage: the place to allow a missing step."""
    file, line = origins.at("anywhere")
    return file, line, "anywhere"


def _support_region_check(g: _Graph, origins: _Origins, code: str, good_sources: Callable[[set[str]], set[str]],
                          what: str, at_anywhere: bool = False) -> Iterator[DesignProblem]:
    """States in support (entered by support_started, left by support_ended, case_closed or a closed state)
    from which ``good_sources(region)`` (the states where the wanted step can be taken) is unreachable."""
    ends = ("support_ended", "case_closed")

    def inside(e: _Edge) -> bool:
        return e.activity not in ends and e.dest not in g.closed

    @functools.cache
    def good(entry: str) -> frozenset[str]:
        region, queue = {entry}, deque([entry])
        while queue:
            s = queue.popleft()
            for e in g.out.get(s, ()):
                if inside(e) and e.dest not in region:
                    region.add(e.dest)
                    queue.append(e.dest)
        ok = good_sources(region) & region
        into: dict[str, set[str]] = defaultdict(set)
        for s in region:
            for e in g.out.get(s, ()):
                if inside(e) and e.dest in region:
                    into[e.dest].add(s)
        queue = deque(ok)
        while queue:
            s = queue.popleft()
            for p in into[s]:
                if p not in ok:
                    ok.add(p)
                    queue.append(p)
        return frozenset(ok)

    def step(entry, e: _Edge):
        if e.activity == "support_started" and e.dest not in g.closed:
            entry = e.dest
        elif entry is not None and not inside(e):
            return None, False
        return entry, entry is not None and e.dest not in good(entry)

    found = g.search(None, step)
    if found:
        e, (path, omitted) = found[0]
        file, line, key = _allowing(origins) if at_anywhere else _edge_origin(e, origins)
        others = sorted({f.dest for f, _ in found} - {e.dest})
        also = f" The same holds in {', '.join(others)}." if others else ""
        yield DesignProblem(code, f"While support continues, a case can be in {e.dest} (after {e.activity} from "
                                  f"{e.source}) where {what}.{also}", file, line, key, path, omitted)


def check_review_loop(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    def sources(region: set[str]) -> set[str]:
        return {s for s in region for e in g.out.get(s, ())
                if e.activity == "review_completed" and e.dest in region}

    yield from _support_region_check(g, origins, "WF-SWS4-01", sources,
                                     "no review_completed can ever be recorded again before the support ends")


def check_transition_route(g: _Graph, origins: _Origins) -> Iterator[DesignProblem]:
    def sources(region: set[str]) -> set[str]:
        transfer = {s for s in region if "transferred_to_adult_services" in g.allowed.get(s, ())}
        into: dict[str, set[str]] = defaultdict(set)
        for s in region:
            for e in g.out.get(s, ()):
                if e.dest in region:
                    into[e.dest].add(s)
        queue = deque(transfer)
        while queue:
            s = queue.popleft()
            for p in into[s]:
                if p not in transfer:
                    transfer.add(p)
                    queue.append(p)
        return {s for s in region for e in g.out.get(s, ())
                if e.activity == "transition_planning_started" and e.dest in transfer}

    yield from _support_region_check(
        g, origins, "WF-SWS10-01", sources,
        "transition_planning_started followed by transferred_to_adult_services can no longer be recorded, so a "
        "young person's move to adult services cannot be planned", at_anywhere=True)


def _edge_origin(e: _Edge, origins: _Origins) -> tuple[str, int | None, str]:
    if e.transition is not None:
        return origins.transition(e.transition)
    file, line = origins.at("anywhere")
    return file, line, "anywhere"


def check_ladder(wf: Workflow, origins: _Origins) -> Iterator[DesignProblem]:
    limits_p, panel_p = wf.parameters.get("delegated_limits"), wf.parameters.get("panel_threshold")
    if limits_p is None or panel_p is None or limits_p.kind != "limits" or panel_p.kind != "amount":
        return  # a missing or mistyped parameter is reported by the parameter checks
    days = sorted({v.since for v in limits_p.values} | {v.since for v in panel_p.values})
    reported: set[tuple] = set()
    for day in days:
        lim, thr = limits_p.at(day), panel_p.at(day)
        if not isinstance(lim.value, Mapping) or not isinstance(thr.value, int | float):
            continue
        file, line = origins.at("parameters", "delegated_limits", "values", lim.since)
        key = f"parameters.delegated_limits.values.{lim.since.isoformat()}"
        ladder = [(r, lim.value[r]) for r in ORDERED_ROLES if r in lim.value]
        for (lo_role, lo), (hi_role, hi) in itertools.pairwise(ladder):
            if hi <= lo and ("inv", lim.since, hi_role) not in reported:
                reported.add(("inv", lim.since, hi_role))
                yield DesignProblem(
                    "WF-SWS8-01", f"From {lim.since}, {hi_role} may approve up to {money(hi)} a week, no more than "
                                  f"the more junior {lo_role} ({money(lo)}): the ladder is inverted.",
                    file, line, key)
        managers = {r: a for r, a in lim.value.items() if r != "panel"}
        if not managers:
            continue
        top_role = max(managers, key=lambda r: managers[r])
        top = managers[top_role]
        if top < thr.value and ("gap", lim.since, thr.since) not in reported:
            reported.add(("gap", lim.since, thr.since))
            example = top + 1 if top + 1 <= thr.value else (top + thr.value) / 2
            yield DesignProblem(
                "WF-SWS8-02", f"From {day}, the highest delegated limit is {top_role}'s {money(top)} a week but "
                              f"the panel threshold is {money(thr.value)}: a budget of {money(example)} a week "
                              f"is above every manager's limit and not above the threshold, so no one below "
                              f"the panel may approve it.", file, line, key)
        for role, amount in sorted(managers.items()):
            if amount > thr.value and ("above", lim.since, thr.since, role) not in reported:
                reported.add(("above", lim.since, thr.since, role))
                yield DesignProblem(
                    "WF-SWS8-03", f"From {day}, {role} may approve up to {money(amount)} a week, above the panel "
                                  f"threshold of {money(thr.value)}, where only a panel may approve.",
                    file, line, key)


# ------------------------------------------------------------------------------------------- parameters


@functools.cache
def _shipped_rulebook() -> tuple[Any, tuple[Problem, ...]]:
    """The shipped rule packs, loaded once per process (None and why, if they do not load)."""
    try:
        from .engine import load_rulebook
    except ImportError:  # the engine is optional to the design checks
        return None, ()
    try:
        return load_rulebook(None, None), ()
    except DataFileError as e:
        return None, tuple(e.problems)


def _rulebook_parameters(wf: Workflow) -> tuple[dict[str, set[str]], list[Problem]]:
    """What the shipped rule packs use (parameter -> breach codes), and the parameters this design defines
    with a kind a rule cannot use (a deadline that is not a duration). A missing parameter is WF-PARAM-01,
    reported by :func:`check_parameters` with the codes that need it.

    This asks the same of the design as ``load_rulebook(None, workflow)`` would, without parsing every rule
    pack again for each design."""
    book, broken = _shipped_rulebook()
    if book is None:
        return {}, [Problem(p.file, p.line, p.key, f"the shipped rule packs do not load: {p.message}")
                    for p in broken]
    problems = []
    for rule, check in book.checks():
        for name in (getattr(check, "within", None), getattr(check, "extension_within", None)):
            param = wf.parameters.get(name) if name else None
            if param is not None and param.kind != "duration":
                file, line = _Origins.of(wf).at("parameters", name)
                problems.append(Problem(file, line, f"parameters.{name}",
                                        f"rule {rule.code} uses parameter {name!r} as a deadline, but it is "
                                        f"{'an' if param.kind[0] in 'aeiou' else 'a'} {param.kind}"))
    return {k: set(v) for k, v in book.parameters_used().items()}, problems


def check_parameters(wf: Workflow, origins: _Origins, used: Mapping[str, set[str]]) -> Iterator[DesignProblem]:
    needs: dict[str, list[str]] = defaultdict(list)
    for name, codes in sorted(used.items()):
        if codes:
            needs[name].append("rules " + ", ".join(sorted(codes)))
    first_line: dict[str, Transition] = {}
    for t in wf.transitions:
        for name in t.conditions.params() | t.unless.params():
            first_line.setdefault(name, t)
    for name, t in first_line.items():
        needs[name].append(f"the transition at line {t.line}")
    for name, by in sorted(needs.items()):
        if name not in wf.parameters:
            if name in first_line:
                file, line, key = origins.transition(first_line[name])
            else:
                file, raw = origins.chain[0]
                line, key = line_of(raw, ["parameters"]), "parameters"
            yield DesignProblem("WF-PARAM-01", f"Parameter {name} is used by {' and '.join(by)} but the design "
                                               f"does not define it.", file, line, key)
    for name, p in wf.parameters.items():
        days: dict = {}
        for v in p.values:
            file, line = origins.at("parameters", name, "values", v.since)
            key = f"parameters.{name}.values.{v.since.isoformat()}"
            bad = _not_positive(p.kind, v.value)
            if bad:
                yield DesignProblem("WF-PARAM-02", f"Parameter {name} from {v.since} is {bad}; it must be positive.",
                                    file, line, key)
            day = v.since
            if day in days:
                yield DesignProblem("WF-PARAM-03", f"Parameter {name} has two values taking effect on {day} "
                                                   f"({days[day].shown()} and {v.shown()}), so which is in force "
                                                   f"is ambiguous.", file, line, key)
            days[day] = v


def _not_positive(kind: str, value: Any) -> str:
    if value is None:
        return "not set"
    if kind == "duration":
        return f"{value}" if isinstance(value, Duration) and value.count <= 0 else ""
    if kind in ("amount", "number"):
        return f"{value}" if value <= 0 else ""
    if kind == "bands":
        return "an empty list of bands" if not value else ""
    if kind == "limits":
        bad = [f"{r} {a}" for r, a in value.items() if a <= 0]
        return ", ".join(bad)
    return ""
