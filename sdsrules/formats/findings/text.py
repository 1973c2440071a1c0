"""The plain-text report: a summary a person reads first, then findings grouped by case.

The summary comes first but is known last, so findings wait in a temporary file (bounded memory)."""

from __future__ import annotations

import pickle
import tempfile
from itertools import groupby
from typing import TextIO

from ..base import Writer as _Base

SHOWN_REJECTIONS = 200


class Writer(_Base):
    name = "text"
    media_type = "text/plain; charset=utf-8"
    suffix = ".txt"

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.spool = tempfile.TemporaryFile(prefix="sdsrules-text-")  # noqa: SIM115 - closed in close()
        self.pickler = pickle.Pickler(self.spool, protocol=pickle.HIGHEST_PROTOCOL)
        self.titles: dict[str, str] = {}
        self.count = 0

    def finding(self, f) -> None:
        self.titles.setdefault(f.code, f.title)
        self.pickler.dump(f)
        self.count += 1

    def _findings(self):
        self.spool.seek(0)
        up = pickle.Unpickler(self.spool)
        for _ in range(self.count):
            yield up.load()

    def close(self, summary, rejected, unchecked) -> None:
        s = summary
        w = self.stream.write
        w(f"sdsrules replay: {s.cases} cases, {s.events_read} events read, {s.events_replayed} replayed, "
          f"{s.events_rejected} rejected" + (f", {s.events_ignored} ignored" if s.events_ignored else "") + "\n")
        if s.events_ignored:  # steps an activity map says are no part of the process
            w("ignored steps: " + ", ".join(f"{k} ({n})" for k, n in sorted(s.ignored.items())) + "\n")
        w(f"workflow {s.workflow}; judged as of {s.as_of}; engine {s.engine or 'none'}; {s.rules} rules\n")
        if s.cases_unchecked:
            w(f"WARNING: {s.cases_unchecked} case(s) could not be checked (see below)\n")
        if not self.count:
            w("No findings.\n")
        else:
            w(f"\n{self.count} findings:\n")
            for code, n in sorted(s.findings_by_code.items()):
                w(f"  {code}  {n:>6}  {self.titles.get(code, '')}\n")
            for case, items in groupby(self._findings(), key=lambda f: f.case):
                w(f"\nCase {case}\n")
                for f in items:
                    w(f"  {f.at}  {f.code}  {f.message}\n")
                    if f.events:
                        w("      evidence: " + ", ".join(f"{e.id} ({e.activity}, {e.at})" for e in f.events) + "\n")
                    if f.source:
                        w("      source: " + "; ".join(f.source) + "\n")
        shown = 0
        total = s.events_rejected
        for r in rejected:
            if shown == 0:
                w(f"\n{total} records rejected (SDS-DAT-01, not replayed):\n")
            if shown < SHOWN_REJECTIONS:
                w(f"  {r}\n")
            shown += 1
        if shown > SHOWN_REJECTIONS:
            w(f"  ... and {shown - SHOWN_REJECTIONS} more (use --format json for all)\n")
        for u in unchecked:
            w(f"\nUNCHECKED case {u.case}: {u.reason}\n")
        self.spool.close()
