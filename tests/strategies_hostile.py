"""Hypothesis strategies for malformed and adversarial case logs (issue 8), one per format.

Each strategy returns ``(data, records)``: the bytes of a whole file, and how many *records* it holds, counted
by construction rather than by parsing, so the count is an independent oracle for the readers' accounting:

* JSONL: every line that is not blank;
* CSV: every record after the header (a quoted cell may span lines: still one record);
* XES: every ``<event>`` child of the root ``<log>`` or of one of its ``<trace>`` elements.

Bad records are mixed with good ones: broken JSON, wrong types, huge numbers, dates before 1900 or far in the
future, unknown activities, duplicated ids, invalid UTF-8, byte-order marks, CSV with missing, extra or
reordered columns, XML with nested look-alike events, and (``hostile_dtd``) entity expansion and external
entities. Long lines (10 MB) are tested directly, not generated: hypothesis should not shrink 10 MB.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from xml.sax.saxutils import quoteattr

from hypothesis import strategies as st

from sdsrules.events import ACTIVITIES

from .strategies import attributes

BOM = b"\xef\xbb\xbf"
GOOD_ACTIVITIES = sorted(ACTIVITIES)
BAD_DATES = ["1899-12-31", "0001-01-01", "2101-01-01", "9999-12-31T23:59:59", "2024-02-30", "2024-13-01",
             "24-01-01", "yesterday", "2024-01-01T25:00", "2024-03-31T01:30", "+2024-01-01", "2024-01-01T00:00+25:00"]
HUGE = [10**30, -(10**30), 1e308, -1e308, 2**63, 2**64 + 1, 0.1**400]
WEIRD = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                  st.text(max_size=12), st.sampled_from(HUGE), st.lists(st.integers(-5, 9), max_size=3),
                  st.just({"nested": [1, {}]}))
CASES = st.sampled_from(["C1", "C2", "C3", 7, "  ", "", None, True, 1.5, "Ć-ß", "C\u0000"])


# --------------------------------------------------------------------------------------------- records

@st.composite
def good_record(draw) -> dict:
    activity = draw(st.sampled_from(GOOD_ACTIVITIES))
    day = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
    rec = {"case": draw(st.sampled_from(["C1", "C2", "C3"])), "at": day.isoformat(), "activity": activity}
    if draw(st.booleans()):
        rec["id"] = draw(st.sampled_from(["e1", "e2", "e3", 1, 2]))  # few ids: duplicates happen
    rec.update(draw(attributes(activity)))
    return rec


@st.composite
def bad_record(draw) -> dict:
    """A JSON object that breaks the contract in one or more ways (or, by chance, does not)."""
    rec = draw(good_record())
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["drop", "case", "at", "activity", "attr", "actor", "id", "extra"]))
        if how == "drop":
            rec.pop(draw(st.sampled_from(["case", "at", "activity"])), None)
        elif how == "case":
            rec["case"] = draw(CASES)
        elif how == "at":
            rec["at"] = draw(st.sampled_from(BAD_DATES) | WEIRD)
        elif how == "activity":
            rec["activity"] = draw(st.sampled_from(["tea_and_biscuits", "REFERRAL_RECEIVED", " triaged", ""]) | WEIRD)
        elif how == "attr":
            activity = rec.get("activity")
            names = sorted(ACTIVITIES.get(activity, {}) if isinstance(activity, str) else ()) or ["amount"]
            rec[draw(st.sampled_from(names))] = draw(WEIRD)
        elif how == "actor":
            rec["actor"] = draw(st.sampled_from([{"role": "wizard"}, {"salary": 1}, "W17", [], {"id": {}}]))
        elif how == "id":
            rec["id"] = draw(WEIRD)
        else:
            rec[draw(st.text(min_size=1, max_size=6))] = draw(WEIRD)
    return rec


def _dumps(rec: dict) -> bytes:
    return json.dumps(rec, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")


# ----------------------------------------------------------------------------------------------- JSONL

BROKEN_LINES = [b"null", b"{", b'{"case": "C1",}', b"[1, 2, 3]", b'"just text"', b"42", b"{'case': 'C1'}",
                b'{"case": "C1", "at": "2024-01-01", "activity": "signposted"', b"\xff\xfe\x00{}",
                b'{"case": "\xc3\x28"}', b"{\"a\": 1e999999}", b'{"a": 123456789012345678901234567890}',
                b'{"case":"C1","case":"C2","at":"2024-01-01","activity":"signposted"}', b"\x00", b"}{",
                b'{"case":"C1","at":"2024-01-01","activity":"signposted","\xed\xa0\x80":1}']


@st.composite
def jsonl_logs(draw) -> tuple[bytes, int]:
    lines: list[bytes] = []
    records = 0
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["good", "good", "bad", "bad", "broken", "blank"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from([b"", b"   ", b"\t", b"\r"])))
            continue
        if kind == "good":
            line = _dumps(draw(good_record()))
        elif kind == "bad":
            line = _dumps(draw(bad_record()))
        else:
            line = draw(st.sampled_from(BROKEN_LINES) | st.binary(min_size=1, max_size=30).filter(
                lambda b: b.strip() and b"\n" not in b and BOM not in b))
        lines.append(line)
        records += 1
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = ending.join(lines) + (ending if lines and draw(st.booleans()) else b"")
    if draw(st.booleans()):
        data = BOM + data
    return data, records


# ------------------------------------------------------------------------------------------------- CSV

COLUMNS = ["case", "at", "activity", "id", "actor_id", "actor_role", "actor_team", "tier", "options", "amount",
           "approver_role", "band", "eligible", "note"]


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(map(str, value))
    return "" if value is None else str(value)


@st.composite
def csv_logs(draw) -> tuple[bytes, int]:
    header = list(draw(st.permutations(COLUMNS)))  # reordered columns
    header = [c for c in header if c in ("case", "at", "activity") or draw(st.booleans())]
    how = draw(st.sampled_from(["ok", "ok", "missing", "extra", "duplicate"]))
    if how == "missing":
        header = [c for c in header if c != draw(st.sampled_from(["case", "at", "activity"]))]
    elif how == "extra":
        header = [*header, "mosaic_step"]
    elif how == "duplicate":
        header = [*header, draw(st.sampled_from(header))]
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(0, 10))):
        rec = draw(st.one_of(good_record(), bad_record()))
        row = [_cell(rec.get(c)) for c in header]
        shape = draw(st.sampled_from(["same", "same", "same", "short", "long", "newline", "bytes"]))
        if shape == "short" and row:
            row = row[: draw(st.integers(0, len(row) - 1))]
        elif shape == "long":
            row = [*row, "surplus"]
        elif shape == "newline" and row:
            row[-1] = row[-1] + '\nsecond line, "quoted"'
        elif shape == "bytes" and row:
            row[0] = row[0] + "\udcff\udcfe"  # written back as invalid UTF-8 bytes
        if len(row) < 2 and not "".join(row).strip():
            row = ["C1"]  # a row of one blank cell is a blank line, which is not a record
        rows.append(row)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8", "surrogateescape")
    records = len(rows)
    if draw(st.integers(0, 5)) == 0:
        data += b'C9,2024-01-01,"an unclosed quote\n'
        records += 1
    if draw(st.booleans()):
        data = BOM + data
    return data, records


# ------------------------------------------------------------------------------------------------- XES

def _xes_value(key: str, value) -> str:
    if isinstance(value, bool):
        return f"<boolean key={quoteattr(_xml_safe(key))} value={quoteattr(str(value).lower())}/>"
    if isinstance(value, int):
        return f"<int key={quoteattr(_xml_safe(key))} value={quoteattr(str(value))}/>"
    if isinstance(value, float):
        return f"<float key={quoteattr(_xml_safe(key))} value={quoteattr(repr(value))}/>"
    if isinstance(value, list):
        items = "".join(_xes_value("item", v) for v in value)
        return f"<list key={quoteattr(_xml_safe(key))}><values>{items}</values></list>"
    return f"<string key={quoteattr(_xml_safe(key))} value={quoteattr(_xml_safe(str(value)))}/>"


def _xml_safe(text: str) -> str:
    return "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd"))


@st.composite
def xes_event(draw) -> str:
    rec = draw(st.one_of(good_record(), bad_record()))
    parts = []
    for k, v in rec.items():
        if k == "case" or v is None or isinstance(v, dict):
            continue
        key = {"activity": "concept:name", "at": "time:timestamp", "id": "identity:id"}.get(k, k)
        tag_type = draw(st.sampled_from(["string", "typed"])) if k not in ("at", "activity") else "string"
        parts.append(_xes_value(key, str(v) if tag_type == "string" and not isinstance(v, list) else v))
    if draw(st.integers(0, 6)) == 0:  # something that looks like an event but is an attribute's content
        parts.append('<container key="note"><trace><event><string key="concept:name" value="x"/></event>'
                     "</trace></container>")
    if draw(st.integers(0, 8)) == 0:
        parts.append('<boolean key="flag" value="maybe"/><int key="n" value="1.5"/><string key="s"/>')
    return "<event>" + "".join(parts) + "</event>"


@st.composite
def xes_logs(draw) -> tuple[bytes, int]:
    records = 0
    body = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 5)) == 0:  # an event outside any trace: a record, and a rejection
            body.append(draw(xes_event()))
            records += 1
            continue
        case = draw(CASES)
        events = draw(st.lists(xes_event(), max_size=5))
        records += len(events)
        name = "" if case is None else _xes_value("concept:name", str(case))
        body.append("<trace>" + name + "".join(events) + "</trace>")
    ns = draw(st.sampled_from(["", ' xmlns="http://www.xes-standard.org/"']))
    inner = "\n".join(body)
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1849-2016"{ns}>\n{inner}\n</log>\n'
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = BOM + data
    return data, records


#: documents that declare a DTD: reading stops at once with one rejection, nothing is expanded or fetched
HOSTILE_DTD = {
    "billion_laughs": '<?xml version="1.0"?>\n<!DOCTYPE log [\n<!ENTITY a "aaaaaaaaaaaaaaaa">\n'
                      + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 16}">\n' for i in range(8))
                      + ']>\n<log><trace><string key="concept:name" value="&i;"/></trace></log>\n',
    "external_entity": '<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY x SYSTEM "file://{secret}">]>\n'
                       '<log><trace><string key="concept:name" value="&x;"/><event>'
                       '<string key="concept:name" value="signposted"/></event></trace></log>\n',
    "external_dtd": '<?xml version="1.0"?>\n<!DOCTYPE log SYSTEM "file://{secret}">\n<log/>\n',
    "parameter_entity": '<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>\n<log/>\n',
}


@st.composite
def hostile_dtd(draw) -> str:
    return draw(st.sampled_from(sorted(HOSTILE_DTD)))
