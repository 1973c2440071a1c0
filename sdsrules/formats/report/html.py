"""One self-contained HTML report: rates, breakdowns with charts, the pathway, and every finding linked to
its case's timeline.

Nothing in the page fetches anything: CSS, script, charts (inline SVG) and data (a JSON blob in a
``<script type="application/json">``) are all inline, and a Content-Security-Policy forbids any network use.
Case data is personal, so it stays on the machine. Jinja2 autoescapes every value that goes into markup.

Timelines are drawn by the page from the JSON only when a finding is clicked, so a large report stays
small. When the full detail would pass the size budget (25 MB for the whole file), detail is shed in
stated steps and the report says which; the CSV exports always keep everything.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from importlib import resources
from typing import Any, ClassVar, TextIO

import attrs
import orjson
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from ...events import SDS, Event
from ...replay import Report
from ...reporting.aggregate import (
    DIMENSIONS,
    MIN_TREND,
    NO_STAGE,
    PROFILE_DIMENSIONS,
    RATE_NOTE,
    UNKNOWN,
    Aggregate,
    aggregate,
    percent,
)
from ...workflow import Workflow
from ..base import Collecting
from . import svg

MB = 1024 * 1024
#: the whole file must stay under this; the data blob gets what the page around it leaves
SIZE_LIMIT = 25 * MB
TIMELINE_CAP = 40
SEVERITIES = ("high", "medium", "low")
LABELS = {"team": "team", "tier": "tier", "client_group": "client group", "option": "SDS option", "month": "month"}

#: the detail shed, in order, when the data would pass the budget, with what the report then says
LEVELS = (
    "",
    "Timelines are included only for cases with findings.",
    f"Timelines show at most {TIMELINE_CAP} events per case: every evidence event, then the earliest others.",
    "The findings list leaves out the expected and actual values (they are in the CSV export).",
    "The findings list shows each finding's title, not its full message (the message is in the CSV export).",
    "Timelines show only the evidence events of each case's findings.",
    "The findings list is cut short: only the first findings by case are listed (all are in the CSV export).",
)


def _script() -> str:
    return resources.files("sdsrules.formats.report").joinpath("templates/report.js").read_text("utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def safe_json(data) -> Markup:
    """JSON for a ``<script type="application/json">``: every ``<`` escaped, so no ``</script>`` or ``<!--``
    inside the data can end the element early."""
    return Markup(orjson.dumps(data).replace(b"<", b"\\u003c").decode("utf-8"))


@attrs.frozen(slots=True)
class Detail:
    """The encoded data blob and what was left out to fit it."""

    blob: Markup
    level: int
    notes: tuple[str, ...]
    bytes: int


class _Encoder:
    """Builds the page's data at a given level of detail, each part encoded once per variant."""

    def __init__(self, report: Report, events: Mapping[str, Sequence[Event]] | None, codes: Sequence[str],
                 stages: Sequence[str]):
        self.report = report
        self.events = events or {}
        self.code_ix = {c: i for i, c in enumerate(codes)}
        self.stage_ix = {s: i for i, s in enumerate(stages)}
        self.dim_values: dict[str, list[str]] = {d: [] for d in PROFILE_DIMENSIONS}
        dim_ix: dict[str, dict[str, int]] = {d: {} for d in PROFILE_DIMENSIONS}
        self.case_rows: list[list] = []
        self.case_ix: dict[str, int] = {}
        for c in report.cases:
            if not c.findings and c.case not in self.events:
                continue
            profile = dict(c.profile)
            row: list = [c.case]
            for d in PROFILE_DIMENSIONS:
                v = profile.get(d)
                v = UNKNOWN if v is None else str(v)
                ix = dim_ix[d].get(v)
                if ix is None:
                    ix = dim_ix[d][v] = len(self.dim_values[d])
                    self.dim_values[d].append(v)
                row.append(ix)
            row.append(len(c.findings))
            self.case_ix[c.case] = len(self.case_rows)
            self.case_rows.append(row)
        self.with_findings = [c for c in report.cases if c.findings]

    def findings(self, level: int, limit: int | None = None) -> list[list]:
        rows = []
        code_ix, stage_ix, case_ix = self.code_ix, self.stage_ix, self.case_ix
        sev_ix = {s: i for i, s in enumerate(SEVERITIES)}
        for c in self.with_findings:
            ci = case_ix[c.case]
            for f in c.findings:
                rows.append([
                    ci, code_ix[f.code], f.at, stage_ix[f.stage or NO_STAGE], sev_ix.get(f.severity, 1),
                    f.message if level < 4 else "", f.expected if level < 3 else "",
                    f.actual if level < 3 else "", [[e.id, e.at, e.activity, e.role] for e in f.events]])
                if limit is not None and len(rows) >= limit:
                    return rows
        return rows

    def timelines(self, level: int) -> dict[str, list[list]]:
        if level >= 5:
            return {}
        out: dict[str, list[list]] = {}
        with_findings = {c.case: c for c in self.with_findings}
        for case, evs in self.events.items():
            if case not in self.case_ix or (level >= 1 and case not in with_findings):
                continue
            evs = _in_replay_order(evs)
            chosen: Iterable[Event] = evs
            more = 0
            if level >= 2 and len(evs) > TIMELINE_CAP:
                res = with_findings.get(case)
                evidence = {e.id for f in (res.findings if res else ()) for e in f.events}
                keep = {ev.id for ev in evs if ev.id in evidence}
                for ev in evs:
                    if len(keep) >= TIMELINE_CAP:
                        break
                    keep.add(ev.id)
                chosen = [ev for ev in evs if ev.id in keep]
                more = len(evs) - len(keep)
            rows: list[list] = []
            for ev in chosen:
                actor = ev.actor
                rows.append([ev.id, ev.when, ev.activity, actor.id or "" if actor else "",
                             actor.role or "" if actor else "", actor.team or "" if actor else "", _detail(ev)])
            if more:
                rows.append(["", "", "", "", "", "", f"{more} more events not shown"])
            out[str(self.case_ix[case])] = rows
        return out


