"""Event-time arithmetic on the Scottish calendar: days, weeks, months, working days.

"Within 12 months" of 2024-03-05 means on or before 2025-03-05 (``events.md``). Months that run past the end
of a month land on its last day (2024-01-31 + 1 month = 2024-02-29). Working days skip Saturdays, Sundays and
Scottish public holidays from the maintained ``holidays`` package (Good Friday is one; Easter Monday is not).
"""

from __future__ import annotations

import calendar as _cal
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import attrs
import holidays

UNITS = ("hours", "days", "weeks", "months", "years", "working days")
_DURATION = re.compile(r"^\s*(\d+)\s+(hour|hours|day|days|week|weeks|month|months|year|years|working day|working days)"
                       r"\s*$")


#: the holiday calendar of working days: (country, subdivision) of the ``holidays`` package; SDS: Scotland
SCOTLAND: tuple[str, str | None] = ("UK", "SCT")


@attrs.frozen(slots=True)
class Duration:
    """A deadline length such as ``28 days`` or ``5 working days`` (working days of ``calendar``: a design may
    name its own country and subdivision; Scotland by default)."""

    count: int
    unit: str  # one of UNITS
    calendar: tuple[str, str | None] = attrs.field(default=SCOTLAND, repr=False)

    def __str__(self) -> str:
        unit = self.unit if self.count != 1 else self.unit[:-1]
        return f"{self.count} {unit}"

    @property
    def exact(self) -> bool:
        """A deadline in hours: counted from the trigger's instant, to the minute, in elapsed time (48 hours is
        48 hours across a change of the clocks), not in calendar days."""
        return self.unit == "hours"

    def instant_after(self, start: datetime) -> datetime:
        """The last instant on time for something due this long after the instant ``start`` (hours only), in
        ``start``'s time zone."""
        if not self.exact:
            raise ValueError(f"{self} is counted in days, not from an instant")
        return (start.astimezone(UTC) + timedelta(hours=self.count)).astimezone(start.tzinfo)

    def after(self, start: date) -> date:
        """The last day on time for something due this long after ``start``. A deadline in hours, where only a
        day is known (the named functions), counts whole days of 24 hours."""
        n = self.count
        if self.unit == "hours":
            return start + timedelta(days=n // 24)
        if self.unit == "days":
            return start + timedelta(days=n)
        if self.unit == "weeks":
            return start + timedelta(weeks=n)
        if self.unit == "months":
            return add_months(start, n)
        if self.unit == "years":
            return add_months(start, 12 * n)
        return add_working_days(start, n, self.calendar)


def parse_duration(text: object) -> Duration:
    """Parse ``"12 weeks"``, ``"5 working days"`` and the like. Raises ValueError with what was allowed."""
    if not isinstance(text, str):
        raise ValueError(f"a duration must be text such as '28 days' or '5 working days' (got {text!r})")
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"a duration must be a whole number and one of {', '.join(UNITS)} (got {text!r})")
    count, unit = int(m.group(1)), m.group(2)
    if not unit.endswith("s"):
        unit += "s"
    if count * _DAYS_PER[unit] > MAX_DAYS + 1e-6:
        raise ValueError(f"a duration must be at most 100 years (got {text!r})")
    return Duration(count, unit)


#: the longest duration a design, a rule or a window may name: a century (dates stay far inside the calendar)
MAX_DAYS = 36_525
_DAYS_PER = {"hours": 1 / 24, "days": 1, "weeks": 7, "months": 30.4375, "years": 365.25, "working days": 1.4}


def add_months(start: date, months: int) -> date:
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(start.day, _cal.monthrange(year, month)[1]))


def add_years(start: date, years: int) -> date:
    """The anniversary; 29 February becomes 28 February in a common year."""
    return add_months(start, 12 * years)


def birthday(born: date, age: int) -> date:
    """The day a person born on ``born`` attains ``age``: the anniversary, and for someone born on 29 February
    1 March in a common year (Age of Legal Capacity (Scotland) Act 1991 s.6; events.md, Time)."""
    year = born.year + age
    if born.month == 2 and born.day == 29 and not _cal.isleap(year):
        return date(year, 3, 1)
    return born.replace(year=year)


@lru_cache(maxsize=256)
def _holidays_of(year: int, cal: tuple[str, str | None] = SCOTLAND) -> frozenset[date]:
    if cal == SCOTLAND:
        return frozenset(holidays.UK(subdiv="SCT", years=year).keys())
    return frozenset(holidays.country_holidays(cal[0], subdiv=cal[1], years=year).keys())


def check_calendar(country: str, subdivision: str | None = None) -> tuple[str, str | None]:
    """A holiday calendar the ``holidays`` package knows; ValueError naming what it does know otherwise."""
    try:
        holidays.country_holidays(country, years=2024)
    except (NotImplementedError, KeyError, ValueError):
        raise ValueError(f"{country!r} is not a country the holidays package knows (ISO 3166 codes such as GB, "
                         "NL, DE)") from None
    if subdivision is not None:
        try:
            holidays.country_holidays(country, subdiv=subdivision, years=2024)
        except (NotImplementedError, KeyError, ValueError):
            known = getattr(holidays.country_holidays(country, years=2024), "subdivisions", ())
            raise ValueError(f"{subdivision!r} is not a subdivision of {country} (known: "
                             f"{', '.join(known) or 'none'})") from None
    return (country, subdivision)


def is_working_day(d: date, cal: tuple[str, str | None] = SCOTLAND) -> bool:
    return d.weekday() < 5 and d not in _holidays_of(d.year, cal)


def add_working_days(start: date, n: int, cal: tuple[str, str | None] = SCOTLAND) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts)."""
    d = start
    left = n
    while left > 0:
        d += timedelta(days=1)
        if is_working_day(d, cal):
            left -= 1
    return d


def scottish_holidays(year: int) -> list[date]:
    return sorted(_holidays_of(year))
