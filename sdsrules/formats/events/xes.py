"""XES (IEEE 1849-2016) out: one ``<trace>`` per case, so PM4Py, ProM, Disco or Celonis can open a log.

Each event carries ``concept:name`` (activity), ``time:timestamp`` (``at`` with its offset; a date-only
``at`` is local midnight in Europe/London with ``sdsrules:date_only`` true), ``sdsrules:id``, ``org:resource``
/ ``org:role`` / ``org:group`` (actor id, role, team) and its attributes typed as the standard says: boolean,
int, float, string, list (``<values>``) and container for nested objects. The XES reader reads all of this
back to the same events.

With ``findings``, each evidence event gets ``sdsrules:findings`` (its finding codes, comma-separated: one
plain string attribute, which every tool can filter on; PM4Py reads XES lists as nested dictionaries) and
``sdsrules:finding:N`` (code, the event's part in it, and the message); each trace gets ``sdsrules:findings``
(all of the case's codes) and ``sdsrules:finding_count``.

Cases are written in the order they first appear and events of a case in input order (the replay orders by
time, so nothing is lost). Grouping needs the whole input: events are spooled as XML fragments (in memory up
to 32 MB, then to a temporary file) and only their offsets are held per case.
"""

from __future__ import annotations

import re
import tempfile
from array import array
from collections.abc import Iterable
from typing import Any, TextIO

from ...events import Event
from ...readers.xes import MAX_DEPTH
from .common import EventsWriter, Unwritable, codes

SPOOL = 32 * 1024 * 1024
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- written by sdsrules: one trace per case; see docs/contract.md -->
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="sdsrules case log"/>
"""
TAIL = "</log>\n"
_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                         "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


class Writer(EventsWriter):
    name = "xes"
    media_type = "application/xml"
    suffix = ".xes"

    def __init__(self, stream: TextIO, findings=None, skipped=None):
        super().__init__(stream, findings, skipped)
        self.cases: dict[str, array] = {}  # case -> offsets and lengths of its events' fragments in the spool
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL, mode="w+b")  # noqa: SIM115 - closed in close()

    def item(self, ev: Event) -> None:
        try:
            fragment = _event(ev, self.by_event.get((ev.case, ev.id), ())).encode("utf-8")
        except Unwritable as e:
            field, reason = e.args
            self.skip(ev, field, reason)
            return
        offset = self.spool.tell()
        self.spool.write(fragment)
        self.cases.setdefault(ev.case, array("q")).extend((offset, len(fragment)))
        self.count += 1

    def close(self) -> int:
        stream = self.stream
        with self.spool as spool:
            stream.write(HEAD)
            for case, spans in self.cases.items():
                stream.write("  <trace>\n")
                stream.write(f'    <string key="concept:name" value="{_text(case, "case")}"/>\n')
                found = self.by_case.get(case)
                if found:
                    stream.write(f'    <string key="sdsrules:findings" value="{_text(codes(found), "")}"/>\n')
                    stream.write(f'    <int key="sdsrules:finding_count" value="{len(found)}"/>\n')
                for i in range(0, len(spans), 2):
                    spool.seek(spans[i])
                    stream.write(spool.read(spans[i + 1]).decode("utf-8"))
                stream.write("  </trace>\n")
            stream.write(TAIL)
        return self.count


def _event(ev: Event, found: Iterable) -> str:
    lines = ["    <event>\n",
             _attr("sdsrules:id", ev.id, "id"),
             _attr("concept:name", ev.activity, "activity"),
             f'      <date key="time:timestamp" value="{ev.at.isoformat()}"/>\n']
    if ev.date_only:
        lines.append('      <boolean key="sdsrules:date_only" value="true"/>\n')
    if ev.actor is not None:
        for key, value in (("org:resource", ev.actor.id), ("org:role", ev.actor.role),
                           ("org:group", ev.actor.team)):
            if value is not None:
                lines.append(_attr(key, value, "actor"))
    for key, value in ev.attrs.items():
        lines.append(_attr(key, value, key))
    found = list(found)
    if found:
        lines.append(_attr("sdsrules:findings", codes(found), ""))
        for n, f in enumerate(found, 1):
            role = next((e.role for e in f.events if e.id == ev.id and e.role), "")
            part = f" ({role})" if role else ""
            lines.append(_attr(f"sdsrules:finding:{n}", f"{f.code}{part}: {f.message}", ""))
    lines.append("    </event>\n")
    return "".join(lines)


def _attr(key: str, value: Any, field: str, indent: str = "      ", depth: int = 1) -> str:
    if depth > MAX_DEPTH:
        raise Unwritable(field, f"nests lists or objects more than {MAX_DEPTH} deep, deeper than sdsrules reads XES")
    k = _text(key, field)
    if isinstance(value, bool):
        return f'{indent}<boolean key="{k}" value="{"true" if value else "false"}"/>\n'
    if isinstance(value, int):
        return f'{indent}<int key="{k}" value="{value}"/>\n'
    if isinstance(value, float):
        return f'{indent}<float key="{k}" value="{value!r}"/>\n'
    if isinstance(value, str):
        return f'{indent}<string key="{k}" value="{_text(value, field)}"/>\n'
    if isinstance(value, list | tuple):
        items = "".join(_attr("item", v, field, indent + "    ", depth + 1) for v in value)
        return f'{indent}<list key="{k}">\n{indent}  <values>\n{items}{indent}  </values>\n{indent}</list>\n'
    if isinstance(value, dict):
        items = "".join(_attr(str(ck), cv, field, indent + "  ", depth + 1) for ck, cv in value.items())
        return f'{indent}<container key="{k}">\n{items}{indent}</container>\n'
    if value is None:
        raise Unwritable(field, "is null inside a list or object, which XES cannot hold")
    raise Unwritable(field, f"has a value XES cannot hold ({type(value).__name__})")


def _text(value: str, field: str) -> str:
    bad = _INVALID.search(value)
    if bad:
        raise Unwritable(field, f"holds the character U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    return value.translate(_ESCAPE)
