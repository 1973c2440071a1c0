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

LONDON = ZoneInfo("Europe/London")
# tuples, not ``int | float`` unions: isinstance with a union builds the union on every call (hot path)
_NUM = (int, float)
_SEQ = (list, tuple)
_SCALAR = (str, int, float)
_TEXTISH = (str, int)
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)

ROLES = (
    "access_officer", "social_worker", "occupational_therapist", "team_manager", "service_manager",
    "head_of_service", "panel", "finance_officer", "advocacy_provider", "system",
)
CLIENT_GROUPS = ("older_people", "learning_disability", "physical_disability", "mental_health",
                 "children_families", "carer")
TOPICS = ("sds_options", "community", "advocacy", "finance", "carers", "complaints")
AREAS = ("own", "natural", "community", "technology", "adaptations", "finance")


class Kind:
    """An attribute type: a name for messages and a ``convert`` that returns the value or raises ValueError."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def convert(self, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def from_text(self, text: str) -> Any:
        """Convert a CSV cell (never empty: empty means absent)."""
        return self.convert(text)


class Text(Kind):
    def __init__(self):
        super().__init__("text")

    def convert(self, value):
        if not isinstance(value, str):
            raise ValueError(f"must be text (got {_show(value)})")
        return value


class Bool(Kind):
    def __init__(self):
        super().__init__("true or false")

    def convert(self, value):
        if value is True or value is False:
            return value
        raise ValueError(f"must be true or false (got {_show(value)})")

    def from_text(self, text):
        low = text.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        raise ValueError(f"must be true or false (got {_show(text)})")


class Number(Kind):
    def __init__(self, integer: bool = False, minimum: float | None = None, maximum: float | None = None):
        super().__init__("a whole number" if integer else "a number")
        self.integer, self.minimum, self.maximum = integer, minimum, maximum

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, _NUM):
            raise ValueError(f"must be {self.name} (got {_show(value)})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number (got {value})")
        if self.integer and value != int(value):
            raise ValueError(f"must be a whole number (got {value})")
        if self.integer:
            value = int(value)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g} (got {value})")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum:g} (got {value})")
        return value

    def from_text(self, text):
        t = text.strip()
        try:
            value = int(t)
        except ValueError:
            try:
                value = float(t)
            except ValueError:
                raise ValueError(f"must be {self.name} (got {_show(text)})") from None
        return self.convert(value)


class OneOf(Kind):
    def __init__(self, *choices):
        super().__init__("one of " + ", ".join(map(str, choices)))
        self.choices = choices
        self._set = frozenset(choices)
        self._ints = all(isinstance(c, int) for c in choices)

    def convert(self, value):
        t = type(value)
        if (t is not str and t is not int) or value not in self._set:  # exact types: True is not 1 here
            raise ValueError(f"must be {self.name} (got {_show(value)})")
        return value

    def from_text(self, text):
        t = text.strip()
        if self._ints:
            try:
                return self.convert(int(t))
            except ValueError:
                raise ValueError(f"must be {self.name} (got {_show(text)})") from None
        return self.convert(t)


class ListOf(Kind):
    def __init__(self, item: Kind, non_empty: bool = False):
        super().__init__(f"a list of {item.name}")
        self.item, self.non_empty = item, non_empty

    def convert(self, value):
        if not isinstance(value, _SEQ):
            raise ValueError(f"must be {self.name} (got {_show(value)})")
        if self.non_empty and not value:
            raise ValueError("must not be empty")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(self.item.convert(v))
            except ValueError as e:
                raise ValueError(f"item {i + 1} {e}") from None
        return tuple(out)

    def from_text(self, text):
        parts = [p for p in (s.strip() for s in text.split(";")) if p]
        out = []
        for i, p in enumerate(parts):
            try:
                out.append(self.item.from_text(p))
            except ValueError as e:
                raise ValueError(f"item {i + 1} {e}") from None
        if self.non_empty and not out:
            raise ValueError("must not be empty")
        return tuple(out)


class Day(Kind):
    def __init__(self):
        super().__init__("a date (YYYY-MM-DD)")

    def convert(self, value):
        if not isinstance(value, str):
            raise ValueError(f"must be {self.name} (got {_show(value)})")
        try:
            d = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"must be {self.name} (got {_show(value)})") from None
        if not EARLIEST <= d <= LATEST:
            raise ValueError(f"must be between {EARLIEST} and {LATEST} (got {value})")
        return d.isoformat()


TEXT, BOOL = Text(), Bool()
AMOUNT = Number(minimum=0)
COUNT = Number(integer=True, minimum=0)
OPTION = OneOf(1, 2, 3, 4)
STAGE = OneOf(1, 2)


def _a(required: dict | None = None, **optional) -> dict[str, tuple[Kind, bool]]:
    spec = {k: (v, False) for k, v in optional.items()}
    spec.update({k: (v, True) for k, v in (required or {}).items()})
    return spec


_complaint = _a({"stage": STAGE}, extended=BOOL)
_carer_step = _a()
_short_term = _a(kind=OneOf("reablement", "crisis", "enablement"), outcome=TEXT)
_provider = _a(provider=TEXT)
_budget_change = _a(amount=AMOUNT, reasons=TEXT, period=OneOf("week", "year"))
_support_change = _a(option=OPTION, reason=TEXT)

#: Every canonical activity with its attributes: name -> (kind, required).
ACTIVITIES: dict[str, dict[str, tuple[Kind, bool]]] = {
    # access team
    "referral_received": _a(source=TEXT, age=Number(integer=True, minimum=0, maximum=130),
                            client_group=OneOf(*CLIENT_GROUPS), unpaid_carer=BOOL, is_carer=BOOL,
                            mental_disorder=BOOL, terminal_illness=BOOL, date_of_birth=Day()),
    "triaged": _a({"tier": OneOf(1, 2, 3)}),
    "information_given": _a(topics=ListOf(OneOf(*TOPICS))),
    "signposted": _a(to=TEXT),
    "independent_support_offered": _a(provider=TEXT, kind=OneOf("advocacy", "advice", "brokerage")),
    "independent_support_declined": _provider,
    "independent_support_referred": _provider,
    "short_term_support_started": _short_term,
    "short_term_support_ended": _short_term,
    # eligibility and assessment
    "assessment_started": _a(),
    "eligibility_determined": _a({"band": OneOf("critical", "substantial", "moderate", "low"), "eligible": BOOL},
                                 override_reason=TEXT),
    "eligibility_communicated": _a(reasons_given=BOOL),
    "outcomes_agreed": _a(count=COUNT),
    "assets_explored": _a(areas=ListOf(OneOf(*AREAS))),
    "capacity_concern_raised": _a(),
    "capacity_assessed": _a({"has_capacity": BOOL}),
    "proxy_recorded": _a({"kind": OneOf("welfare_attorney", "continuing_attorney", "guardian",
                                         "intervention_order")}),
    "carer_identified": _a(young_carer=BOOL, cared_for_terminal=BOOL),
    "carer_support_offered": _a({"plan": OneOf("adult_carer_support_plan", "young_carer_statement")}),
    "carer_support_accepted": _carer_step,
    "carer_support_declined": _carer_step,
    "carer_conversation_held": _carer_step,
    "carer_support_plan_completed": _carer_step,
    "assessment_completed": _a(),
    # budget and approval
    "budget_calculated": _a({"amount": AMOUNT}, period=OneOf("week", "year"),
                            method=OneOf("ras", "saq", "equivalency", "costed_plan")),
    "budget_approved": _a({"amount": AMOUNT, "approver_role": OneOf(*ROLES)}, period=OneOf("week", "year")),
    "panel_referred": _a(panel=OneOf("sds_panel", "resource_allocation_group")),
    "panel_decided": _a({"decision": OneOf("approved", "reduced", "refused")}, amount=AMOUNT, reasons=TEXT,
                        period=OneOf("week", "year")),
    "budget_refused": _budget_change,
    "budget_reduced": _budget_change,
    "decision_communicated": _a(reasons_given=BOOL, appeal_rights_given=BOOL),
    # options, plan and support
    "options_offered": _a({"options": ListOf(OPTION, non_empty=True)}, budget_stated=BOOL, information_given=BOOL),
    "options_exception": _a({"reason": OneOf("not_eligible", "short_term", "significant_risk", "dp_ineligible")},
                            written_reasons=BOOL),
    "option_chosen": _a({"option": OPTION}, chosen_by=OneOf("person", "proxy", "deemed")),
    "support_plan_agreed": _a({"contingency": BOOL}, risk_enablement=BOOL, outcomes=COUNT),
    "support_started": _a({"option": OPTION}, personal_care=BOOL),
    "support_changed": _support_change,
    "support_ended": _support_change,
    "material_change_recorded": _a(what=TEXT),
    "dp_means_test_completed": _a(),
    # review, appeal, transition, closure
    "review_completed": _a(kind=OneOf("initial", "scheduled", "unscheduled"),
                           outcomes_met=OneOf("all", "some", "none")),
    "financial_review_completed": _a(),
    "complaint_received": _complaint,
    "complaint_acknowledged": _complaint,
    "complaint_responded": _complaint,
    "transition_planning_started": _a(),
    "transferred_to_adult_services": _a(),
    "moved_out": _a(authority=TEXT),
    "moved_in": _a(authority=TEXT, had_support=BOOL),
    "case_closed": _a(reason=OneOf("no_further_need", "moved", "died", "declined", "signposted")),
}

#: The fields every event has; never activity attributes.
ACTIVITY_WORDS = {  # noun phrases without an article: "the {words} of 2024-03-05"
    "referral_received": "referral", "triaged": "triage", "information_given": "written information",
    "signposted": "signposting", "independent_support_offered": "offer of independent support or advocacy",
    "assessment_started": "start of the assessment", "eligibility_determined": "eligibility decision",
    "eligibility_communicated": "explanation of the eligibility decision",
    "outcomes_agreed": "agreement of personal outcomes",
    "assets_explored": "exploration of strengths, supports and finances",
    "capacity_concern_raised": "concern about capacity", "capacity_assessed": "capacity assessment",
    "proxy_recorded": "record of a proxy with legal powers", "carer_identified": "identification of a carer",
    "carer_support_offered": "offer of a carer support plan", "carer_support_accepted": "acceptance of carer support",
    "carer_conversation_held": "carer conversation", "carer_support_plan_completed": "completed carer plan",
    "assessment_completed": "completed assessment", "budget_calculated": "budget calculation",
    "budget_approved": "budget approval", "panel_referred": "panel referral", "panel_decided": "panel decision",
    "budget_refused": "refusal of funding", "budget_reduced": "reduction of funding",
    "decision_communicated": "letter explaining the decision and how to challenge it",
    "options_offered": "offer of SDS options", "options_exception": "recorded reason not to offer options",
    "option_chosen": "choice of option", "support_plan_agreed": "support plan", "support_started": "start of support",
    "support_ended": "end of support", "material_change_recorded": "change of circumstances",
    "dp_means_test_completed": "direct payment financial assessment", "review_completed": "review",
    "financial_review_completed": "direct payment financial review", "complaint_received": "complaint",
    "complaint_acknowledged": "acknowledgement of the complaint", "complaint_responded": "response to the complaint",
    "transition_planning_started": "transition planning", "transferred_to_adult_services": "transfer to adult services",
    "moved_in": "move into the area", "moved_out": "move out of the area", "case_closed": "case closure",
    "independent_support_declined": "refusal of independent support", "independent_support_referred":
    "referral to independent support", "short_term_support_started": "start of short-term support",
    "short_term_support_ended": "end of short-term support", "carer_support_declined": "refusal of carer support",
    "support_changed": "change of support",
}


def with_article(words: str) -> str:
    if words.startswith(("written", "signposting", "transition", "personal")):
        return words
    return ("an " if words[0] in "aeiou" else "a ") + words


def activity_words(activity: str) -> str:
    return ACTIVITY_WORDS.get(activity, activity.replace("_", " "))


CORE_FIELDS = ("id", "case", "at", "activity", "actor")
ACTOR_FIELDS = ("id", "role", "team")


def _show(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of an offending value for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@attrs.frozen(slots=True)
class Actor:
    id: str | None = None
    role: str | None = None
    team: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in (("id", self.id), ("role", self.role), ("team", self.team)) if v is not None}


@attrs.frozen(slots=True, eq=False)
class Event:
    """One recorded step of one case, validated against the contract.

    ``at`` is timezone-aware; ``day`` is its calendar day in Europe/London. ``file``, ``line`` and ``seq``
    (position in the whole input) say where it came from; ``date_only`` is true when ``at`` had no time.
    """

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
        return self.at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")

    @property
    def said(self) -> str:
        """``at`` as written in a sentence: like ``when``, and an instant that came with its own offset (``Z``,
        ``+01:00``) says that it is shown in London time (events.md, Time)."""
        if self.date_only or self.at.tzinfo is LONDON:
            return self.when
        return f"{self.when} London time"

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
    hit = _ATS.get(value) if type(value) is str else None
    if hit is not None:
        return hit
    hit = _parse_at(value)
    if len(_ATS) >= 65_536:  # bounded (about 10 MB), cleared rather than aged
        _ATS.clear()
    _ATS[value] = hit
    return hit


def _parse_at(value: Any) -> tuple[datetime, date, bool]:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 date or date-time (got {_show(value)})")
    text = value.strip()
    if len(text) == 10:
        hit = _DAYS.get(text)
        if hit is not None:
            return hit
        try:
            d = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"is not a valid date (got {_show(value)})") from None
        _check_range(d, value)
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        hit = _DAYS[text] = (datetime.combine(d, time(0), LONDON), d, True)
        return hit
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 date or date-time (got {_show(value)})") from None
    d = dt.date()
    _check_range(d, value)
    if dt.tzinfo is None:  # local time in Scotland: its day is the day written
        return datetime.combine(d, dt.time(), LONDON), d, False  # dt.replace(tzinfo=...): 4x the time
    try:
        local = dt.astimezone(LONDON)
    except (OverflowError, ValueError):
        raise ValueError(f"is out of range (got {_show(value)})") from None
    return dt, local.date(), False


def _check_range(d: date, raw: Any) -> None:
    if not EARLIEST <= d <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST} (got {_show(raw)})")


def build_event(record: Mapping[str, Any], *, file: str, line: int, seq: int, text_cells: bool = False) -> Event:
    """Validate one record (a JSON object, or a CSV row when ``text_cells``) into an Event.

    Raises :class:`EventError` naming the first offending field.
    """
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

    values: dict[str, Any] = {}
    skip = _SKIP_CSV if text_cells else _SKIP
    for name, raw in record.items():
        if raw is None or name in skip or (text_cells and (raw == "" or name.startswith("actor_"))):
            continue
        kind_req = spec.get(name)
        if kind_req is None:
            values[name] = raw  # extra attribute: kept as given, not interpreted
            continue
        try:
            values[name] = kind_req[0].from_text(raw) if text_cells else kind_req[0].convert(raw)
        except ValueError as e:
            raise EventError(name, f"{e} for {activity}") from None
    for name in _REQUIRED[activity]:
        if name not in values:
            raise EventError(name, f"is required for {activity}")
    return Event(eid, case, at, day, activity, values, actor, file, line, seq, date_only)  # positional: hot path


_SKIP = frozenset(CORE_FIELDS)
_SKIP_CSV = frozenset((*CORE_FIELDS, "actor_id", "actor_role", "actor_team"))
_REQUIRED = {a: tuple(n for n, (_, req) in spec.items() if req) for a, spec in ACTIVITIES.items()}
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


def _actor_of(raw: Mapping[str, Any]) -> Actor:
    """Validate an actor mapping (keys id, role, team)."""
    if len(raw) > 3 or any(k not in ACTOR_FIELDS for k in raw):
        unknown = sorted(set(raw) - set(ACTOR_FIELDS))
        raise EventError("actor", f"has unknown key(s) {', '.join(map(repr, unknown))} (allowed: id, role, team)")
    aid, role, team = raw.get("id"), raw.get("role"), raw.get("team")
    for k, v in (("id", aid), ("role", role), ("team", team)):
        if v is not None and (type(v) is not str and (not isinstance(v, int) or isinstance(v, bool))):
            raise EventError(f"actor.{k}", f"must be text (got {_show(v)})")
    if role is not None and (type(role) is not str or role not in _ROLES):
        raise EventError("actor.role", f"must be one of {', '.join(ROLES)} (got {_show(role)})")
    return Actor(id=None if aid is None else str(aid), role=role, team=None if team is None else str(team))
