"""Where checks run, and what happens when a rule engine crashes or hangs: all of it here.

durable-rules is a C extension: it keeps one host per process, is not thread-safe, and has known crashes at
scale. The compiled and reference engines are pure Python. So a check runs on one of three **executors** (the
registry ``EXECUTORS``; ``pipeline.drive`` picks one by name):

* ``inline``: in this process. A pure-Python engine runs on the caller's thread; durable-rules runs on the one
  thread of this process that talks to it (``DurableThread``), and the caller waits on a future (with a timeout
  for live answers: ``CheckTimeout``).
* ``processes``: local worker processes (``ProcessPool``). A dead worker is seen at submit, when results come,
  and by a watchdog (a pool with a dead worker and no result for WATCHDOG seconds counts as broken: a worker
  killed while writing its result can otherwise leave the pool waiting for ever); the pool is replaced; the
  cases in flight are checked again one at a time (``isolated``) and a case that crashes again gets its
  sequence and data checks and an explicit ``Unchecked`` record. Workers die with the parent
  (PR_SET_PDEATHSIG) and leave Ctrl-C and SIGTERM to it.
* ``dask``: a Dask cluster (``sdsrules.distributed.DaskPool``, the same pool interface). Tasks in one Dask worker
  process run one at a time (``worker_task``), for durable-rules.

A worker process loads the design and rule packs once (``init_worker``) and keeps them in ``WORKER``. A whole
run treats SIGTERM as Ctrl-C (``sigterm_as_interrupt``) so no half-written output is left. Fault injection for
the tests is in tests/faults.py, not here.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any, NamedTuple


class ExecutorInfo(NamedTuple):
    name: str
    summary: str


#: the one registry of executors: where ``pipeline.drive`` runs the checks
EXECUTORS: dict[str, ExecutorInfo] = {e.name: e for e in (
    ExecutorInfo("inline", "in this process (durable-rules on this process's engine thread)"),
    ExecutorInfo("processes", "local worker processes, replaced when one dies"),
    ExecutorInfo("dask", "the workers of a Dask cluster (--scheduler)"),
)}


class CheckTimeout(TimeoutError):
    """The rule engine did not answer in time (live checks)."""


# ------------------------------------------------------------------------------------------ checkers

_checkers: dict[tuple, tuple[Any, Any, Any]] = {}  # (engine, id(wf), id(book)) -> (checker, wf, book)
_checkers_lock = threading.Lock()
#: checkers kept per process (the most recently made): a long-lived process that loads designs afresh for each
#: call does not keep every one of them alive
MAX_CHECKERS = 32


def checker(engine: str, wf: Any, book: Any) -> Any:
    """The checker of a pure-Python engine for this design and rulebook, made once per process (a compiled
    checker compiles the packs when made) and shared by every thread (it keeps no state between cases).
    ``engine`` "none": None."""
    if engine == "none":
        return None
    key = (engine, id(wf), id(book))
    with _checkers_lock:
        found = _checkers.get(key)
        if found is not None and found[1] is wf and found[2] is book:
            return found[0]
        from .engine import make_checker
        made = make_checker(engine, wf, book)
        _checkers[key] = (made, wf, book)  # wf and book kept alive with it: their ids stay theirs
        while len(_checkers) > MAX_CHECKERS:
            del _checkers[next(iter(_checkers))]
        return made


# ------------------------------------------------------------------------------------------ inline: durable

class DurableThread:
    """The one thread of this process that talks to durable-rules: it owns one checker per design and rulebook
    and runs the calls handed to it in turn."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.requests: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="sdsrules-durable-engine", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[[Any], Any], wf: Any, book: Any) -> Future:
        """Run ``fn(checker)`` on the engine thread with the durable checker of ``wf`` and ``book``."""
        fut: Future = Future()
        self.requests.put((fut, fn, wf, book))
        return fut

    def _serve(self) -> None:
        from .engine import make_checker

        checkers: dict[tuple, tuple[Any, Any, Any]] = {}
        while True:
            fut, fn, wf, book = self.requests.get()
            if not fut.set_running_or_notify_cancel():
                continue  # the caller gave up waiting before it started
            try:
                key = (id(wf), id(book))
                found = checkers.get(key)
                if found is None or found[1] is not wf or found[2] is not book:
                    found = checkers[key] = (make_checker("durable", wf, book), wf, book)
                fut.set_result(fn(found[0]))
            except BaseException as e:  # handed to the caller, who decides; the thread serves on
                fut.set_exception(e)


_durable: DurableThread | None = None
_durable_lock = threading.Lock()


