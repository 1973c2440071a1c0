"""Attribute types of a vocabulary: each has a name for messages and converts a value or raises ValueError.

``sdsrules.events`` re-exports them (``from sdsrules.events import Number`` keeps working).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

# tuples, not ``int | float`` unions: isinstance with a union builds the union on every call (hot path)
_NUM = (int, float)
_SEQ = (list, tuple)
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def show(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of an offending value for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_show = show


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


#: the one text and the one boolean type (code compares kinds by identity: ``kind is BOOL``)
TEXT, BOOL = Text(), Bool()
