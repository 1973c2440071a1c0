"""The report as text (``sdsrules report LOG`` with no output file): the as-of date, then the per-duty rates worst
first, and the ``--by`` breakdown."""

from __future__ import annotations

from typing import Any, ClassVar, TextIO

from ...replay import Report
from ...reporting.aggregate import Aggregate, aggregate, percent
from ..base import Collecting


def lines(report: Report, agg: Aggregate, by: str | None, pseudonymised: bool, basis: str) -> list[str]:
    out = [f"As of {report.summary.as_of} ({basis}).",
           f"{agg.cases:,} cases; {agg.cases_breached:,} ({percent(agg.cases_breached, agg.cases)}) with at "
           f"least one finding; {agg.findings:,} findings." + (" Pseudonymised." if pseudonymised else ""),
           "Rates count cases where the duty applied (the denominator), not all cases.",
           "Worst first: breach rate among decided cases (met + breached); open duties are counted apart."]
    for r in agg.ranked:
        out.append(f"{r.code}  breached {r.breached:,} of {r.decided:,} decided ({percent(r.breached, r.decided)}), "
                   f"{r.open:,} open  {r.title}. {r.sentence()}")
    if by:
        out.append(f"\nBy {by.replace('_', ' ')}" + (f" (duties attributed by --team-of {agg.team_of})"
                                                     if by == "team" else "") + ":")
        for g in agg.groups[by]:
            if g.cases is None:
                out.append(f"  {g.value}: {g.findings:,} findings in {g.cases_breached:,} cases")
            else:
                opened = sum(r.open for r in g.codes)
                out.append(f"  {g.value}: {g.duties_breached:,} of {g.duties_decided:,} decided duties breached "
                           f"({percent(g.duties_breached, g.duties_decided)}), {opened:,} open; "
                           f"{g.cases_breached:,} of {g.cases:,} cases with findings")
    return out


class Writer(Collecting):
    """``item(report)``, then ``close()`` writes the rates; options ``agg`` (counted here when not given), ``by``,
    ``pseudonymised``, ``as_of_basis``."""

    kind: ClassVar[str] = "report"
    name: ClassVar[str] = "text"

    def __init__(self, stream: TextIO, agg: Aggregate | None = None, by: str | None = None,
                 pseudonymised: bool = False, as_of_basis: str = "", **_: Any):
        super().__init__(stream)
        self.agg, self.by, self.pseudonymised, self.basis = agg, by, pseudonymised, as_of_basis

    def close(self) -> None:
        for report in self.items:
            agg = self.agg or aggregate(report)
            self.stream.write("".join(line + "\n" for line in lines(report, agg, self.by, self.pseudonymised,
                                                                    self.basis)))
