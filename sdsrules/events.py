"""The case-log contract of ``shared/spec/events.md``: activities, their attributes, ``Event``, ``Rejection``.

Everything sdsrules reads becomes an :class:`Event` (or a :class:`Rejection` naming file, line and field).
This module knows nothing else in the package.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import msgspec

from .vocabulary import SDS_NAME, Vocabulary, shipped, words_of
from .vocabulary.kinds import BOOL as BOOL  # re-exported: the attribute types live with the vocabulary
from .vocabulary.kinds import EARLIEST, LATEST, Kind, Number, OneOf
from .vocabulary.kinds import TEXT as TEXT
from .vocabulary.kinds import Bool as Bool
from .vocabulary.kinds import Day as Day
from .vocabulary.kinds import ListOf as ListOf
from .vocabulary.kinds import Text as Text
from .vocabulary.kinds import show as _show

LONDON = ZoneInfo("Europe/London")
_SCALAR = (str, int, float)
_TEXTISH = (str, int)

#: The SDS vocabulary (``sdsrules/vocabulary/sds.yaml``), from which every table below is built.
SDS: Vocabulary = shipped(SDS_NAME)

ROLES: tuple[str, ...] = SDS.roles
CLIENT_GROUPS = SDS["referral_received"]["client_group"][0].choices
TOPICS = SDS["information_given"]["topics"][0].item.choices
AREAS = SDS["assets_explored"]["areas"][0].item.choices
#: the national eligibility bands, most severe first (``eligibility_determined.band``)
BANDS: tuple[str, ...] = tuple(SDS["eligibility_determined"]["band"][0].choices)
#: the managers of a scheme of delegation, most junior first: the order their delegated limits must rise in
MANAGER_ROLES: tuple[str, ...] = ("team_manager", "service_manager", "head_of_service")

AMOUNT = Number(minimum=0)
COUNT = Number(integer=True, minimum=0)
OPTION = OneOf(1, 2, 3, 4)
STAGE = OneOf(1, 2)

#: Every canonical activity with its attributes: name -> (kind, required). The SDS vocabulary itself (a dict).
ACTIVITIES: dict[str, dict[str, tuple[Kind, bool]]] = SDS

#: noun phrases without an article: "the {words} of 2024-03-05"
ACTIVITY_WORDS: dict[str, str] = dict(SDS.words)


def with_article(words: str) -> str:
    if words.startswith(("written", "signposting", "transition", "personal")):
        return words
    return ("an " if words[0] in "aeiou" else "a ") + words


def activity_words(activity: str) -> str:
    """The words of an activity in a sentence: the SDS words, else those of the vocabulary that declares it."""
    return ACTIVITY_WORDS.get(activity) or words_of(activity) or activity.replace("_", " ")


CORE_FIELDS = ("id", "case", "at", "activity", "actor")
ACTOR_FIELDS = ("id", "role", "team")


@attrs.frozen(slots=True)
class Actor:
    id: str | None = None
    role: str | None = None
    team: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in (("id", self.id), ("role", self.role), ("team", self.team)) if v is not None}


_WHEN: dict[tuple[datetime, int, Any], str] = {}  # Event.when of an instant in a zone, made once (bounded: see when)


class Event(msgspec.Struct, frozen=True, eq=False, gc=False):
    """One recorded step of one case, validated against the contract.

    ``at`` is timezone-aware; ``day`` is its calendar day in Europe/London. ``file``, ``line`` and ``seq``
    (position in the whole input) say where it came from; ``date_only`` is true when ``at`` had no time.

    Frozen, compared and hashed by identity, like the project's attrs classes; a msgspec Struct because one is
    made for every record read: a bulk replay makes millions, and a Struct is made in an eighth of the time of a
    frozen attrs instance (0.12 against 0.97 us, benchmarks/replay_bench.py's profile). Not tracked by the cyclic
    collector: an event refers to its values and its actor, never back. A changed copy:
    ``msgspec.structs.replace``.
    """

    __hash__ = object.__hash__

    id: str
    case: str
    at: datetime
    day: date
    activity: str
    attrs: Mapping[str, Any]
    actor: Actor | None = None
    file: str = ""
    line: int = 0
    seq: int = 0
    date_only: bool = False
    #: the design's time zone when it is not Europe/London (its days, and the time shown)
    zone: Any = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    @property
    def weekly_amount(self) -> float | None:
        """The event's ``amount`` in pounds a week (``period: year`` divided by 52)."""
        amount = self.attrs.get("amount")
        if amount is None:
            return None
        return amount / 52 if self.attrs.get("period") == "year" else amount

    @property
    def when(self) -> str:
        """``at`` as written in reports: the date, or the local date-time to the minute."""
        if self.date_only:
            return self.day.isoformat()
        zone = self.zone or LONDON
        at = self.at
        if at.tzinfo is zone:  # local time already (most events): its wall clock, as astimezone would leave it
            return "%04d-%02d-%02dT%02d:%02d" % (at.year, at.month, at.day, at.hour, at.minute)  # noqa: UP031
        key = (at, at.fold, zone)  # equal instants show the same local time in one zone (fold: see datetime's ==)
        hit = _WHEN.get(key)
        if hit is None:
            hit = at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
            if len(_WHEN) >= 4_096:  # small: it serves an event shown in several findings of its case
                _WHEN.clear()
            _WHEN[key] = hit
        return hit

    @property
    def said(self) -> str:
        """``at`` as written in a sentence: like ``when``, and an instant that came with its own offset (``Z``,
        ``+01:00``) says that it is shown in London time (events.md, Time)."""
        zone = self.zone or LONDON
        if self.date_only or self.at.tzinfo is zone:
            return self.when
        return f"{self.when} {zone_name(zone)} time"

    def to_dict(self) -> dict:
        """The canonical JSON object of ``events.md`` (attributes flat at the top level)."""
        out: dict[str, Any] = {"id": self.id, "case": self.case, "at": self.at_text(), "activity": self.activity}
        if self.actor is not None:
            out["actor"] = self.actor.to_dict()
        for k, v in self.attrs.items():
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    def at_text(self) -> str:
        if self.date_only:
            return self.day.isoformat()
        return self.at.isoformat()


@attrs.frozen(slots=True)
class Rejection:
    """A record that could not be read (SDS-DAT-01): where it was, which field, and why."""

    file: str
    line: int
    reason: str
    field: str | None = None
    case: str | None = None
    id: str | None = None
    code: str = "SDS-DAT-01"

    def to_dict(self) -> dict:
        return {"code": self.code, "case": self.case, "file": self.file, "line": self.line,
                "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"

    def brief(self) -> str:
        """Where and why, without the record's values: safe for stderr and logs (SECURITY.md). The reason's
        quoted values and ``(got ...)`` excerpts are left out; the field name stays."""
        reason = _GOT.sub("", self.reason)
        keep = {self.field} if self.field else set()
        reason = _QUOTED.sub(lambda m: m.group(0) if m.group(0)[1:-1] in keep else "a value", reason)
        return f"{self.file}:{self.line}: {reason}"


_GOT = re.compile(r"\s*\(got .*\)")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


class EventError(ValueError):
    """A field of a record breaks the contract. ``args``: (field, reason)."""

    def __init__(self, field: str | None, reason: str):
        super().__init__(field, reason)
        self.field, self.reason = field, reason


_DAYS: dict[str, tuple[datetime, date, bool]] = {}  # date-only values recur: parse each once


_ATS: dict[str, tuple[datetime, date, bool]] = {}  # date-times recur too (a million events had 110k distinct)


def parse_at(value: Any) -> tuple[datetime, date, bool]:
    """Parse an ``at`` value: ISO date or date-time; no offset means Europe/London local time.

    Returns (aware datetime, local calendar day, date_only). Raises ValueError with a plain message.
    """
    if type(value) is not str:
        return _parse_at(value)  # which says what is wrong
    if len(value) == 19:  # "YYYY-MM-DDTHH:MM:SS", most of all: quicker from its parts than from a cache of them
        hit = _plain_local(value)
        if hit is not None:
            return hit
    hit = _ATS.get(value)
    if hit is not None:
        return hit
    hit = _parse_at(value)
    if len(_ATS) >= 65_536:  # bounded (about 10 MB), cleared rather than aged
        _ATS.clear()
    _ATS[value] = hit
    return hit


_TIMES: dict[str, time] = {}  # the time of day of "YYYY-MM-DDTHH:MM:SS" values: at most 86,400 of them


def _plain_local(value: str) -> tuple[datetime, date, bool] | None:
    """The most common ``at`` of all, "YYYY-MM-DDTHH:MM:SS" (local time), from its day and its time of day, each
    parsed once (a log has few of either, and many of their pairs); None for anything else, or anything invalid
    (``_parse_at`` then says what is wrong). The same value as ``_parse_at``: ``datetime.fromisoformat`` of such a
    text is the combination of ``date.fromisoformat`` and ``time.fromisoformat`` of its halves."""
    if value[10] != "T" or value[13] != ":" or value[16] != ":":
        return None
    day = _DAYS.get(value[:10])
    clock = _TIMES.get(value[11:])
    if day is None or clock is None:
        try:
            d = date.fromisoformat(value[:10])
            clock = time.fromisoformat(value[11:])
        except ValueError:
            return None
        if not EARLIEST <= d <= LATEST:
            return None
        day = _day(value[:10], d)
        if len(_TIMES) > 100_000:
            _TIMES.clear()
        _TIMES[value[11:]] = clock
    return datetime.combine(day[1], clock, LONDON), day[1], False


def _day(text: str, d: date) -> tuple[datetime, date, bool]:
    """The parsed date-only value ``text`` (``d``), kept in ``_DAYS``."""
    if len(_DAYS) > 100_000:
        _DAYS.clear()
    hit = _DAYS[text] = (datetime.combine(d, time(0), LONDON), d, True)
    return hit


def zone_name(zone: Any) -> str:
    """How a sentence names a time zone: its city (Europe/London: London)."""
    key = getattr(zone, "key", None) or str(zone)
    return key.rsplit("/", 1)[-1].replace("_", " ")


def parse_at_in(value: Any, zone: Any) -> tuple[datetime, date, bool]:
    """``parse_at`` in another time zone than Europe/London (a design's own)."""
    return parse_at(value) if zone is None or zone is LONDON else _parse_at(value, zone)


def _parse_at(value: Any, zone: Any = LONDON) -> tuple[datetime, date, bool]:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 date or date-time (got {_show(value)})")
    text = value.strip()
    if len(text) == 10 and zone is not LONDON:
        try:
            d = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"is not a valid date (got {_show(value)})") from None
        _check_range(d, value)
        return datetime.combine(d, time(0), zone), d, True
    if len(text) == 10:
        hit = _DAYS.get(text)
        if hit is not None:
            return hit
        try:
            d = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"is not a valid date (got {_show(value)})") from None
        _check_range(d, value)
        return _day(text, d)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 date or date-time (got {_show(value)})") from None
    d = dt.date()
    _check_range(d, value)
    if dt.tzinfo is None:  # local time in Scotland: its day is the day written
        return datetime.combine(d, dt.time(), zone), d, False  # dt.replace(tzinfo=...): 4x the time
    try:
        local = dt.astimezone(zone)
    except (OverflowError, ValueError):
        raise ValueError(f"is out of range (got {_show(value)})") from None
    return dt, local.date(), False


