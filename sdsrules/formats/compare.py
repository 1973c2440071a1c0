"""``sdsrules compare``'s outputs: a comparison of two designs over the same cases as text, JSON, CSV (one row a
duty, a changed finding or a design change; spreadsheet-safe cells) and one self-contained HTML page with a
"current vs proposed" column pair. The comparison itself is ``sdsrules.compare``'s; nothing here computes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TextIO

import orjson

from ..compare import Comparison, DutyComparison
from ..reporting.aggregate import CodeRate, percent
from .base import Collecting
from .cells import row_writer


def _rate_cells(r: CodeRate | None) -> list[str]:
    if r is None:
        return ["-", "-", "-", "-", "-"]
    rate = percent(r.breached, r.decided) if r.decided else "n/a"
    return [f"{r.applied:,}", f"{r.met:,}", f"{r.breached:,}", f"{r.open:,}", rate]


def signed_pct(x: float) -> str:
    v = round(100 * x, 1)
    return f"{v:+.1f}" if v else "0.0"


def difference_words(d: DutyComparison) -> str:
    diff = d.difference
    if diff is None:
        return "-"
    return f"{signed_pct(diff[0])} [{signed_pct(diff[1])}, {signed_pct(diff[2])}]"


def to_text(cmp: Comparison, limit: int = 50) -> str:
    out = [f"Current:  {cmp.current.describe()} ({cmp.rules_current})",
           f"Proposed: {cmp.proposed.describe()} ({cmp.rules_proposed})",
           f"{cmp.cases:,} cases, {cmp.events_read:,} events read ({cmp.events_rejected:,} rejected), judged as of "
           f"{cmp.as_of} on both sides.", ""]
    lines = cmp.design.lines()
    out.append("What the proposal changes in the design:" if lines else "The two designs are the same.")
    out += [f"  {line}" for line in lines]
    out += ["", "Per duty, in cases: applied, met, breached, open (not yet due), and the breach rate of the decided "
                "cases (met + breached).",
            "Difference: proposed minus current breach rate, in percentage points, with its 95% interval "
            "(Newcombe hybrid score).", ""]
    head = ["code", "applied", "met", "breached", "open", "rate", "applied", "met", "breached", "open", "rate",
            "difference [95% interval]"]
    rows = [[d.code, *_rate_cells(d.current), *_rate_cells(d.proposed), difference_words(d)] for d in cmp.duties
            if d.current is not None or d.proposed is not None]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    span_c = sum(widths[1:6]) + 2 * 4
    span_p = sum(widths[6:11]) + 2 * 4
    out.append(" " * widths[0] + "  " + "current".center(span_c, "-") + "  " + "proposed".center(span_p, "-"))
    for r in [head, *rows]:
        out.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in
                             enumerate(zip(r, widths, strict=True))).rstrip())
    changed = [d for d in cmp.duties if d.changed]
    out.append("")
    out.append(f"{len(changed)} of {len(cmp.duties)} duties change; "
               f"{cmp.cases_changed:,} case{'s' if cmp.cases_changed != 1 else ''} "
               f"{'has' if cmp.cases_changed == 1 else 'have'} findings that change "
               f"({sum(c.change == 'added' for c in cmp.changes):,} added, "
               f"{sum(c.change == 'removed' for c in cmp.changes):,} removed).")
    if cmp.changes:
        for dim, counts in cmp.groups.items():
            shown = [f"{'tier ' if dim == 'tier' else 'option ' if dim == 'option' else ''}{v}: {n:,} of {t:,}"
                     for v, n, t in counts if n]
            if shown:
                out.append(f"  by {dim.replace('_', ' ')}: " + ", ".join(shown))
    for label, ds in (("current", cmp.only_current), ("proposed", cmp.only_proposed)):
        if ds:
            out.append(f"Checked only under the {label} side: " + "; ".join(f"{d.code} {d.title}" for d in ds) + ".")
    if cmp.changes:
        out += ["", "Cases whose findings change:"]
        for ch in cmp.changes[:limit]:
            sign = "+" if ch.change == "added" else "-"
            out.append(f"  {sign} {ch.case} {ch.code} {ch.finding.at} {ch.finding.title} ({ch.change})")
            out += [f"      because {r}" for r in ch.reasons]
        if len(cmp.changes) > limit:
            out.append(f"  ... and {len(cmp.changes) - limit:,} more (all of them in --format json or csv).")
    return "\n".join(out) + "\n"


CSV_HEADER = ("kind", "code", "title", "checked_by",
              "current_applied", "current_met", "current_breached", "current_open", "current_excused",
              "current_breach_rate", "proposed_applied", "proposed_met", "proposed_breached", "proposed_open",
              "proposed_excused", "proposed_breach_rate", "difference", "difference_low", "difference_high",
              "case", "change", "at", "reason", "message")


def csv_rows(cmp: Comparison) -> Iterable[list[Any]]:
    """Rows of the CSV: one per duty (kind 'duty'), then one per finding that changes (kind 'case'), then one
    per design change (kind 'design'). Cells are made safe by the writer."""
    def rate(r: CodeRate | None) -> list[Any]:
        if r is None:
            return [""] * 6
        return [r.applied, r.met, r.breached, r.open, r.excused,
                "" if r.breach_rate is None else round(r.breach_rate, 4)]

    for d in cmp.duties:
        diff = d.difference
        yield ["duty", d.code, d.title, d.checked_by, *rate(d.current), *rate(d.proposed),
               *(["", "", ""] if diff is None else [round(x, 4) for x in diff]), "", "", "", "", ""]
    for ch in cmp.changes:
        yield ["case", ch.code, ch.finding.title, "", *[""] * 15, ch.case, ch.change, ch.finding.at,
               "; ".join(ch.reasons), ch.finding.message]
    for line in cmp.design.lines():
        yield ["design", "", "", "", *[""] * 15, "", "", "", line, ""]


def write_csv(cmp: Comparison, stream: TextIO) -> None:
    row = row_writer(stream)
    row(CSV_HEADER)
    for cells in csv_rows(cmp):
        row(cells)


def to_html(cmp: Comparison) -> str:
    """The comparison as one self-contained page: per duty a "current vs proposed" column pair."""
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("sdsrules.formats.report", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)  # as formats.report.html's: every value autoescaped

    rows = []
    for d in cmp.duties:
        if d.current is None and d.proposed is None:
            continue
        diff = d.difference
        rows.append({"code": d.code, "title": d.title, "current": _rate_cells(d.current),
                     "proposed": _rate_cells(d.proposed), "difference": difference_words(d),
                     "direction": "" if diff is None or not round(diff[0], 3) else
                     ("worse" if diff[1] > 0 else "better" if diff[2] < 0 else "unclear"),
                     "checked_by": d.checked_by, "changed": d.changed})
    template = env.get_template("compare.html.j2")
    return template.render(cmp=cmp, rows=rows, design=cmp.design.lines(), changes=cmp.changes,
                           added=sum(c.change == "added" for c in cmp.changes),
                           removed=sum(c.change == "removed" for c in cmp.changes))


class _Compare(Collecting):
    """``item(comparison)``, then ``close()``: the comparison written whole."""

    kind: ClassVar[str] = "compare"

    def __init__(self, stream: TextIO, limit: int = 50):
        super().__init__(stream)
        self.limit = limit


class Text(_Compare):
    name = "text"

    def close(self) -> None:
        for cmp in self.items:
            self.stream.write(to_text(cmp, self.limit))


class Json(_Compare):
    name = "json"
    media_type = "application/json"
    suffix = ".json"

    def close(self) -> None:
        for cmp in self.items:
            self.stream.write(orjson.dumps(cmp.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")


class Csv(_Compare):
    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"

    def close(self) -> None:
        for cmp in self.items:
            write_csv(cmp, self.stream)


class Html(_Compare):
    name = "html"
    media_type = "text/html; charset=utf-8"
    suffix = ".html"

    def close(self) -> None:
        for cmp in self.items:
            self.stream.write(to_html(cmp))
