"""Rates, breakdowns and stage counts: pure functions over a Report.

The rate of a code is counted in cases, not findings: the cases with at least one finding of the code,
over the cases where its duty applied. A case applies to a code when ``CaseResult.applicable`` holds the
code, or when the case has a finding of it (a breach proves the duty applied, whatever the engine said).

The inspectors' quantity word describes the *compliance* rate, the share of cases where the good practice
was present, as the Care Inspectorate writes ("contingency arrangements were evident in only a few records
(12%)"): "met in few of the 25 cases where the duty applied". Two ends are said plainly rather than forced
into a band: "none" when no case met the duty and "all" when every case did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

import attrs

from ..findings import Finding, quantity_word
from ..replay import Report
from .catalogue import TITLES

DIMENSIONS = ("team", "tier", "client_group", "option", "month")
PROFILE_DIMENSIONS = ("team", "tier", "client_group", "option")
UNKNOWN = "unknown"
NO_STAGE = ""

RATE_NOTE = (
    "Each rate counts cases, not findings: the cases with at least one finding of the code, over the cases "
    "where the duty applied (not all cases). The inspectors' words (few under 15%, less than half, the "
    "majority from 50%, most from 75%, almost all from 90%) describe the share of those cases where the "
    "duty was met, as inspectors describe the share of files where good practice was present; 'none' and "
    "'all' are said plainly.")


def compliance_word(met: int, applied: int) -> str:
    """The inspectors' word for ``met`` of ``applied`` cases: none, few, ..., almost all, all."""
    if applied <= 0:
        return ""
    if met == 0:
        return "none"
    if met == applied:
        return "all"
    return quantity_word(met / applied)


def percent(part: int, whole: int) -> str:
    """A whole-number percentage, rounded down so it never crosses into a higher inspectors' band than its
    word (89.8% shows as 89%, "most"); a non-zero share is never 0% and a partial one never 100%."""
    if whole <= 0:
        return "n/a"
    shown = 100 * part // whole
    if shown == 0 and part:
        return "<1%"
    if shown == 100 and part != whole:
        return ">99%"
    return f"{shown}%"


@attrs.frozen(slots=True)
class CodeRate:
    """One breach code's rate: of the cases where its duty ``applied``, how many ``breached`` it."""

    code: str
    title: str
    applied: int
    breached: int
    findings: int

    @property
    def met(self) -> int:
        return self.applied - self.breached

    @property
    def breach_rate(self) -> float | None:
        return self.breached / self.applied if self.applied else None

    @property
    def compliance_rate(self) -> float | None:
        return self.met / self.applied if self.applied else None

    @property
    def word(self) -> str:
        return compliance_word(self.met, self.applied)

    def sentence(self) -> str:
        """How an inspection report would put it."""
        n, word = self.applied, self.word
        if not n:
            return "The duty did not apply to any case."
        cases = "case" if n == 1 else "cases"
        if word == "all":
            return f"Met in all {n} {cases} where the duty applied."
        if word == "none":
            return f"Met in none of the {n} {cases} where the duty applied."
        return (f"Met in {word} of the {n} {cases} where the duty applied ({percent(self.met, n)}, "
                f"{self.met} of {n}).")


@attrs.frozen(slots=True)
class Group:
    """One value of a breakdown (a team, a tier, a month ...): its cases, breaches and per-code rates.

    ``cases`` is None for months: a case spans many months, so a month counts the findings that arose in
    it and the cases they belong to, with no denominator.
    """

    dimension: str
    value: str
    cases: int | None
    cases_breached: int
    findings: int
    codes: tuple[CodeRate, ...] = ()

    @property
    def breach_rate(self) -> float | None:
        return self.cases_breached / self.cases if self.cases else None


@attrs.frozen(slots=True)
class StageCount:
    """Findings that arose at one workflow stage, by code."""

    stage: str
    findings: int
    codes: tuple[tuple[str, int], ...]


@attrs.frozen(slots=True)
class Aggregate:
    cases: int
    cases_breached: int
    findings: int
    rejected: int
    rates: tuple[CodeRate, ...]
    groups: Mapping[str, tuple[Group, ...]]
    stages: tuple[StageCount, ...]

    @property
    def rates_by_code(self) -> dict[str, CodeRate]:
        return {r.code: r for r in self.rates}


