"""XES (IEEE 1849-2016), the process-mining exchange format, read as a stream.

``concept:name`` of an event is its activity, ``time:timestamp`` its ``at``, the trace's ``concept:name`` its
case, ``org:resource``/``org:role``/``org:group`` its actor (id, role, team), ``sdsrules:id`` or
``identity:id`` its id. Trace attributes apply to each event of the trace (the event's own attribute wins).
Attribute types string, date, int, float, boolean, id, list (``<values>``) and container are read as the
standard says; nested meta-attributes, log-level attributes and ``<global>`` defaults describe the log, not an
event, and are not kept. Values are then turned into the types the contract expects for the activity (an XES
``<string value="3">`` tier becomes 3), so a log from another tool needs no hand editing.

Safety and size: the file goes to expat in 64 KiB chunks with the protections of defusedxml (any DTD, entity
declaration or external reference ends the file with one clear rejection: no entity expansion, no fetch, no
hang); no element tree is built and text content is ignored without being buffered. Only the trace and the
event being read are held, and both are bounded:

* an attribute value longer than 1 MiB makes its event a rejection;
* an event may carry at most :data:`MAX_ATTRIBUTES` attributes, nested ones and its trace's counted in; past
  that the event is a rejection saying so (a trace with 50,000 attributes costs its events one rejection each,
  not 50,000 copies each), and no more than the bound is ever stored;
* attributes nest (lists, containers) at most :data:`MAX_DEPTH` deep; deeper is a rejection of the event (or of
  every event of the trace), never a recursion error.

The trace's attributes are put into the contract's shape once per trace and shared by its events (the values
are the same objects); each event adds only its own.

Speed: expat calling Python for every element made XES 4x slower to read than JSON Lines. A UTF-8 file (nearly
every XES) is therefore read twice over in one pass, chunk by chunk: expat, with no element handlers, checks
each chunk at C speed (well-formedness, the refusals above, the exact line and column of a break), and a
scanner reads the text expat has accepted: an event whose attributes are all plain ``<type key="..."
value="..."/>`` (the shape tools write) is taken whole by one regular-expression match and split at its
quotes, and so is the start of a trace; anything else (nesting, escapes, comments, CDATA, prefixes) goes tag
by tag through the same handlers expat would have called. A differential test holds the two ways equal
(``tests/test_xes.py``). Other encodings are read by expat's handlers.

Lines and ids: each event is reported at the line of its ``<event>`` start tag. An event without an id of its
own gets ``file:line`` like a record of any other format; when several events start on one line (minified XES,
written without line breaks) the second and later get ``file:line:column``, so they stay distinct. A file that
stops being well-formed ends with a rejection at the line where it broke; the events read before it stand.
"""

from __future__ import annotations

import codecs
import itertools
import re
import zlib
from collections.abc import Iterator, Mapping
from typing import Any
from xml.parsers import expat

import attrs
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from ..events import (
    ACTIVITIES,
    CORE_FIELDS,
    REQUIRED,
    Day,
    Event,
    EventError,
    ListOf,
    Number,
    OneOf,
    Rejection,
    Text,
    build_event,
    parse_at,
    record_actor,
)
from ..maps import ActivityMap
from ._io import MAX_LINE, open_bytes

CHUNK = 64 * 1024
MAX_VALUE = MAX_LINE
#: attributes one event may carry, nested ones and those of its trace counted in
MAX_ATTRIBUTES = 1_000
#: how deep attributes may nest (an attribute of the event is at depth 1, an item of its list at depth 2)
MAX_DEPTH = 16
ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id", "list", "container"})
#: XES keys that are the contract's core fields (after the trace's concept:name, which is the case)
CORE_KEYS = {"concept:name": "activity", "time:timestamp": "at", "sdsrules:id": "id", "identity:id": "id"}
ACTOR_KEYS = {"org:resource": "id", "org:role": "role", "org:group": "team"}
#: what sdsrules itself writes that is not part of the event: the date-only marker and attached findings
OWN_KEYS = ("sdsrules:date_only", "sdsrules:findings", "sdsrules:finding:")
#: trace attributes that name the trace, not each event
TRACE_ONLY = frozenset({"concept:name", "identity:id", "sdsrules:id", "sdsrules:findings", "sdsrules:finding_count"})

# what an element is, by its local name (the kinds the parser acts on)
_LOG, _TRACE, _EVENT, _VALUES, _OTHER = range(5)
_KINDS = {"log": _LOG, "trace": _TRACE, "event": _EVENT, "values": _VALUES}
_SCALARS = frozenset({"string", "date", "id"})
_IGNORED = (_OTHER, None, None, 0)  # the stack entry of an element whose children are not kept


