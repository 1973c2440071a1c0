"""Workflow designs: the states and transitions of a local pathway, and its dated parameters.

A design is YAML (see ``workflows/national.yaml``). Loading accepts only known keys, reports every problem
with file, line and key, and builds one ``transitions`` Machine per design. The replay then steps cases
through a lookup table read off that Machine (``Workflow.step``), which gives the Machine's own answers
without a model object per case; ``tests/test_workflow.py`` checks the two agree step for step.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from transitions import Machine

from .calendar import SCOTLAND, Duration, check_calendar, parse_duration
from .conditions import Where, WhereError, compile_where
from .datafile import DataFileError, LineDict, Problem, line_of, load_yaml, schema_problems
from .events import BANDS, ROLES, SDS
from .vocabulary import Vocabulary, VocabularyError, load_vocabulary

PARAM_KINDS = ("duration", "amount", "number", "bands", "limits")
STAY = "="

_STR_OR_LIST = {"anyOf": [{"type": "string", "minLength": 1},
                          {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]}
SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["workflow"],
    "properties": {
        "workflow": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "version": {"type": ["string", "number"]},
        "description": {"type": "string"},
        "authority": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "string"}},
        "extends": {"type": "string", "minLength": 1},
        "vocabulary": {"type": "string", "minLength": 1,
                       "description": "sds (the default), another shipped vocabulary, or a vocabulary file"},
        "time_zone": {"type": "string", "minLength": 1, "description": "IANA name; default Europe/London"},
        "holidays": {"type": "object", "additionalProperties": False, "required": ["country"],
                     "properties": {"country": {"type": "string", "minLength": 2},
                                    "subdivision": {"type": ["string", "null"]}},
                     "description": "the public holidays working days skip (holidays package); default Scotland"},
        "initial": {"type": "string", "minLength": 1},
        "states": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
                           "closed": {"type": "boolean"}, "stage": {"type": "string"}}}},
        "transitions": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["trigger", "source", "dest"],
            "properties": {"trigger": _STR_OR_LIST, "source": _STR_OR_LIST, "dest": {"type": "string"},
                           "conditions": {"type": "object"}, "unless": {"type": "object"},
                           "description": {"type": "string"}}}},
        "anywhere": {"type": "array", "items": {"type": "string"}},
        "parameters": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["kind", "values"],
            "properties": {"kind": {"enum": list(PARAM_KINDS)}, "description": {"type": "string"},
                           "unit": {"type": "string"}, "values": {"type": "object", "minProperties": 1}}}},
    },
}


@attrs.frozen(slots=True)
class ParamValue:
    """A parameter's value in force on a day: what it was, since when, and on whose authority."""

    name: str
    value: Any
    since: date
    reference: str

    def shown(self) -> str:
        v = self.value
        if isinstance(v, Duration):
            return str(v)
        if isinstance(v, tuple):
            return ", ".join(map(str, v))
        if isinstance(v, Mapping):
            return ", ".join(f"{k} {money(x)}" for k, x in v.items())
        return money(v) if isinstance(v, int | float) else str(v)

    def to_dict(self) -> dict:
        v = self.value
        if isinstance(v, Duration):
            v = str(v)
        elif isinstance(v, tuple):
            v = list(v)
        elif isinstance(v, Mapping):
            v = dict(v)
        return {"name": self.name, "value": v, "since": self.since.isoformat(), "reference": self.reference}


def money(x: object) -> str:
    """Pounds as the reports write them: £1,000 or £12.50."""
    return f"£{x:,.2f}".replace(".00", "") if isinstance(x, int | float) else str(x)


