"""sdsrules: a rules engine and workflow validator for Scotland's Self-directed Support pathway."""

from .api import due, replay, replay_records
from .events import Event, Rejection
from .findings import Finding, Obligation, Summary
from .monitor import CaseMonitor, EventInputError, check
from .workflow import Workflow, load_workflow

__version__ = "0.1.0"
__all__ = ["CaseMonitor", "Event", "EventInputError", "Finding", "Obligation", "Rejection", "Summary", "Workflow",
           "check", "due", "load_workflow", "replay", "replay_records"]