def _in_replay_order(evs: Sequence[Event]) -> list[Event]:
    """The case's events as the replay saw them: by time then input position, repeated ids dropped."""
    seen: set[str] = set()
    out = []
    for ev in sorted(evs, key=lambda e: (e.at, e.seq)):
        if ev.id not in seen:
            seen.add(ev.id)
            out.append(ev)
    return out


def _detail(ev: Event) -> str:
    parts = []
    for k, v in ev.attrs.items():
        if isinstance(v, tuple | list):
            v = ", ".join(map(str, v))
        elif v is True:
            v = "yes"
        elif v is False:
            v = "no"
        parts.append(f"{k.replace('_', ' ')}: {v}")
    return "; ".join(parts)


def encode_detail(report: Report, codes: Sequence[str], stages: Sequence[str], meta: dict,
                  events: Mapping[str, Sequence[Event]] | None = None, budget: int = SIZE_LIMIT - 2 * MB
                  ) -> Detail:
    """The data blob at the richest level of detail that fits ``budget`` bytes."""
    enc = _Encoder(report, events, codes, stages)
    head = {"meta": meta, "codes": list(codes), "stages": list(stages), "severities": list(SEVERITIES),
            "dims": enc.dim_values, "cases": enc.case_rows}
    head_bytes = len(orjson.dumps(head))
    cache: dict = {}

    def part(name: str, key, make):
        if (name, key) not in cache:
            value = make()
            cache[(name, key)] = (value, len(orjson.dumps(value)))
        return cache[(name, key)]

    level = 0
    for level in range(len(LEVELS) - 1):
        f = part("findings", min(level, 4) if level >= 3 else 0, lambda lv=level: enc.findings(lv))
        t = part("timelines", level if level < 5 else 5, lambda lv=level: enc.timelines(lv))
        if head_bytes + f[1] + t[1] <= budget:
            break
    else:
        # the last step: list as many findings as fit
        level = len(LEVELS) - 1
        full, size = part("findings", 4, lambda: enc.findings(4))
        room = max(budget - head_bytes, 0)
        keep = int(len(full) * room / size) if size else 0
        f = (full[:keep], 0)
        t = ({}, 0)
    data = dict(head, findings=f[0], timelines=t[0], level=level, listed=len(f[0]))
    blob = safe_json(data)
    notes = tuple(n for n in LEVELS[1:level + 1] if n)
    return Detail(blob, level, notes, len(blob))


