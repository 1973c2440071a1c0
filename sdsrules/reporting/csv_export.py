"""CSV exports for spreadsheets: findings, per-code rates with their denominators, a per-case summary, and
optionally one breakdown. Each is written atomically by the caller; these functions only write rows.

A cell that a spreadsheet would run as a formula (starting ``=``, ``+``, ``@``, or ``-`` not followed by
a digit) is written with a leading apostrophe, so case data cannot inject formulas.
"""

from __future__ import annotations

import csv
from typing import TextIO

from ..formats.cells import safe_cell
from ..replay import Report
from .aggregate import PROFILE_DIMENSIONS, Aggregate, Group, case_codes, profile_value

FINDING_COLUMNS = ("case", "code", "at", "severity", "title", "message", "expected", "actual", "events",
                   "stage", "source", "workflow", *PROFILE_DIMENSIONS, "trigger_team", "trigger_worker")
RATE_COLUMNS = ("code", "title", "applied", "met", "breached", "open", "excused", "findings", "breach_rate",
                "compliance_rate", "words")
CASE_COLUMNS = ("case", *PROFILE_DIMENSIONS, "findings", "codes", "applicable")
GROUP_COLUMNS = ("dimension", "value", "cases", "cases_with_findings", "code", "applied", "breached", "open",
                 "findings", "breach_rate")


def row_writer(stream: TextIO):
    out = csv.writer(stream, lineterminator="\n")

    def row(values) -> None:
        out.writerow([safe_cell(v) for v in values])
    return row


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