def _check_range(d: date, raw: Any) -> None:
    if not EARLIEST <= d <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST} (got {_show(raw)})")


def build_event(record: Mapping[str, Any], *, file: str, line: int, seq: int, text_cells: bool = False,
                vocabulary: Mapping[str, Mapping[str, tuple[Kind, bool]]] | None = None) -> Event:
    """Validate one record (a JSON object, or a CSV row when ``text_cells``) into an Event.

    ``vocabulary``: the activity table to judge by (a design's :class:`Vocabulary`; default the SDS one).
    Raises :class:`EventError` naming the first offending field.
    """
    if vocabulary is not None and vocabulary is not ACTIVITIES:
        return _build_in(record, file, line, seq, text_cells, vocabulary)
    case = record.get("case")
    if type(case) is str and case and not case[0].isspace() and not case[-1].isspace():
        pass  # the common case, checked in full below only when it is not plain text
    elif case is None or case == "":
        raise EventError("case", "is required (a non-empty case identifier)")
    elif isinstance(case, bool) or not isinstance(case, _SCALAR):
        raise EventError("case", f"must be text or a number (got {_show(case)})")
    else:
        if isinstance(case, float):
            case = format(case, "g") if math.isfinite(case) else None
            if case is None:
                raise EventError("case", "must be a finite number or text")
        case = str(case).strip()
        if not case:
            raise EventError("case", "is required (a non-empty case identifier)")

    activity: Any = record.get("activity")
    spec = ACTIVITIES.get(activity) if type(activity) is str else None
    if spec is None:
        if activity is None or activity == "":
            raise EventError("activity", "is required")
        if not isinstance(activity, str):
            raise EventError("activity", f"must be text (got {_show(activity)})")
        raise EventError("activity", f"{_show(activity)} is not a known activity (see docs/contract.md)")

    raw_at = record.get("at")
    if raw_at is None or raw_at == "":
        raise EventError("at", "is required (an ISO 8601 date or date-time)")
    try:
        at, day, date_only = parse_at(raw_at)
    except ValueError as e:
        raise EventError("at", str(e)) from None

    raw_id = record.get("id")
    if type(raw_id) is str and raw_id:
        eid = raw_id
    elif raw_id is None or raw_id == "":
        eid = f"{file.rsplit('/', 1)[-1]}:{line}"
    elif isinstance(raw_id, bool) or not isinstance(raw_id, _TEXTISH):
        raise EventError("id", f"must be text or a whole number (got {_show(raw_id)})")
    else:
        eid = str(raw_id)

    actor = _actor(record, text_cells)

    values = _attributes(record, spec, activity, text_cells)
    for name in _REQUIRED[activity]:
        if name not in values:
            raise EventError(name, f"is required for {activity}")
    return Event(eid, case, at, day, activity, values, actor, file, line, seq, date_only)  # positional: hot path


