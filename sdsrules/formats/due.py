"""The due list (``sdsrules due``): text, CSV (spreadsheet-safe cells), JSON, or the HTML report with the list.

Each is a due formatter: ``item(due_item)`` for each ``DueItem`` in the list's order, then ``close()``. Options:
``as_of`` (a date), ``within`` (the window as given), ``by`` (team or worker), ``basis`` (why that as-of date);
HTML also needs the replay's ``report``, its ``workflow`` and ``events`` (case -> events) for the timelines.
CSV streams; the others need the whole list (text and JSON lead with its counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, TextIO

import orjson

from ..duelist import DueItem, window_end
from .base import Collecting
from .cells import row_writer

COLUMNS = ("due", "overdue", "case", "code", "title", "team", "worker", "trigger")


def write_csv(items: Iterable[DueItem], stream: TextIO) -> None:
    """The list as CSV, with spreadsheet-safe cells."""
    row = row_writer(stream)
    row(COLUMNS)
    for d in items:
        row(_cells(d))


def _cells(d: DueItem) -> list:
    return [d.due, "yes" if d.overdue else "no", d.case, d.code, d.title, d.team, d.worker, d.trigger]


def text_lines(items: list[DueItem], as_of: date, within: str | None, by: str | None, basis: str) -> list[str]:
    """The list as plain text lines, one duty a line."""
    window = f" falling due by {window_end(as_of, within)} ({within})" if within else ""
    overdue = sum(d.overdue for d in items)
    lines = [f"As of {as_of} ({basis}): {len(items):,} duties still owed{window}, {overdue:,} of them overdue."]
    group = None
    for d in items:
        if by is not None and getattr(d, by) != group:
            group = getattr(d, by)
            lines.append(f"{by} {group or '(not recorded)'}:")
        when = d.due or "before the next step"
        flag = "OVERDUE " if d.overdue else ""
        lines.append(f"{'  ' if by else ''}{flag}{when}  {d.case}  {d.code} {d.title}  "
                     f"team {d.team or '-'}  worker {d.worker or '-'}")
    return lines


class _Due(Collecting):
    kind: ClassVar[str] = "due"

    def __init__(self, stream: TextIO, as_of: date | None = None, within: str | None = None, by: str | None = None,
                 basis: str = "", report: Any = None, workflow: Any = None,
                 events: Mapping[str, Sequence] | None = None):
        super().__init__(stream)
        self.as_of, self.within, self.by, self.basis = as_of, within, by, basis
        self.report, self.workflow, self.events = report, workflow, events


class Text(_Due):
    name = "text"

    def close(self) -> None:
        assert self.as_of is not None, "the text due list needs as_of"
        self.stream.write("\n".join(text_lines(self.items, self.as_of, self.within, self.by, self.basis)) + "\n")


class Csv(_Due):
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"

    def __init__(self, stream: TextIO, **options: Any):
        super().__init__(stream, **options)
        self.row = row_writer(stream)
        self.row(COLUMNS)

    def item(self, x: DueItem) -> None:
        self.row(_cells(x))

    def close(self) -> None:
        pass


class Json(_Due):
    name = "json"
    media_type = "application/json"
    suffix = ".json"

    def close(self) -> None:
        body = {"as_of": None if self.as_of is None else self.as_of.isoformat(), "as_of_basis": self.basis,
                "within": self.within, "by": self.by, "due": [d.to_dict() for d in self.items]}
        self.stream.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")


class Html(_Due):
    """The HTML report with the due list (grouped by team when ``by`` is given)."""

    name = "html"
    media_type = "text/html; charset=utf-8"
    suffix = ".html"

    def close(self) -> None:
        from .report.html import render_html

        if self.report is None or self.workflow is None:
            raise ValueError("the HTML due list needs the replay's report and workflow")
        self.stream.write(render_html(self.report, self.workflow, events=self.events,
                                      by="team" if self.by else None, due_rows=self.items,
                                      due_within=self.within or ""))
