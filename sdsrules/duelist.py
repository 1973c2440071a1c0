"""What falls due: every duty still owed at the as-of date, overdue ones on top, then soonest due (the module is
``duelist`` so that ``sdsrules.due`` stays the function).

A duty still owed is either *open* (an ``Obligation``: its last day is on or after the as-of date) or
*overdue and outstanding* (a ``Finding`` with ``outstanding``: its day passed and nothing met or ended it).
Each item names the case, the duty's code and title, its due date, and the team and worker of the event that
triggered it (``attribution``). Pure functions over findings and obligations: the CLI (``sdsrules due``), the
HTML report, the API (``sdsrules.due``) and the service (``/v1/due``) share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from .calendar import parse_duration
from .findings import Finding, Obligation

LONDON = ZoneInfo("Europe/London")
_SHORT = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$")
_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}
BY = ("team", "worker")


def today() -> date:
    """Today's date in Scotland (Europe/London), whatever the machine's time zone."""
    return datetime.now(LONDON).date()


def as_day(value: date | datetime | str | None, default: date | None = None) -> date | None:
    """An as-of date from a date, a date-time (its London day) or an ISO 8601 string; ``default`` for None.

    Raises ValueError naming what was allowed."""
    if value is None:
        return default
    if isinstance(value, datetime):
        return (value.astimezone(LONDON) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return as_day(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ValueError(f"as_of must be a date or an ISO 8601 date such as 2026-12-01 (got {type(value).__name__})")


def window_end(as_of: date, within: str | int | timedelta | None) -> date | None:
    """The last day of the window ``within`` after ``as_of``: '28d', '4w', '3m', '1y', '28 days', a number of
    days or a timedelta. None: no window (every duty still owed). Raises ValueError naming what was allowed."""
    if within is None:
        return None
    try:
        return _window_end(as_of, within)
    except (OverflowError, ValueError):
        raise ValueError("within must be a period such as 28d, 4w, 3m, 1y or '28 days', ending before the year "
                         "10000") from None


def _window_end(as_of: date, within: str | int | timedelta) -> date:
    if isinstance(within, timedelta):
        return as_of + within
    if isinstance(within, int) and not isinstance(within, bool):
        if within < 0:
            raise ValueError(within)
        return as_of + timedelta(days=within)
    if isinstance(within, str):
        m = _SHORT.match(within)
        return parse_duration(f"{m.group(1)} {_UNITS[m.group(2)]}" if m else within).after(as_of)
    raise ValueError(within)


@attrs.frozen(slots=True)
class DueItem:
    """One duty still owed."""

    due: str  # its last day ("" when it is owed before a next step rather than by a date)
    case: str
    code: str
    title: str
    team: str
    worker: str
    overdue: bool
    message: str
    trigger: str = ""  # the id of the event that triggered the duty

    def sort_key(self) -> tuple:
        return (not self.overdue, self.due == "", self.due, self.case, self.code, self.trigger)

    def to_dict(self) -> dict:
        return {"due": self.due or None, "overdue": self.overdue, "case": self.case, "code": self.code,
                "title": self.title, "team": self.team, "worker": self.worker, "message": self.message,
                "trigger": self.trigger or None}


def from_obligation(o: Obligation) -> DueItem:
    return DueItem(o.due, o.case, o.code, o.title or o.code, o.team, o.worker, False, o.message,
                   o.trigger.id if o.trigger else "")


def from_finding(f: Finding) -> DueItem:
    trig = next((e.id for e in f.events if e.role == "trigger"), "")
    return DueItem(f.due, f.case, f.code, f.title or f.code, f.team, f.worker, True, f.message, trig)


def due_items(findings: Iterable[Finding], obligations: Iterable[Obligation], as_of: date,
              within: str | int | timedelta | None = None, by: str | None = None) -> list[DueItem]:
    """Every duty still owed at ``as_of``: overdue (outstanding findings) first, then open duties due on or
    before the window's end, soonest first. A duty owed before a next step rather than by a date is listed
    only without a window. ``by`` ('team' or 'worker') groups the list by that first."""
    if by is not None and by not in BY:
        raise ValueError(f"'by' must be one of {', '.join(BY)} (got {by!r})")
    end = window_end(as_of, within)
    items = [from_finding(f) for f in findings if f.outstanding]
    for o in obligations:
        if o.due:
            if end is None or date.fromisoformat(o.due) <= end:
                items.append(from_obligation(o))
        elif end is None:
            items.append(from_obligation(o))
    items.sort(key=DueItem.sort_key)
    if by is not None:
        items.sort(key=lambda d: getattr(d, by) or "\uffff")  # stable: keeps the order within each group
    return items