def durable_thread() -> DurableThread:
    global _durable
    with _durable_lock:
        if _durable is None or _durable.pid != os.getpid() or not _durable.thread.is_alive():
            _durable = DurableThread()  # first use, or a forked child that has no engine thread yet
        return _durable


def inline(engine: str, wf: Any, book: Any, fn: Callable[[Any], Any], timeout: float | None = None) -> Any:
    """``fn(checker)`` in this process: on the caller's thread for a pure-Python engine (or "none"), on the
    durable-rules thread for durable (``CheckTimeout`` if it does not answer within ``timeout`` seconds)."""
    if engine != "durable":
        return fn(checker(engine, wf, book))
    fut = durable_thread().submit(fn, wf, book)
    try:
        return fut.result(timeout)
    except FutureTimeout:
        fut.cancel()
        raise CheckTimeout(f"the durable engine did not answer within {timeout:g} s") from None


# ------------------------------------------------------------------------------------------ worker processes

#: the state of a worker process: its design (``wf``) and checker, loaded once by ``init_worker``
WORKER: dict = {}

#: the design and rule packs the parent loaded, inherited by forked workers (so they do not parse YAML again)
PRELOADED: dict = {}


def init_worker(engine: str, wf_file: str, rule_paths: list[str] | None, complete: bool = False) -> None:
    """Load the design and rule packs of a run into this worker (``complete``: the run's ``--complete``, which
    rides on the loaded design, not on its file)."""
    import attrs

    from .engine import load_rulebook, make_checker
    from .workflow import load_workflow

    key = (wf_file, tuple(rule_paths or ()))
    wf, book = PRELOADED.get(key) or (load_workflow(wf_file), None)
    if complete and not wf.complete:
        wf = attrs.evolve(wf, complete=True)
    made = None
    if engine != "none":
        made = make_checker(engine, wf, book or load_rulebook(rule_paths, wf))
    WORKER.update(wf=wf, checker=made)
    # A worker makes millions of short-lived objects, freed by reference counting; the cyclic collector, run
    # every 700 allocations by default and every so often over the whole heap, cost it about a tenth of its
    # time (benchmarks/replay_bench.py). What init loaded is frozen out of its sight and it runs less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@contextlib.contextmanager
def uncollected() -> Iterator[None]:
    """No cyclic garbage collection while a unit of work runs (a range, a batch of cases). Checking makes a few
    hundred thousand short-lived objects a range, freed by reference counting as the work goes; the collector,
    even at ``init_worker``'s threshold, walked the range's live events over and over, about 9% of a worker's
    time (measured over the benchmark log's byte ranges). Anything cyclic the work leaves behind is bounded by
    one unit and is collected after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def init_local_worker(engine: str, wf_file: str, rule_paths: list[str] | None) -> None:
    """A local worker: it dies with the parent; SIGTERM ends it (not the parent's handler it was forked with, which
    would send a KeyboardInterrupt back as its result); Ctrl-C is for the parent, which then stops the workers."""
    import signal
    die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker(engine, wf_file, rule_paths)


_LOADED: dict[tuple, dict] = {}  # (engine, workflow file, rule paths) -> a Dask worker's WORKER state
_TASK_LOCK = threading.Lock()


def worker_task(setup: tuple[str, str, tuple[str, ...] | None, bool], fn: Callable, *args: Any) -> Any:
    """Run a work function in a Dask worker with the design and rules of ``setup`` (engine, design file, rule
    paths, ``--complete``) loaded (once per process). Tasks of one process run one at a time: durable-rules keeps
    one host per process and is not thread-safe."""
    with _TASK_LOCK:
        state = _LOADED.get(setup)
        if state is None:
            engine, wf_file, rule_paths, complete = setup
            init_worker(engine, wf_file, list(rule_paths) if rule_paths else None, complete)
            state = _LOADED[setup] = dict(WORKER)
        WORKER.update(state)
        return fn(*args)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (PR_SET_PDEATHSIG), so a killed replay leaves no
    orphaned workers blocked on a pipe. Elsewhere (or without libc) nothing happens; the parent's pipes closing
    still ends an idle worker."""
    import sys
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the call: the signal will never come
        os._exit(1)


