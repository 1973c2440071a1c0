"""XES (IEEE 1849-2016), the process-mining exchange format, read as a stream.

``concept:name`` of an event is its activity, ``time:timestamp`` its ``at``, the trace's ``concept:name`` its
case, ``org:resource``/``org:role``/``org:group`` its actor (id, role, team), ``sdsrules:id`` or
``identity:id`` its id. Trace attributes are copied onto each event of the trace (the event's own attribute
wins). Attribute types string, date, int, float, boolean, id, list (``<values>``) and container are read as
the standard says; nested meta-attributes, log-level attributes and ``<global>`` defaults describe the log,
not an event, and are not copied. Values are then turned into the types the contract expects for the
activity (an XES ``<string value="3">`` tier becomes 3), so a log from another tool needs no hand editing.

Safety and size: the parser is defusedxml's, refusing any DTD, entity declaration or external reference, so
entity expansion ("billion laughs") and external entities end the file with one clear rejection and never a
hang, a fetch or a traceback. The file is fed to expat in 64 KiB chunks and no element tree is built: only
the attributes of the trace and event being read are held, and text content is ignored without being
buffered. An attribute value longer than 1 MiB makes its event a rejection.

Lines: each event is reported at the line of its ``<event>`` start tag, which expat gives exactly while the
tag is being parsed. A file that stops being well-formed ends with a rejection at the line where it broke;
the events read before it stand.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as StdET
from xml.parsers import expat

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from ..events import ACTIVITIES, Day, Event, EventError, ListOf, Number, OneOf, Rejection, Text, build_event
from ..maps import ActivityMap
from ._io import MAX_LINE, open_bytes

CHUNK = 64 * 1024
MAX_VALUE = MAX_LINE
ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id", "list", "container"})
#: XES keys that are the contract's core fields (after the trace's concept:name, which is the case)
CORE_KEYS = {"concept:name": "activity", "time:timestamp": "at", "sdsrules:id": "id", "identity:id": "id"}
ACTOR_KEYS = {"org:resource": "id", "org:role": "role", "org:group": "team"}
#: what sdsrules itself writes that is not part of the event: the date-only marker and attached findings
OWN_KEYS = ("sdsrules:date_only", "sdsrules:findings", "sdsrules:finding:")
#: trace attributes that name the trace, not each event
TRACE_ONLY = frozenset({"concept:name", "identity:id", "sdsrules:id", "sdsrules:findings", "sdsrules:finding_count"})


class Bad:
    """A value that could not be read, kept in place so the event that uses it is rejected naming it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


class _Stop(Exception):
    """The file cannot be read further: (line, reason)."""


def read(path: str, seq: Iterator[int], activity_map: ActivityMap | None = None) -> Iterator[Event | Rejection]:
    name = "<stdin>" if path == "-" else path
    out: list[Event | Rejection] = []
    target = _Target(name, seq, activity_map, out)
    parser = DefusedET.DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True,
                                        forbid_external=True)
    target.expat = parser.parser
    stream = None
    try:
        stream = open_bytes(path)
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                parser.close()
                yield from _drain(out)
                break
            parser.feed(chunk)
            yield from _drain(out)
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt .gz
        yield from _drain(out)
        yield Rejection(name, 0, f"reading stopped: {e}")
    except DefusedXmlException as e:
        yield from _drain(out)
        yield Rejection(name, target.line(), f"the file declares a DTD, entities or an external reference, which "
                                             f"sdsrules refuses for safety ({type(e).__name__}); reading stopped")
    except (DefusedET.ParseError, StdET.ParseError, expat.ExpatError) as e:
        yield from _drain(out)
        line, column = getattr(e, "position", (target.line(), 0))
        message = str(e).split(":", 1)[0]
        yield Rejection(name, line, f"the file is not well-formed XML at line {line}, column {column + 1} "
                                    f"({message}); reading stopped")
    except _Stop as e:
        yield from _drain(out)
        line, reason = e.args
        yield Rejection(name, line, reason)
    except RecursionError:
        yield from _drain(out)
        yield Rejection(name, target.line(), "the file is nested too deeply; reading stopped")
    except (LookupError, ValueError) as e:  # the encoding its XML declaration names: unknown, or not for XML
        if not isinstance(e, LookupError | UnicodeError) and "encoding" not in str(e):
            raise
        yield from _drain(out)
        yield Rejection(name, target.line(), f"the file's text encoding cannot be read ({str(e)[:80]}); "
                                             f"reading stopped")
    finally:
        if stream is not None and path != "-":
            stream.close()


def _drain(out: list) -> Iterator[Event | Rejection]:
    while out:
        batch = out[:]
        out.clear()
        yield from batch


class _Frame:
    """One open element: its tag, and where attribute children go (a dict, a list, or None: ignored)."""

    __slots__ = ("into", "tag")

    def __init__(self, tag: str, into: dict | list | None):
        self.tag, self.into = tag, into


