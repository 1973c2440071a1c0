"""The rule engine: rule packs, their event-time semantics, and the engines that decide breaches.

``run_cases`` checks cases in supervised worker processes: a worker that dies (durable-rules is a C
extension with known crashes at scale) is replaced, the cases it had not finished are retried one at a time,
and a case that still cannot be checked gets its sequence checks plus an explicit ``Unchecked`` record,
never a silent gap.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

from ..events import Event
from ..findings import Unchecked
from ..replay import CaseResult, check_case
from ..workflow import Workflow, load_workflow
from .rules import Rule, Rulebook, load_rulebook

__all__ = ["Rule", "Rulebook", "load_rulebook", "make_checker", "run_cases"]

BATCH = 200
FAULT_ENV = "SDSRULES_FAULT_CASES"  # testing only: comma-separated case ids whose worker aborts


def make_checker(engine: str, wf: Workflow, book: Rulebook):
    if engine == "reference":
        from .reference import ReferenceChecker
        return ReferenceChecker(wf, book)
    if engine == "durable":
        from .durable import DurableChecker
        return DurableChecker(wf, book)
    raise ValueError(f"unknown engine {engine!r} (known: durable, reference)")


# ----------------------------------------------------------------------------------------- worker side
_W: dict = {}


def _init_worker(engine: str, wf_file: str, rule_paths: list[str] | None) -> None:
    wf = load_workflow(wf_file)
    book = load_rulebook(rule_paths, wf)
    _W.update(wf=wf, checker=make_checker(engine, wf, book),
              faults=set(filter(None, os.environ.get(FAULT_ENV, "").split(","))))


def _work(batch: list[tuple[str, list[Event]]], as_of: date) -> list[CaseResult]:
    out = []
    for case, events in batch:
        if case in _W["faults"]:  # fault injection for the supervision tests
            import faulthandler
            faulthandler.disable()  # the abort is deliberate: no stack dump in the test output
            os.abort()
        out.append(check_case(case, events, _W["wf"], as_of, _W["checker"]))
    return out


# ----------------------------------------------------------------------------------------- parent side
def run_cases(cases: Sequence[tuple[str, list[Event]]], wf: Workflow, book: Rulebook, as_of: date,
              engine: str = "durable", jobs: int = 1, progress=None,
              rule_paths: Sequence[str | Path] | None = None) -> Iterator[CaseResult]:
    """Check every case; yields one CaseResult per case (in no particular order)."""
    total = len(cases)
    if engine == "reference" and jobs == 1:
        checker = make_checker("reference", wf, book)
        for n, (case, events) in enumerate(cases, 1):
            yield check_case(case, events, wf, as_of, checker)
            if progress:
                progress(n, total)
        return
    paths = [str(p) for p in rule_paths] if rule_paths else None
    batches = [list(cases[i:i + BATCH]) for i in range(0, total, BATCH)]
    retry: list[tuple[str, list[Event]]] = []
    done = 0
    ctx = multiprocessing.get_context("fork")

    def pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(engine, wf.file, paths))

    executor = pool()
    try:
        pending = {}
        queue = list(reversed(batches))
        while queue or pending:
            while queue and len(pending) < 2 * jobs:
                b = queue.pop()
                pending[executor.submit(_work, b, as_of)] = b
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                batch = pending.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    retry.extend(batch)
                    broken = True
                    continue
                for r in results:
                    done += 1
                    yield r
                if progress:
                    progress(done, total)
            if broken:
                for batch in pending.values():
                    retry.extend(batch)
                pending.clear()
                executor.shutdown(wait=False, cancel_futures=True)
                executor = pool()
        # cases from crashed batches: one at a time, each in a fresh pool if it crashes again
        for case, events in retry:
            try:
                (result,) = executor.submit(_work, [(case, events)], as_of).result()
            except BrokenProcessPool:
                executor.shutdown(wait=False, cancel_futures=True)
                executor = pool()
                base = check_case(case, events, wf, as_of, None)
                result = CaseResult(base.case, base.findings, base.rejected, (), base.replayed, base.reordered,
                                    Unchecked(case, f"the {engine} rule engine crashed on this case twice; only its "
                                                    "sequence and data checks were made"),
                                    base.applicable, base.profile)
            done += 1
            yield result
            if progress:
                progress(done, total)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
