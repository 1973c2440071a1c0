"""CSV out, as the CSV reader reads it: ``id,case,at,activity,actor_id,actor_role,actor_team`` then one column
per attribute (sorted); lists ``1;2;4``, booleans ``true``/``false``, absent values empty.

The header needs every attribute name before the first row, so rows are spooled (in memory up to 32 MB, then
to a temporary file) while the columns are collected. CSV has no types: the contract's attributes get theirs
back from the activity on reading; an extra attribute that is not text comes back as text (a nested object
is written as JSON text).
"""

from __future__ import annotations

import tempfile
from typing import Any, TextIO

import orjson

from ...events import Event
from ..cells import row_writer
from .common import EventsWriter, Unwritable, codes

CORE = ("id", "case", "at", "activity", "actor_id", "actor_role", "actor_team")
SPOOL = 32 * 1024 * 1024


class Writer(EventsWriter):
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"

    def __init__(self, stream: TextIO, findings=None, skipped=None):
        super().__init__(stream, findings, skipped)
        self.columns: dict[str, None] = {}
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL, mode="w+b")  # noqa: SIM115 - closed in close()

    def item(self, ev: Event) -> None:
        try:
            row = _row(ev)
        except Unwritable as e:
            field, reason = e.args
            self.skip(ev, field, reason)
            return
        attached = self.by_event.get((ev.case, ev.id))
        if attached:
            row["sdsrules:findings"] = codes(attached)
        for k in row:
            if k not in self.columns and k not in CORE:
                self.columns[k] = None
        self.spool.write(orjson.dumps(row))
        self.spool.write(b"\n")
        self.count += 1

    def close(self) -> int:
        with self.spool as spool:
            header = list(CORE) + sorted(self.columns)
            out = row_writer(self.stream)
            out(header)
            spool.seek(0)
            for line in spool:
                row = orjson.loads(line)
                out([row.get(h, "") for h in header])
        return self.count


def _row(ev: Event) -> dict[str, str]:
    row = {"id": ev.id, "case": ev.case, "at": ev.at_text(), "activity": ev.activity}
    if ev.actor is not None:
        for part in ("id", "role", "team"):
            value = getattr(ev.actor, part)
            if value is not None:
                row[f"actor_{part}"] = value
    for k, v in ev.attrs.items():
        try:
            row[k] = cell(v)
        except (RecursionError, TypeError) as e:  # TypeError: orjson's, for what JSON cannot hold
            raise Unwritable(k, f"cannot be written as a CSV cell ({type(e).__name__}: nested too deeply or "
                                 f"not JSON)") from None
    return row


#: lists inside lists are written ``1;2;3`` flat; deeper than this is refused, not recursed into
MAX_DEPTH = 16


def cell(value: Any, depth: int = 1) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if depth > MAX_DEPTH:
            raise RecursionError
        return ";".join(cell(v, depth + 1) for v in value)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return orjson.dumps(value).decode("utf-8")
