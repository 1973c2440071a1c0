"""Small helpers shared by tests: writing logs and reading records without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from sdsrules.events import build_event


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def events_of(records, file="t.jsonl"):
    return [build_event(r, file=file, line=n + 1, seq=n) for n, r in enumerate(records)]


def write_big_xes(path: Path, traces) -> Path:
    """An XES of ten events a trace (about 5 KB each, so 50,000 traces are some 250 MB), its traces in the order
    of ``traces`` (their numbers): the large-file tests' log."""
    ev = ('    <event>\n      <string key="concept:name" value="signposted"/>\n'
          '      <date key="time:timestamp" value="2024-01-0{d}T10:00:00+00:00"/>\n'
          '      <string key="org:resource" value="W{w}"/>\n      <string key="note" value="{pad}"/>\n    </event>\n')
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/">\n')
        for t in traces:
            f.write(f'  <trace>\n    <string key="concept:name" value="C{t}"/>\n')
            f.write("".join(ev.format(d=1 + e % 9, w=e, pad="x" * 280) for e in range(10)))
            f.write("  </trace>\n")
        f.write("</log>\n")
    return path
