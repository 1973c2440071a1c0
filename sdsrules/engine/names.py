"""The one registry of rule engine names: which engines exist, what each is, and which is the default where.

Everything that offers ``--engine`` or takes ``engine=`` (the CLI, ``sdsrules.api``, ``CaseMonitor`` and
``check()``, the service, Dask) takes its names and defaults from here.

* **bulk replay** (``replay``, ``report``, ``convert --annotate``, Dask) runs the compiled evaluator: a whole log,
  millions of events, where the cost per event decides;
* **live checking** (``check``, ``CaseMonitor``, the service) keeps durable-rules, an incremental rules engine,
  where facts arrive one case at a time;
* the reference evaluator is the oracle the other two are tested against (``tests/test_engines_equal.py``).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class EngineInfo(NamedTuple):
    name: str
    module: str  #: where its checker class lives (imported only when chosen)
    cls: str
    pure_python: bool  #: runs in-process with no C extension: no worker process needed for one job
    summary: str


ENGINES: dict[str, EngineInfo] = {e.name: e for e in (
    EngineInfo("compiled", "sdsrules.engine.compiled", "CompiledChecker", True,
               "each rule compiled once into a closure that searches and judges (fastest)"),
    EngineInfo("durable", "sdsrules.engine.durable", "DurableChecker", False,
               "durable-rules judges the facts the replay found (incremental)"),
    EngineInfo("reference", "sdsrules.engine.reference", "ReferenceChecker", True,
               "plain Python verdicts, the oracle the others are tested against"),
)}

#: "none": no rule engine, only the sequence and data checks of the replay
NONE = "none"
#: the engine names, in the order they are offered
NAMES: tuple[str, ...] = tuple(ENGINES)
#: the names ``replay``, ``report`` and ``convert --annotate`` accept
WITH_NONE: tuple[str, ...] = (*NAMES, NONE)
#: the default for bulk replay: ``replay``, ``report``, ``convert --annotate``, Dask, ``api.run``/``api.replay``
BULK_DEFAULT = "compiled"
#: the default for live checking: ``check()``, ``assess()``, ``CaseMonitor``, the service
LIVE_DEFAULT = "durable"
#: engines (and "none") that run in the calling process when one job is asked for
IN_PROCESS: frozenset[str] = frozenset({NONE, *(e.name for e in ENGINES.values() if e.pure_python)})


def known(allow_none: bool = False) -> tuple[str, ...]:
    return WITH_NONE if allow_none else NAMES


def require(engine: str, allow_none: bool = False) -> str:
    """``engine`` if it is a known name, else ValueError naming the known ones."""
    names = known(allow_none)
    if engine not in names:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(names)})")
    return engine


def checker_class(engine: str) -> type:
    info = ENGINES.get(engine)
    if info is None:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(NAMES)})")
    return getattr(importlib.import_module(info.module), info.cls)
