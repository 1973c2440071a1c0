"""Every output sdsrules writes, one module per format behind one interface (:class:`base.Formatter`), and one
registry of them, :data:`FORMATS`: (kind, name) -> formatter class.

Layout: ``findings/`` (a replay's findings: text, json, csv), ``events/`` (a log back out: jsonl, csv, xes),
``designs.py`` (design checks: text, json, sarif, junit), ``diagram.py`` (mermaid, dot, svg), ``compare.py``
(two designs side by side: text, json, csv, html), ``report/`` (the
quality assurance report: html, json, csv exports; its charts and templates), ``due.py`` (the due list: text,
csv, json, html) and ``cells.py`` (the one spreadsheet-safe cell every CSV uses).

Command-line options take their choices from :func:`names`; :func:`formatter` makes one, with a did-you-mean
error for an unknown name. Modules are imported only when their format is asked for, so importing this package
(as the CSV reader does, for ``cells``) loads nothing heavy.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from .base import Formatter

#: (kind, name) -> "module:class", in the order the command line lists them
_TABLE: dict[tuple[str, str], str] = {
    ("findings", "text"): "findings.text:Writer",
    ("findings", "json"): "findings.json:Writer",
    ("findings", "csv"): "findings.csv:Writer",
    ("events", "jsonl"): "events.jsonl:Writer",
    ("events", "csv"): "events.csv:Writer",
    ("events", "xes"): "events.xes:Writer",
    ("designs", "text"): "designs:Text",
    ("designs", "json"): "designs:Json",
    ("designs", "sarif"): "designs:Sarif",
    ("designs", "junit"): "designs:Junit",
    ("report", "text"): "report.text:Writer",
    ("report", "html"): "report.html:Writer",
    ("report", "json"): "report.json:Writer",
    ("report", "csv"): "report.csv:Writer",
    ("due", "text"): "due:Text",
    ("due", "csv"): "due:Csv",
    ("due", "json"): "due:Json",
    ("due", "html"): "due:Html",
    ("diagram", "mermaid"): "diagram:Mermaid",
    ("diagram", "dot"): "diagram:Dot",
    ("diagram", "svg"): "diagram:Svg",
    ("compare", "text"): "compare:Text",
    ("compare", "json"): "compare:Json",
    ("compare", "csv"): "compare:Csv",
    ("compare", "html"): "compare:Html",
}

KINDS = tuple(dict.fromkeys(kind for kind, _ in _TABLE))

#: kind -> (what it holds, the command line that writes format {name})
ABOUT = {
    "findings": ("a replay's findings, rejections and summary", "`replay LOG --format {name}`"),
    "events": ("a case log back out; with `--annotate`, its findings on their evidence events",
               "`convert LOG OUT --to {name}`"),
    "designs": ("workflow design check results", "`validate DESIGN --format {name}`"),
    "report": ("the quality assurance report (CSV: one file a table; text: the rates, when no file is asked for)",
               "`report LOG --{name} PATH`"),
    "due": ("every duty still owed, overdue first", "`due LOG --format {name}`"),
    "diagram": ("a workflow design drawn", "`diagram DESIGN --format {name}`"),
    "compare": ("two designs (or policies) replayed over the same cases, side by side",
                "`compare LOG -w CURRENT -w PROPOSED --format {name}`"),
}


class _Registry(Mapping[tuple[str, str], type[Formatter]]):
    """(kind, name) -> formatter class, each imported when first looked up."""

    def __init__(self, table: dict[tuple[str, str], str]):
        self._table = table
        self._loaded: dict[tuple[str, str], type[Formatter]] = {}

    def __getitem__(self, key: tuple[str, str]) -> type[Formatter]:
        if key not in self._loaded:
            module, _, cls = self._table[key].partition(":")
            self._loaded[key] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
        return self._loaded[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


FORMATS: Mapping[tuple[str, str], type[Formatter]] = _Registry(_TABLE)


def names(kind: str) -> tuple[str, ...]:
    """The format names of ``kind`` (findings, events, designs, report, due, diagram), for a click Choice."""
    found = tuple(name for k, name in _TABLE if k == kind)
    if not found:
        raise ValueError(_unknown("kind of output", kind, KINDS))
    return found


def formatter(kind: str, name: str, stream: TextIO, **options: Any) -> Formatter:
    """A ``kind`` formatter called ``name`` writing to ``stream``. ValueError names the known ones."""
    known = names(kind)
    if name not in known:
        raise ValueError(_unknown(f"{kind} format", name, known))
    cls: Any = FORMATS[kind, name]
    made: Formatter = cls(stream, **options)
    return made


def _unknown(what: str, name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown {what} {name!r} ({hint}known: {', '.join(known)})"


def write(report: Any, fmt: str, stream: TextIO) -> None:
    """A whole replay ``Report``'s findings in format ``fmt``, through the same formatter a streamed run uses."""
    w: Any = formatter("findings", fmt, stream)
    for f in report.findings:
        w.finding(f)
    w.close(report.summary, report.rejected, report.unchecked)


def markdown() -> str:
    """The table of every output format (docs/formats.md holds it; ``python -m sdsrules.formats`` prints it)."""
    lines = ["| Kind | Format | Media type | Suffix | Written by |", "|---|---|---|---|---|"]
    for kind in KINDS:
        holds, command = ABOUT[kind]
        for i, name in enumerate(names(kind)):
            cls = FORMATS[kind, name]
            first = f"**{kind}**: {holds}" if i == 0 else ""
            written = "`report LOG`" if (kind, name) == ("report", "text") else command.format(name=name)
            lines.append(f"| {first} | `{name}` | `{cls.media_type}` | `{cls.suffix}` | {written} |")
    return "\n".join(lines) + "\n"