class Bad:
    """A value that could not be read, kept in place so the event that uses it is rejected naming it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


class _Stop(Exception):
    """The file cannot be read further: (line, reason)."""


def read(path: str, seq: Iterator[int], activity_map: ActivityMap | None = None,
         vocabulary: Mapping | None = None) -> Iterator[Event | Rejection]:
    name = "<stdin>" if path == "-" else path
    out: list[Event | Rejection] = []
    parser = _parser()
    target = _Target(name, seq, activity_map, out, parser)
    target.vocabulary = vocabulary  # a design's own vocabulary (default: the SDS contract)
    stream = None
    try:
        stream = open_bytes(path)
        head = stream.read(CHUNK)
        if FAST and _utf8(head):  # the fast way: expat checks, a scanner reads (see _Scanner)
            scanner = _Scanner(target)
            target.expat = scanner
            # a byte-order mark stays (expat counts it a column); a bad byte is expat's to report, at its
            # place, once the token holding it is complete, so the decoder only stands in for it meanwhile
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            # the scanner reads only what expat has parsed: expat holds back an unfinished token at the end of
            # what it was given (and a stray quote before the root makes the rest of the file one such token)
            chunk, held, start = head, bytearray(), 0  # held: bytes given to expat, from file offset ``start`` on
            while True:
                final = not chunk
                held += chunk
                try:
                    parser.Parse(chunk, final)
                except expat.ExpatError:
                    # what came before the break is well-formed: read it, then report the break
                    scanner.feed(decoder.decode(held[:max(parser.ErrorByteIndex - start, 0)]), False)
                    raise
                if final:
                    scanner.feed(decoder.decode(held, True), True)
                else:
                    parsed = max(parser.CurrentByteIndex - start, 0)
                    if parsed:
                        scanner.feed(decoder.decode(held[:parsed]), False)
                        del held[:parsed]
                        start += parsed
                if out:
                    yield from _drain(out)
                if final:
                    break
                chunk = stream.read(CHUNK)
        else:  # another encoding: expat reads, element by element
            parser.StartElementHandler = target.start
            parser.EndElementHandler = target.end
            chunk = head
            while True:
                parser.Parse(chunk, not chunk)
                if out:
                    yield from _drain(out)
                if not chunk:
                    break
                chunk = stream.read(CHUNK)
    except (OSError, EOFError, zlib.error) as e:  # EOFError, zlib.error: a truncated or corrupt .gz
        yield from _drain(out)
        yield Rejection(name, 0, f"reading stopped: {e}")
    except DefusedXmlException as e:
        yield from _drain(out)
        yield Rejection(name, parser.CurrentLineNumber, f"the file declares a DTD, entities or an external "
                                                        f"reference, which sdsrules refuses for safety "
                                                        f"({type(e).__name__}); reading stopped")
    except expat.ExpatError as e:
        yield from _drain(out)
        line, column = e.lineno, e.offset
        message = str(e).split(":", 1)[0]
        yield Rejection(name, line, f"the file is not well-formed XML at line {line}, column {column + 1} "
                                    f"({message}); reading stopped")
    except _Stop as e:
        yield from _drain(out)
        line, reason = e.args
        yield Rejection(name, line, reason)
    except (LookupError, ValueError) as e:  # the encoding its XML declaration names: unknown, or not for XML
        if not isinstance(e, LookupError | UnicodeError) and "encoding" not in str(e):
            raise
        yield from _drain(out)
        yield Rejection(name, parser.CurrentLineNumber, f"the file's text encoding cannot be read "
                                                        f"({str(e)[:80]}); reading stopped")
    finally:
        if stream is not None and path != "-":
            stream.close()


_DECLARED = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")


def _utf8(head: bytes) -> bool:
    """Whether the file is UTF-8 (or ASCII) text, as nearly every XES is: then the scanner can read it."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", b"\x4c\x6f\xa7\x94")) or b"\x00" in head[:4]:
        return False
    m = _DECLARED.match(head)
    return m is None or m.group(1).strip().lower() in (b"utf-8", b"utf8", b"us-ascii", b"ascii")


#: one whole event whose attributes are all plain ``<type key="..." value="..."/>`` with nothing to unescape:
#: the shape of nearly every event a tool writes, taken in one match
_PLAIN = r'(?:\s*<(?:string|date|int|float|boolean|id) key="[^"<&\t\n\r]*" value="[^"<&\t\n\r]*"\s*/>)*'
_FAST_EVENT = re.compile(rf"<event>({_PLAIN})\s*</event>")
#: the start of a trace up to its first event (or its end), when its attributes there are plain
_FAST_TRACE = re.compile(rf"<trace>({_PLAIN})\s*(?=<event>|</trace>)")
_TYPED = re.compile(r"<(?:int|float|boolean) ")
_START = re.compile(r"<([^\s/>!?]+)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_END = re.compile(r"</([^\s>]+)\s*>")
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: whether UTF-8 files are read by the scanner (tests compare it with expat's handlers by turning this off)
FAST = True
#: how far the scanner waits for an ``</event>`` before reading the event element by element
WAIT = 1024 * 1024


def _unescape(value: str) -> str:
    """An attribute value as XML 1.0 gives it: literal line breaks and tabs are spaces, references resolved."""
    if "\n" in value or "\t" in value:  # (CR LF and CR are LF already: see _Scanner.feed)
        value = value.replace("\n", " ").replace("\t", " ")
    if "&" in value:
        value = _REFERENCE.sub(_reference, value)
    return value


def _reference(m: re.Match) -> str:
    ref = m.group(1)
    if ref[0] != "#":
        return _NAMED[ref]
    return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))


