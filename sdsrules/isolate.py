"""Work in supervised child processes: stopped and replaced when it outlives its time, breaks its memory limit
or dies, so that one slow or hostile request cannot hold up the others.

A :class:`Pool` keeps ``size`` child processes (``python -m sdsrules.isolate``), each running a handler built by
a factory named as ``"module:function"`` from one picklable argument. A call hands one payload to a free child
and waits for its answer within a deadline; past the deadline the child is killed (SIGKILL) and replaced on the
next call, and the caller gets :class:`WorkTimeout`. A handler that raises TimeoutError (its own time limit) gets its
process replaced the same way, since what timed out may still hold it. A child that dies (a crash in a C
extension) gives :class:`WorkerDied` and is replaced the same way. Calls beyond the free children wait in a bounded
queue; past it they get :class:`Busy` at once.

Frames on the pipes are a 4-byte length and a pickle; both ends are this module, in one installation. The
child's standard output is kept for frames only (anything the handler prints goes to stderr), it sets
RLIMIT_AS to the memory limit, and it exits when its parent goes (end of input, or the parent's pid changes).
Log lines name the pool, the pid and what happened, never the payload: payloads are case data.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

log = logging.getLogger("sdsrules.service")

_LEN = struct.Struct(">I")
_TIMED_OUT = ("sdsrules.isolate: timed out",)  # the answer of a handler that raised TimeoutError
START_TIMEOUT = 60.0  # seconds for a child to import, load its handler and say it is ready


class WorkTimeout(Exception):
    """The work did not finish by its deadline (its process was stopped)."""


class WorkerDied(Exception):
    """The process doing the work died before it answered (it is replaced)."""

    def __init__(self, how: str):
        super().__init__(how)
        self.how = how


class Busy(Exception):
    """Every process is busy and the queue of waiting calls is full."""


# ------------------------------------------------------------------------------------------------ frames


def _write(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    """``n`` bytes from ``fd``; EOFError when the other end closed, TimeoutError past ``deadline``."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read(fd: int, deadline: float | None) -> Any:
    (size,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    return pickle.loads(_read_exact(fd, size, deadline))


# ------------------------------------------------------------------------------------------------ parent side


def _how(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class Worker:
    """One child process and its pipes. Not thread-safe: the pool gives it to one caller at a time."""

    def __init__(self, name: str, factory: str, arg: Any, memory: int | None):
        self.name, self.factory, self.arg, self.memory = name, factory, arg, memory
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "sdsrules.isolate"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0, close_fds=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            _write(self.proc.stdin, (self.factory, self.arg, self.memory))
            ready = _read(self.proc.stdout.fileno(), time.monotonic() + START_TIMEOUT)
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError):
            how = self.stop()
            raise WorkerDied(f"the {self.name} process did not start ({how})") from None
        if ready != "ready":
            self.stop()
            raise WorkerDied(f"the {self.name} process did not start ({ready})")

    def call(self, payload: Any, deadline: float) -> Any:
        """The child's answer to ``payload``; WorkTimeout or WorkerDied (the process then stopped)."""
        if not self.alive():
            self.start()
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        try:
            _write(self.proc.stdin, payload)
            answer = _read(self.proc.stdout.fileno(), deadline)
        except TimeoutError:
            self.stop()
            raise WorkTimeout from None
        except (OSError, EOFError, pickle.UnpicklingError):
            raise WorkerDied(self.stop()) from None
        if answer == _TIMED_OUT:  # the handler gave up by itself; what it ran may still hold the process
            self.stop()
            raise WorkTimeout
        return answer

    def stop(self) -> str:
        """Kill the child (if it still runs) and reap it; how it ended."""
        proc, self.proc = self.proc, None
        if proc is None:
            return "not running"
        if proc.poll() is None:
            proc.kill()
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return _how(code)


class Pool:
    """``size`` supervised children for one kind of work, a bounded queue in front of them, and a thread per
    child (its own, not the event loop's default pool) that waits for it."""

    def __init__(self, name: str, factory: str, arg: Any, *, size: int = 1, memory: int | None = None,
                 waiting: int = 16):
        self.name, self.size, self.waiting = name, size, waiting
        self.workers = [Worker(name, factory, arg, memory) for _ in range(size)]
        self.free = list(self.workers)
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)  # notified when a worker goes back on the free list
        self.pending = 0
        self.executor = ThreadPoolExecutor(size, thread_name_prefix=f"sdsrules-{name}")
        self.replaced = 0  # processes stopped or found dead (and so replaced), for tests and the log
        self.closed = False

    def start(self) -> None:
        """Start every child now (else each starts on its first call)."""
        for w in self.workers:
            w.start()

    async def call(self, payload: Any, timeout: float) -> Any:
        """The answer to ``payload`` from a free child within ``timeout`` seconds, waiting included."""
        deadline = time.monotonic() + timeout
        with self.lock:
            if self.closed or self.pending >= self.size + self.waiting:
                raise Busy
            self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, self._call, payload, deadline)
        finally:
            with self.lock:
                self.pending -= 1

    def _call(self, payload: Any, deadline: float) -> Any:
        with self.ready:
            while not self.free:  # every child busy, or being replaced after a stop
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise WorkTimeout  # waited past the caller's time: nothing to stop
                self.ready.wait(left)
            worker = self.free.pop()
        if time.monotonic() >= deadline:
            self._give_back(worker)
            raise WorkTimeout
        pid = worker.pid
        if worker.proc is not None and not worker.alive():  # died while idle: said here, replaced by call()
            self.replaced += 1
            log.error("the %s process (pid %s) died (%s); a new process replaces it", self.name, pid, worker.stop())
        try:
            answer = worker.call(payload, deadline)
        except WorkTimeout:
            self.replaced += 1
            log.warning("the %s process (pid %s) was stopped: its work outlived the time limit; a new process "
                        "replaces it", self.name, pid)
            self._replace(worker)
            raise
        except WorkerDied as e:
            self.replaced += 1
            log.error("the %s process (pid %s) died (%s); a new process replaces it", self.name, pid, e.how)
            self._replace(worker)
            raise
        except BaseException:
            self._replace(worker)
            raise
        self._give_back(worker)
        return answer

    def _give_back(self, worker: Worker) -> None:
        with self.ready:
            self.free.append(worker)
            self.ready.notify()

    def _replace(self, worker: Worker) -> None:
        """Start a new child for ``worker`` in the background; back on the free list when it is ready (or,
        should it fail to start, to be started by the next call)."""
        def start() -> None:
            if not self.closed:
                try:
                    worker.start()
                except WorkerDied as e:
                    log.error("%s", e.how)
            self._give_back(worker)
        worker.stop()
        threading.Thread(target=start, name=f"sdsrules-{self.name}-replace", daemon=True).start()

    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.pid is not None and w.alive()]

    def close(self) -> None:
        with self.ready:
            self.closed = True
            self.ready.notify_all()
        for w in self.workers:
            w.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------------------------------------ child side


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)  # the parent is gone: no one will read the answer


def _load(factory: str) -> Callable[[Any], Callable[[Any], Any]]:
    module, _, name = factory.partition(":")
    return getattr(importlib.import_module(module), name)


def main() -> None:
    """The child: read the factory and its argument, build the handler, answer payloads until input ends."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # whatever the handler prints goes to stderr: stdout carries frames only
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    fd = sys.stdin.fileno()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    try:
        factory, arg, memory = _read(fd, None)
    except EOFError:
        return
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        handler = _load(factory)(arg)
    except Exception as e:  # told to the parent by type only: the argument is configuration, not case data
        _write(out, f"{type(e).__name__} while starting")
        return
    _write(out, "ready")
    while True:
        try:
            payload = _read(fd, None)
        except EOFError:
            return
        try:
            answer = handler(payload)
        except TimeoutError:  # the handler's own time limit (CheckTimeout is one): the parent replaces us
            answer = _TIMED_OUT
        except BaseException:  # no traceback: its text could quote the payload. The parent sees us die.
            os._exit(70)
        _write(out, answer)


if __name__ == "__main__":
    main()