def _attributes(record: Mapping[str, Any], spec: Mapping[str, tuple[Kind, bool]], activity: str,
                text_cells: bool) -> dict[str, Any]:
    """The activity's attributes of a record, each converted to its kind (``spec``: the vocabulary's attributes of
    the activity); an attribute the vocabulary does not declare is kept as given, not interpreted."""
    if not text_cells:  # a record read from JSON or XES: every other value kept, then the declared ones converted
        values: dict[str, Any] = {name: raw for name, raw in record.items() if raw is not None and name not in _SKIP}
        if spec:
            for name, raw in values.items():  # in the record's order, so the first bad value is the one named
                kind_req = spec.get(name)
                if kind_req is not None:
                    try:
                        values[name] = kind_req[0].convert(raw)
                    except ValueError as e:
                        raise EventError(name, f"{e} for {activity}") from None
        return values
    values = {}
    for name, raw in record.items():  # a CSV row: text cells, empty ones and the actor's columns left out
        if raw is None or raw == "" or name in _SKIP_CSV or name.startswith("actor_"):
            continue
        kind_req = spec.get(name)
        if kind_req is None:
            values[name] = raw  # extra attribute: kept as given, not interpreted
            continue
        try:
            values[name] = kind_req[0].from_text(raw)
        except ValueError as e:
            raise EventError(name, f"{e} for {activity}") from None
    return values


