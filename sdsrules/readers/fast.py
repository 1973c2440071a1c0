"""One JSON line -> ``Event | Rejection``: the single decoder of every JSON Lines read (the streaming reader in
``readers.jsonl`` and the byte ranges of ``pipeline``).

The fast path is msgspec: a strict Struct per activity, chosen by the ``activity`` field (a tagged union), built
from ``events.ACTIVITIES`` at first use (and again if that table is replaced). It only ever accepts records that
``events.build_event`` accepts, and makes the same Event from them; anything it refuses or is not sure of (an
unknown activity, an extra attribute, a float where a whole number is wanted, a value outside a range, a duplicate
or escaped attribute name, an attribute kind it has no strict type for) goes to the slow path, orjson and
``build_event``, so every rejection keeps its exact message and every extra attribute is kept.

The slow path also bounds the nesting of extra attributes (kept as given): a list 1,000 deep is a rejection, not a
``RecursionError`` later in a worker, a pickle or a writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, Literal

import msgspec
import orjson

from .. import events as _events
from ..events import Actor, Event, EventError, Rejection, build_event, parse_at
from ._io import MAX_LINE

#: extra attributes nested deeper than this are refused (JSON in a case log has no business being deeper)
MAX_DEPTH = 32

# orjson reads integers up to 2**64-1 as int and larger ones as float; msgspec reads them all as int. The fast
# path takes only this range, so a huge number is decoded (by orjson) exactly as before.
_INT = Annotated[int, msgspec.Meta(ge=-(2 ** 63), le=2 ** 63 - 1)]


_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)


def _short(e: Exception) -> str:
    return str(e).split(":", 1)[0][:80]


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


def _case(record: dict) -> str | None:
    c = record.get("case")
    return str(c) if isinstance(c, str | int) and not isinstance(c, bool) and str(c).strip() else None


def _id(record: dict) -> str | None:
    i = record.get("id")
    return str(i) if isinstance(i, str | int) and not isinstance(i, bool) else None


def too_long(name: str, number: int) -> Rejection:
    return Rejection(name, number, f"the line is longer than {MAX_LINE // 1024} KiB")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether a JSON value nests lists or objects more than ``limit`` deep (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return True
        items = v.values() if type(v) is dict else v
        stack.extend((x, d + 1) for x in items if type(x) is list or type(x) is dict)
    return False


def decode_slow(raw: bytes, name: str, number: int, seq: int, activity_map=None,
                vocabulary: Mapping | None = None) -> Event | Rejection:
    """orjson and ``build_event``: the reference reading of a line (without its newline, byte-order mark dropped)."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        reason = "is not UTF-8 text" if "utf-8" in str(e).lower() else f"is not valid JSON ({_short(e)})"
        return Rejection(name, number, f"the line {reason}")
    if type(record) is not dict:
        return Rejection(name, number, f"the line must be a JSON object (got a {_kind(record)})")
    try:
        if activity_map is not None:
            activity_map.apply(record)  # in place: their names to ours, before validation
        if vocabulary is None:
            event = build_event(record, file=name, line=number, seq=seq)
        else:  # a design's own vocabulary (build_event's ``vocabulary``)
            event = build_event(record, file=name, line=number, seq=seq, vocabulary=vocabulary)
    except EventError as e:
        return Rejection(name, number, f"'{e.field}' {e.reason}", e.field, _case(record), _id(record))
    for key, value in event.attrs.items():
        if (type(value) is list or type(value) is dict) and _depth_over(value, MAX_DEPTH):
            return Rejection(name, number, f"'{key}' is nested more than {MAX_DEPTH} levels deep", key,
                             event.case, event.id)
    return event


# ------------------------------------------------------------------------------------------ the fast path

