"""JSON Lines out: each event's canonical object (``Event.to_dict``), one a line, in input order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

import orjson

from ..events import Event
from ._common import WriteError, codes, findings_by_event


def write(events: Iterable[Event], stream: TextIO, findings=None, skipped=None) -> int:
    by_event, _ = findings_by_event(findings)
    count = 0
    for ev in events:
        obj = ev.to_dict()
        attached = by_event.get((ev.case, ev.id))
        if attached:
            obj["sdsrules:findings"] = codes(attached)
        try:
            line = orjson.dumps(obj).decode("utf-8")
        except TypeError as e:  # an integer beyond 64 bits, or a value JSON cannot hold
            if skipped is None:
                raise WriteError(ev.id, "attributes", f"cannot be written as JSON ({e})") from None
            skipped(ev, "attributes", f"cannot be written as JSON ({e})")
            continue
        stream.write(line)
        stream.write("\n")
        count += 1
    return count