def _title(code: str, titles: Mapping[str, str]) -> str:
    return titles.get(code) or TITLES.get(code, "")


def _rates(applied: Counter, breached: Counter, findings: Counter, titles: Mapping[str, str]
           ) -> tuple[CodeRate, ...]:
    return tuple(CodeRate(code, _title(code, titles), applied[code], breached[code], findings[code])
                 for code in sorted(applied))


def _value_key(value: str) -> tuple:
    """Unknown last; numbers in numeric order; the rest alphabetically."""
    return (value == UNKNOWN, not value.isdigit(), int(value) if value.isdigit() else 0, value)


def profile_value(profile, dimension: str) -> str:
    for k, v in profile:
        if k == dimension:
            return str(v)
    return UNKNOWN


def aggregate(report: Report) -> Aggregate:
    """Everything a report shows, in one pass over the cases."""
    titles: dict[str, str] = {}
    app_all: Counter = Counter()
    br_all: Counter = Counter()
    fn_all: Counter = Counter()
    g_app: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_br: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_fn: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_cases: dict[str, Counter] = {d: Counter() for d in PROFILE_DIMENSIONS}
    g_breached: dict[str, Counter] = {d: Counter() for d in PROFILE_DIMENSIONS}
    month_cases: dict[str, set[str]] = defaultdict(set)
    month_fn: dict[str, Counter] = defaultdict(Counter)
    stage_fn: dict[str, Counter] = defaultdict(Counter)
    cases_breached = 0
    for c in report.cases:
        fcodes = [f.code for f in c.findings]
        hit = set(fcodes)
        applied = c.applicable | hit if hit else c.applicable
        app_all.update(applied)
        fcount = Counter(fcodes)
        if hit:
            cases_breached += 1
            br_all.update(hit)
            fn_all.update(fcount)
            for f in c.findings:
                if f.title and f.code not in titles:
                    titles[f.code] = f.title
                month = f.at[:7]
                month_cases[month].add(c.case)
                month_fn[month][f.code] += 1
                stage_fn[f.stage or NO_STAGE][f.code] += 1
        profile = dict(c.profile)
        for d in PROFILE_DIMENSIONS:
            v = profile.get(d)
            v = UNKNOWN if v is None else str(v)
            g_cases[d][v] += 1
            g_app[d][v].update(applied)
            if hit:
                g_breached[d][v] += 1
                g_br[d][v].update(hit)
                g_fn[d][v].update(fcount)
    groups: dict[str, tuple[Group, ...]] = {}
    for d in PROFILE_DIMENSIONS:
        groups[d] = tuple(
            Group(d, v, g_cases[d][v], g_breached[d][v], sum(g_fn[d][v].values()),
                  _rates(g_app[d][v], g_br[d][v], g_fn[d][v], titles))
            for v in sorted(g_cases[d], key=_value_key))
    groups["month"] = tuple(
        Group("month", m, None, len(month_cases[m]), sum(month_fn[m].values()),
              tuple(CodeRate(code, _title(code, titles), 0, 0, n) for code, n in sorted(month_fn[m].items())))
        for m in sorted(month_fn))
    stages = tuple(StageCount(s, sum(cs.values()), tuple(sorted(cs.items())))
                   for s, cs in sorted(stage_fn.items()))
    return Aggregate(len(report.cases), cases_breached, sum(fn_all.values()), len(report.rejected),
                     _rates(app_all, br_all, fn_all, titles), groups, stages)


def rates(report: Report) -> tuple[CodeRate, ...]:
    """Per-code rates over the whole report, sorted by code."""
    return aggregate(report).rates


def breakdown(report: Report, dimension: str) -> tuple[Group, ...]:
    """The report broken down by ``dimension`` (one of DIMENSIONS)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"'dimension' must be one of {', '.join(DIMENSIONS)} (got {dimension!r})")
    return aggregate(report).groups[dimension]


def stage_counts(report: Report) -> dict[str, int]:
    """Findings per workflow stage where they arose ('' for findings with no stage)."""
    return {s.stage: s.findings for s in aggregate(report).stages}


def case_codes(findings: tuple[Finding, ...]) -> list[str]:
    """The distinct codes of a case's findings, in code order."""
    return sorted({f.code for f in findings})