@attrs.frozen(slots=True)
class Parameter:
    name: str
    kind: str
    description: str
    values: tuple[ParamValue, ...]  # sorted by ``since``
    _since: tuple[date, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_since", tuple(v.since for v in self.values))

    def at(self, day: date) -> ParamValue:
        """The value in force on ``day`` (before the first date, the first value)."""
        if len(self._since) == 1:
            return self.values[0]
        i = bisect.bisect_right(self._since, day) - 1
        return self.values[max(i, 0)]


@attrs.frozen(slots=True)
class Transition:
    trigger: str
    source: str
    dest: str  # STAY for a step that keeps the stage
    conditions: Where = Where()
    unless: Where = Where()
    line: int | None = None

    def allows(self, event, lookup) -> bool:
        if self.conditions and not self.conditions.matches(event, lookup):
            return False
        return not (self.unless and self.unless.matches(event, lookup))


@attrs.frozen(slots=True)
class State:
    name: str
    description: str = ""
    closed: bool = False
    stage: str = ""


@attrs.frozen(eq=False)
class Workflow:
    """A loaded, checked workflow design."""

    name: str
    title: str
    version: str
    file: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    anywhere: frozenset[str]
    parameters: Mapping[str, Parameter]
    sources: tuple[str, ...] = ()
    authority: str = ""
    #: the activities, attributes and roles of the design's case logs (default: the SDS contract)
    vocabulary: Vocabulary = attrs.field(default=SDS, eq=False, repr=False)
    #: the design's time zone (its days, and the time shown) and the holiday calendar of its working days
    time_zone: str = "Europe/London"
    holidays: tuple[str, str | None] = SCOTLAND
    #: judge each case's log as its complete history (``--complete``): a duty still open at its last event is
    #: breached then, as Declare tools judge a closed trace
    complete: bool = False

    @cached_property
    def reading_vocabulary(self) -> Vocabulary | None:
        """What readers judge this design's logs by: None for the SDS contract in Europe/London (the default
        readers), else the design's vocabulary in its time zone."""
        if self.time_zone != "Europe/London":
            return self.vocabulary.zoned(self.time_zone)
        return None if self.vocabulary is SDS else self.vocabulary

    @cached_property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @cached_property
    def closed_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.closed)

    @cached_property
    def machine(self) -> Machine:
        """The ``transitions`` Machine of this design, built once."""
        specs = []
        for t in self.transitions:
            spec: dict[str, Any] = {"trigger": t.trigger, "source": t.source,
                                    "dest": None if t.dest == STAY else t.dest}
            if t.conditions or t.unless:
                spec["conditions"] = [_Guard(t, self.param_value)]
            specs.append(spec)
        return Machine(model=None, states=list(self.state_names), transitions=specs, initial=self.initial,
                       auto_transitions=False, send_event=True, ignore_invalid_triggers=False)

    @cached_property
    def _table(self) -> dict[tuple[str, str], tuple[tuple[Any, str], ...]]:
        """(state, activity) -> ((guard or None, dest), ...) in the Machine's own order."""
        table: dict[tuple[str, str], list] = {}
        for trigger, ev in self.machine.events.items():
            for source, ts in ev.transitions.items():
                for t in ts:
                    guard = t.conditions[0].func if t.conditions else None
                    table.setdefault((source, trigger), []).append((guard, t.dest or STAY))
        return {k: tuple(v) for k, v in table.items()}

    @cached_property
    def fixed_steps(self) -> dict[tuple[str, str], tuple[str | None, str]]:
        """``step``'s answer for each (state, activity) whose answer does not depend on the event's data: the
        first transition tried has no conditions, or the activity has no transition from the state at all (then
        the state alone decides). A replay looks a step up here and asks ``step`` only for the others (a
        triage's tier, say); the answers are ``step``'s own, made once."""
        fixed: dict[tuple[str, str], tuple[str | None, str]] = {}
        activities = {a for (_, a) in self._table} | set(self.anywhere)
        for state in self.state_names:
            for activity in activities:
                options = self._table.get((state, activity))
                if not options:
                    fixed[(state, activity)] = self._unmatched(state, activity)
                elif options[0][0] is None:
                    fixed[(state, activity)] = _taken(state, options[0][1])
        return fixed

    def step(self, state: str, event) -> tuple[str | None, str]:
        """Where ``event`` takes a case at ``state``.

        Returns (new state, how): how is "moved", "stayed" (a step of this stage), "anywhere" (allowed in any
        open stage), or, with new state None, "closed" (SDS-SEQ-02) or "not allowed" (SDS-SEQ-01).
        """
        options = self._table.get((state, event.activity))
        if options:
            for guard, dest in options:
                if guard is None or guard.allows(event):
                    return _taken(state, dest)
        return self._unmatched(state, event.activity)

    def _unmatched(self, state: str, activity: str) -> tuple[str | None, str]:
        """``step`` of an activity no transition from ``state`` takes: the state alone decides."""
        if state in self.closed_states:
            return None, "closed"
        if activity in self.anywhere and state != self.initial:
            return state, "anywhere"
        return None, "not allowed"

    def allowed_in(self, state: str) -> list[str]:
        acts = {a for (s, a) in self._table if s == state}
        if state not in self.closed_states and state != self.initial:
            acts |= self.anywhere
        return sorted(acts)

    def param(self, name: str, day: date) -> ParamValue:
        try:
            return self.parameters[name].at(day)
        except KeyError:
            raise KeyError(f"workflow {self.name} defines no parameter {name!r}") from None

    def param_value(self, name: str, day: date) -> Any:
        return self.param(name, day).value

    def describe(self) -> str:
        return f"{self.name} {self.version}".strip()