def _build_in(record: Mapping[str, Any], file: str, line: int, seq: int, text_cells: bool,
              vocabulary: Mapping[str, Mapping[str, tuple[Kind, bool]]]) -> Event:
    """``build_event`` judged by another vocabulary: the same checks, that vocabulary's activities and roles."""
    activity: Any = record.get("activity")
    spec = vocabulary.get(activity) if type(activity) is str else None
    if spec is None:
        # the case is judged first, as build_event does; then the activity, with the same messages for a missing one
        build_event({"case": record.get("case"), "activity": "assessment_started", "at": "2000-01-01"},
                    file=file, line=line, seq=seq, text_cells=text_cells)
        if activity is None or activity == "" or not isinstance(activity, str):
            build_event(record, file=file, line=line, seq=seq, text_cells=text_cells)
        name = getattr(vocabulary, "name", "of the design")
        hint = vocabulary.hint(activity) if isinstance(vocabulary, Vocabulary) else ""
        raise EventError("activity", f"{_show(activity)} is not an activity of the vocabulary {name} "
                                     f"(see sdsrules activities){hint}")
    # the SDS checks of the core fields, on a record whose activity is one SDS knows with no attributes
    core = {k: record[k] for k in CORE_FIELDS if k in record and k != "actor"}
    core["activity"] = "assessment_started"
    base = build_event(core, file=file, line=line, seq=seq, text_cells=text_cells)
    roles = getattr(vocabulary, "roles", ROLES)
    actor = _actor(record, text_cells) if roles is ROLES else _actor_in(record, text_cells, roles)
    values = _attributes(record, spec, activity, text_cells)
    required = getattr(vocabulary, "required", None)
    for name in (required[activity] if required is not None else
                 tuple(n for n, (_, req) in spec.items() if req)):
        if name not in values:
            raise EventError(name, f"is required for {activity}")
    zone = getattr(vocabulary, "time_zone", None)
    if zone is not None and zone is not LONDON:  # the design's days: checked above, so this parses
        at, day, date_only = parse_at_in(record.get("at"), zone)
        return Event(base.id, base.case, at, day, activity, values, actor, file, line, seq, date_only, zone)
    return Event(base.id, base.case, base.at, base.day, activity, values, actor, file, line, seq, base.date_only)


