"""The report's CSV exports for spreadsheets (``report --csv DIR``): findings, per-code rates with their
denominators, a per-case summary, and optionally one breakdown, one table a file (:data:`TABLES`).

The report kind's ``csv`` formatter writes one table (option ``table``) of the ``Report`` given to ``item``;
the caller writes each file atomically. Every cell goes through :func:`..cells.safe_cell`, so case data cannot
inject spreadsheet formulas.
"""

from __future__ import annotations

from typing import Any, ClassVar, TextIO

from ...replay import Report
from ...reporting.aggregate import PROFILE_DIMENSIONS, Aggregate, Group, aggregate, case_codes, profile_value
from ..base import Collecting
from ..cells import row_writer

#: table -> its file in the CSV folder (``groups`` is the ``--by`` breakdown: ``rates_by_<by>.csv``)
TABLES = {"findings": "findings.csv", "rates": "rates.csv", "cases": "cases.csv", "groups": "rates_by_{by}.csv"}

FINDING_COLUMNS = ("case", "code", "at", "severity", "title", "message", "expected", "actual", "events",
                   "stage", "source", "workflow", *PROFILE_DIMENSIONS, "trigger_team", "trigger_worker")
RATE_COLUMNS = ("code", "title", "applied", "met", "breached", "open", "excused", "findings", "breach_rate",
                "compliance_rate", "words")
CASE_COLUMNS = ("case", *PROFILE_DIMENSIONS, "findings", "codes", "applicable")
GROUP_COLUMNS = ("dimension", "value", "cases", "cases_with_findings", "code", "applied", "breached", "open",
                 "findings", "breach_rate")


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.4f}" if whole else ""


def write_findings(report: Report, stream: TextIO) -> None:
    row = row_writer(stream)
    row(FINDING_COLUMNS)
    for c in report.cases:
        profile = [profile_value(c.profile, d) for d in PROFILE_DIMENSIONS]
        for f in c.findings:
            row([f.case, f.code, f.at, f.severity, f.title, f.message, f.expected, f.actual,
                 ";".join(e.id for e in f.events), f.stage, " | ".join(f.source), f.workflow, *profile, f.team,
                 f.worker])


def write_rates(agg: Aggregate, stream: TextIO) -> None:
    row = row_writer(stream)
    row(RATE_COLUMNS)
    for r in agg.rates:
        row([r.code, r.title, r.applied, r.met, r.breached, r.open, r.excused, r.findings,
             _rate(r.breached, r.decided),
             _rate(r.met, r.decided), r.sentence()])


def write_cases(report: Report, stream: TextIO) -> None:
    row = row_writer(stream)
    row(CASE_COLUMNS)
    for c in report.cases:
        row([c.case, *(profile_value(c.profile, d) for d in PROFILE_DIMENSIONS), len(c.findings),
             ";".join(case_codes(c.findings)), ";".join(sorted(c.applicable))])


def write_groups(groups: tuple[Group, ...], stream: TextIO) -> None:
    row = row_writer(stream)
    row(GROUP_COLUMNS)
    for g in groups:
        cases = "" if g.cases is None else g.cases
        for r in g.codes:
            dated = g.cases is not None
            row([g.dimension, g.value, cases, g.cases_breached, r.code, r.applied if dated else "",
                 r.breached if dated else "", r.open if dated else "", r.findings,
                 _rate(r.breached, r.decided) if dated else ""])


class Writer(Collecting):
    """One table of the report's CSV exports: ``item(report)``, then ``close()`` writes it.

    ``table`` is one of :data:`TABLES`; ``agg`` (the report's ``Aggregate``, counted here when not given) serves
    ``rates`` and ``groups``; ``by`` names the breakdown ``groups`` writes."""

    kind: ClassVar[str] = "report"
    name: ClassVar[str] = "csv"
    media_type: ClassVar[str] = "text/csv; charset=utf-8"
    suffix: ClassVar[str] = ".csv"

    def __init__(self, stream: TextIO, table: str = "findings", agg: Aggregate | None = None, by: str | None = None,
                 **_: Any):
        super().__init__(stream)
        if table not in TABLES:
            raise ValueError(f"unknown CSV table {table!r} (known: {', '.join(TABLES)})")
        if table == "groups" and by is None:
            raise ValueError("the groups table needs 'by' (a breakdown: team, tier, client_group, option, month)")
        self.table, self.agg, self.by = table, agg, by

    def close(self) -> None:
        for report in self.items:
            if self.table == "findings":
                write_findings(report, self.stream)
            elif self.table == "cases":
                write_cases(report, self.stream)
            else:
                agg = self.agg or aggregate(report)
                if self.table == "rates":
                    write_rates(agg, self.stream)
                else:
                    write_groups(agg.groups[self.by or ""], self.stream)


def files(by: str | None) -> list[tuple[str, str]]:
    """(table, file name) of every export ``report --csv`` writes, with the ``by`` breakdown's if given."""
    out = [(t, f) for t, f in TABLES.items() if t != "groups"]
    if by:
        out.append(("groups", TABLES["groups"].format(by=by)))
    return out