def _taken(state: str, dest: str) -> tuple[str, str]:
    """``step`` of a transition taken from ``state`` to ``dest``."""
    return (state, "stayed") if dest == STAY else (dest, "moved")


class _Guard:
    """A transition's data conditions, as a callable ``transitions`` accepts and the replay calls directly."""

    __slots__ = ("lookup", "t")

    def __init__(self, t: Transition, lookup):
        self.t, self.lookup = t, lookup

    def allows(self, event) -> bool:
        return self.t.allows(event, self.lookup)

    def __call__(self, event_data) -> bool:  # the transitions API (send_event=True)
        return self.allows(event_data.kwargs["event"])

    def __repr__(self) -> str:
        parts = [self.t.conditions.describe()] if self.t.conditions else []
        if self.t.unless:
            parts.append("unless " + self.t.unless.describe())
        return " ".join(parts)


# ----------------------------------------------------------------------------------------------- loading

def bundled_dir() -> Path:
    """Where the shipped designs are: the source tree's ``workflows/`` or the installed package data."""
    here = Path(__file__).resolve().parent.parent / "workflows"
    if (here / "national.yaml").is_file():
        return here
    return Path(str(resources.files("sdsrules.workflows")))


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def resolve(name_or_path: str | Path | None) -> Path:
    """A design file: a path, or the name of a shipped design (``national``)."""
    if name_or_path is None:
        return bundled_dir() / "national.yaml"
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml") and not p.exists() and "/" not in str(name_or_path):
        candidate = bundled_dir() / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    return p


