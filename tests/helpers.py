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