class _Scanner:
    """Reads XES text that expat has already found well-formed and free of DTDs, calling the same handlers.

    Expat without handlers checks the bytes at C speed; this reads them: a whole plain event (see
    ``_FAST_EVENT``) in one regular-expression match, anything else (traces, nested attributes, comments,
    CDATA, escaped values) tag by tag through the handlers expat would have called. Since the text is known
    to be well-formed, tags, comments and CDATA sections are found exactly by their delimiters.
    ``CurrentLineNumber`` and ``CurrentColumnNumber`` stand in for expat's while a handler runs.
    """

    def __init__(self, target: _Target):
        self.t = target
        self.buf = ""
        self.cr = False  # a CR held back from the end of the last chunk
        self.skip = ""  # the end of the long comment, CDATA section or PI being skipped
        self.dead = False  # text outside the root: nothing more is read (expat reports the break)
        self.line = 1  # the line at buffer index ``counted``
        self.counted = 0
        self.line_start = 0  # buffer index where that line starts (negative once carried over)
        self.CurrentLineNumber = 1
        self.CurrentColumnNumber = 0

    def _at(self, i: int) -> None:
        buf = self.buf
        n = buf.count("\n", self.counted, i)
        if n:
            self.line += n
            self.line_start = buf.rfind("\n", self.counted, i) + 1
        self.counted = i
        self.CurrentLineNumber = self.line
        self.CurrentColumnNumber = i - self.line_start

    def feed(self, text: str, final: bool) -> None:
        if self.cr:
            text, self.cr = "\r" + text, False
        if text.endswith("\r") and not final:  # its LF may come with the next chunk
            text, self.cr = text[:-1], True
        if "\r" in text:  # expat counts CR LF, CR and LF each as one line break
            text = text.replace("\r\n", "\n").replace("\r", "\n")  # positions only: values come unescaped
        buf = self.buf = self.buf + text if self.buf else text
        t = self.t
        stack = t.stack
        match, plain = _FAST_EVENT.match, t.fast_event
        pos, n = 0, len(buf)
        if self.skip:  # inside a long comment, CDATA section or PI: only its end matters
            j = buf.find(self.skip)
            if j < 0:
                pos = n if final else max(n - len(self.skip) + 1, 0)
            else:
                pos, self.skip = j + len(self.skip), ""
        while not self.skip and not self.dead:
            i = buf.find("<", pos)
            if not stack and buf[pos:n if i < 0 else i].strip(" \t\n\ufeff"):
                # text outside the root element is never well-formed, and expat may be reading it as part of a
                # longer token (a quote in the prolog opens a literal): read nothing more, expat will say where
                self.dead = True
                break
            if i < 0:
                pos = n
                break
            if buf.startswith("<event>", i) and stack:
                top = stack[-1]
                if top[0] == _TRACE and top[1] is not None and top[2] is t.trace:
                    m = match(buf, i)
                    if m is not None:  # a run of plain events: the hot loop, positions counted inline
                        counted, line, line_start = self.counted, self.line, self.line_start
                        while m is not None:
                            nl = buf.count("\n", counted, i)
                            if nl:
                                line += nl
                                line_start = buf.rfind("\n", counted, i) + 1
                            counted = i
                            plain(m.group(1), line, i - line_start + 1)
                            pos = m.end()
                            i = buf.find("<", pos)
                            m = match(buf, i) if i >= 0 and buf.startswith("<event>", i) else None
                        self.counted, self.line, self.line_start = counted, line, line_start
                        continue
                    if not final and n - i < WAIT and buf.find("</event", i) < 0:
                        pos = i  # the event is not all here yet
                        break
            if buf.startswith("<trace>", i) and len(stack) == 1:
                m = _FAST_TRACE.match(buf, i)
                if m is not None:
                    self._at(i)
                    t.fast_trace(m.group(1))
                    pos = m.end()
                    continue
                if not final and n - i < WAIT and buf.find("<event", i) < 0 and buf.find("</trace", i) < 0:
                    pos = i  # the trace's attributes are not all here yet
                    break
            c = buf[i + 1:i + 2]
            if c == "!" or c == "?":
                if buf.startswith("<!--", i):
                    close, j = "-->", buf.find("-->", i + 4)
                elif buf.startswith("<![CDATA[", i):
                    close, j = "]]>", buf.find("]]>", i + 9)
                elif c == "?":
                    close, j = "?>", buf.find("?>", i + 2)
                else:  # a declaration (<!DOCTYPE): expat refuses it or breaks on it; nothing here to read
                    pos = i
                    break
                if j < 0:
                    if final:
                        pos = n
                    elif n - i > WAIT:  # a long comment, CDATA section or PI: skipped, not held
                        self.skip, pos = close, n - len(close) + 1
                    else:
                        pos = i
                    break
                pos = j + len(close)
                continue
            if c == "/":
                m = _END.match(buf, i)
                if m is None:
                    pos = n if final else i
                    break
                self._at(i)
                t.end(m.group(1))
                pos = m.end()
                continue
            m = _START.match(buf, i)
            if m is None:
                pos = n if final else i
                break
            self._at(i)
            tag = m.group(1)
            tag = tag[tag.find(":") + 1:]  # the local name: expat has checked the prefix is bound
            raw = m.group(2)
            attrib = {k: _unescape(a or b) for k, a, b in _ATTR.findall(raw)} if raw else {}
            t.start(tag, attrib)
            if m.group(3):
                t.end(tag)
            pos = m.end()
        if self.dead:
            pos = n
        self._at(pos)
        self.buf = buf[pos:]
        self.line_start -= pos
        self.counted = 0


def _parser() -> Any:
    """An expat parser with defusedxml's refusals: no DTD, no entity declarations, no external references."""
    parser = expat.ParserCreate(namespace_separator="}")

    def doctype(name, sysid, pubid, has_internal_subset):
        raise DTDForbidden(name, sysid, pubid)

    def entity(name, is_parameter_entity, value, base, sysid, pubid, notation_name):
        raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)

    def unparsed(name, base, sysid, pubid, notation_name):
        raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)

    def external(context, base, sysid, pubid):
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = unparsed
    parser.ExternalEntityRefHandler = external
    return parser


