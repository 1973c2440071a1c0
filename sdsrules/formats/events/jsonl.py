"""JSON Lines out: each event's canonical object (``Event.to_dict``), one a line, in input order."""

from __future__ import annotations

import orjson

from ...events import Event
from .common import EventsWriter, codes


class Writer(EventsWriter):
    name = "jsonl"
    media_type = "application/jsonl"
    suffix = ".jsonl"

    def item(self, ev: Event) -> None:
        obj = ev.to_dict()
        attached = self.by_event.get((ev.case, ev.id))
        if attached:
            obj["sdsrules:findings"] = codes(attached)
        try:
            line = orjson.dumps(obj).decode("utf-8")
        except TypeError as e:  # an integer beyond 64 bits, or a value JSON cannot hold
            self.skip(ev, "attributes", f"cannot be written as JSON ({e})")
            return
        self.stream.write(line)
        self.stream.write("\n")
        self.count += 1
