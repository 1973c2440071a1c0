"""The JSON report: one object ``{"findings", "rejected", "summary", "unchecked"}`` (issue 2's contract).

Written as it streams, yet byte-identical to ``orjson.dumps(report, OPT_INDENT_2 | OPT_SORT_KEYS)``: each item is
dumped on its own and indented to its depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import orjson

from ..base import Writer as _Base

OPTS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def _item(obj, depth: int) -> str:
    pad = "  " * depth
    return pad + orjson.dumps(obj, option=OPTS).decode().replace("\n", "\n" + pad)


def render(f) -> str:
    """One finding as an item of the report's "findings" array."""
    return _item(f.to_dict(), 2)


class Writer(_Base):
    name = "json"
    media_type = "application/json"
    suffix = ".json"
    render = staticmethod(render)

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.stream.write('{\n  "findings": [')
        self.first = True

    def finding(self, f) -> None:
        self.texts((render(f),))

    def texts(self, texts: Sequence[str]) -> None:
        if texts:
            self.stream.write(("\n" if self.first else ",\n") + ",\n".join(texts))
            self.first = False

    def _array(self, key: str, items) -> None:
        w = self.stream.write
        w(f',\n  "{key}": [')
        first = True
        for it in items:
            w(("\n" if first else ",\n") + _item(it.to_dict(), 2))
            first = False
        w("]" if first else "\n  ]")

    def close(self, summary, rejected, unchecked) -> None:
        w = self.stream.write
        w("]" if self.first else "\n  ]")
        self._array("rejected", rejected)
        w(',\n  "summary": ' + _item(summary.to_dict(), 1).lstrip())
        self._array("unchecked", unchecked)
        w("\n}\n")


def dumps(report) -> str:
    return orjson.dumps(report.to_dict(), option=OPTS).decode() + "\n"
