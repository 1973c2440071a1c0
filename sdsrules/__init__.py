"""sdsrules: a rules engine and workflow validator for Scotland's Self-directed Support pathway.

The package face is lazy (PEP 562): ``import sdsrules.events`` loads the event contract and nothing else; the
public calls below are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.7.0"

#: public name -> the module that defines it
_FACE = {
    "due": "api", "replay": "api", "replay_records": "api",
    "Event": "events", "Rejection": "events",
    "Finding": "findings", "Obligation": "findings", "Summary": "findings",
    "CaseMonitor": "monitor", "EventInputError": "monitor", "check": "monitor",
    "Workflow": "workflow", "load_workflow": "workflow",
}
__all__ = ["CaseMonitor", "Event", "EventInputError", "Finding", "Obligation", "Rejection", "Summary", "Workflow",
           "check", "due", "load_workflow", "replay", "replay_records"]

if TYPE_CHECKING:  # for type checkers and editors: the same names, eagerly
    from .api import due, replay, replay_records
    from .events import Event, Rejection
    from .findings import Finding, Obligation, Summary
    from .monitor import CaseMonitor, EventInputError, check
    from .workflow import Workflow, load_workflow


def __getattr__(name: str) -> Any:
    module = _FACE.get(name)
    if module is None:
        raise AttributeError(f"module 'sdsrules' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