def missing(name_or_path: str | Path, path: Path) -> DataFileError:
    """The error for a design that is neither a file nor a shipped name, with a "did you mean" for a misspelt
    shipped name."""
    import difflib

    name = str(name_or_path)
    if "/" in name or Path(name).suffix:
        return DataFileError([Problem(str(path), None, "", "cannot be read: no such file")])
    shipped = bundled_names()
    close = difflib.get_close_matches(Path(name).stem, shipped, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return DataFileError([Problem(str(path), None, "", f"cannot be read: no such file, and no shipped design is "
                                                        f"called that{hint} (shipped: {', '.join(shipped)})")])


def resolve_existing(name_or_path: str | Path | None) -> Path:
    """``resolve``, or DataFileError (with "did you mean") when there is no such file or shipped design."""
    path = resolve(name_or_path)
    if name_or_path is not None and not path.exists() and not path.is_symlink():
        raise missing(name_or_path, path)
    return path


def load_workflow(name_or_path: str | Path | None = None) -> Workflow:
    """Load and check a design. Raises DataFileError listing every problem with file, line and key."""
    path = resolve_existing(name_or_path)
    raw = load_yaml(path)
    problems: list[Problem] = []
    merged = merge_base(raw, path, problems)
    if problems:
        raise DataFileError(problems)
    wf = build_design(merged, str(path), problems)
    if problems:
        raise DataFileError(problems)
    return wf


def merge_base(raw: Any, path: Path, problems: list[Problem], depth: int = 0) -> Any:
    """A design's YAML with the design it ``extends`` merged beneath it (parameters merged value by value), every
    problem found on the way appended to ``problems``."""
    file = str(path)
    if not isinstance(raw, dict):
        problems.append(Problem(file, getattr(raw, "line", None), "", "must be a mapping with a 'workflow' key"))
        return raw
    problems.extend(schema_problems(raw, SCHEMA, file))
    if problems or "extends" not in raw:
        return raw
    base_name = raw["extends"]
    # a design may extend a shipped design by name or a file beside it; nothing outside those two places
    if "/" in base_name or "\\" in base_name or base_name.startswith("."):
        problems.append(Problem(file, line_of(raw, ["extends"]), "extends",
                                f"must name a shipped design or a file in the same folder (got {base_name!r})"))
        return raw
    if depth > 4:
        problems.append(Problem(file, line_of(raw, ["extends"]), "extends", "extends designs more than 5 deep"))
        return raw
    sibling = path.parent / (base_name if base_name.endswith((".yaml", ".yml")) else base_name + ".yaml")
    inside = sibling.is_file() and sibling.resolve().parent == path.resolve().parent  # no symlink out of the folder
    base_path = sibling if inside and sibling.resolve() != path.resolve() else \
        bundled_dir() / f"{base_name.removesuffix('.yaml')}.yaml"
    if not base_path.is_file():
        problems.append(Problem(file, line_of(raw, ["extends"]), "extends",
                                f"names no design (shipped: {', '.join(bundled_names())})"))
        return raw
    try:
        base = merge_base(load_yaml(base_path), base_path, problems, depth + 1)
    except DataFileError as e:
        problems.extend(e.problems)
        return raw
    if problems:
        return raw
    out = LineDict(base)
    out.line, out.lines = getattr(raw, "line", None), {**base.lines, **getattr(raw, "lines", {})}
    for key, value in raw.items():
        if key == "parameters":
            params = LineDict(base.get("parameters", {}))
            params.line, params.lines = value.line, {**getattr(base.get("parameters"), "lines", {}), **value.lines}
            for pname, pdef in value.items():
                old = base.get("parameters", {}).get(pname)
                if old is not None and "values" in pdef and old.get("kind") == pdef.get("kind"):
                    values = LineDict({**old["values"], **pdef["values"]})
                    values.line, values.lines = pdef["values"].line, {**old["values"].lines, **pdef["values"].lines}
                    merged = LineDict({**old, **pdef, "values": values})
                    merged.line, merged.lines = pdef.line, {**old.lines, **pdef.lines}
                    params[pname] = merged
                else:
                    params[pname] = pdef
            out["parameters"] = params
        elif key != "extends":
            out[key] = value
    return out


def build_design(raw: dict, file: str, problems: list[Problem]) -> Workflow:
    """A ``Workflow`` from merged design YAML, every problem appended to ``problems`` (file, line, key)."""
    def problem(path: list, message: str) -> None:
        key = ".".join(str(p) for p in path)
        problems.append(Problem(file, line_of(raw, path), key, message))

    try:
        vocab = load_vocabulary(raw.get("vocabulary"), relative_to=file)
    except VocabularyError as e:
        problem(["vocabulary"], f"cannot be loaded: {e}")
        vocab = load_vocabulary(None)
    states_raw = raw.get("states") or []
    if not states_raw:
        problem(["states"], "a design needs states (or 'extends' to start from a shipped design)")
    names = [s["name"] for s in states_raw]
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            problem(["states", i, "name"], f"state {n!r} is listed twice")
        seen.add(n)
    initial = raw.get("initial", names[0] if names else "")
    if names and initial not in seen:
        problem(["initial"], f"{initial!r} is not a state (states: {', '.join(names)})")

    transitions: list[Transition] = []
    for i, t in enumerate(raw.get("transitions") or []):
        triggers = [t["trigger"]] if isinstance(t["trigger"], str) else list(t["trigger"])
        sources = [t["source"]] if isinstance(t["source"], str) else list(t["source"])
        if sources == ["*"]:
            sources = [n for n, s in zip(names, states_raw, strict=True) if not s.get("closed") and n != initial]
        for trig in triggers:
            if trig not in vocab:
                problem(["transitions", i, "trigger"], vocab.not_known(trig))
        for src in sources:
            if src not in seen:
                problem(["transitions", i, "source"], f"{src!r} is not a state")
        dest = t["dest"]
        if dest != STAY and dest not in seen:
            problem(["transitions", i, "dest"], f"{dest!r} is not a state (or '=' to stay)")
        fields = set().union(*(vocab.get(a, {}).keys() for a in triggers), vocab.trace_attributes)
        conds = {}
        for key in ("conditions", "unless"):
            try:
                conds[key] = compile_where(t.get(key), f"transitions[{i}].{key}", fields)
            except WhereError as e:
                problems.append(Problem(file, line_of(raw, ["transitions", i, key]), e.key, e.message))
                conds[key] = Where()
        for trig in triggers:
            for src in sources:
                transitions.append(Transition(trig, src, dest, conds["conditions"], conds["unless"],
                                              line_of(raw, ["transitions", i])))

    anywhere = list(raw.get("anywhere") or [])
    for i, a in enumerate(anywhere):
        if a not in vocab:
            problem(["anywhere", i], vocab.not_known(a))

    zone = raw.get("time_zone", "Europe/London")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problem(["time_zone"], f"{zone!r} is not a time zone (an IANA name such as Europe/London, Europe/Amsterdam)")
        zone = "Europe/London"
    cal: tuple[str, str | None] = SCOTLAND
    if raw.get("holidays"):
        try:
            cal = check_calendar(raw["holidays"]["country"], raw["holidays"].get("subdivision"))
        except ValueError as e:
            problem(["holidays"], str(e))
    parameters: dict[str, Parameter] = {}
    for pname, pdef in (raw.get("parameters") or {}).items():
        parameters[pname] = _parameter(pname, pdef, raw, problem, vocab.roles, cal)

    return Workflow(
        name=raw["workflow"], title=raw.get("title", raw["workflow"]), version=str(raw.get("version", "")),
        file=file, initial=initial,
        states=tuple(State(s["name"], s.get("description", ""), bool(s.get("closed")), s.get("stage", ""))
                     for s in states_raw),
        transitions=tuple(transitions), anywhere=frozenset(anywhere), parameters=parameters,
        sources=tuple(raw.get("sources") or ()), authority=raw.get("authority", ""), vocabulary=vocab,
        time_zone=zone, holidays=cal,
    )


def _parameter(pname: str, pdef: dict, raw: dict, problem, roles: tuple[str, ...] = ROLES,
               cal: tuple[str, str | None] = SCOTLAND) -> Parameter:
    kind = pdef["kind"]
    values = []
    for since, entry in pdef["values"].items():
        path = ["parameters", pname, "values", since]
        if not isinstance(since, date) or isinstance(since, datetime):  # a date-time key would break the sort
            problem(path, f"a value must be keyed by the date it took effect, YYYY-MM-DD (got {since!r})")
            continue
        if not isinstance(entry, dict) or set(entry) - {"value", "reference"} or "value" not in entry:
            problem(path, "must be a mapping with 'value' and 'reference' (and nothing else)")
            continue
        if not isinstance(entry.get("reference"), str) or not entry["reference"].strip():
            problem([*path, "reference"], "every value needs a reference: the Act, guidance, standard or "
                                          "'local policy' it comes from")
            continue
        try:
            value = _param_value(kind, entry["value"], roles)
            if cal != SCOTLAND and isinstance(value, Duration):
                value = attrs.evolve(value, calendar=cal)  # working days of the design's own calendar
        except ValueError as e:
            problem([*path, "value"], str(e))
            continue
        values.append(ParamValue(pname, value, since, entry["reference"].strip()))
    values.sort(key=lambda v: v.since)
    if not values:
        values = [ParamValue(pname, None, date(1900, 1, 1), "")]
    return Parameter(pname, kind, pdef.get("description", ""), tuple(values))


def _param_value(kind: str, value: Any, roles: tuple[str, ...] = ROLES) -> Any:
    if kind == "duration":
        d = parse_duration(value)
        if d.count <= 0:
            raise ValueError(f"a deadline must be positive (got {value!r})")
        return d
    if kind in ("amount", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"must be a number of at least 0 (got {value!r})")
        return value
    if kind == "bands":
        if not isinstance(value, list) or any(b not in BANDS for b in value):
            raise ValueError(f"must be a list of bands from {', '.join(BANDS)} (got {value!r})")
        return tuple(value)
    if kind == "limits":
        if not isinstance(value, dict) or not value:
            raise ValueError(f"must map approver roles to weekly amounts (got {value!r})")
        for role, amount in value.items():
            if role not in roles:
                raise ValueError(f"{role!r} is not a role (roles: {', '.join(roles)})")
            if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
                raise ValueError(f"the limit for {role} must be a positive amount (got {amount!r})")
        return dict(value)
    raise ValueError(f"unknown kind {kind!r}")


def activities_used(wf: Workflow) -> set[str]:
    return {t.trigger for t in wf.transitions} | set(wf.anywhere)


def iter_problems(paths: Iterable[str | Path]) -> Iterable[tuple[str, list[Problem]]]:
    for p in paths:
        try:
            load_workflow(p)
            yield str(p), []
        except DataFileError as e:
            yield str(p), e.problems
