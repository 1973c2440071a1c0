"""Activity maps: a case system's own step, field and value names translated into the contract's.

Every case system names things its own way: MOSAIC's "Client ID" and "DP" are our ``case`` and option 1.
A map is a small YAML file::

    map: example-export
    description: what system and export it is for
    fields:                       # their column or attribute -> our field
      Client ID: case
      Step: activity
      Worker: actor.id
    activities:                   # their step -> our activity, or an activity with attributes it implies
      New referral: referral_received
      Options discussed: {activity: options_offered, set: {information_given: true}}
    values:                       # per field (our name): their value -> ours
      options: {DP: 1, ISF: 2, Council arranged: 3, Mix: 4}

Real exports need more (issue 15)::

    activities:
      "T07-* Draft*": advice_drafted          # a glob pattern (* ? [..]) over their step names
      "Check+start": check_started            # a step together with its lifecycle:transition (XES)
    default: other_step                       # any step nothing else covers (or leave it out: rejected)
    ignore: [Phone call, "Case note*"]        # steps that are no part of the process: counted apart
    values:
      actor.role: {Maatschappelijk werker: social_worker}   # any field, roles included

Exact names win over patterns, patterns are tried in the order written, and ``default`` comes last. An ignored
step is not replayed and not rejected: the summary counts it apart (``events_ignored``, by name). With
``keep_source: true`` each event a map renamed keeps their step name as the attribute ``source_activity``.

A map is applied to a raw record *before* validation (``build_event``), so validation still judges the
canonical shape. A step the map does not cover is never dropped: the record becomes a rejection whose reason
names the unmapped name, and :func:`unmapped` counts them across a run. Values of a field with a value table
are a closed vocabulary too. ``pass_canonical: true`` lets names that already are canonical through.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .datafile import DataFileError, Problem, line_of, load_yaml, schema_problems
from .events import ACTIVITIES, ACTOR_FIELDS, CORE_FIELDS, EventError, Rejection

#: fields a map may rename onto: the core fields, the actor's parts, or any attribute name
_TARGET = r"^(id|case|at|activity|actor\.(id|role|team)|[A-Za-z_][A-Za-z0-9_:.\-]*)$"
_SCALAR = {"type": ["string", "number", "boolean"]}

SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["map", "activities"],
    "properties": {
        "map": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "source": {"type": "string"},
        "pass_canonical": {"type": "boolean"},
        "keep_source": {"type": "boolean", "description": "keep their step name as source_activity"},
        "ignore": {"type": "array", "items": {"type": "string", "minLength": 1},
                   "description": "their steps (names or glob patterns) that are no part of the process"},
        "default": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "object", "required": ["activity"]}],
                    "description": "what any step nothing else covers becomes"},
        "fields": {"type": "object", "additionalProperties": {
            "type": "string", "pattern": _TARGET,
            "description": "a field name such as case, at or actor.id"}},
        "activities": {"type": "object", "additionalProperties": {"anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "additionalProperties": False, "required": ["activity"],
             "properties": {"activity": {"type": "string", "minLength": 1},
                            "set": {"type": "object", "additionalProperties": {
                                "anyOf": [_SCALAR, {"type": "array", "items": _SCALAR}]}},
                            "description": {"type": "string"}}},
        ]}},
        "values": {"type": "object", "additionalProperties": {
            "type": "object", "minProperties": 1,
            "additionalProperties": {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR}]}}},
    },
}


#: the reason of a record whose step a map ignores (a Rejection the replay counts apart, never reports)
IGNORED = "is ignored by the activity map"


class IgnoredStep(EventError):
    """A record's step is one the map ignores: no part of the process."""

    def __init__(self, name: str, map_name: str):
        super().__init__("activity", f"{name!r} {IGNORED} {map_name}")
        self.name = name


def ignored_step(rejection: Rejection) -> str | None:
    """Their step name, when ``rejection`` is a record a map ignores; else None."""
    if rejection.field != "activity" or IGNORED not in rejection.reason:
        return None
    m = re.match(r"^'activity' ('(?:[^'\\]|\\.)*'|\"[^\"]*\") " + IGNORED, rejection.reason)
    return _unquote(m.group(1)) if m else None


class MapError(EventError):
    """A record names a step or value the map does not cover. ``name`` is the uncovered name."""

    def __init__(self, field: str, name: str, reason: str):
        super().__init__(field, reason)
        self.name = name


@attrs.frozen(slots=True)
class Target:
    """What one of their steps becomes: our activity, and attributes the step implies."""

    activity: str
    set: Mapping[str, Any] = attrs.field(factory=dict)


_UNSEEN = object()