class _Target:
    """The expat target: keeps a stack of open elements and emits one record per ``</event>``."""

    def __init__(self, name: str, seq: Iterator[int], activity_map: ActivityMap | None, out: list):
        self.name, self.seq, self.map, self.out = name, seq, activity_map, out
        self.expat: Any = None
        self.stack: list[_Frame] = []
        self.trace: dict | None = None
        self.event: dict | None = None
        self.event_line = 0

    def line(self) -> int:
        return self.expat.CurrentLineNumber if self.expat is not None else 0

    def start(self, tag: str, attrib: dict) -> None:
        local = tag.rsplit("}", 1)[-1]
        parent = self.stack[-1] if self.stack else None
        if parent is None and local != "log":
            raise _Stop(self.line(), f"the file is not an XES log (its root element is <{local}>, not <log>); "
                                     f"reading stopped")
        into: dict | list | None = None
        if local == "trace" and parent is not None and parent.tag == "log" and len(self.stack) == 1:
            self.trace = {}
            into = self.trace
        elif local == "event" and parent is not None and (
                (parent.tag == "trace" and parent.into is not None and parent.into is self.trace)
                or (parent.tag == "log" and len(self.stack) == 1)):
            self.event = {}
            self.event_line = self.line()
            into = self.event
            if parent.tag == "log":
                self.event["\0outside"] = True
        elif local in ATTRIBUTE_TAGS:
            value = _value(local, attrib)
            if isinstance(value, dict | list):
                into = value
            if parent is not None and parent.into is not None:
                key = attrib.get("key")
                if isinstance(parent.into, list):
                    parent.into.append(value)
                elif key is not None and key not in parent.into:
                    parent.into[key] = value
        elif local == "values" and parent is not None and parent.tag == "list":
            into = parent.into
        self.stack.append(_Frame(local, into))

    def end(self, tag: str) -> None:
        frame = self.stack.pop()
        if frame.tag == "event" and self.event is not None and frame.into is self.event:
            self.out.append(self._record(self.event, self.event_line))
            self.event = None
        elif frame.tag == "trace" and frame.into is not None and frame.into is self.trace:
            self.trace = None

    def close(self) -> None:
        return None

    def _record(self, event: dict, line: int) -> Event | Rejection:
        position = next(self.seq)
        trace = self.trace if self.trace is not None and "\0outside" not in event else {}
        case = trace.get("concept:name")
        try:
            if "\0outside" in event:
                raise EventError("case", "the event is not inside a <trace>, so it has no case")
            record = _canonical(trace, event)
            if case is None:
                raise EventError("case", "is required: the event's <trace> has no concept:name before it")
            if self.map is not None:
                self.map.apply(record)
            _coerce(record)
            return build_event(record, file=self.name, line=line, seq=position)
        except EventError as e:
            case_text = case if isinstance(case, str) and case.strip() else None
            eid = event.get("sdsrules:id", event.get("identity:id"))
            return Rejection(self.name, line, f"'{e.field}' {e.reason}", e.field, case_text,
                             eid if isinstance(eid, str) else None)


def _value(tag: str, attrib: dict) -> Any:
    """The Python value of one XES attribute element (a :class:`Bad` when it cannot be read)."""
    if tag == "list":
        return []
    if tag == "container":
        return {}
    raw = attrib.get("value")
    key = attrib.get("key", "?")
    if raw is None:
        return Bad(f"the XES {tag} attribute {key!r} has no value")
    if len(raw) > MAX_VALUE:
        return Bad(f"is longer than {MAX_VALUE // 1024} KiB")
    if tag in ("string", "id", "date"):
        return raw  # dates stay ISO text: the contract's ``at`` and date attributes are ISO text
    if tag == "boolean":
        low = raw.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        return Bad(f"is an XES boolean but its value is {raw[:40]!r}")
    try:
        return int(raw) if tag == "int" else float(raw)
    except ValueError:
        return Bad(f"is an XES {tag} but its value is {raw[:40]!r}")


def _canonical(trace: dict, event: dict) -> dict:
    """The record in the contract's shape: core fields named ours, the rest as given."""
    merged = {k: v for k, v in trace.items() if k not in TRACE_ONLY}
    merged.update(event)
    record: dict[str, Any] = {"case": trace.get("concept:name")}
    actor: dict[str, Any] = {}
    date_only = merged.get("sdsrules:date_only") is True
    for key, value in merged.items():
        if key.startswith(OWN_KEYS):
            continue
        field = CORE_KEYS.get(key)
        if key in ACTOR_KEYS:
            field = f"actor.{ACTOR_KEYS[key]}"
        if isinstance(value, Bad):
            raise EventError(field or key, value.reason)
        if field == "id" and "id" in record:  # sdsrules:id wins over identity:id
            if key == "sdsrules:id":
                record["id"] = value
            continue
        if field is None:
            record[key] = value
        elif field.startswith("actor."):
            actor[field[6:]] = value
        else:
            record[field] = value
    if date_only and isinstance(record.get("at"), str):
        record["at"] = record["at"][:10]
    if actor:
        record["actor"] = actor
    return record


def _coerce(record: dict) -> None:
    """Turn XES-typed values into the types the contract expects for the record's activity."""
    activity = record.get("activity")
    spec = ACTIVITIES.get(activity) if isinstance(activity, str) else None  # a <list> or <container> is not a name
    if spec is None:
        return
    for name, (kind, _) in spec.items():
        value = record.get(name)
        if value is None:
            continue
        record[name] = _coerce_one(kind, value)


def _coerce_one(kind, value):
    if isinstance(kind, ListOf):
        if isinstance(value, str):
            return _coerce_one(kind, [value]) if ";" not in value else _from_text(kind, value)
        if isinstance(value, list):
            return [_coerce_one(kind.item, v) for v in value]
        return value
    if isinstance(kind, Day) and isinstance(value, str) and value[10:11] == "T":
        return value[:10]  # an XES <date> for a date attribute: its calendar date as written
    if isinstance(value, str) and not isinstance(kind, Text):
        return _from_text(kind, value)
    whole = (isinstance(kind, OneOf) and all(isinstance(c, int) for c in kind.choices)) or (
        isinstance(kind, Number) and kind.integer)
    if isinstance(value, float) and value.is_integer() and whole:
        return int(value)
    return value


def _from_text(kind, text: str):
    try:
        value = kind.from_text(text)
    except ValueError:
        return text  # left as it came: validation names the field and what was allowed
    return list(value) if isinstance(value, tuple) else value