class ProcessPool:
    """Local worker processes (forked, so they inherit the loaded design and rules), replaced when one dies."""

    def __init__(self, engine: str, workflow: Any, book: Any, rule_paths: list[str] | None, jobs: int):
        self.engine, self.workflow, self.book, self.rule_paths, self.jobs = engine, workflow, book, rule_paths, jobs
        self.ctx = multiprocessing.get_context("fork")
        self.ex = self._new()

    def _new(self) -> ProcessPoolExecutor:
        PRELOADED[(self.workflow.file, tuple(self.rule_paths or ()))] = (self.workflow, self.book)
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=self.ctx, initializer=init_local_worker,
                                   initargs=(self.engine, self.workflow.file, self.rule_paths))

    @property
    def window(self) -> int:
        """Tasks kept in flight."""
        return 2 * self.jobs

    def submit(self, fn, *args) -> Future:
        try:
            return self.ex.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError) as e:  # broken (or shut down after breaking) before the submit
            fut: Future = Future()
            fut.set_exception(BrokenProcessPool(f"the worker pool broke: {e}"))
            return fut

    def healthy(self) -> bool:
        """Whether every worker process is alive (a killed one can leave the pool waiting on a half-written
        result for ever; the watchdog in ``ordered`` asks this when results are slow to come)."""
        procs = getattr(self.ex, "_processes", None) or {}
        return all(p.is_alive() for p in list(procs.values()))

    def _kill(self) -> None:
        procs = getattr(self.ex, "_processes", None) or {}
        for proc in list(procs.values()):
            with contextlib.suppress(OSError, AttributeError, ValueError):
                proc.kill()
        for proc in list(procs.values()):
            with contextlib.suppress(OSError, AttributeError, ValueError, AssertionError):
                proc.join(5)
        # the pool's result reader may be stuck in the middle of a message a killed worker never finished: with
        # every worker gone, closing our copy of the pipe's writing end makes that read end (EOFError), so the
        # pool's manager thread ends instead of blocking the interpreter's exit
        result_queue = getattr(self.ex, "_result_queue", None)
        with contextlib.suppress(OSError, AttributeError):
            result_queue._writer.close()  # type: ignore[union-attr]

    def renew(self) -> None:
        self._kill()
        with contextlib.suppress(Exception):
            self.ex.shutdown(wait=False, cancel_futures=True)
        self.ex = self._new()

    def close(self, clean: bool = True) -> None:
        if not clean:
            self._kill()
            with contextlib.suppress(Exception):
                self.ex.shutdown(wait=False, cancel_futures=True)
            return
        self.ex.shutdown(wait=True, cancel_futures=True)


#: seconds without any result before the watchdog checks that every worker is still alive
WATCHDOG = 2.0


def ordered(pool, tasks: Iterator[tuple[Callable, tuple]], window: int):
    """Run tasks with at most ``window`` in flight; yield (task, result or BrokenProcessPool) in task order.

    A broken pool fails every task in flight: each is yielded with the exception, and the pool is replaced. A
    watchdog: when no result comes for WATCHDOG seconds and a worker is dead, the pool counts as broken (a worker
    killed while writing its result can otherwise leave the pool waiting for ever)."""
    pending: dict[int, tuple[tuple, Future]] = {}
    results: dict[int, Any] = {}
    next_out = 0
    numbered = enumerate(tasks)
    exhausted = False
    healthy = getattr(pool, "healthy", None)
    while True:
        while not exhausted and len(pending) + len(results) < window:
            try:
                n, task = next(numbered)
            except StopIteration:
                exhausted = True
                break
            pending[n] = (task, pool.submit(task[0], *task[1]))
        if not pending and not results:
            return
        if next_out in results:
            yield results.pop(next_out)
            next_out += 1
            continue
        done, _ = wait([f for _, f in pending.values()], timeout=WATCHDOG if healthy else None,
                       return_when=FIRST_COMPLETED)
        broken = not done and healthy is not None and not healthy()
        for n, (task, fut) in list(pending.items()):
            if fut in done:
                try:
                    results[n] = (task, fut.result())
                except BrokenProcessPool as e:
                    results[n] = (task, e)
                    broken = True
                del pending[n]
        if broken:  # every task still in flight died with the pool
            for n, (task, _fut) in list(pending.items()):
                results[n] = (task, BrokenProcessPool("the worker pool broke"))
                del pending[n]
            pool.renew()


def isolated(pool, work: Callable, groups, as_of: date, whole: bool, unchecked: Callable) -> Iterator:
    """After a crash: each case on its own (``work([(case, events)], as_of, whole)``); a case that
    crashes again is ``unchecked(case, events)`` (its sequence and data checks, and an ``Unchecked`` record)."""
    for case, events in groups:
        (_task, res), = ordered(pool, iter([(work, ([(case, events)], as_of, whole))]), 1)
        if isinstance(res, BaseException):
            yield unchecked(case, events)
        else:
            (result,) = res
            yield result


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt in the main thread while a run is on, so it ends as Ctrl-C does: workers
    stopped, temporary files (``--output`` is written to one first) removed."""
    import signal
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, interrupt)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
