"""JSON Lines out: each event's canonical object (``Event.to_dict``), one a line, in input order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

import orjson

from ..events import Event
from ._common import codes, findings_by_event


def write(events: Iterable[Event], stream: TextIO, findings=None, skipped=None) -> int:
    by_event, _ = findings_by_event(findings)
    count = 0
    for ev in events:
        obj = ev.to_dict()
        attached = by_event.get((ev.case, ev.id))
        if attached:
            obj["sdsrules:findings"] = codes(attached)
        stream.write(orjson.dumps(obj).decode("utf-8"))
        stream.write("\n")
        count += 1
    return count