def _drain(out: list) -> Iterator[Event | Rejection]:
    while out:
        batch = out[:]
        out.clear()
        yield from batch


class _Owner:
    """A trace or an event being read: its attributes, how many it has (nested counted), and its problem."""

    __slots__ = ("attrs", "column", "count", "line", "problem", "quick", "shared", "version")

    def __init__(self, line: int = 0, column: int = 0):
        self.attrs: dict[str, Any] = {}
        self.count = 0
        self.problem: tuple[str, str] | None = None  # (field, reason): the whole trace or event is unusable
        self.line, self.column = line, column
        self.shared: tuple | None = None  # a trace's attributes in the contract's shape, made once
        self.version = -1  # the count they were made at (attributes after an event are seen by the next ones)
        self.quick = False  # ``shared`` lets its events take ``_Target._quick`` (no core field, no bad value)


class _Target:
    """The expat handlers: a stack of open elements, one record emitted per ``</event>``.

    Each stack entry is (kind, into, owner, depth): where attribute children go (a dict or list of the owner,
    or None: ignored), the trace or event they belong to, and the attribute nesting depth.
    """

    def __init__(self, name: str, seq: Iterator[int], activity_map: ActivityMap | None, out: list, parser: Any):
        self.name, self.seq, self.map, self.out, self.expat = name, seq, activity_map, out, parser
        self.base = name.rsplit("/", 1)[-1]
        self.stack: list[tuple[int, Any, _Owner | None, int]] = []
        self.trace: _Owner | None = None
        self.last_event_line = 0
        self.kinds: dict[str, tuple[int, str]] = {}
        self.plans: dict[tuple[str, ...], Any] = {}
        self._vocabulary: Mapping | None = None
        #: events can take ``_quick``: the SDS vocabulary, and no map or one with no field or value tables
        self.quick = FAST and (activity_map is None or (not activity_map.fields and not activity_map.values))
        self._map_quick = self.quick

    @property
    def vocabulary(self) -> Mapping | None:
        return self._vocabulary

    @vocabulary.setter
    def vocabulary(self, value: Mapping | None) -> None:
        self._vocabulary = value
        self.quick = self._map_quick and (value is None or value is ACTIVITIES)

    def line(self) -> int:
        return self.expat.CurrentLineNumber

    def _kind(self, tag: str) -> tuple[int, str]:
        local = tag[tag.rfind("}") + 1:]
        got = self.kinds[tag] = (_KINDS.get(local, _OTHER), local)
        return got

    def start(self, tag: str, attrib: dict) -> None:
        kind, local = self.kinds.get(tag) or self._kind(tag)
        stack = self.stack
        if not stack:
            if kind != _LOG:
                raise _Stop(self.line(), f"the file is not an XES log (its root element is <{local}>, not <log>); "
                                         f"reading stopped")
            stack.append((_LOG, None, None, 0))
            return
        pkind, pinto, owner, depth = stack[-1]
        if pinto is not None and local in ATTRIBUTE_TAGS:
            assert owner is not None
            owner.count += 1
            if owner.count > MAX_ATTRIBUTES or depth >= MAX_DEPTH:
                if depth >= MAX_DEPTH and owner.problem is None:
                    owner.problem = (attrib.get("key") or local, f"nests attributes more than {MAX_DEPTH} deep, "
                                                                  f"deeper than sdsrules reads")
                stack.append((_OTHER, None, owner, depth + 1))  # counted, not kept
                return
            if local in _SCALARS:
                raw = attrib.get("value")
                value: Any = raw if raw is not None and len(raw) <= MAX_VALUE else _value(local, attrib)
                key = attrib.get("key")
                if type(pinto) is list:
                    pinto.append(value)
                elif key is not None and key not in pinto:
                    pinto[key] = value
                stack.append(_IGNORED)  # a scalar's children (meta-attributes) are not kept
                return
            value = _value(local, attrib)
            into = value if isinstance(value, dict | list) else None
            if type(pinto) is list:
                pinto.append(value)
            else:
                key = attrib.get("key")
                if key is not None and key not in pinto:
                    pinto[key] = value
            stack.append((_OTHER, into, owner, depth + 1))
            return
        if kind == _EVENT and ((pkind == _TRACE and owner is not None and owner is self.trace)
                               or (pkind == _LOG and len(stack) == 1)):
            p = self.expat
            event = _Owner(p.CurrentLineNumber, p.CurrentColumnNumber + 1)
            if pkind == _LOG:
                event.problem = ("case", "the event is not inside a <trace>, so it has no case")
            stack.append((_EVENT, event.attrs, event, 0))
        elif kind == _TRACE and pkind == _LOG and len(stack) == 1:
            self.trace = _Owner()
            stack.append((_TRACE, self.trace.attrs, self.trace, 0))
        elif kind == _VALUES and pinto is not None and type(pinto) is list:
            stack.append((_VALUES, pinto, owner, depth))
        else:
            stack.append((kind, None, owner if pinto is not None else None, depth))

    def end(self, tag: str) -> None:
        kind, into, owner, _ = self.stack.pop()
        if kind == _EVENT and into is not None and owner is not None:
            self.out.append(self._record(owner))
        elif kind == _TRACE and into is not None:
            self.trace = None

    def fast_event(self, body: str, line: int, column: int) -> None:
        """One plain ``<event>`` of the current trace (its body matched ``_FAST_EVENT``)."""
        parts = body.split('"')  # ``<type key=`` / key / `` value=`` / value: four parts an attribute
        count = len(parts) >> 2
        if count <= MAX_ATTRIBUTES and len(body) <= MAX_VALUE and not _TYPED.search(body):
            keys = tuple(parts[1::4])
            plan = self.plans.get(keys, _UNPLANNED)
            if plan is _UNPLANNED:
                plan = _plan(keys)
                if len(self.plans) < MAX_PLANS:
                    self.plans[keys] = plan
            trace = self.trace
            if plan is not None and trace is not None and trace.problem is None:
                case = trace.attrs.get("concept:name")
                if type(case) is str and count + trace.count <= MAX_ATTRIBUTES:
                    if trace.version != trace.count:
                        trace.shared = _shape(trace.attrs, TRACE_ONLY)
                        trace.version = trace.count
                        trace.quick = trace.shared[2] is None and trace.shared[3] is None and \
                            trace.shared[0].keys().isdisjoint(CORE_FIELDS)
                    tpart, tactor, tbad, tdate = trace.shared  # type: ignore[misc]
                    if tbad is None and tdate is None:
                        values = parts[3::4]
                        if trace.quick and plan.quick is not None and self.quick:
                            made = self._quick(plan, values, case, tpart, tactor, line, column)
                            if made is not None:
                                self.out.append(made)
                                return
                        self.out.append(self._planned(plan, values, case, tpart, tactor, line, column))
                        return
            attrs = dict(zip(keys, parts[3::4], strict=False))  # text, dates and ids stay as written
            if len(attrs) == count:  # no key twice (else the first wins, in _fill)
                self.out.append(self._record_of(attrs, count, line, column, None))
                return
        event = _Owner(line, column)
        _fill(event, body)
        self.out.append(self._record(event))

    def _quick(self, plan: _Plan, values: list[str], case: str, tpart: dict, tactor: dict, line: int,
               column: int) -> Event | None:
        """The Event of a plain event, made straight from its plan, exactly as ``_planned`` (the record, the map,
        ``_coerce``, ``build_event``) would make it; None for anything that needs a closer look (then the caller
        takes ``_planned``, which also says what is wrong): a case, step or time that is not plainly valid, a
        step the map does not cover or ignores, or sets attributes for, an activity with attributes it declares
        or requires. Only for an event of the SDS vocabulary, a map with no field or value tables (``self.quick``),
        a plan whose core is the step and the time and whose other keys are no core field (``plan.quick``) and a
        trace whose part has no core field and nothing unreadable (``_Owner.quick``)."""
        if not case or case[0].isspace() or case[-1].isspace():
            return None
        act_i, at_i = plan.quick  # type: ignore[misc]
        name, raw_at = values[act_i], values[at_i]
        attrs = dict(tpart) if tpart else {}
        if plan.extras:
            attrs.update(zip(plan.extras, itertools.compress(values, plan.mask), strict=False))
        amap = self.map
        if amap is None:
            activity = name
        else:  # ActivityMap.apply, for a map with no field or value tables
            if not name:
                return None
            key = name.strip()
            try:
                target = amap.target_of(key, attrs.get("lifecycle:transition"))
            except EventError:
                return None
            if target is None:
                if not (amap.pass_canonical and key in amap.vocabulary):
                    return None
                activity = name
            else:
                if target.set:
                    return None
                activity = target.activity
                if amap.keep_source and activity != key and attrs.get("source_activity") in (None, ""):
                    attrs["source_activity"] = key
        spec = ACTIVITIES.get(activity)
        if spec is None or REQUIRED[activity] or (spec and not spec.keys().isdisjoint(attrs)):
            return None
        if not raw_at:
            return None
        try:
            at, day, date_only = parse_at(raw_at)
        except ValueError:
            return None
        actor = None
        if plan.actor or tactor:
            given = dict(tactor)
            for part, i in plan.actor:
                given[part] = values[i]
            try:
                actor = record_actor({"actor": given}, False)
            except EventError:
                return None
        if plan.id is not None:
            eid = values[plan.id] or f"{self.base}:{line}"
        elif line == self.last_event_line:
            eid = f"{self.base}:{line}:{column}"  # a second event on this line
        else:
            eid = f"{self.base}:{line}"
        self.last_event_line = line
        return Event(eid, case, at, day, activity, attrs, actor, self.name, line, next(self.seq), date_only)

    def _planned(self, plan: _Plan, values: list[str], case: str, tpart: dict, tactor: dict, line: int,
                 column: int) -> Event | Rejection:
        """The record of a plain event by its plan: what :func:`_event_record` does, without looking at each key."""
        record: dict[str, Any] = {"case": case}
        if tpart:
            record.update(tpart)
        record.update(zip(plan.extras, itertools.compress(values, plan.mask), strict=False))
        for field, i in plan.core:
            record[field] = values[i]
        eid = None
        if plan.id is not None:
            eid = values[plan.id]
            if plan.id_wins or "id" not in record:
                record["id"] = eid
        if plan.actor:
            actor = dict(tactor)
            for part, i in plan.actor:
                actor[part] = values[i]
            record["actor"] = actor
        elif tactor:
            record["actor"] = dict(tactor)
        return self._finish(record, line, column, case, eid)

    def _finish(self, record: dict, line: int, column: int, case: Any, eid: Any) -> Event | Rejection:
        """Map, type and validate one event's record; its rejection names the field."""
        position = next(self.seq)
        try:
            if self.map is not None:
                self.map.apply(record)
            if "id" not in record and line == self.last_event_line:
                record["id"] = f"{self.base}:{line}:{column}"  # a second event on this line
            self.last_event_line = line
            _coerce(record, self.vocabulary)
            return build_event(record, file=self.name, line=line, seq=position, vocabulary=self.vocabulary)
        except EventError as e:
            self.last_event_line = line
            case_text = case if isinstance(case, str) and case.strip() else None
            return Rejection(self.name, line, f"'{e.field}' {e.reason}", e.field, case_text,
                             eid if isinstance(eid, str) else None)

    def fast_trace(self, body: str) -> None:
        """The start of a ``<trace>`` whose attributes before its first event are plain (``_FAST_TRACE``)."""
        self.start("trace", {})
        if body.strip():
            assert self.trace is not None
            _fill(self.trace, body)

    def _record(self, event: _Owner) -> Event | Rejection:
        return self._record_of(event.attrs, event.count, event.line, event.column, event.problem)

    def _record_of(self, attrs: dict, count: int, line: int, column: int,
                   problem: tuple[str, str] | None) -> Event | Rejection:
        position = next(self.seq)
        trace = self.trace if problem is None or problem[0] != "case" else None
        case = trace.attrs.get("concept:name") if trace is not None else None
        try:
            if problem is not None:
                raise EventError(*problem)
            if trace is None:
                raise EventError("case", "is required: the event's <trace> has no concept:name before it")
            if trace.problem is not None:
                raise EventError(trace.problem[0], f"{trace.problem[1]} (an attribute of the event's <trace>)")
            if count + trace.count > MAX_ATTRIBUTES:
                raise EventError("attributes", f"the event has {count + trace.count:,} attributes with those "
                                               f"of its <trace>; sdsrules reads at most {MAX_ATTRIBUTES:,} per event")
            if isinstance(case, Bad):
                raise EventError("case", f"{case.reason} (the concept:name of the event's <trace>)")
            if _has_bad(case):
                raise EventError("case", "holds a value that cannot be read (the concept:name of the event's <trace>)")
            if trace.version != trace.count:
                trace.shared = _shape(trace.attrs, TRACE_ONLY)
                trace.version = trace.count
            record = _event_record(case, trace.shared, attrs)  # type: ignore[arg-type]
            if case is None:
                raise EventError("case", "is required: the event's <trace> has no concept:name before it")
            if self.map is not None:
                self.map.apply(record)
            if "id" not in record and line == self.last_event_line:
                record["id"] = f"{self.base}:{line}:{column}"  # a second event on this line
            self.last_event_line = line
            _coerce(record, self.vocabulary)
            return build_event(record, file=self.name, line=line, seq=position, vocabulary=self.vocabulary)
        except EventError as e:
            self.last_event_line = line
            case_text = case if isinstance(case, str) and case.strip() else None
            eid = attrs.get("sdsrules:id", attrs.get("identity:id"))
            return Rejection(self.name, line, f"'{e.field}' {e.reason}", e.field, case_text,
                             eid if isinstance(eid, str) else None)


