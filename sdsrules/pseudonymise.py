"""Pseudonymisation: case, actor and event ids replaced by keyed hashes, the same way in every output.

The hash is HMAC-SHA256 keyed with the bytes of a key file the data controller keeps, so the same id always
gives the same pseudonym under the same key (outputs stay joinable), nobody without the key can reverse or
recompute it, and the key holder can find a case again by hashing its id. Each kind of id has its own
prefix and its own hash domain, so a case and a worker who share an id do not share a pseudonym:
``P-`` cases, ``A-`` actors, ``E-`` events, each followed by 12 hex digits (48 bits).

Event ids are hashed too: readers derive them from file and line, and case systems often build them from
the case id. A pseudonymised event keeps only the attributes the contract declares for its activity
(shared/spec/events.md) and that cannot hold a name: teams, roles, tiers, options, amounts stay (reports
break down by them); free text, dates of birth and everything the contract does not declare (``client_name``,
``nhs_number``, ``notes``, another system's trace attributes) are left out, and counted by name so the
output can say so (:func:`dropped_notice`). Rejected records keep their field and reason but not the values
they held (:func:`withhold_values`).

Everything here is a pure function: it returns new objects and changes none (but the ``dropped`` counter a
caller hands to :func:`pseudonymise_event`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import msgspec

from .events import ACTIVITIES, Day, Event, Rejection, Text
from .findings import Evidence, Finding, Obligation, Unchecked
from .replay import Report

DIGITS = 12


class KeyFileError(ValueError):
    """The key file cannot be used."""


def read_key(path: str | Path) -> bytes:
    """The key file's bytes; at least 16 of them, so the hash cannot be brute-forced from a short word."""
    data = Path(path).read_bytes()
    if len(data) < 16:
        raise KeyFileError(f"the key file {str(path)!r} holds {len(data)} bytes; use at least 16 random "
                           f"bytes (for example: head -c 32 /dev/urandom > {path})")
    return data


@attrs.frozen(slots=True)
class Pseudonymiser:
    """Keyed hashes of ids: ``case``, ``actor`` and ``event``, with a memo so repeated ids cost one hash."""

    key: bytes = attrs.field(repr=False)
    _memo: dict = attrs.field(factory=dict, repr=False, eq=False)

    def _hash(self, domain: str, prefix: str, value: str) -> str:
        memo_key = (domain, value)
        out = self._memo.get(memo_key)
        if out is None:
            digest = hmac.new(self.key, f"{domain}\x00{value}".encode(), hashlib.sha256).hexdigest()
            out = self._memo[memo_key] = f"{prefix}-{digest[:DIGITS]}"
        return out

    def case(self, value: str) -> str:
        return self._hash("case", "P", value)

    def actor(self, value: str) -> str:
        return self._hash("actor", "A", value)

    def event(self, value: str) -> str:
        return self._hash("event", "E", value)

    def text(self, text: str, case: str | None = None, event_ids: Iterable[str] = (),
             actors: re.Pattern | None = None) -> str:
        """``text`` with the given case id, event ids and actor ids (whole words only) replaced."""
        if not text:
            return text
        if case and case in text:
            text = _whole(case).sub(self.case(case), text)
        for eid in event_ids:
            if eid and eid in text:
                text = _whole(eid).sub(self.event(eid), text)
        if actors is not None:
            text = actors.sub(lambda m: self.actor(m.group(0)), text)
        return text


def _whole(word: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")


def actor_pattern(actor_ids: Iterable[str]) -> re.Pattern | None:
    """One pattern matching any of ``actor_ids`` as a whole word (longest first), or None for none."""
    ids = sorted({a for a in actor_ids if a}, key=len, reverse=True)
    if not ids:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ids)) + r")(?![\w-])")


def _evidence(e: Evidence, p: Pseudonymiser) -> Evidence:
    return attrs.evolve(e, id=p.event(e.id))


def pseudonymise_finding(f: Finding, p: Pseudonymiser, actors: re.Pattern | None = None) -> Finding:
    ids = [e.id for e in f.events]
    return attrs.evolve(
        f, case=p.case(f.case), events=tuple(_evidence(e, p) for e in f.events),
        worker=p.actor(f.worker) if f.worker else "", worker_due=p.actor(f.worker_due) if f.worker_due else "",
        message=p.text(f.message, f.case, ids, actors), expected=p.text(f.expected, f.case, ids, actors),
        actual=p.text(f.actual, f.case, ids, actors))


def _rejection(r: Rejection, p: Pseudonymiser, actors) -> Rejection:
    ids = [r.id] if r.id else []
    return attrs.evolve(r, case=p.case(r.case) if r.case else r.case, id=p.event(r.id) if r.id else r.id,
                        reason=p.text(withhold_values(r.reason), r.case, ids, actors))


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_GOT = re.compile(r" \(got .*\)", re.S)


def withhold_values(reason: str) -> str:
    """A rejection's reason without the record's values: what came (``(got ...)``) and every quoted value
    after the field name are replaced by ``'…'``. Field names and the rule stay: "'activity' '…' is not a
    known activity"."""
    head = ""
    m = _QUOTED.match(reason)
    if m:  # the leading quoted word is the field's name
        head, reason = reason[:m.end()], reason[m.end():]
    return head + _QUOTED.sub("'…'", _GOT.sub(" (got '…')", reason))