def _strict_type(kind: Any) -> tuple[Any, Callable[[Any], Any] | None] | None:
    """(msgspec type accepting a subset of what ``kind.convert`` accepts, post-conversion or None), or None when
    there is no strict type for this kind (the activity then always takes the slow path)."""
    k = type(kind)
    if k is _events.Text:
        return str, None
    if k is _events.Bool:
        return bool, None
    if k is _events.Number:
        meta = {}
        if kind.minimum is not None:
            meta["ge"] = kind.minimum
        if kind.maximum is not None:
            meta["le"] = kind.maximum
        lo = max(-(2 ** 63), kind.minimum) if kind.minimum is not None else -(2 ** 63)
        hi = min(2 ** 63 - 1, kind.maximum) if kind.maximum is not None else 2 ** 63 - 1
        if lo != int(lo) or hi != int(hi):
            return None
        whole = Annotated[int, msgspec.Meta(ge=int(lo), le=int(hi))]
        if kind.integer:
            return whole, None  # a float such as 3.0 goes to the slow path, which makes it 3
        return (whole | Annotated[float, msgspec.Meta(**meta)]) if meta else (whole | float), None
    if k is _events.OneOf:
        choices = kind.choices
        if not choices or not (all(type(c) is str for c in choices) or all(type(c) is int for c in choices)):
            return None
        return Literal[tuple(choices)], None
    if k is _events.ListOf:
        inner = _strict_type(kind.item)
        if inner is None or inner[1] is not None:
            return None
        t: Any = tuple[inner[0], ...]  # type: ignore[valid-type]
        return (Annotated[t, msgspec.Meta(min_length=1)] if kind.non_empty else t), None
    if k is _events.Day:
        return str, kind.convert  # date.fromisoformat and the range check, in Python (a rare field)
    return None


class _Fast:
    """The decoder for one activity table."""

    def __init__(self, activities: Mapping[str, Mapping[str, tuple[Any, bool]]]):
        self.source = activities
        actor_t = msgspec.defstruct(
            "ActorS", [("id", _INT | str | None, None),
                       ("role", Literal[tuple(getattr(activities, "roles", _events.ROLES))] | None, None),
                       ("team", _INT | str | None, None)],
            forbid_unknown_fields=True, gc=False)
        structs: list[Any] = []
        #: Struct class -> (activity, attribute names, their quoted bytes, (name, post-conversion) of those that
        #: have one or None, getter of their values)
        self.plan: dict[type, tuple[str, tuple[str, ...], tuple[bytes, ...], tuple | None, Any]] = {}
        for activity, spec in activities.items():
            fields: list[tuple] = [("id", _INT | str | None, None), ("case", _INT | str), ("at", str),
                                   ("actor", actor_t | None, None)]
            names, post = [], []
            ok = True
            for attr, (kind, required) in spec.items():
                st = _strict_type(kind)
                if st is None or attr in _events.CORE_FIELDS or not attr.isidentifier() or attr.startswith("_"):
                    ok = False
                    break
                fields.append((attr, st[0]) if required else (attr, st[0] | None, None))
                names.append(attr)
                post.append(st[1])
            if not ok or not isinstance(activity, str):
                continue
            try:
                cls = msgspec.defstruct(f"A_{len(structs)}", fields, tag_field="activity", tag=activity,
                                        forbid_unknown_fields=True, kw_only=True, gc=False)
            except (TypeError, ValueError):
                continue
            structs.append(cls)
            getter = None if not names else attrgetter(*names)  # one value, or a tuple of them
            converted = tuple((n, p) for n, p in zip(names, post, strict=True) if p is not None)
            self.plan[cls] = (activity, tuple(names), tuple(f'"{n}"'.encode() for n in names),
                              converted or None, getter)
        self.decode: Callable[[bytes], Any] | None = None
        if structs:
            union: Any = structs[0]
            for s in structs[1:]:
                union = union | s
            self.decode = msgspec.json.Decoder(union).decode
        self.actors: dict[tuple, Actor] = {}
        #: (raw, name, number, seq) -> the Event, or None for anything not plainly valid (then the slow path)
        self.event = self._maker(True)
        #: ``event`` with the attributes in the Struct's order, not the record's (``_maker``)
        self.event_any_order = self._maker(False)

    def _maker(self, keep_order: bool) -> Callable[[bytes, str, int, int], Event | None]:
        """``event``, or (``keep_order`` False) ``event`` for a reader whose events never leave a findings-only
        replay's worker: the attributes' values are the same, their order the Struct's rather than the record's (a
        duplicated key keeps its last value either way, as orjson does; nothing but an event's writers and the
        HTML report's timeline read the order, and neither sees those events)."""
        decode, plan, actors = self.decode, self.plan, self.actors
        # events._plain_local inline (the commonest "at", "YYYY-MM-DDTHH:MM:SS", from its cached day and time)
        days, times, combine, london = _events._DAYS.get, _events._TIMES.get, datetime.combine, _events.LONDON

        def event(raw: bytes, name: str, number: int, seq: int) -> Event | None:
            """The Event, or None for anything not plainly valid (the caller then takes the slow path).

            The hot loop of a bulk replay (a few million calls): written for the interpreter, not for beauty."""
            try:
                s = decode(raw)  # type: ignore[misc]
            except _DECODE_ERRORS:
                return None
            activity, names, keys, post, get = plan[s.__class__]
            case = s.case
            if case.__class__ is str:
                if not case or case.strip() is not case:  # str.strip gives the very string back if it strips nothing
                    return None
            else:
                case = str(case)
            text = s.at
            if len(text) == 19 and text[10] == "T" and text[13] == ":" and text[16] == ":" and \
                    (known := days(text[:10])) is not None and (clock := times(text[11:])) is not None:
                day, date_only = known[1], False
                at = combine(day, clock, london)
            else:
                try:
                    at, day, date_only = parse_at(text)
                except ValueError:
                    return None
            eid = s.id
            if eid is None or eid == "":
                eid = f"{name.rsplit('/', 1)[-1]}:{number}"
            elif eid.__class__ is not str:
                eid = str(eid)
            actor = s.actor
            if actor is not None:
                key = (actor.id, actor.role, actor.team)
                hit = actors.get(key)
                if hit is None:
                    aid, team = actor.id, actor.team
                    hit = Actor(None if aid is None else str(aid), actor.role, None if team is None else str(team))
                    if len(actors) > 50_000:
                        actors.clear()
                    actors[key] = hit
                actor = hit
            values: dict[str, Any]
            if get is None:
                values = {}
            elif len(names) == 1:
                v = get(s)
                values = {} if v is None else {names[0]: v}
            else:
                got = get(s)
                values = dict(zip(names, got, strict=True))
                if None in got:  # an attribute absent or null: not an attribute (build_event's rule)
                    for n, v in zip(names, got, strict=True):
                        if v is None:
                            del values[n]
            if post is not None:
                for attr, conv in post:
                    if attr in values:
                        try:
                            values[attr] = conv(values[attr])
                        except ValueError:
                            return None
            if keep_order and len(values) > 1:
                # build_event keeps the record's order: order by where each name is in the line, when each name is
                # there exactly once as written (not escaped, not repeated, not also a value)
                where = []
                find = raw.find
                last, in_order = -1, True
                for attr, k in zip(names, keys, strict=True):
                    if attr in values:
                        pos = find(k)
                        if pos < 0 or find(k, pos + 1) >= 0:
                            return None
                        if pos < last:
                            in_order = False
                        last = pos
                        where.append((pos, attr))
                if not in_order:
                    where.sort()
                    values = {n: values[n] for _, n in where}
            return Event(eid, case, at, day, activity, values, actor, name, number, seq, date_only)
        return event


