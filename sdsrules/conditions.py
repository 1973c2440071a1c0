"""The ``where`` mini-language: data conditions on one event's fields, written in YAML, never executed.

``{tier: 1}`` is equality. ``{field: {op: value}}`` uses one of OPS. A value written ``{param: name}`` is the
workflow parameter in force on the event's day. A missing field satisfies only ``ne``, ``not_in`` and
``exists: false``. Fields are the event's attributes plus ``weekly_amount``, ``actor_role`` and ``actor_team``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from typing import Any

import attrs

OPS = ("eq", "ne", "in", "not_in", "contains", "contains_all", "contains_any", "exists", "gt", "ge", "lt", "le")
DERIVED = ("weekly_amount", "actor_role", "actor_team")
#: what ``field_value`` gives for an attribute the event does not have (distinct from None and "")
MISSING = object()

#: Resolves a parameter name on a day to its value (supplied by the workflow).
ParamLookup = Callable[[str, date], Any]


def field_value(event, name: str) -> Any:
    if name in event.attrs:
        value = event.attrs[name]
        # ``reasons: ""`` records no reasons; an empty text counts as absent
        return MISSING if value == "" else value
    if name == "weekly_amount":
        v = event.weekly_amount
        return MISSING if v is None else v
    if name == "actor_role":
        return event.actor.role if event.actor and event.actor.role else MISSING
    if name == "actor_team":
        return event.actor.team if event.actor and event.actor.team else MISSING
    return MISSING


@attrs.frozen(slots=True)
class Clause:
    field: str
    op: str
    value: Any  # a literal, a tuple for list operators, or ParamRef
    #: (value, type) when the clause is plain equality with a literal on a recorded attribute
    fast: tuple | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.op == "eq" and self.field not in DERIVED and isinstance(self.value, str | int | bool):
            object.__setattr__(self, "fast", (self.value, type(self.value)))

    def describe(self) -> str:
        words = {"eq": "is", "ne": "is not", "in": "is one of", "not_in": "is not one of", "contains": "includes",
                 "contains_all": "includes all of", "contains_any": "includes any of", "gt": ">", "ge": ">=",
                 "lt": "<", "le": "<="}
        if self.op == "exists":
            return f"{self.field} is {'recorded' if self.value else 'not recorded'}"
        return f"{self.field} {words[self.op]} {_render(self.value)}"


@attrs.frozen(slots=True)
class ParamRef:
    name: str

    def __str__(self) -> str:
        return f"parameter {self.name}"


def _render(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    if value is True or value is False:
        return str(value).lower()
    return str(value)


@attrs.frozen(slots=True)
class Where:
    """A conjunction of clauses, compiled from YAML."""

    clauses: tuple[Clause, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def params(self) -> set[str]:
        return {c.value.name for c in self.clauses if isinstance(c.value, ParamRef)}

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.clauses)

    def matches(self, event, lookup: ParamLookup | None = None) -> bool:
        for c in self.clauses:
            fast = c.fast
            if fast is not None:  # equality on a plain attribute: the common case, without the general test
                if event.attrs.get(c.field, MISSING) != fast[0] or type(event.attrs.get(c.field)) is not fast[1]:
                    return False
            elif not _test(c, field_value(event, c.field), event, lookup):
                return False
        return True


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps true apart from 1 and false apart from 0."""
    return (type(a) is bool) == (type(b) is bool) and a == b


def _test(c: Clause, actual: Any, event, lookup: ParamLookup | None) -> bool:
    want = c.value
    if isinstance(want, ParamRef):
        if lookup is None:
            raise LookupError(f"condition on {c.field} needs parameter {want.name} but no workflow was given")
        want = lookup(want.name, event.day)
    op = c.op
    if op == "exists":
        return (actual is not MISSING) == want
    if actual is MISSING:
        return op in ("ne", "not_in")
    if op == "eq":
        return _same(actual, want)
    if op == "ne":
        return not _same(actual, want)
    if op == "in":
        return any(_same(actual, w) for w in want)
    if op == "not_in":
        return not any(_same(actual, w) for w in want)
    if op in ("contains", "contains_all", "contains_any"):
        if not isinstance(actual, tuple | list):
            return False
        if op == "contains":
            return want in actual
        have = set(actual)
        return set(want) <= have if op == "contains_all" else bool(set(want) & have)
    try:
        if isinstance(actual, bool) or isinstance(want, bool):
            return False
        if op == "gt":
            return actual > want
        if op == "ge":
            return actual >= want
        if op == "lt":
            return actual < want
        return actual <= want
    except TypeError:
        return False


class WhereError(ValueError):
    """``args``: (key path, message)."""

    def __init__(self, key: str, message: str):
        super().__init__(key, message)
        self.key, self.message = key, message


def compile_where(raw: Any, key: str = "where", fields: Collection[str] | None = None) -> Where:
    """Compile YAML into a Where. ``fields``, when given, is the set of field names allowed."""
    if raw is None:
        return Where()
    if not isinstance(raw, Mapping):
        raise WhereError(key, f"must be a mapping of field to value or to {{op: value}} (got {raw!r})")
    clauses = []
    for name, spec in raw.items():
        if not isinstance(name, str):
            raise WhereError(key, f"field names must be text (got {name!r})")
        if fields is not None and name not in fields and name not in DERIVED:
            raise WhereError(f"{key}.{name}", f"is not a field of this activity (known: {', '.join(sorted(fields))})")
        if isinstance(spec, Mapping) and set(spec) != {"param"}:
            for op, value in spec.items():
                if op not in OPS:
                    raise WhereError(f"{key}.{name}.{op}", f"is not an operator (allowed: {', '.join(OPS)})")
                clauses.append(Clause(name, op, _value(op, value, f"{key}.{name}.{op}")))
        else:
            clauses.append(Clause(name, "eq", _value("eq", spec, f"{key}.{name}")))
    return Where(tuple(clauses))


def _value(op: str, value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"param"} and isinstance(value["param"], str):
            return ParamRef(value["param"])
        raise WhereError(key, f"a value must be a literal or {{param: name}} (got {dict(value)!r})")
    if op in ("in", "not_in", "contains_all", "contains_any"):
        if not isinstance(value, list | tuple) or not value:
            raise WhereError(key, f"'{op}' takes a non-empty list (got {value!r})")
        return tuple(value)
    if op == "exists" and not isinstance(value, bool):
        raise WhereError(key, f"'exists' takes true or false (got {value!r})")
    if isinstance(value, list | tuple):
        raise WhereError(key, f"'{op}' takes one value, not a list (use 'in' or 'contains_all')")
    return value
