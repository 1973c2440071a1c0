"""The streaming writer interface shared by the formats."""

from __future__ import annotations

from typing import TextIO


class Writer:
    def __init__(self, stream: TextIO):
        self.stream = stream

    def case(self, result) -> None:
        for f in result.findings:
            self.finding(f)

    def finding(self, f) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self, summary, rejected, unchecked) -> None:  # pragma: no cover - interface
        raise NotImplementedError