class _Plan:
    """How the attributes of a plain event with these keys, in this order, become its record."""

    __slots__ = ("actor", "core", "extras", "id", "id_wins", "mask", "quick")

    def __init__(self, extras: tuple, mask: tuple, core: tuple, ident: int | None, id_wins: bool, actor: tuple):
        self.extras, self.mask, self.core, self.actor = extras, mask, core, actor
        self.id, self.id_wins = ident, id_wins
        fields = dict(core)
        #: (index of the step, index of the time) when ``_Target._quick`` can make its events: the core is the
        #: step and the time (``_plan`` gives no plan when another key is named like a core field)
        self.quick: tuple[int, int] | None = (fields["activity"], fields["at"]) if (
            len(fields) == 2 and "activity" in fields and "at" in fields and len(core) == 2) else None


_UNPLANNED = object()
MAX_PLANS = 1_000  # distinct key sequences planned (a log has a handful; a hostile file is read the slow way)


def _plan(keys: tuple[str, ...]) -> _Plan | None:
    """The plan for events with these attribute keys, or None when they need a closer look (a key twice, or
    one of sdsrules' own besides sdsrules:id)."""
    if len(set(keys)) != len(keys):
        return None
    extras, mask, core, actor = [], [], [], []
    ids: dict[str, int] = {}
    for i, key in enumerate(keys):
        route = _ROUTE.get(key)
        mask.append(route is None)
        if route is None:
            if key.startswith("sdsrules:") or key in CORE_FIELDS:  # (a key named like a core field: the record
                return None  # path, where the later of it and the XES key for that field wins, as it is written)
            extras.append(key)
        elif route[0]:
            actor.append((route[1], i))
        elif route[1] == "id":
            ids[key] = i
        else:
            core.append((route[1], i))
    wins = "sdsrules:id" in ids  # sdsrules:id wins over identity:id, and over an "id" of the trace
    ident = ids["sdsrules:id"] if wins else ids.get("identity:id")
    return _Plan(tuple(extras), tuple(mask), tuple(core), ident, wins, tuple(actor))


