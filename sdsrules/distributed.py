"""The replay on a Dask cluster (``sdsrules replay --scheduler tcp://host:8786``): the same answers, byte for byte,
as the replay on this machine.

Nothing here decides anything: ``pipeline.drive`` drives the run exactly as it does locally (the ranges or the
external sort, the accounting, the order of results, the sink) and only the pool it submits tasks to is the
cluster's (executor "dask"). So:

* **Ranges**: for one case-sorted JSON Lines file every range is a Dask task, and a worker
  reads its range straight from the file. The workers must see the log at the same absolute path as this
  machine (on a remote cluster: a shared filesystem); records still name it as it was given.
* **Groups**: anything else is read and sorted by case here, and the cases travel to the workers in batches.
* **The rules**: a task carries the engine name and the paths of the workflow design and rule packs (not the
  loaded objects); each worker process loads them once and keeps them (``_LOADED``). The workers must see those
  paths too, and run the same sdsrules. Tasks in one worker process run one at a time (``_LOCK``): durable-rules
  keeps one host per process and is not thread-safe, so extra threads per worker buy nothing.

At most four tasks per worker are in flight; results are consumed in task order. When a worker dies, Dask
retries its task on another (``distributed.scheduler.allowed-failures``, 3 by default); a task that kills its
worker every time ends as ``KilledWorker``, which the pipeline treats like a local worker crash: the range's
cases are checked again one at a time and a case that still crashes gets an explicit ``Unchecked`` record. Any
other failure of a task (a file the worker cannot read, a lost scheduler) stops the run with a ``ClusterError``
naming the range or batch; there is never a silent gap.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import attrs

from .datafile import DataFileError
from .supervise import worker_task

CONNECT_TIMEOUT = 30  # seconds to reach the scheduler and see at least one worker
IN_FLIGHT_PER_WORKER = 4


class ClusterError(RuntimeError):
    """The cluster could not be used, or a task failed there for good. ``args``: (message, what failed)."""

    def __str__(self) -> str:
        return self.args[0]


# ------------------------------------------------------------------------------------------ on the workers

# ------------------------------------------------------------------------------------------ on this machine

def _what(fn: Callable, args: tuple) -> str:
    """The task in words, for errors."""
    if fn.__name__ == "_work_range":
        r = args[0]
        return f"the range of {r.path} from byte {r.start} to {r.end} (line {r.first_line} on)"
    if fn.__name__ == "_work_guess":
        return f"batch {args[4] + 1} of the cases as read"
    if fn.__name__ in ("_work_chunk", "_work_chunk_again"):
        return f"the chunk of {args[1]} from line {args[0].line}"
    groups = args[0]
    return f"the batch of {len(groups)} cases from {groups[0][0]} to {groups[-1][0]}"


class DaskPool:
    """The pipeline's pool (``submit``, ``window``, ``renew``, ``close``) on a Dask cluster.

    ``submit`` returns a ``concurrent.futures.Future`` (what the pipeline waits on). ``KilledWorker`` comes back
    as ``BrokenProcessPool`` so the pipeline's crash handling applies; any other failure as ``ClusterError``."""

    def __init__(self, client, opts: Any):
        self.client = client
        # the workers open files by absolute path (their working directory is not ours)
        rules = tuple(os.path.abspath(p) for p in opts.rule_paths) if opts.rule_paths else None
        self.setup = (opts.engine, os.path.abspath(opts.workflow.file), rules, bool(opts.workflow.complete))
        self.window = IN_FLIGHT_PER_WORKER * max(1, len(client.nthreads()))
        self.live: set = set()  # Dask futures not yet done (a Dask future that is dropped is cancelled)
        self.guard = threading.Lock()

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        from distributed import KilledWorker

        out: cf.Future = cf.Future()
        out.set_running_or_notify_cancel()
        what = _what(fn, args)
        if fn.__name__ == "_work_range":  # records still name the file as it was given
            r = args[0]
            args = (attrs.evolve(r, path=os.path.abspath(r.path), name=r.name or r.path), *args[1:])
        fut = self.client.submit(worker_task, self.setup, fn, *args, pure=False)
        with self.guard:
            self.live.add(fut)

        def done(f) -> None:
            with self.guard:
                self.live.discard(f)
            if f.status == "finished":
                try:
                    out.set_result(f.result())
                except Exception as e:  # the result could not be fetched (a lost worker or scheduler)
                    out.set_exception(ClusterError(f"{what} finished on the Dask cluster but its result could "
                                                   f"not be fetched: {e}", what))
                return
            if f.status == "cancelled":
                out.set_exception(ClusterError(f"{what} was cancelled on the Dask cluster (was the scheduler "
                                               "lost?)", what))
                return
            err = f.exception()
            if isinstance(err, KilledWorker):  # it killed every worker it was tried on: a crash, as locally
                out.set_exception(BrokenProcessPool(f"{what} killed its Dask workers: {err}"))
            elif isinstance(err, OSError | DataFileError):
                out.set_exception(ClusterError(
                    f"{what} failed on the Dask cluster: {err}. The cluster's workers must see the same paths as "
                    "this machine (the log, the workflow design and the rule packs).", what))
            else:
                out.set_exception(ClusterError(f"{what} failed on the Dask cluster: {type(err).__name__}: {err}",
                                               what))

        fut.add_done_callback(done)
        return out

    def renew(self) -> None:
        """Nothing to do: a Dask nanny restarts a dead worker itself."""

    def close(self, clean: bool = True) -> None:
        with self.guard:
            live, self.live = list(self.live), set()
        if live:
            self.client.cancel(live)


def connect(scheduler: str):
    """A client of the scheduler at ``scheduler`` (tcp://host:port) with at least one worker, or ClusterError."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("a Dask scheduler was given but Dask is not installed here: "
                           "pip install 'sdsrules[dask]'", scheduler) from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {e}", scheduler) from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (TimeoutError, OSError):
        client.close()
        raise ClusterError(f"the Dask scheduler at {scheduler} has no workers (waited {CONNECT_TIMEOUT} s)",
                           scheduler) from None
    return client