def _actor_in(record: Mapping[str, Any], text_cells: bool, roles: tuple[str, ...]) -> Actor | None:
    if text_cells:
        raw: Any = {k: record.get(f"actor_{k}") or None for k in ACTOR_FIELDS}
        return _actor_of(raw, roles) if any(raw.values()) else None
    raw = record.get("actor")
    if raw is None:
        return None
    if type(raw) is not dict:
        raise EventError("actor", f"must be an object with id, role, team (got {_show(raw)})")
    return _actor_of(raw, roles)


_SKIP = frozenset(CORE_FIELDS)
_SKIP_CSV = frozenset((*CORE_FIELDS, "actor_id", "actor_role", "actor_team"))
_REQUIRED = {a: tuple(n for n, (_, req) in spec.items() if req) for a, spec in ACTIVITIES.items()}
#: each SDS activity's required attributes (a reader's shortcut for events that need none)
REQUIRED: Mapping[str, tuple[str, ...]] = _REQUIRED
_ROLES = frozenset(ROLES)


_ACTORS: dict[tuple, Actor] = {}  # the same few hundred workers recur in millions of events


def _actor(record: Mapping[str, Any], text_cells: bool) -> Actor | None:
    raw: Any
    if text_cells:
        raw = {k: record.get(f"actor_{k}") or None for k in ACTOR_FIELDS}
        return _actor_of(raw) if any(raw.values()) else None
    raw = record.get("actor")
    if raw is None:
        return None
    if type(raw) is not dict:
        raise EventError("actor", f"must be an object with id, role, team (got {_show(raw)})")
    # The key is the names and values ({"role": null} is not {"x": 1}). Only actors whose values are all text or
    # null are cached, so a key holding anything else (1, true, a list) can never equal a cached one: 1 == True,
    # but no number equals a string.
    key = tuple(raw.items())
    try:
        hit = _ACTORS.get(key)
    except TypeError:  # an unhashable value (a list, an object): validated, and refused, without the cache
        return _actor_of(raw)
    if hit is None:
        hit = _actor_of(raw)
        if not all(type(v) is str or v is None for v in raw.values()):
            return hit
        if len(_ACTORS) > 50_000:
            _ACTORS.clear()
        _ACTORS[key] = hit
    return hit