def _fill(owner: _Owner, body: str) -> None:
    """Add plain attributes to a trace or event that has none yet. ``body`` matched ``_PLAIN``, so split at its
    quotes it is ``<type key=`` / key / `` value=`` / value, four parts an attribute."""
    parts = body.split('"')
    count = owner.count = len(parts) // 4
    if count <= MAX_ATTRIBUTES and len(body) <= MAX_VALUE and not _TYPED.search(body):
        attrs = dict(zip(parts[1::4], parts[3::4], strict=False))  # text, dates and ids stay as written
        if len(attrs) == count:  # no key twice (else the first wins, below)
            owner.attrs.update(attrs)
            return
    into = owner.attrs
    for n in range(min(count, MAX_ATTRIBUTES)):
        head, key, raw = parts[4 * n], parts[4 * n + 1], parts[4 * n + 3]
        if key not in into:
            tag = head[head.rfind("<") + 1:-5]
            into[key] = raw if tag in _SCALARS and len(raw) <= MAX_VALUE else _value(tag, {"key": key, "value": raw})


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
    if tag in _SCALARS:
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


#: (record part, actor part, first unreadable (xes key, field, reason) or None, date-only marker or None)
_Shape = tuple[dict[str, Any], dict[str, Any], tuple[str, str, str] | None, bool | None]