_FAST: _Fast | None = None
_OTHERS: dict[int, _Fast] = {}  # decoders of other activity tables (a design's vocabulary), by identity


def _fast(table: Mapping | None = None) -> _Fast:
    global _FAST
    if table is None or table is _events.ACTIVITIES:
        table = _events.ACTIVITIES
        if _FAST is None or _FAST.source is not table:
            _FAST = _Fast(table)
        return _FAST
    hit = _OTHERS.get(id(table))
    if hit is None or hit.source is not table:
        if len(_OTHERS) >= 8:
            _OTHERS.clear()
        hit = _OTHERS[id(table)] = _Fast(table)
    return hit


def line_decoder(keep_order: bool = True) -> Callable[[bytes, str, int, int], Event | Rejection]:
    """``decode_line`` of the SDS vocabulary without a map, as one function to call per line (a bulk reader's hot
    loop: ``readers.ranges.iter_range``), for the activity table as it is now. ``keep_order`` False: the attributes of
    an event the fast path reads are in the Struct's order, not necessarily the record's (``_Fast._maker``)."""
    fast = _fast()
    if fast.decode is None:
        return decode_slow
    event = fast.event if keep_order else fast.event_any_order

    def decode(raw: bytes, name: str, number: int, seq: int) -> Event | Rejection:
        return event(raw, name, number, seq) or decode_slow(raw, name, number, seq)
    return decode


def decode_line(raw: bytes, name: str, number: int, seq: int, activity_map=None,
                vocabulary: Mapping | None = None) -> Event | Rejection:
    """One line (without its newline; a byte-order mark on line 1 dropped; not blank) as an Event or a Rejection,
    exactly as ``build_event`` judges the JSON object in it. ``vocabulary``: an activity table of the same shape as
    ``events.ACTIVITIES`` to judge by instead (passed on to ``build_event``)."""
    if activity_map is None and getattr(vocabulary, "time_zone", None) is None:  # the fast path reads London days
        if vocabulary is None:
            fast = _FAST if _FAST is not None and _FAST.source is _events.ACTIVITIES else _fast()
        else:
            fast = _fast(vocabulary)
        if fast.decode is not None:
            event = fast.event(raw, name, number, seq)
            if event is not None:
                return event
    return decode_slow(raw, name, number, seq, activity_map, vocabulary)
