"""Vocabularies: the activities a case log may record, their attributes (types, required flags), and the roles.

The SDS contract (``shared/spec/events.md``) is one vocabulary, shipped as ``sds.yaml`` beside this module;
``sdsrules.events`` builds its checks from it. A workflow design names its vocabulary (``vocabulary: sds``, the
default), a file that extends the SDS one with local activities, attributes and roles, or a file of its own for
another process (a permit process, a bank's loan process)::

    vocabulary: receipt
    title: Receipt phase of an environmental permit application
    extends: sds                 # optional: start from another vocabulary (a shipped name or a path)
    roles: [clerk, coordinator]  # added to the base's roles
    trace_attributes: [channel]  # trace attributes a reader copies onto every event (XES)
    activities:
      confirmation_of_receipt:
        words: confirmation of receipt        # a noun phrase for sentences: "the {words} of 2024-03-05"
        stage: Receipt                        # a heading for the listing and docs
        meaning: the applicant is told the application arrived
        attributes:
          channel: {one_of: [Desk, Post, Email], required: true}
          pages: {type: whole number, minimum: 0}

An attribute's type is ``text``, ``boolean``, ``number``, ``whole number``, ``date``, ``role`` (one of the
vocabulary's roles), or a mapping: ``{type: number, minimum: 0, maximum: 130}``, ``{one_of: [a, b]}``,
``{list_of: TYPE, non_empty: true}``, each with optional ``required: true`` and ``meaning``.

A :class:`Vocabulary` is a dict ``activity -> {attribute: (Kind, required)}``: the shape of
``events.ACTIVITIES``, which readers (the msgspec fast path too) build their checks from. Loading checks the
file and reports every problem with file, line and key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..datafile import DataFileError, LineDict, Problem, line_of, load_yaml
from .kinds import BOOL, TEXT, Day, Kind, ListOf, Number, OneOf

__all__ = ["SDS_NAME", "Vocabulary", "VocabularyError", "load_vocabulary", "shipped", "shipped_names", "words_of"]

SDS_NAME = "sds"
#: fields every event has; never attributes of an activity
CORE_FIELDS = ("id", "case", "at", "activity", "actor")
TOP_KEYS = ("vocabulary", "title", "description", "extends", "roles", "trace_attributes", "activities", "source")
ACTIVITY_KEYS = ("words", "stage", "meaning", "attributes")
TYPE_KEYS = ("type", "minimum", "maximum", "one_of", "list_of", "non_empty", "required", "meaning")
PLAIN_TYPES = ("text", "boolean", "number", "whole number", "date", "role")

#: the sentence words of every activity any loaded vocabulary declared (activity -> noun phrase); the messages of
#: the engines read them through ``events.activity_words``
WORDS: dict[str, str] = {}


class VocabularyError(DataFileError):
    """A vocabulary file could not be loaded (every problem with file, line and key)."""


class Vocabulary(dict):
    """activity -> {attribute: (Kind, required)}, with the vocabulary's name, roles and words."""

    name: str
    title: str
    file: str
    roles: tuple[str, ...]
    words: dict[str, str]
    stages: dict[str, str]
    meanings: dict[str, str]
    attribute_meanings: dict[tuple[str, str], str]
    trace_attributes: tuple[str, ...]
    required: dict[str, tuple[str, ...]]
    sds: bool  # the SDS vocabulary, or one that extends it: the SDS standards (WF-SWS*) apply
    base: str | None
    time_zone: Any  # a ZoneInfo when records are read in a design's own time zone (see ``zoned``), else None

    def __init__(self, name: str, activities: Mapping[str, Mapping[str, tuple[Kind, bool]]], *, title: str = "",
                 file: str = "", roles: Iterable[str] = (), words: Mapping[str, str] | None = None,
                 stages: Mapping[str, str] | None = None, meanings: Mapping[str, str] | None = None,
                 attribute_meanings: Mapping[tuple[str, str], str] | None = None,
                 trace_attributes: Iterable[str] = (), sds: bool = False, base: str | None = None):
        super().__init__((a, dict(spec)) for a, spec in activities.items())
        self.name, self.title, self.file = name, title or name, file
        self.roles = tuple(roles)
        self.words = dict(words or {})
        self.stages = dict(stages or {})
        self.meanings = dict(meanings or {})
        self.attribute_meanings = dict(attribute_meanings or {})
        self.trace_attributes = tuple(trace_attributes)
        self.sds, self.base = sds, base
        self.time_zone = None
        self.required = {a: tuple(n for n, (_, req) in spec.items() if req) for a, spec in self.items()}
        self._register()

    def _register(self) -> None:
        for a, w in self.words.items():
            WORDS.setdefault(a, w)

    def __setstate__(self, state: dict) -> None:  # unpickled in a worker: its words are known there too
        self.__dict__.update(state)
        self._register()

    def zoned(self, zone: str) -> Vocabulary:
        """This vocabulary read in time zone ``zone`` (an IANA name): the same words, the design's days."""
        from zoneinfo import ZoneInfo

        cache = self.__dict__.setdefault("_zoned", {})
        hit = cache.get(zone)
        if hit is None:
            hit = Vocabulary(self.name, self, title=self.title, file=self.file, roles=self.roles, words=self.words,
                             stages=self.stages, meanings=self.meanings, attribute_meanings=self.attribute_meanings,
                             trace_attributes=self.trace_attributes, sds=self.sds, base=self.base)
            hit.time_zone = ZoneInfo(zone)
            cache[zone] = hit
        return hit

    def __repr__(self) -> str:
        return f"<Vocabulary {self.name}: {len(self)} activities>"

    def words_of(self, activity: str) -> str:
        return self.words.get(activity) or activity.replace("_", " ")

    def not_known(self, activity: Any) -> str:
        """The sentence for a name that is no activity of this vocabulary (with a "did you mean")."""
        if self.name == SDS_NAME and not self.base:
            text = f"{activity!r} is not an activity of the event contract (docs/contract.md)"
        else:
            text = f"{activity!r} is not an activity of the vocabulary {self.describe()}"
        return text + self.hint(activity)

    def hint(self, activity: Any) -> str:
        """``; did you mean 'x'?`` for a name near one of this vocabulary's activities, else ``""``."""
        if not isinstance(activity, str) or len(activity) > 200:
            return ""
        cache = self.__dict__.setdefault("_hints", {})
        hit = cache.get(activity)
        if hit is None:
            guess = did_you_mean(activity, self)
            hit = f"; did you mean {guess!r}?" if guess else ""
            if len(cache) < 1000:
                cache[activity] = hit
        return hit

    def describe(self) -> str:
        return f"{self.name} ({self.file})" if self.file and self.name != SDS_NAME else self.name

    def attributes(self) -> list[str]:
        """Every attribute name any activity declares (and the trace attributes), sorted."""
        return sorted({n for spec in self.values() for n in spec} | set(self.trace_attributes))


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name``, if one is close."""
    import difflib

    hits = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return hits[0] if hits else None


def words_of(activity: str) -> str | None:
    """The words a loaded vocabulary gives ``activity``, or None."""
    return WORDS.get(activity)


# ----------------------------------------------------------------------------------------------- loading

def shipped_dir() -> Path:
    return Path(__file__).resolve().parent


def shipped_names() -> list[str]:
    return sorted(p.stem for p in shipped_dir().glob("*.yaml"))


_SHIPPED: dict[str, Vocabulary] = {}
_LOADED: dict[tuple[str, int, int], Vocabulary] = {}


def shipped(name: str = SDS_NAME) -> Vocabulary:
    """A vocabulary shipped with sdsrules, loaded once."""
    hit = _SHIPPED.get(name)
    if hit is None:
        path = shipped_dir() / f"{name}.yaml"
        if name not in shipped_names():
            raise VocabularyError([Problem(name, None, "", f"is not a shipped vocabulary (shipped: "
                                                           f"{', '.join(shipped_names())})")])
        hit = _SHIPPED[name] = _load(path, str(path), 0)
    return hit


def is_name(value: str) -> bool:
    """A shipped vocabulary's name rather than a path."""
    return "/" not in value and os.sep not in value and not value.endswith((".yaml", ".yml"))