@attrs.frozen(slots=True)
class ActivityMap:
    """A loaded, checked map. :meth:`apply` translates one raw record in place."""

    name: str
    file: str
    activities: Mapping[str, Target]
    fields: Mapping[str, str] = attrs.field(factory=dict)
    values: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    pass_canonical: bool = False
    #: (glob pattern, target) in the order written; tried after the exact names
    patterns: tuple[tuple[str, Target], ...] = ()
    ignore: frozenset[str] = frozenset()
    ignore_patterns: tuple[str, ...] = ()
    default: Target | None = None
    keep_source: bool = False
    #: the vocabulary the map translates into (default: the SDS contract)
    vocabulary: Mapping[str, Any] = attrs.field(default=ACTIVITIES, eq=False, repr=False)
    #: (step, lifecycle) -> what ``target`` gave: its Target, None, or the IgnoredStep it raised (a log has a
    #: few dozen steps and millions of events; bounded, cleared rather than aged)
    _targets: dict[tuple[str, str | None], Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def column(self, name: str) -> str:
        """Our name for one of their CSV columns (``actor.id`` becomes the CSV column ``actor_id``)."""
        target = self.fields.get(name, name)
        return target.replace(".", "_", 1) if target.startswith("actor.") else target

    def apply(self, record: dict, text_cells: bool = False) -> dict:
        """Translate ``record`` in place (their fields, steps and values to ours) and return it.

        Raises :class:`MapError` naming the first uncovered step or value. With ``text_cells`` (CSV) the
        record holds text and values are written back as text (lists ``1;2``).
        """
        for theirs, ours in self.fields.items():
            if theirs not in record or theirs == ours:
                continue
            value = record.pop(theirs)
            if ours.startswith("actor."):
                part = ours.split(".", 1)[1]
                if text_cells:
                    record[f"actor_{part}"] = value
                else:
                    actor = record.get("actor")
                    actor = dict(actor) if isinstance(actor, dict) else {}
                    actor[part] = value
                    record["actor"] = actor
            else:
                record[ours] = value
        name = record.get("activity")
        target = None
        key = ""
        if isinstance(name, str) and name != "":
            key = name.strip()
            target = self.target_of(key, record.get("lifecycle:transition"))
            if target is None and not (self.pass_canonical and key in self.vocabulary):
                raise MapError("activity", key, f"{key!r} is not covered by the activity map {self.name} "
                                                f"({self.file}); it maps: {_list(self.activities)}")
        for field, table in self.values.items():
            if field.startswith("actor."):
                self._actor_value(record, field, table, text_cells)
                continue
            raw = record.get(field)
            if raw is None or raw == "":
                continue
            record[field] = self._value(field, table, raw, text_cells)
        if target is not None:
            if self.keep_source and target.activity != key and record.get("source_activity") in (None, ""):
                record["source_activity"] = key  # their step name, kept for findings and XES output
            record["activity"] = target.activity
            for attr, value in target.set.items():
                if record.get(attr) in (None, ""):
                    record[attr] = _as_text(value) if text_cells else value
        return record

    def target_of(self, step: str, lifecycle: Any = None) -> Target | None:
        """``target``, remembered for each (step, lifecycle) (a log has a few dozen steps and millions of events);
        an ignored step raises IgnoredStep each time."""
        memo = (step, lifecycle if type(lifecycle) is str else None)
        got = self._targets.get(memo, _UNSEEN)
        if got is _UNSEEN:
            try:
                got = self.target(*memo)
            except IgnoredStep as e:
                got = e
            if len(self._targets) >= 4096:
                self._targets.clear()
            self._targets[memo] = got
        if type(got) is IgnoredStep:
            raise IgnoredStep(got.name, self.name)
        return got

    def target(self, step: str, lifecycle: Any = None) -> Target | None:
        """What their ``step`` (with its lifecycle transition, if any) becomes; IgnoredStep if the map ignores it."""
        keys = [f"{step}+{lifecycle}", step] if isinstance(lifecycle, str) and lifecycle else [step]
        for k in keys:
            hit = self.activities.get(k)
            if hit is not None:
                return hit
        for k in keys:
            if k in self.ignore:
                raise IgnoredStep(k, self.name)
        for k in keys:
            for pattern, hit in self.patterns:
                if fnmatch.fnmatchcase(k, pattern):
                    return hit
            for pattern in self.ignore_patterns:
                if fnmatch.fnmatchcase(k, pattern):
                    raise IgnoredStep(k, self.name)
        return self.default

    def _actor_value(self, record: dict, field: str, table: Mapping[str, Any], text_cells: bool) -> None:
        part = field.split(".", 1)[1]
        if text_cells:
            raw = record.get(f"actor_{part}")
            if raw not in (None, ""):
                record[f"actor_{part}"] = self._value(field, table, raw, True)
            return
        actor = record.get("actor")
        if isinstance(actor, dict) and actor.get(part) not in (None, ""):
            actor = dict(actor)
            actor[part] = self._one(field, table, actor[part])
            record["actor"] = actor

    def _value(self, field: str, table: Mapping[str, Any], raw: Any, text_cells: bool) -> Any:
        if text_cells and isinstance(raw, str):
            parts = [p.strip() for p in raw.split(";")] if ";" in raw else [raw.strip()]
            out = [self._one(field, table, p) for p in parts if p]
            return ";".join(_as_text(v) for v in out)
        if isinstance(raw, list | tuple):
            return [self._one(field, table, v) for v in raw]
        return self._one(field, table, raw)

    def _one(self, field: str, table: Mapping[str, Any], value: Any) -> Any:
        key = _key(value)
        if key in table:
            return table[key]
        raise MapError(field, key, f"value {key!r} is not covered by the activity map {self.name} "
                                   f"({self.file}); for {field} it maps: {_list(table)}")


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(_as_text(v) for v in value)
    return str(value)


def _list(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def load_map(path: str | Path, vocabulary: Mapping[str, Any] | None = None) -> ActivityMap:
    """Load and check a map into ``vocabulary`` (a design's; default the SDS contract). Raises DataFileError listing
    every problem with file, line and key."""
    vocab = ACTIVITIES if vocabulary is None else vocabulary
    file = str(path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        line = getattr(raw, "line", None)
        raise DataFileError([Problem(file, line, "", "must be a mapping with a 'map' key")])
    problems = list(schema_problems(raw, SCHEMA, file))
    if problems:
        raise DataFileError(problems)
    activities: dict[str, Target] = {}
    patterns: list[tuple[str, Target]] = []
    entries = list(raw["activities"].items())
    if raw.get("default") is not None:
        entries.append(("default", raw["default"]))
    default = None
    for theirs, spec in entries:
        where = ["activities", theirs] if theirs != "default" or "default" not in raw else ["default"]
        target = Target(spec) if isinstance(spec, str) else Target(spec["activity"], dict(spec.get("set") or {}))
        attrs_spec = vocab.get(target.activity)
        if attrs_spec is None:
            problems.append(Problem(file, line_of(raw, where), f"activities.{theirs}",
                                    vocab.not_known(target.activity) if hasattr(vocab, "not_known") else
                                    f"{target.activity!r} is not an activity of the event contract (docs/contract.md)"))
            continue
        for attr in target.set:
            if attr in CORE_FIELDS:
                problems.append(Problem(file, line_of(raw, [*where, "set", attr]), f"activities.{theirs}.set",
                                        f"'set' gives attributes, not the core field {attr!r}"))
        if where == ["default"]:
            default = target
        elif any(c in str(theirs) for c in "*?["):
            patterns.append((str(theirs).strip(), target))
        else:
            activities[str(theirs).strip()] = target
    ignore = [str(i).strip() for i in raw.get("ignore") or ()]
    fields = {str(k): v for k, v in (raw.get("fields") or {}).items()}
    targets = Counter(fields.values())
    for theirs, ours in fields.items():
        if targets[ours] > 1:
            problems.append(Problem(file, line_of(raw, ["fields", theirs]), f"fields.{theirs}",
                                    f"{ours!r} is the target of more than one field"))
        if ours.startswith("actor.") and ours.split(".", 1)[1] not in ACTOR_FIELDS:
            problems.append(Problem(file, line_of(raw, ["fields", theirs]), f"fields.{theirs}",
                                    "an actor field must be actor.id, actor.role or actor.team"))
    tables = raw.get("values") or {}
    values = {str(f): {_key(k): v for k, v in table.items()} for f, table in tables.items()}
    if problems:
        raise DataFileError(problems)
    return ActivityMap(name=raw["map"], file=file, activities=activities, fields=fields, values=values,
                       pass_canonical=bool(raw.get("pass_canonical", False)), vocabulary=vocab,
                       patterns=tuple(patterns), default=default, keep_source=bool(raw.get("keep_source", False)),
                       ignore=frozenset(i for i in ignore if not any(c in i for c in "*?[")),
                       ignore_patterns=tuple(i for i in ignore if any(c in i for c in "*?[")))


def as_map(value: ActivityMap | str | Path | None, vocabulary: Mapping[str, Any] | None = None) -> ActivityMap | None:
    """A map from a map, a path, or None."""
    if value is None or isinstance(value, ActivityMap):
        return value
    return load_map(value, vocabulary)


_UNMAPPED = re.compile(r"^'(?P<field>[^']+)' (?:value )?(?P<name>'(?:[^'\\]|\\.)*'|\"[^\"]*\")"
                       r" is not covered by the activity map ")


def unmapped(rejections: Iterable[Rejection]) -> Counter[tuple[str, str]]:
    """(field, their name) -> how many records a map did not cover, over a run's rejections."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in rejections:
        m = _UNMAPPED.match(r.reason)
        if m:
            counts[(m["field"], _unquote(m["name"]))] += 1
    return counts


def _unquote(text: str) -> str:
    import ast

    try:
        return str(ast.literal_eval(text))
    except (ValueError, SyntaxError):  # pragma: no cover - the reason is written by this module
        return text[1:-1]