#: a record's actor as ``build_event`` reads it (its ``actor`` object, or the CSV ``actor_*`` cells)
record_actor = _actor


def _actor_of(raw: Mapping[str, Any], roles: tuple[str, ...] | None = None) -> Actor:
    """Validate an actor mapping (keys id, role, team)."""
    if len(raw) > 3 or any(k not in ACTOR_FIELDS for k in raw):
        unknown = sorted(set(raw) - set(ACTOR_FIELDS))
        raise EventError("actor", f"has unknown key(s) {', '.join(map(repr, unknown))} (allowed: id, role, team)")
    aid, role, team = raw.get("id"), raw.get("role"), raw.get("team")
    for k, v in (("id", aid), ("role", role), ("team", team)):
        if v is not None and (type(v) is not str and (not isinstance(v, int) or isinstance(v, bool))):
            raise EventError(f"actor.{k}", f"must be text (got {_show(v)})")
    if roles is not None:
        if role is not None and (type(role) is not str or role not in roles):
            raise EventError("actor.role", f"must be one of {', '.join(roles)} (got {_show(role)})")
    elif role is not None and (type(role) is not str or role not in _ROLES):
        raise EventError("actor.role", f"must be one of {', '.join(ROLES)} (got {_show(role)})")
    return Actor(id=None if aid is None else str(aid), role=role, team=None if team is None else str(team))


# ------------------------------------------------------------------------------------------ safe words
# What a refused field should have been, in words that never repeat the value that came (for a service's error
# text, a log line or a report's list of rejections: case data stays out).

def _kind_words(kind) -> str:
    words = kind.name
    if isinstance(kind, Number):
        bounds = []
        if kind.minimum is not None:
            bounds.append(f"at least {kind.minimum:g}")
        if kind.maximum is not None:
            bounds.append(f"at most {kind.maximum:g}")
        if bounds:
            words += " (" + " and ".join(bounds) + ")"
    if isinstance(kind, ListOf) and kind.non_empty:
        words = "a non-empty " + words.removeprefix("a ")
    return words


_CORE_WORDS = {
    "case": "must be a non-empty text or number (the case identifier)",
    "activity": "must be one of the activities of the event contract (docs/contract.md)",
    "at": f"must be an ISO 8601 date or date-time between {EARLIEST} and {LATEST}",
    "id": "must be text or a whole number",
    "actor": "must be an object with only id, role and team",
    "actor.id": "must be text",
    "actor.team": "must be text",
    "actor.role": "must be one of " + ", ".join(ROLES),
}


def safe_reason(field: str | None, reason: str, activity: str | None = None) -> str:
    """The reason a field was refused, in words that never repeat the value that came.

    The contract's own messages quote the offending value (useful in a file report, not in a service's
    error text or log); this gives what was allowed instead, from the contract itself.
    """
    if reason.startswith("is required"):
        return reason  # says what was missing; carries no value
    if field in _CORE_WORDS:
        return _CORE_WORDS[field]
    spec = ACTIVITIES.get(activity or "", {})
    if field in spec:
        return f"must be {_kind_words(spec[field][0])} for {activity}"
    return "does not meet the event contract (docs/contract.md)"
