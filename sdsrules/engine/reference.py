"""The reference decider: the verdict of each fact in plain Python (``semantics.verdict``), the oracle the
durable-rules engine is tested against (``--engine reference``)."""

from __future__ import annotations

from datetime import date

from ..workflow import Workflow
from .caseview import CaseView
from .rules import Rulebook
from .semantics import decide, derive, verdict


class ReferenceChecker:
    """``checker(steps, as_of)`` for ``replay.check_case``."""

    name = "reference"

    def __init__(self, wf: Workflow, book: Rulebook):
        self.wf, self.book = wf, book

    def __call__(self, steps, as_of: date):
        view = CaseView(steps, self.wf, as_of)
        facts = list(derive(view, self.book))
        return decide(view, facts, [verdict(view, f) for f in facts])
