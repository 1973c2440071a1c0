"""The report's JSON (``report --json FILE``): the summary with per-duty rates (``summary.rates``: applied = met +
breached + open per duty), the open obligations (code, case, due, trigger evidence), the findings and the
rejected records (their reasons in words that never repeat a rejected value)."""

from __future__ import annotations

from typing import Any, ClassVar, TextIO

import orjson

from ...replay import Report
from ...reporting.aggregate import Aggregate, aggregate
from ..base import Collecting
from .html import rejected_rows


def dumps(result: Report, agg: Aggregate, basis: str) -> str:
    summary = dict(result.summary.to_dict(), as_of_basis=basis, rates=[r.to_dict() for r in agg.ranked],
                   team_of=agg.team_of)
    body = {
        "summary": summary,
        "obligations": [o.to_dict() for o in sorted(result.obligations, key=lambda o: (o.due or "9999", o.case,
                                                                                          o.code))],
        "findings": [f.to_dict() for f in result.findings],
        "rejected": [{"file": f, "line": n, "field": fld or None, "reason": why}
                     for f, n, fld, why in rejected_rows(result)],
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"


class Writer(Collecting):
    """``item(report)``, then ``close()`` writes it; ``agg`` (counted here when not given), ``as_of_basis``."""

    kind: ClassVar[str] = "report"
    name: ClassVar[str] = "json"
    media_type: ClassVar[str] = "application/json"
    suffix: ClassVar[str] = ".json"

    def __init__(self, stream: TextIO, agg: Aggregate | None = None, as_of_basis: str = "", **_: Any):
        super().__init__(stream)
        self.agg, self.basis = agg, as_of_basis

    def close(self) -> None:
        for report in self.items:
            self.stream.write(dumps(report, self.agg or aggregate(report), self.basis))
