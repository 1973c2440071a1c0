"""The rule engine: rule packs, their event-time semantics, and the engines that decide breaches.

Worker processes and their supervision live in ``sdsrules.pipeline``.
"""

from __future__ import annotations

from ..workflow import Workflow
from .rules import Rule, Rulebook, load_rulebook

__all__ = ["Rule", "Rulebook", "load_rulebook", "make_checker"]


def make_checker(engine: str, wf: Workflow, book: Rulebook):
    """``checker(steps, as_of) -> (findings, obligations, applied)`` for ``replay.check_case``."""
    if engine == "reference":
        from .reference import ReferenceChecker
        return ReferenceChecker(wf, book)
    if engine == "durable":
        from .durable import DurableChecker
        return DurableChecker(wf, book)
    raise ValueError(f"unknown engine {engine!r} (known: durable, reference)")