def _shape(attrs: dict, skip: frozenset | tuple) -> _Shape:
    """One owner's attributes in the contract's shape: core fields named ours, the rest as given."""
    part: dict[str, Any] = {}
    actor: dict[str, Any] = {}
    bad = None
    date_only = None
    for key, value in attrs.items():
        route = _ROUTE.get(key)
        if route is None and type(value) is str and not key.startswith("sdsrules:"):
            part[key] = value  # the common case: an extra attribute, plain text
            continue
        if key in skip:
            continue
        if route is not None and type(value) is str:
            if route[0]:
                actor[route[1]] = value
            elif route[1] != "id" or "id" not in part or key == "sdsrules:id":  # sdsrules:id wins over identity:id
                part[route[1]] = value
            continue
        if key.startswith(OWN_KEYS):
            if key == "sdsrules:date_only":
                date_only = value is True
            continue
        field = key if route is None else f"actor.{route[1]}" if route[0] else route[1]
        if isinstance(value, Bad):
            if bad is None:
                bad = (key, field, value.reason)
            continue
        if _has_bad(value):
            if bad is None:
                bad = (key, field, "holds a value that cannot be read")
            continue
        if route is None:
            part[key] = value
        elif route[0]:
            actor[route[1]] = value
        elif route[1] != "id" or "id" not in part or key == "sdsrules:id":
            part[route[1]] = value
    return part, actor, bad, date_only


#: XES key -> (an actor part?, our name)
_ROUTE = {**{k: (False, v) for k, v in CORE_KEYS.items()}, **{k: (True, v) for k, v in ACTOR_KEYS.items()}}


def _has_bad(value: Any) -> bool:
    if type(value) is list:
        return any(isinstance(v, Bad) or (type(v) in (list, dict) and _has_bad(v)) for v in value)
    if type(value) is dict:
        return any(isinstance(v, Bad) or (type(v) in (list, dict) and _has_bad(v)) for v in value.values())
    return False


def _event_record(case: Any, trace: _Shape, attrs: dict) -> dict:
    """The record of one event in the contract's shape: its trace's part (shaped once, shared), then its own
    attributes, which win; core fields named ours, the rest as given."""
    tpart, tactor, tbad, date_only = trace
    if tbad is not None and tbad[0] not in attrs:
        raise EventError(tbad[1], tbad[2])
    record: dict[str, Any] = {"case": case}
    if tpart:
        record.update(tpart)
    actor = tactor or None
    for key, value in attrs.items():
        route = _ROUTE.get(key)
        if type(value) is str:
            if route is None:
                if not key.startswith("sdsrules:"):
                    record[key] = value  # the common case: an extra attribute, plain text
                    continue
            elif route[0]:
                if actor is tactor or actor is None:
                    actor = dict(tactor)
                actor[route[1]] = value
                continue
            else:
                if route[1] != "id" or "id" not in record or key == "sdsrules:id":  # sdsrules:id wins
                    record[route[1]] = value
                continue
        if key.startswith(OWN_KEYS):
            if key == "sdsrules:date_only":
                date_only = value is True
            continue
        field = key if route is None else f"actor.{route[1]}" if route[0] else route[1]
        if isinstance(value, Bad):
            raise EventError(field, value.reason)
        if _has_bad(value):
            raise EventError(field, "holds a value that cannot be read")
        if route is None:
            record[key] = value
        elif route[0]:
            if actor is tactor or actor is None:
                actor = dict(tactor)
            actor[route[1]] = value
        elif route[1] != "id" or "id" not in record or key == "sdsrules:id":
            record[route[1]] = value
    if date_only and isinstance(record.get("at"), str):
        record["at"] = record["at"][:10]
    if actor:
        record["actor"] = actor if actor is not tactor else dict(tactor)
    return record


def _coerce(record: dict, vocabulary: Mapping | None = None) -> None:
    """Turn XES-typed values into the types the contract expects for the record's activity."""
    activity = record.get("activity")
    table = ACTIVITIES if vocabulary is None else vocabulary
    spec = table.get(activity) if isinstance(activity, str) else None  # a <list> or <container> is not a name
    if not spec:
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


# ------------------------------------------------------------------------------ reading in chunks, in parallel

#: a chunk is cut at the first trace starting a line at least this many bytes in (about 4,500 events of a log
#: like BPIC 2012's; 4 MB chunks took the replay of such a log to 313 MB, over the 300 MB it may take)
CHUNK_BYTES = 2 * 1024 * 1024
_CUT = re.compile(rb"[\n\r][ \t]*<trace>")


