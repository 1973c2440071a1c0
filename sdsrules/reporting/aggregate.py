"""Rates, breakdowns and stage counts: pure functions over a Report.

The rate of a code is counted in cases, not findings. Each case where the code's duty applied is one of:
*breached* (the case has at least one finding of the code), *open* (no finding, and a duty of the code is not
yet due at the as-of date: spec events.md "Open duties") or *met* (neither). So applied = met + breached +
open, and open duties are never in the met count. A case applies to a code when ``CaseResult.applicable``
holds the code, when the case has a finding of it or an open duty of it.

The inspectors' quantity word describes the *compliance* rate over the decided duties (met + breached), the
share of cases where the good practice was present, as the Care Inspectorate writes ("contingency
arrangements were evident in only a few records (12%)"), with the open count said beside it. Two ends are
said plainly rather than forced into a band: "none" when no case met the duty and "all" when every one did.

Attribution (``team_of``): a duty in a case belongs to the team of the event that triggered it (``trigger``,
the default: who held it when it arose), the team holding the case when it fell due or was breached
(``due``; for a met duty, the team holding the case when it was met), or the case's latest recorded team
(``latest``). A met duty's teams come from the case's profile (``duty_teams``: the first duty of the code).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

import attrs

from ..findings import Finding, Obligation, quantity_word
from ..replay import Report
from .catalogue import TITLES

DIMENSIONS = ("team", "tier", "client_group", "option", "month")
TEAM_OF = ("trigger", "due", "latest")
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
#: below this many decided cases in a quarter, a trend point says "too few cases to say"
MIN_TREND = 10
PROFILE_DIMENSIONS = ("team", "tier", "client_group", "option")
UNKNOWN = "unknown"
NO_STAGE = ""

RATE_NOTE = (
    "Each rate counts cases, not findings. Of the cases where a duty applied, each is met, breached (at "
    "least one finding) or still open (not yet due at the as-of date): applied = met + breached + open, and an "
    "open duty is never counted as met. The inspectors' words (few under 15%, less than half, the majority "
    "from 50%, most from 75%, almost all from 90%) describe the share of the decided cases (met + breached) "
    "where the duty was met; 'none' and 'all' are said plainly.")


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
    open: int = 0
    severity: str = ""
    excused: int = 0  # cases where the duty arose and a recorded exception excused it

    @property
    def met(self) -> int:
        return self.applied - self.breached - self.open - self.excused

    @property
    def decided(self) -> int:
        """Cases where the duty was met or breached (not open, not excused)."""
        return self.applied - self.open - self.excused

    @property
    def breach_rate(self) -> float | None:
        return self.breached / self.decided if self.decided else None

    @property
    def compliance_rate(self) -> float | None:
        return self.met / self.decided if self.decided else None

    @property
    def word(self) -> str:
        return compliance_word(self.met, self.decided)

    def _open_words(self) -> str:
        out = ""
        if self.open:
            out += f" {self.open:,} more {'is' if self.open == 1 else 'are'} open (not yet due)."
        if self.excused:
            out += f" {self.excused:,} {'was' if self.excused == 1 else 'were'} excused by a recorded exception."
        return out

    def sentence(self) -> str:
        """How an inspection report would put it, over the decided cases, with the open count beside it."""
        n, word = self.decided, self.word
        if not self.applied:
            return "The duty did not apply to any case."
        if not n:
            return f"Not decided in any of the {self.applied:,} cases where the duty applied." + self._open_words()
        cases = "case" if n == 1 else "cases"
        where = "where the duty applied" if not (self.open or self.excused) else "decided so far"
        if word == "all":
            text = f"Met in all {n:,} {cases} {where}."
        elif word == "none":
            text = f"Met in none of the {n:,} {cases} {where}."
        else:
            text = f"Met in {word} of the {n:,} {cases} {where} ({percent(self.met, n)}, {self.met:,} of {n:,})."
        return text + self._open_words()

    def to_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "applied": self.applied, "met": self.met,
                "breached": self.breached, "open": self.open, "excused": self.excused, "findings": self.findings,
                "severity": self.severity, "words": self.sentence()}


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

    @property
    def duties_decided(self) -> int:
        return sum(r.decided for r in self.codes)

    @property
    def duties_breached(self) -> int:
        return sum(r.breached for r in self.codes)

    @property
    def duty_breach_rate(self) -> float | None:
        """The share of decided duties breached (each duty in each case counts once)."""
        n = self.duties_decided
        return self.duties_breached / n if n else None


@attrs.frozen(slots=True)
class StageCount:
    """Findings that arose at one workflow stage, by code."""

    stage: str
    findings: int
    codes: tuple[tuple[str, int], ...]


@attrs.frozen(slots=True)
class TrendPoint:
    """One duty in one quarter: breached of decided, with its 95% Wilson interval (None: too few to say)."""

    quarter: str
    decided: int
    breached: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.breached / self.decided if self.decided >= MIN_TREND else None


@attrs.frozen(slots=True)
class Trend:
    code: str
    title: str
    points: tuple[TrendPoint, ...]


@attrs.frozen(slots=True)
class Aggregate:
    cases: int
    cases_breached: int
    findings: int
    rejected: int
    rates: tuple[CodeRate, ...]
    groups: Mapping[str, tuple[Group, ...]]
    stages: tuple[StageCount, ...]
    team_of: str = "trigger"
    trends: tuple[Trend, ...] = ()
    quarters: tuple[str, ...] = ()

    @property
    def rates_by_code(self) -> dict[str, CodeRate]:
        return {r.code: r for r in self.rates}

    @property
    def ranked(self) -> tuple[CodeRate, ...]:
        """Duties worst first: highest breach rate, then most severe, then most breached; undecided last."""
        return tuple(sorted(self.rates, key=lambda r: (
            r.breach_rate is None, -(r.breach_rate or 0), SEVERITY_RANK.get(r.severity, 1), -r.breached, r.code)))

    @property
    def open(self) -> int:
        return sum(r.open for r in self.rates)


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% Wilson score interval of k successes in n trials."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def _title(code: str, titles: Mapping[str, str]) -> str:
    return titles.get(code) or TITLES.get(code, "")


def _rates(applied: Counter, breached: Counter, findings: Counter, titles: Mapping[str, str],
           opened: Counter | None = None, severities: Mapping[str, str] | None = None,
           excused: Counter | None = None) -> tuple[CodeRate, ...]:
    opened = opened if opened is not None else Counter()
    excused = excused if excused is not None else Counter()
    severities = severities or {}
    return tuple(CodeRate(code, _title(code, titles), applied[code] + excused[code], breached[code], findings[code],
                          opened[code], severities.get(code, ""), excused[code])
                 for code in sorted(set(applied) | set(excused)))


def _value_key(value: str) -> tuple:
    """Unknown last; numbers in numeric order; the rest alphabetically."""
    return (value == UNKNOWN, not value.isdigit(), int(value) if value.isdigit() else 0, value)


def profile_value(profile, dimension: str) -> str:
    for k, v in profile:
        if k == dimension:
            return str(v)
    return UNKNOWN


def _team_of(f, team_of: str, latest: str) -> str:
    """The team a finding or open obligation is attributed to (see the module's text)."""
    if team_of == "latest":
        return latest
    if team_of == "due":
        return getattr(f, "team_due", "") or latest
    return f.team or latest


def aggregate(report: Report, team_of: str = "trigger", titles_of: Mapping[str, str] | None = None) -> Aggregate:
    """Everything a report shows, in one pass over the cases. ``titles_of``: code -> title from the rule packs
    the run used (for duties with no finding to take a title from; default: the SDS catalogue's)."""
    if team_of not in TEAM_OF:
        raise ValueError(f"'team_of' must be one of {', '.join(TEAM_OF)} (got {team_of!r})")
    titles: dict[str, str] = {}
    severities: dict[str, str] = {}
    app_all: Counter = Counter()
    br_all: Counter = Counter()
    op_all: Counter = Counter()
    ex_all: Counter = Counter()
    g_ex: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    fn_all: Counter = Counter()
    g_app: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_br: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_op: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_fn: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in PROFILE_DIMENSIONS}
    g_cases: dict[str, dict[str, set[str]]] = {d: defaultdict(set) for d in PROFILE_DIMENSIONS}
    g_breached: dict[str, dict[str, set[str]]] = {d: defaultdict(set) for d in PROFILE_DIMENSIONS}
    q_dec: dict[str, Counter] = defaultdict(Counter)
    q_br: dict[str, Counter] = defaultdict(Counter)
    month_cases: dict[str, set[str]] = defaultdict(set)
    month_fn: dict[str, Counter] = defaultdict(Counter)
    stage_fn: dict[str, Counter] = defaultdict(Counter)
    cases_breached = 0
    for c in report.cases:
        profile = dict(c.profile)
        values = {d: UNKNOWN if profile.get(d) is None else str(profile[d]) for d in PROFILE_DIMENSIONS}
        latest = values["team"]
        duty_teams = dict(profile.get("duty_teams", ()))  # type: ignore[call-overload]
        first_finding: dict[str, Finding] = {}
        fcount: Counter = Counter()
        for f in c.findings:
            fcount[f.code] += 1
            first_finding.setdefault(f.code, f)
            if f.title and f.code not in titles:
                titles[f.code] = f.title
            if f.severity and f.code not in severities:
                severities[f.code] = f.severity
            month = f.at[:7]
            month_cases[month].add(c.case)
            month_fn[month][f.code] += 1
            stage_fn[f.stage or NO_STAGE][f.code] += 1
            team = _team_of(f, team_of, latest)
            g_fn["team"][team][f.code] += 1
            g_cases["team"][team].add(c.case)
            g_breached["team"][team].add(c.case)
        first_open: dict[str, Obligation] = {}
        for o in c.obligations:
            first_open.setdefault(o.code, o)
            if o.title and o.code not in titles:
                titles[o.code] = o.title
        hit = set(fcount)
        opened = set(first_open) - hit
        applied = c.applicable | hit | opened
        app_all.update(applied)
        op_all.update(opened)
        excused = set(profile.get("duty_excused", ())) - applied  # type: ignore[call-overload]
        ex_all.update(excused)
        for code in excused:
            trigger_team, _ = duty_teams.get(code, ("", ""))
            team = (latest if team_of == "latest" else trigger_team) or latest
            g_ex["team"][team][code] += 1
            g_cases["team"][team].add(c.case)
        quarter = str(profile.get("quarter", ""))
        if hit:
            cases_breached += 1
            br_all.update(hit)
            fn_all.update(fcount)
        for d in PROFILE_DIMENSIONS:
            if d == "team":
                continue
            v = values[d]
            g_cases[d][v].add(c.case)
            g_app[d][v].update(applied)
            g_op[d][v].update(opened)
            g_ex[d][v].update(excused)
            if hit:
                g_breached[d][v].add(c.case)
                g_br[d][v].update(hit)
                g_fn[d][v].update(fcount)
        if not applied:
            g_cases["team"][latest].add(c.case)
        for code in applied:
            if code in hit:
                team = _team_of(first_finding[code], team_of, latest)
                g_br["team"][team][code] += 1
            elif code in opened:
                o = first_open[code]
                team = o.team or latest if team_of == "trigger" else latest
                g_op["team"][team][code] += 1
            else:
                trigger_team, met_team = duty_teams.get(code, ("", ""))
                team = latest if team_of == "latest" else (trigger_team if team_of == "trigger" else met_team)
                team = team or latest
            g_app["team"][team][code] += 1
            g_cases["team"][team].add(c.case)
            if quarter and code not in opened:
                q_dec[code][quarter] += 1
                if code in hit:
                    q_br[code][quarter] += 1
    for code, title in (titles_of or {}).items():
        if code not in TITLES:  # a finding's own title first, then the catalogue's (the spec's words), the pack's
            titles.setdefault(code, title)
    groups: dict[str, tuple[Group, ...]] = {}
    for d in PROFILE_DIMENSIONS:
        groups[d] = tuple(
            Group(d, v, len(g_cases[d][v]), len(g_breached[d][v]), sum(g_fn[d][v].values()),
                  _rates(g_app[d][v], g_br[d][v], g_fn[d][v], titles, g_op[d][v], severities, g_ex[d][v]))
            for v in sorted(g_cases[d], key=_value_key))
    groups["month"] = tuple(
        Group("month", m, None, len(month_cases[m]), sum(month_fn[m].values()),
              tuple(CodeRate(code, _title(code, titles), 0, 0, n) for code, n in sorted(month_fn[m].items())))
        for m in sorted(month_fn))
    stages = tuple(StageCount(s, sum(cs.values()), tuple(sorted(cs.items())))
                   for s, cs in sorted(stage_fn.items()))
    quarters = tuple(sorted({q for qs in q_dec.values() for q in qs}))
    trends = []
    for code in sorted(q_dec):
        points = []
        for q in quarters:
            n, k = q_dec[code][q], q_br[code][q]
            low, high = wilson(k, n) if n >= MIN_TREND else (None, None)
            points.append(TrendPoint(q, n, k, low, high))
        trends.append(Trend(code, _title(code, titles), tuple(points)))
    return Aggregate(len(report.cases), cases_breached, sum(fn_all.values()), len(report.rejected),
                     _rates(app_all, br_all, fn_all, titles, op_all, severities, ex_all), groups, stages, team_of,
                     tuple(trends), quarters)


def rates(report: Report) -> tuple[CodeRate, ...]:
    """Per-code rates over the whole report, sorted by code."""
    return aggregate(report).rates


def breakdown(report: Report, dimension: str, team_of: str = "trigger") -> tuple[Group, ...]:
    """The report broken down by ``dimension`` (one of DIMENSIONS)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"'dimension' must be one of {', '.join(DIMENSIONS)} (got {dimension!r})")
    return aggregate(report, team_of).groups[dimension]


def stage_counts(report: Report) -> dict[str, int]:
    """Findings per workflow stage where they arose ('' for findings with no stage)."""
    return {s.stage: s.findings for s in aggregate(report).stages}


def case_codes(findings: tuple[Finding, ...]) -> list[str]:
    """The distinct codes of a case's findings, in code order."""
    return sorted({f.code for f in findings})