def load_vocabulary(name_or_path: str | Path | None = None, relative_to: str | Path | None = None) -> Vocabulary:
    """A shipped vocabulary by name (default: SDS) or a vocabulary file (a relative path is taken from the
    folder of ``relative_to``, the design that names it). Raises VocabularyError naming file, line and key."""
    if name_or_path is None:
        return shipped()
    text = str(name_or_path)
    if is_name(text):
        return shipped(text)
    path = Path(text)
    if not path.is_absolute() and relative_to is not None and not path.exists():
        path = Path(relative_to).parent / path
    try:
        st = path.stat()
    except OSError:
        raise VocabularyError([Problem(text, None, "", "no such vocabulary file")]) from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    hit = _LOADED.get(key)
    if hit is None:
        if len(_LOADED) > 16:
            _LOADED.clear()
        hit = _LOADED[key] = _load(path, str(path), 0)
    return hit


def _load(path: Path, file: str, depth: int) -> Vocabulary:
    try:
        raw = load_yaml(path)
    except DataFileError as e:
        raise VocabularyError(e.problems) from None
    problems: list[Problem] = []

    def problem(keys: list, message: str) -> None:
        problems.append(Problem(file, line_of(raw, keys), ".".join(str(k) for k in keys), message))

    if not isinstance(raw, dict):
        raise VocabularyError([Problem(file, getattr(raw, "line", None), "", "must be a mapping with a "
                                                                              "'vocabulary' key")])
    for key in raw:
        if key not in TOP_KEYS:
            problem([key], f"is not a key of a vocabulary (keys: {', '.join(TOP_KEYS)})")
    name = raw.get("vocabulary")
    if not isinstance(name, str) or not name.strip():
        problem(["vocabulary"], "must name the vocabulary (text)")
        name = path.stem
    base: Vocabulary | None = None
    if raw.get("extends") is not None:
        ext = raw["extends"]
        if not isinstance(ext, str) or not ext.strip():
            problem(["extends"], "must name a vocabulary (a shipped name such as sds, or a file)")
        elif depth > 4:
            problem(["extends"], "extends too many vocabularies in a chain (at most 5)")
        else:
            try:
                base = shipped(ext) if is_name(ext) else _load(_beside(path, ext), str(_beside(path, ext)), depth + 1)
            except VocabularyError as e:
                problem(["extends"], f"cannot be loaded: {e}")
    elif "activities" not in raw:
        problem(["activities"], "is required (or 'extends' to start from another vocabulary)")

    roles = list(base.roles) if base else []
    raw_roles = raw.get("roles") or []
    if not isinstance(raw_roles, list):
        problem(["roles"], "must be a list of role names")
        raw_roles = []
    for i, r in enumerate(raw_roles):
        if not isinstance(r, str) or not r.strip():
            problem(["roles", i], "a role is a non-empty name")
        elif r in roles:
            problem(["roles", i], f"role {r!r} is listed twice")
        else:
            roles.append(r)

    trace = list(base.trace_attributes) if base else []
    raw_trace = raw.get("trace_attributes") or []
    if not isinstance(raw_trace, list) or not all(isinstance(t, str) and t for t in raw_trace):
        problem(["trace_attributes"], "must be a list of attribute names")
    else:
        trace += [t for t in raw_trace if t not in trace]

    activities: dict[str, dict[str, tuple[Kind, bool]]] = {a: dict(s) for a, s in (base or {}).items()}
    words = dict(base.words) if base else {}
    stages = dict(base.stages) if base else {}
    meanings = dict(base.meanings) if base else {}
    attr_meanings = dict(base.attribute_meanings) if base else {}
    raw_acts = raw.get("activities") or {}
    if not isinstance(raw_acts, dict):
        problem(["activities"], "must map each activity name to its words, stage, meaning and attributes")
        raw_acts = {}
    for act, entry in raw_acts.items():
        where: list[Any] = ["activities", act]
        if not isinstance(act, str) or not act.strip() or act != act.strip():
            problem(where, "an activity name is non-empty text without leading or trailing spaces")
            continue
        if entry is None:
            entry = LineDict()
            entry.line, entry.lines = None, {}
        if not isinstance(entry, dict):
            problem(where, "must be a mapping (words, stage, meaning, attributes) or empty")
            continue
        for key in entry:
            if key not in ACTIVITY_KEYS:
                problem([*where, key], f"is not a key of an activity (keys: {', '.join(ACTIVITY_KEYS)})")
        for key, store in (("words", words), ("stage", stages), ("meaning", meanings)):
            if key in entry:
                if isinstance(entry[key], str) and entry[key].strip():
                    store[act] = entry[key].strip()
                else:
                    problem([*where, key], "must be text")
        spec = activities.setdefault(act, {})
        attributes = entry.get("attributes") or {}
        if not isinstance(attributes, dict):
            problem([*where, "attributes"], "must map each attribute name to its type")
            continue
        for attr, tdef in attributes.items():
            at = [*where, "attributes", attr]
            if not isinstance(attr, str) or not (attr.isidentifier() or _name_ok(attr)):
                problem(at, "an attribute name is text of letters, digits, _ : . or -")
                continue
            if attr in CORE_FIELDS:
                problem(at, f"{attr!r} is a field every event has, not an attribute")
                continue
            if attr in spec and base is not None and act in base and attr in base[act]:
                problem(at, f"{act}.{attr} is already declared by the vocabulary {base.name}; an extension "
                            "adds attributes, it does not change them")
                continue
            try:
                kind, required, meaning = _kind(tdef, roles)
            except ValueError as e:
                problem(at, str(e))
                continue
            spec[attr] = (kind, required)
            if meaning:
                attr_meanings[(act, attr)] = meaning
    if problems:
        raise VocabularyError(problems)
    return Vocabulary(name, activities, title=str(raw.get("title") or name), file=file, roles=roles, words=words,
                      stages=stages, meanings=meanings, attribute_meanings=attr_meanings, trace_attributes=trace,
                      sds=name == SDS_NAME or bool(base and base.sds), base=base.name if base else None)