def _obligation(o: Obligation, p: Pseudonymiser, actors) -> Obligation:
    ids = [o.trigger.id] if o.trigger else []
    return attrs.evolve(o, case=p.case(o.case), message=p.text(o.message, o.case, ids, actors),
                        worker=p.actor(o.worker) if o.worker else "",
                        trigger=_evidence(o.trigger, p) if o.trigger else None)


def pseudonymise(report: Report, key: bytes | Pseudonymiser, actor_ids: Iterable[str] = ()) -> Report:
    """A new Report with every case id, event id and (in text) every given actor id replaced by its pseudonym.

    Reports hold no actor ids of their own, only in message text; pass the log's actor ids (from the events)
    so those are caught too. Sort order is by the new ids, as a fresh replay of pseudonymised data would be.
    """
    p = key if isinstance(key, Pseudonymiser) else Pseudonymiser(key)
    actors = actor_pattern(actor_ids)

    def finding(f):
        return pseudonymise_finding(f, p, actors)

    def unchecked(u: Unchecked) -> Unchecked:
        return Unchecked(p.case(u.case), p.text(u.reason, u.case))

    cases = tuple(sorted(
        (attrs.evolve(c, case=p.case(c.case),
                      findings=tuple(sorted(map(finding, c.findings), key=Finding.sort_key)),
                      rejected=tuple(_rejection(r, p, actors) for r in c.rejected),
                      obligations=tuple(_obligation(o, p, actors) for o in c.obligations),
                      unchecked=None if c.unchecked is None else unchecked(c.unchecked))
         for c in report.cases), key=lambda c: c.case))
    findings = tuple(sorted(map(finding, report.findings), key=Finding.sort_key))
    return attrs.evolve(
        report, findings=findings, cases=cases,
        rejected=tuple(_rejection(r, p, actors) for r in report.rejected),
        obligations=tuple(_obligation(o, p, actors) for o in report.obligations),
        unchecked=tuple(sorted((unchecked(u) for u in report.unchecked), key=lambda u: u.case)))


#: attributes the contract declares that may still carry a name or identifying text (free text, dates of
#: birth): dropped from pseudonymised events like everything the contract does not declare
IDENTIFYING = frozenset(name for spec in ACTIVITIES.values() for name, (kind, _) in spec.items()
                        if isinstance(kind, Text | Day))


def safe_attributes(activity: str, vocabulary: Mapping[str, Mapping[str, Any]] | None = None) -> frozenset[str]:
    """The attributes of ``activity`` a pseudonymised output may show: those the contract declares for it
    (shared/spec/events.md), less free text and dates (a name or a birth date can sit there). Anything else
    an event carries (``client_name``, ``nhs_number``, ``notes``, a trace attribute of another system) is
    not safe, whatever its name."""
    table = ACTIVITIES if vocabulary is None else vocabulary
    key = (id(table), activity)
    hit = _SAFE.get(key)
    if hit is None:
        spec = table.get(activity) or {}
        hit = _SAFE[key] = frozenset(n for n, (kind, _) in spec.items() if not isinstance(kind, Text | Day))
    return hit


_SAFE: dict[tuple[int, str], frozenset[str]] = {}


def pseudonymise_event(ev: Event, p: Pseudonymiser, dropped: Counter | None = None,
                       vocabulary: Mapping[str, Mapping[str, Any]] | None = None) -> Event:
    """The event with case, id and actor id replaced, and only its activity's safe attributes kept.

    Every attribute left out is counted by name in ``dropped`` (when given), so the output can say what it
    left out (:func:`dropped_notice`); values are never kept there.
    """
    actor = ev.actor
    if actor is not None and actor.id:
        actor = attrs.evolve(actor, id=p.actor(actor.id))
    safe = safe_attributes(ev.activity, vocabulary)
    kept = {k: v for k, v in ev.attrs.items() if k in safe}
    if dropped is not None and len(kept) != len(ev.attrs):
        dropped.update(k for k in ev.attrs if k not in safe)
    return msgspec.structs.replace(ev, id=p.event(ev.id), case=p.case(ev.case), actor=actor, attrs=kept)


def dropped_notice(dropped: Counter, shown: int = 12) -> str | None:
    """One sentence saying which attributes a pseudonymised output left out (names and counts, no values),
    or None when nothing was left out. For the HTML report's banner, convert's summary line and the like."""
    if not dropped:
        return None
    names = [f"{name} ({n:,})" for name, n in dropped.most_common(shown)]
    more = len(dropped) - shown
    listed = ", ".join(names) + (f" and {more:,} more" if more > 0 else "")
    return (f"Pseudonymised: attributes the contract does not declare safe to show were left out "
            f"(attribute and events carrying it): {listed}.")


__all__ = ["IDENTIFYING", "KeyFileError", "Pseudonymiser", "actor_pattern", "dropped_notice", "pseudonymise",
           "pseudonymise_event", "pseudonymise_finding", "read_key", "safe_attributes", "withhold_values"]