def _env() -> Environment:
    env = Environment(loader=PackageLoader("sdsrules.formats.report", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda pair: percent(*pair)
    return env


TEAM_OF_NOTE = {
    "trigger": "A finding, and every duty, belongs to the team and worker of the event that triggered the duty "
               "(who held it when it arose), not to whoever holds the case now.",
    "due": "A finding belongs to the team that held the case when the duty fell due or was breached; a duty met "
           "to the team that held the case when it was met.",
    "latest": "Every duty of a case is counted with the case's latest recorded team.",
}


def rejected_rows(report: Report) -> list[tuple[str, int, str, str]]:
    """(file, line, field, reason) of every rejected record, in words that never repeat the rejected value."""
    from ...events import safe_reason

    return [(r.file, r.line, r.field or "", safe_reason(r.field, r.reason)) for r in report.rejected]


def render_html(report: Report, workflow: Workflow, *, events: Mapping[str, Sequence[Event]] | None = None,
                pseudonymised: bool = False, by: str | None = None, agg: Aggregate | None = None,
                title: str | None = None, generated: datetime | None = None,
                size_limit: int = SIZE_LIMIT, team_of: str = "trigger", due_rows: Sequence | None = None,
                due_within: str = "", as_of_basis: str = "") -> str:
    """The report as one HTML page. ``events`` (case -> events in replay order) gives full timelines;
    without it a case's timeline shows its evidence events only. ``due_rows`` (``sdsrules.due.DueItem``)
    adds the section of what falls due. ``title``: default "Self-directed Support case file audit", or for a
    design in words of its own, its vocabulary's title; breakdowns and trends speak of the process the design
    names (no "SDS option" or "referral" in a permit process)."""
    agg = agg or aggregate(report, team_of)
    sds = workflow.vocabulary is SDS
    if title is None:
        title = "Self-directed Support case file audit" if sds else f"{workflow.vocabulary.title} case file audit"
    cohort = "referral" if sds else "the case's first event"
    team_of = agg.team_of
    names = [s.name for s in workflow.states]
    stage_names = names + sorted({s.stage for s in agg.stages} - set(names) - {NO_STAGE}) + [NO_STAGE]
    codes = sorted({r.code for r in agg.rates})
    s = report.summary
    generated = generated or datetime.now(timezone.utc)  # noqa: UP017 - explicit for readers
    meta = {"pseudonymised": pseudonymised, "as_of": s.as_of, "workflow": s.workflow,
            "titles": {r.code: r.title for r in agg.rates}}
    script = _script()
    order = list(DIMENSIONS)
    if by in order:
        order.remove(by)
        order.insert(0, by)
    breakdowns = []
    for d in order:
        groups = agg.groups[d]
        if d != "month" and all(g.value == UNKNOWN for g in groups):
            continue  # a case attribute this process does not record (the SDS tier, client group, option)
        if d == "month":
            most = max((g.findings for g in groups), default=0)
            rows = [(g.value, g.findings / most if most else 0,
                     f"{g.findings:,} findings, {g.cases_breached:,} cases") for g in groups]
            caption = ("Findings by the month the breach arose, and the cases they belong to. A case spans "
                       "many months, so months have no rate.")
        else:
            rows = [(_label(d, g.value), g.duty_breach_rate or 0,
                     f"{percent(g.duties_breached, g.duties_decided)} ({g.duties_breached:,} of "
                     f"{g.duties_decided:,})") for g in groups]
            caption = (f"Share of decided duties breached, by {LABELS[d]}: each duty in each case counts once "
                       f"(open duties left out), so one common duty cannot colour every bar.")
        extra = _matrix(d, groups) if d == "month" else {
            "columns": [], "values": [_label(d, g.value) for g in groups],
            "duty_rows": _duty_matrix(agg, [g.value for g in groups], d)}
        breakdowns.append({"dim": d, "label": LABELS[d], "chart": svg.bar_chart(rows, caption),
                           "caption": caption, **extra})
    stage_counts = {st.stage: st.findings for st in agg.stages}
    stage_codes = {st.stage: st.codes for st in agg.stages}
    pathway = svg.pathway(workflow, stage_counts, stage_codes)
    teams = [g.value for g in agg.groups["team"]]
    duty_matrix = _duty_matrix(agg, teams)
    trends = [(t, svg.trend_chart(t, cohort)) for t in agg.trends if any(p.rate is not None for p in t.points)]
    off_pathway = [(st.stage or "no stage recorded", st.findings) for st in agg.stages if st.stage not in names]

    env = _env()
    template = env.get_template("report.html.j2")
    detail = None
    budget = size_limit - 2 * MB
    for _ in range(3):
        detail = encode_detail(report, codes, stage_names, meta, events, budget)
        page = template.render(
            title=title, summary=s, agg=agg, data=detail.blob, script=Markup(script),
            csp=_csp_hash(script), pseudonymised=pseudonymised, generated=generated.strftime("%Y-%m-%d %H:%M UTC"),
            rate_note=RATE_NOTE, breakdowns=breakdowns, pathway=pathway, off_pathway=off_pathway,
            detail_notes=detail.notes, labels=LABELS, engine_note=_engine_note(s.engine),
            workflow=workflow, by=by, ranked=[r for r in agg.ranked if r.decided], teams=teams,
            duty_matrix=duty_matrix, trends=trends, min_trend=MIN_TREND, rejected=rejected_rows(report),
            team_note=TEAM_OF_NOTE[team_of], team_of=team_of, due_rows=due_rows, due_within=due_within,
            as_of_basis=as_of_basis, cohort=cohort)
        size = len(page.encode("utf-8"))
        if size <= size_limit:
            return page
        budget -= size - size_limit + MB
    return page


def _duty_matrix(agg: Aggregate, teams: Sequence[str], dim: str = "team") -> list[dict]:
    """Duty x team (or another breakdown), worst duty first: each cell the breach rate among the group's decided
    cases, or not applicable."""
    by_team = {g.value: {r.code: r for r in g.codes} for g in agg.groups[dim]}
    rows = []
    for r in agg.ranked:
        cells: list[tuple[str, str, float | None]] = []
        for t in teams:
            c = by_team.get(t, {}).get(r.code)
            if c is None or not c.applied:
                cells.append(("n/a", "not applicable: the duty applied to none of this team's cases", None))
            elif not c.decided:
                cells.append(("open", f"{c.open} open, none decided yet", None))
            else:
                tip = f"breached in {c.breached} of {c.decided} decided cases" + (f"; {c.open} open" if c.open else "")
                cells.append((percent(c.breached, c.decided), tip, c.breached / c.decided))
        rows.append({"code": r.code, "title": r.title, "cells": cells})
    return rows


def _matrix(dim: str, groups) -> dict:
    """A table of the breakdown: one row per group, one column per code found or applied in it."""
    cols = sorted({r.code for g in groups for r in g.codes if r.findings or r.applied})
    rows = []
    for g in groups:
        by_code = {r.code: r for r in g.codes}
        cells = []
        for code in cols:
            r = by_code.get(code)
            if r is None:
                cells.append(("", "", 0.0))
            elif dim == "month":
                cells.append((f"{r.findings:,}", f"{code}: {r.findings} findings in {g.value}", 0.0))
            elif r.decided:
                cells.append((percent(r.breached, r.decided),
                              f"{code}: breached in {r.breached} of the {r.decided} decided cases where the duty "
                              f"applied ({r.open} open)", r.breached / r.decided))
            else:
                cells.append(("", "", 0.0))
        rows.append({"label": _label(dim, g.value), "cases": g.cases, "breached": g.cases_breached,
                     "findings": g.findings, "cells": cells})
    return {"columns": cols, "rows": rows}


def _label(dim: str, value: str) -> str:
    if value == UNKNOWN:
        return f"{LABELS[dim]} not recorded"
    if dim == "tier":
        return f"tier {value}"
    if dim == "option":
        return f"option {value}"
    return value.replace("_", " ")


def _engine_note(engine: str) -> str:
    if engine == "none":
        return ("This run checked the sequence and data rules only (engine: none): the duties of the rule "
                "packs were not checked, so their rates are absent.")
    return ""


class Writer(Collecting):
    """The report kind's HTML: ``item(report)`` (the replay's ``Report``), then ``close()`` writes the page.

    Options are :func:`render_html`'s: ``workflow`` (needed), ``events``, ``pseudonymised``, ``by``, ``agg``,
    ``due_rows``, ``due_within``, ``as_of_basis`` ..."""

    kind: ClassVar[str] = "report"
    name: ClassVar[str] = "html"
    media_type: ClassVar[str] = "text/html; charset=utf-8"
    suffix: ClassVar[str] = ".html"

    def __init__(self, stream: TextIO, workflow: Workflow, **options: Any):
        super().__init__(stream)
        self.workflow, self.options = workflow, options

    def close(self) -> None:
        for report in self.items:
            self.stream.write(render_html(report, self.workflow, **self.options))