def _beside(path: Path, other: str) -> Path:
    p = Path(other)
    return p if p.is_absolute() else path.parent / p


def _name_ok(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "_:.-" for c in name) and not name[0].isdigit()


def _kind(tdef: Any, roles: list[str]) -> tuple[Kind, bool, str]:
    """(Kind, required, meaning) from an attribute's type as written; ValueError says what is wrong."""
    if isinstance(tdef, str):
        return _plain(tdef, roles), False, ""
    if not isinstance(tdef, dict):
        raise ValueError(f"a type is one of {', '.join(PLAIN_TYPES)} or a mapping (type, one_of, list_of)")
    unknown = [k for k in tdef if k not in TYPE_KEYS]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a key of a type (keys: {', '.join(TYPE_KEYS)})")
    required = tdef.get("required", False)
    if not isinstance(required, bool):
        raise ValueError("required must be true or false")
    meaning = tdef.get("meaning") or ""
    forms = [k for k in ("type", "one_of", "list_of") if k in tdef]
    if len(forms) != 1:
        raise ValueError("a type names exactly one of type, one_of or list_of")
    kind: Kind
    if "one_of" in tdef:
        choices = tdef["one_of"]
        if not isinstance(choices, list) or not choices or not all(
                type(c) in (str, int) for c in choices) or len(set(choices)) != len(choices):
            raise ValueError("one_of must list distinct values (text or whole numbers)")
        kind = OneOf(*choices)
    elif "list_of" in tdef:
        item, _, _ = _kind(tdef["list_of"], roles)
        non_empty = tdef.get("non_empty", False)
        if not isinstance(non_empty, bool):
            raise ValueError("non_empty must be true or false")
        kind = ListOf(item, non_empty=non_empty)
    else:
        name = tdef["type"]
        bounds = {k: tdef[k] for k in ("minimum", "maximum") if k in tdef}
        for k, v in bounds.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"{k} must be a number")
        if name in ("number", "whole number"):
            kind = Number(integer=name == "whole number", minimum=bounds.get("minimum"),
                          maximum=bounds.get("maximum"))
        elif bounds:
            raise ValueError("minimum and maximum are for a number or a whole number")
        else:
            kind = _plain(name, roles)
    return kind, required, str(meaning)


def _plain(name: Any, roles: list[str]) -> Kind:
    if name == "text":
        return TEXT
    if name == "boolean":
        return BOOL
    if name == "number":
        return Number()
    if name == "whole number":
        return Number(integer=True)
    if name == "date":
        return Day()
    if name == "role":
        if not roles:
            raise ValueError("the type role needs the vocabulary's roles (declare roles first)")
        return OneOf(*roles)
    raise ValueError(f"{name!r} is not a type (types: {', '.join(PLAIN_TYPES)}, or a mapping with one_of or "
                     "list_of)")