class Serial(Exception):
    """The file cannot be read in chunks (not UTF-8, not well-formed, unreadable): read it the ordinary way, which
    reports why."""


@attrs.frozen(slots=True)
class Chunk:
    """Whole lines of a UTF-8 XES file: from the start of the file, or from a line whose first tag is a
    ``<trace>`` of the log, to just before the next such line or the end.

    ``read_chunk`` checks it with expat (inside the log's own start tag: its namespaces) and reads it on its own,
    as ``read`` would have read that part of the file; whether the cut was right (the line really starts a trace
    of the log, not text inside a comment, CDATA or another element) is known when the chunk before it has been
    read (``read_chunk``'s answer ``whole``)."""

    data: bytes
    line: int  # the line number of its first line
    index: int  # its place in the file (0: the start)
    last: bool  # it ends the file
    root: bytes  # the log's start tag, as written
    root_name: bytes  # its name, as written (for the end tag)
    checked: bool = False  # expat has checked it already (``chunks(check=True)``)


def chunks(path: str, size: int | None = None, check: bool = False) -> Iterator[Chunk]:
    """The file cut into chunks of about ``size`` bytes (``Chunk``). This reads, decompresses and cuts; the
    workers check each chunk with expat and read it, or, ``check``, expat checks the whole file here as it is cut
    (when this process has a core to spare: one worker). Raises ``Serial`` when the file is not UTF-8, its root
    element cannot be found in its first chunk, expat breaks on it (``check``) or it cannot be read: then
    ``read`` reads it, and says why."""
    try:
        stream = open_bytes(path)
    except OSError as e:
        raise Serial(str(e)) from None
    size = size or CHUNK_BYTES
    try:
        head = stream.read(CHUNK)
        if not FAST or not _utf8(head):
            raise Serial("not UTF-8")
        pending = bytearray(head)  # bytes read, not yet handed out
        line, index = 1, 0
        root = name = b""
        parser = _parser() if check else None
        if parser is not None:
            parser.Parse(head, False)
        while True:
            block = stream.read(CHUNK)
            final = not block
            pending += block
            if parser is not None:
                parser.Parse(block, final)
            while len(pending) > size:
                m = _CUT.search(pending, size)
                if m is None:
                    break
                cut = m.start() + 1
                with memoryview(pending) as view:  # one copy (a slice of the bytearray would be another)
                    data = bytes(view[:cut])
                if not index:
                    root, name = _root(data)
                yield Chunk(data, line, index, False, root, name, check)
                line += _line_breaks(data)
                index += 1
                del pending[:cut]
            if final:
                data = bytes(pending)
                if not index:
                    root, name = _root(data)
                yield Chunk(data, line, index, True, root, name, check)
                return
    except (OSError, EOFError, zlib.error, expat.ExpatError, DefusedXmlException, LookupError, ValueError) as e:
        raise Serial(str(e)) from None
    finally:
        stream.close()


def _line_breaks(data: bytes) -> int:
    """Line breaks as expat counts them (CR LF, CR and LF one each); the CR passes only when there is a CR."""
    n = data.count(b"\n")
    if b"\r" not in data:  # nearly every file: a search at memory speed, not a count
        return n
    return n + data.count(b"\r") - data.count(b"\r\n")


_ROOT = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
                   rb"(<([^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*>)", re.S)


def _root(data: bytes) -> tuple[bytes, bytes]:
    """The log's start tag and its name, found after the XML declaration and comments of the first chunk."""
    m = _ROOT.match(data)
    if m is None:
        raise Serial("no root element in the first chunk")
    return m.group(1), m.group(2)


def _well_formed(chunk: Chunk) -> bool:
    """Whether expat, with defusedxml's refusals, accepts the chunk inside the log's start and end tags."""
    parser = _parser()
    try:
        if chunk.index:
            parser.Parse(chunk.root, False)
        parser.Parse(chunk.data, False)
        parser.Parse(b"" if chunk.last else b"</" + chunk.root_name + b">", True)
    except (expat.ExpatError, DefusedXmlException, LookupError, ValueError):
        return False
    return True


def read_chunk(chunk: Chunk, name: str, activity_map: ActivityMap | None = None,
               vocabulary: Mapping | None = None) -> tuple[list[Event | Rejection], bool]:
    """The records of one chunk, as ``read`` gives them for that part of the file (numbered from ``index`` times
    2**32: their order within the file is kept), and whether the chunk is well-formed and ended where a trace of
    the log may start (only ``<log>`` open, nothing held back): if not, the file must be read by ``read`` (it was
    cut in the wrong place, or it is broken, which ``read`` reports)."""
    out: list[Event | Rejection] = []
    if not chunk.checked and not _well_formed(chunk):
        return out, False
    target = _Target(name, itertools.count(chunk.index << 32), activity_map, out, None)
    target.vocabulary = vocabulary
    scanner = _Scanner(target)
    target.expat = scanner
    if chunk.index:  # inside the log, at the start of a line
        target.stack.append((_LOG, None, None, 0))
        scanner.line = scanner.CurrentLineNumber = chunk.line
    try:
        scanner.feed(chunk.data.decode("utf-8"), chunk.last)
    except Exception:  # a chunk cut in the wrong place can hold anything: then ``read`` reads the file
        return out, False
    whole = chunk.last or (len(target.stack) == 1 and target.trace is None and not scanner.skip
                           and not scanner.dead and not scanner.buf.strip(" \t\n"))
    return out, whole
