"""Small inline SVG charts drawn here, so a report needs no chart library and fetches nothing.

Every text that comes from data goes through ``escape``; the result is ``Markup`` for the template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from ...workflow import Workflow

BAR = "#b8433a"
OK = "#3d7a5a"
INK = "#1d2733"
MUTED = "#5a6573"  # 5.9:1 on white, AA for small text
#: a stage box's fill runs from LIGHT (few findings) to HOT (the most); its text is INK on every fill (AA)
LIGHT = (251, 233, 231)
HOT = (238, 160, 150)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        x = c / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def contrast(a: tuple[int, int, int] | str, b: tuple[int, int, int] | str) -> float:
    """The WCAG 2 contrast ratio of two colours (AA wants 4.5 for text, 3 for large text)."""
    la, lb = (_luminance(hex_rgb(x) if isinstance(x, str) else x) for x in (a, b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def heat_fill(heat: float) -> tuple[int, int, int]:
    """A stage box's fill for ``heat`` 0..1 (share of the busiest stage's findings)."""
    h = max(0.0, min(1.0, heat))
    return tuple(round(lo + (hi - lo) * h) for lo, hi in zip(LIGHT, HOT, strict=True))  # type: ignore[return-value]


def bar_chart(rows: Sequence[tuple[str, float, str]], title: str, colour: str = BAR) -> Markup:
    """Horizontal bars: one row per (label, share 0..1 of the longest bar, text shown after the bar)."""
    label_w, bar_w, row_h, text_w = 190, 360, 22, 170
    width = label_w + bar_w + text_w
    height = max(len(rows), 1) * row_h + 8
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, share, text) in enumerate(rows):
        y = 4 + i * row_h
        w = max(0.0, min(1.0, share)) * bar_w
        shown = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{INK}" font-size="12">{escape(shown)}'
            f'</text><rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" fill="#eef1f4"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"/>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 15}" fill="{INK}" font-size="12">{escape(text)}</text>')
    if not rows:
        parts.append(f'<text x="8" y="18" fill="{MUTED}" font-size="12">nothing to show</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def pathway(workflow: Workflow, counts: Mapping[str, int], codes: Mapping[str, Sequence[tuple[str, int]]]
            ) -> Markup:
    """The workflow's stages in pathway order, each with the findings that arose there, and its transitions
    as arcs (forward above, backward below; arrows into closing stages left out: most stages may close)."""
    names = [s.name for s in workflow.states]
    box_w, box_h, gap, top = 118, 74, 26, 120
    width = len(names) * (box_w + gap) + gap
    height = top + box_h + 120
    x_of = {n: gap + i * (box_w + gap) for i, n in enumerate(names)}
    most = max(counts.values(), default=0)
    parts = [f'<svg class="pathway" role="img" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
             f'<title>{escape(workflow.title or workflow.name)}: findings by the stage where they arose</title>'
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>']
    closed = workflow.closed_states
    seen: set[tuple[str, str]] = set()
    for t in workflow.transitions:
        src, dst = t.source, t.dest
        if src not in x_of or dst not in x_of or src == dst or dst in closed or (src, dst) in seen:
            continue
        seen.add((src, dst))
        a, b = x_of[src] + box_w / 2, x_of[dst] + box_w / 2
        span = abs(b - a)
        lift = min(20 + span / 6, top - 12)
        if b > a:
            y = top
            d = f"M{a + 10:.0f},{y} C{a + 10:.0f},{y - lift:.0f} {b - 10:.0f},{y - lift:.0f} {b - 10:.0f},{y}"
        else:
            y = top + box_h
            d = f"M{a - 10:.0f},{y} C{a - 10:.0f},{y + lift:.0f} {b + 10:.0f},{y + lift:.0f} {b + 10:.0f},{y}"
        parts.append(f'<path d="{d}" fill="none" stroke="{MUTED}" stroke-width="1.2" marker-end="url(#arrow)"/>')
    for s in workflow.states:
        x = x_of[s.name]
        n = counts.get(s.name, 0)
        heat = n / most if most else 0
        fill = "rgb({},{},{})".format(*heat_fill(heat)) if n else "#f4f6f8"
        tip = "; ".join(f"{c}: {k}" for c, k in codes.get(s.name, ()))
        parts.append(
            f'<g class="stage" data-stage="{escape(s.name)}"><title>{escape(s.name)}: {n} findings'
            f'{escape(". " + tip) if tip else ""}</title>'
            f'<rect x="{x}" y="{top}" width="{box_w}" height="{box_h}" rx="8" fill="{fill}" stroke="{INK}"/>'
            f'<text x="{x + box_w / 2}" y="{top + 20}" text-anchor="middle" font-size="13" font-weight="600" '
            f'fill="{INK}">{escape(s.name)}</text>'
            f'<text x="{x + box_w / 2}" y="{top + 36}" text-anchor="middle" font-size="10" fill="{INK}">'
            f'{escape(s.stage or ("closed" if s.closed else ""))}</text>'
            f'<text x="{x + box_w / 2}" y="{top + 62}" text-anchor="middle" font-size="18" font-weight="700" '
            f'fill="{INK}">{n:,}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(trend, cohort: str = "referral") -> Markup:
    """One duty's breach rate by quarter (a small multiple): a dot per quarter with its 95% Wilson interval;
    a quarter with too few decided cases shows a hollow mark on the axis and says so in its tooltip."""
    points = trend.points
    step = 26
    left, top, plot_w, plot_h = 34, 8, max(len(points), 1) * step, 90
    width, height = left + plot_w + 8, top + plot_h + 32
    parts = [f'<svg class="trend" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(trend.code)} {escape(trend.title)}: share of '
             f'decided cases breached, by quarter of {escape(cohort)}</title>']
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.0f}" y2="{y:.0f}" stroke="#d9dee4"/>'
                     f'<text x="{left - 4}" y="{y + 4:.0f}" text-anchor="end" font-size="10" fill="{INK}">'
                     f'{int(frac * 100)}%</text>')
    for i, p in enumerate(points):
        x = left + step // 2 + i * step
        year, _, quarter = p.quarter.partition("-")
        parts.append(f'<text x="{x}" y="{top + plot_h + 13}" text-anchor="middle" font-size="9" fill="{INK}">'
                     f'{escape(quarter)}</text>')
        if i == 0 or quarter == "Q1":
            parts.append(f'<text x="{x}" y="{top + plot_h + 25}" text-anchor="middle" font-size="9" '
                         f'fill="{INK}">{escape(year)}</text>')
        if p.rate is None:
            parts.append(f'<g><title>{escape(p.quarter)}: too few cases to say ({p.decided} decided)</title>'
                         f'<circle cx="{x}" cy="{top + plot_h}" r="3" fill="#fff" stroke="{MUTED}"/></g>')
            continue
        y = top + plot_h * (1 - p.rate)
        y_lo, y_hi = top + plot_h * (1 - (p.low or 0)), top + plot_h * (1 - (p.high or 0))
        parts.append(f'<g><title>{escape(p.quarter)}: breached in {p.breached} of {p.decided} decided cases '
                     f'(95% interval {100 * (p.low or 0):.0f}% to {100 * (p.high or 0):.0f}%)</title>'
                     f'<line x1="{x}" x2="{x}" y1="{y_lo:.1f}" y2="{y_hi:.1f}" stroke="{INK}" stroke-width="1.5"/>'
                     f'<circle cx="{x}" cy="{y:.1f}" r="3.5" fill="{BAR}"/></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
