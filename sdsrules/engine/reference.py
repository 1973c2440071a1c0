"""The reference decider: plain Python over the same facts, the oracle the durable-rules engine is tested
against (``--engine reference``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..findings import Finding, Obligation
from ..workflow import Workflow
from .rules import Rulebook
from .semantics import BREACH, CaseView, Fact, derive, to_finding, to_obligation


def decide(view: CaseView, facts: Sequence[Fact], breaches: set[int]) -> tuple[list[Finding], list[Obligation], set[str]]:
    """Findings for the facts whose positions are in ``breaches``; open obligations; codes that applied."""
    findings = [to_finding(view, facts[n]) for n in sorted(breaches)]
    obligations = [to_obligation(view, f) for f in facts if f.status == "open"]
    applied = {f.rule.code for f in facts if f.status != "excused"}
    return findings, obligations, applied


def is_breach(fact: Fact) -> bool:
    return fact.status in BREACH


class ReferenceChecker:
    """``checker(steps, as_of)`` for ``replay.check_case``."""

    name = "reference"

    def __init__(self, wf: Workflow, book: Rulebook):
        self.wf, self.book = wf, book

    def __call__(self, steps, as_of: date):
        view = CaseView(steps, self.wf, as_of)
        facts = list(derive(view, self.book))
        return decide(view, facts, {n for n, f in enumerate(facts) if is_breach(f)})
