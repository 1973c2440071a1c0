"""The rule engine: rule packs, their event-time semantics, and the engines that decide breaches.

Engine names and defaults live in ``engine/names.py``. Worker processes and their supervision live in
``sdsrules.pipeline``.
"""

from __future__ import annotations

from ..workflow import Workflow
from .names import checker_class
from .rules import Rule, Rulebook, load_rulebook

__all__ = ["Rule", "Rulebook", "load_rulebook", "make_checker"]


def make_checker(engine: str, wf: Workflow, book: Rulebook):
    """``checker(steps, as_of) -> (findings, obligations, applied)`` for ``replay.check_case``: ``compiled``,
    ``durable`` or ``reference`` (``engine/names.py``)."""
    return checker_class(engine)(wf, book)
