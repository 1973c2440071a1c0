"""The replay at scale: streaming, partitioned across worker processes, with memory that does not grow with the
number of cases.

Two ways cases reach the workers:

* **Ranges** (the fast path): one uncompressed JSON Lines file whose cases are sorted by case id (a parallel
  pre-scan checks this, counts lines and finds the latest day). The file is cut into byte ranges; a worker
  reads its own range straight from disk and owns exactly the cases whose first line lies in it: it skips the
  leading lines of a case that began before its range and reads on past its end to finish its last case.
* **Groups** (everything else: CSV, XES, several files, compressed or unsorted input): records are read once,
  sorted by case through an external sort (sorted runs spilled to temporary files, merged by a heap), and sent
  to the workers a batch of cases at a time.

Either way results come back in case order and go to a sink (a formatter that streams, or a collector that
keeps a Report), so ``--jobs N`` gives byte-identical output to ``--jobs 1``. A worker that dies (durable-rules
is a C extension with known crashes at scale) is replaced; its unfinished cases are retried one at a time, and
a case that still cannot be checked gets its sequence checks and an explicit ``Unchecked`` record.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import heapq
import itertools
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import orjson

from .engine.names import BULK_DEFAULT, IN_PROCESS
from .events import Event, EventError, Rejection, build_event, parse_at
from .findings import Summary, Unchecked
from .readers._io import MAX_LINE
from .readers.jsonl import _case, _id, _kind, _short
from .replay import CaseResult, check_case, check_cases
from .workflow import Workflow

RANGE_BYTES = 4 * 1024 * 1024  # a range is about this big: small enough to balance, big enough to amortise
BATCH_CASES = 300  # cases a batch, on both paths
SORT_RUN = 200_000  # records held before a sorted run is spilled to disk
#: rejections held before a sorted run is spilled: fewer, so that a log with many bad lines (the 10M-event benchmark
#: log has 40k) does not hold them all until the end (about 14 MB there)
REJECTION_RUN = 10_000
FAULT_ENV = "SDSRULES_FAULT_CASES"  # testing only: comma-separated case ids whose worker aborts


class Sink:
    """Where results go, in case order. ``case`` is called once per case; ``close`` once at the end."""

    def case(self, result: CaseResult) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self, summary: Summary, rejected: Iterable[Rejection], unchecked: Sequence[Unchecked]) -> None:
        raise NotImplementedError  # pragma: no cover - interface


# ------------------------------------------------------------------------------------- external sorting

class Spill:
    """Items with sort keys, sorted in bounded memory: sorted runs go to temporary files, merged on read."""

    def __init__(self, key: Callable[[Any], Any], run: int = SORT_RUN):
        self.key, self.run = key, run
        self.items: list = []
        self.files: list[tuple[int, Any]] = []  # (level, sorted run)
        self.count = 0

    def add(self, item: Any) -> None:
        self.items.append(item)
        self.count += 1
        if len(self.items) >= self.run:
            self._spill()

    def _spill(self) -> None:
        self.items.sort(key=self.key)
        self.files.append(self._write(self.items, 0))
        self.items = []
        # at most FAN_IN runs of a level: FAN_IN runs are merged into one of the next level, so open files grow
        # with the log's size only logarithmically (a log of bad lines must not run out of file descriptors)
        while True:
            counts = collections.Counter(level for level, _ in self.files)
            full = sorted(level for level, n in counts.items() if n >= self.FAN_IN)
            if not full:
                return
            group = [f for level, f in self.files if level == full[0]]
            self.files = [(level, f) for level, f in self.files if level != full[0]]
            merged = self._write(heapq.merge(*(self._read(f) for f in group), key=self.key), full[0] + 1)
            for f in group:
                f.close()
            self.files.append(merged)

    #: sorted runs of one level merged into one when there are this many
    FAN_IN = 64

    @staticmethod
    def _write(items: Iterable[Any], level: int) -> tuple[int, Any]:
        f = tempfile.TemporaryFile(prefix="sdsrules-sort-")  # noqa: SIM115 - closed in close(); deleted with it
        dump = pickle.Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump
        for item in items:
            dump(item)
        f.seek(0)
        return level, f

    def __iter__(self) -> Iterator[Any]:
        self.items.sort(key=self.key)
        if not self.files:
            yield from self.items
            return
        runs = [self._read(f) for _, f in self.files]
        yield from heapq.merge(*runs, iter(self.items), key=self.key)

    @staticmethod
    def _read(f) -> Iterator[Any]:
        unpickler = pickle.Unpickler(f)
        while True:
            try:
                yield unpickler.load()
            except EOFError:
                return

    def close(self) -> None:
        for _, f in self.files:
            with contextlib.suppress(OSError):
                f.close()
        self.files, self.items = [], []


def rejection_key(r: Rejection) -> tuple:
    return (r.file, r.line)


# ------------------------------------------------------------------------------------------ the pre-scan

def _case_of(record: Any) -> str | None:
    """The case id a record would have as an Event (see events.build_event), or None."""
    if not isinstance(record, dict):
        return None
    case = record.get("case")
    if case is None or isinstance(case, bool):
        return None
    if isinstance(case, str):
        case = case.strip()
        return case or None
    if isinstance(case, int):
        return str(case)
    if isinstance(case, float):
        return format(case, "g")
    return None


@attrs.frozen(slots=True)
class Scan:
    """What the pre-scan learned of one raw range."""

    lines: int
    latest: date | None
    sorted: bool
    first_case: str | None
    last_case: str | None


def _bounded_lines(f, start: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset, line) from ``start`` to the end of the file; line is None for a line longer than MAX_LINE, which is
    skipped in chunks, never held whole (as the JSONL reader does)."""
    f.seek(start)
    pos = start
    limit = MAX_LINE + 1
    readline = f.readline
    while True:
        line = readline(limit)
        if not line:
            return
        if len(line) == limit and not line.endswith(b"\n"):
            n = len(line)
            while True:
                more = readline(limit)
                n += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield pos, None
            pos += n
            continue
        yield pos, line
        pos += len(line)


def _lines_in(f, start: int, end: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset, line) for lines starting in [start, end)."""
    for pos, line in _bounded_lines(f, start):
        if pos >= end:
            return
        yield pos, line


def prescan(path: str, start: int, end: int) -> Scan:
    lines = 0
    latest_text = ""
    ok = True
    first = last = None
    with open(path, "rb") as f:
        for pos, line in _lines_in(f, start, end):
            lines += 1
            if line is None:
                continue
            if pos == 0 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            case = _case_of(rec)
            if case is not None:
                if last is not None and case < last:
                    ok = False
                if first is None:
                    first = case
                last = case
                at = rec.get("at")
                if isinstance(at, str) and at[:10] >= latest_text[:10]:
                    with contextlib.suppress(ValueError):
                        parse_at(at)  # only a valid time can be the latest
                        if at[:10] > latest_text[:10] or latest_text == "":
                            latest_text = at
    latest = None
    if latest_text:
        latest = parse_at(latest_text)[1]
    return Scan(lines, latest, ok, first, last)


def cut(path: str, size: int | None = None) -> list[tuple[int, int]]:
    """Raw byte ranges of about RANGE_BYTES, each starting at the start of a line."""
    total = os.path.getsize(path)
    step = size or RANGE_BYTES
    bounds = [0]
    with open(path, "rb") as f:
        pos = step
        while pos < total:
            f.seek(pos)
            while True:  # to the start of the next line, in bounded reads
                chunk = f.readline(MAX_LINE)
                if not chunk or chunk.endswith(b"\n"):
                    break
            nxt = f.tell()
            if nxt >= total:
                break
            if nxt > bounds[-1]:
                bounds.append(nxt)
            pos = nxt + step
    bounds.append(total)
    return list(itertools.pairwise(bounds))


# ---------------------------------------------------------------------------------------- reading a range

@attrs.frozen(slots=True)
class Range:
    """A range of a case-sorted JSONL file and what a worker needs to own its cases exactly."""

    path: str
    start: int
    end: int
    first_line: int  # the line number of the line at ``start``
    prev_case: str | None  # the case of the last readable line before ``start`` (None: no such line)
    name: str | None = None  # the file's name in records (default: ``path``; differs where a Dask worker opens it)


def iter_range(r: Range) -> Iterator[tuple[str, Any]]:
    """("case", (case, events)) and ("rejection", Rejection) items of the cases the range owns, in file order;
    then ("read", n): the number of records read."""
    name = r.name or r.path
    number = r.first_line - 1
    read = 0
    current: str | None = None
    events: list[Event] = []
    with open(r.path, "rb") as f:
        # every range but the first skips what belongs to the case before it: that case's lines, and the blank or
        # unreadable lines among and after them (the owner of a case reads on over those; see the module doc)
        skipping = r.start > 0
        for offset, line in _bounded_lines(f, r.start):
            number += 1
            if line is None:
                rec: Any = _TOO_LONG
            else:
                try:
                    rec = orjson.loads(line)  # JSON allows the line's own whitespace and newline around it
                except orjson.JSONDecodeError:
                    rec = _unparsed(line, number)
            case = _case_of(rec) if type(rec) is dict else None
            if skipping:
                if rec is _BLANK or case is None or case == r.prev_case:
                    continue  # a line of the case that began before this range (or between its lines)
                skipping = False
            if offset >= r.end and (rec is not _BLANK and case is not None and case != current):
                break  # past the end, and the last case is finished
            if rec is _BLANK:
                continue  # a blank line is not a record
            read += 1
            item = _record(rec, name, number, offset)
            if isinstance(item, Rejection):
                yield "rejection", item
                continue
            if item.case != current:
                if events:
                    yield "case", (current, events)
                current, events = item.case, []
            events.append(item)
    if events:
        yield "case", (current, events)
    yield "read", read


_BLANK = object()  # a blank line: not a record
_TOO_LONG = object()  # a line over MAX_LINE: a record, rejected


def _unparsed(line: bytes, number: int) -> Any:
    """What a line orjson refused is: blank (not a record), JSON after a byte-order mark on line 1, or the error
    (from the line without its newline, so the message is the one the JSONL reader gives)."""
    raw = line.rstrip(b"\r\n")
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        return _BLANK
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        return e


def _record(rec: Any, name: str, number: int, offset: int) -> Event | Rejection:
    if rec is _TOO_LONG:
        return Rejection(name, number, f"the line is longer than {MAX_LINE // 1024} KiB")
    if isinstance(rec, orjson.JSONDecodeError):
        reason = "is not UTF-8 text" if "utf-8" in str(rec).lower() else f"is not valid JSON ({_short(rec)})"
        return Rejection(name, number, f"the line {reason}")
    if not isinstance(rec, dict):
        return Rejection(name, number, f"the line must be a JSON object (got a {_kind(rec)})")
    try:
        return build_event(rec, file=name, line=number, seq=offset)
    except EventError as e:
        return Rejection(name, number, f"'{e.field}' {e.reason}", e.field, _case(rec), _id(rec))


# ------------------------------------------------------------------------------------------- the workers

_W: dict = {}


#: the design and rule packs the parent loaded, inherited by forked workers (so they do not parse YAML again)
_PRELOADED: dict = {}


def _init_worker(engine: str, wf_file: str, rule_paths: list[str] | None) -> None:
    from .engine import load_rulebook, make_checker
    from .workflow import load_workflow

    key = (wf_file, tuple(rule_paths or ()))
    wf, book = _PRELOADED.get(key) or (load_workflow(wf_file), None)
    checker = None
    if engine != "none":
        checker = make_checker(engine, wf, book or load_rulebook(rule_paths, wf))
    _W.update(wf=wf, checker=checker, faults=set(filter(None, os.environ.get(FAULT_ENV, "").split(","))))
    # A worker makes millions of short-lived objects, freed by reference counting; the cyclic collector, run
    # every 700 allocations by default and every so often over the whole heap, cost it about a tenth of its
    # time (benchmarks/replay_bench.py). What init loaded is frozen out of its sight and it runs less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


#: cases a worker checks together (one durable-rules batch): large enough to spread each engine call's fixed
#: cost thin, small enough that a batch's cases, steps and facts stay a few megabytes
BATCH = BATCH_CASES


def _check(groups: list[tuple[str, list[Event]]], as_of: date) -> list[CaseResult]:
    faults = _W["faults"]
    if faults and any(case in faults for case, _ in groups):  # fault injection for the supervision tests
        import faulthandler
        faulthandler.disable()  # the abort is deliberate: no stack dump in the test output
        os.abort()
    return check_cases(groups, _W["wf"], as_of, _W["checker"])


def _work_range(r: Range, as_of: date) -> tuple[list[CaseResult], list[Rejection], int]:
    results, rejected, read = [], [], 0
    groups: list[tuple[str, list[Event]]] = []
    for kind, item in iter_range(r):
        if kind == "case":
            groups.append(item)
            if len(groups) >= BATCH:
                results.extend(_check(groups, as_of))
                groups = []
        elif kind == "rejection":
            rejected.append(item)
        else:
            read = item
    if groups:
        results.extend(_check(groups, as_of))
    return results, rejected, read


def _work_groups(groups: list[tuple[str, list[Event]]], as_of: date) -> list[CaseResult]:
    return _check(groups, as_of)


# ------------------------------------------------------------------------------------------- the driver

@attrs.define
class Options:
    workflow: Workflow
    engine: str = BULK_DEFAULT
    jobs: int = 1
    rule_paths: Sequence[str] | None = None
    as_of: date | None = None
    progress: Callable[[int, int], None] | None = None
    book: Any = None  # the loaded Rulebook (None for engine "none")

    def checker(self):
        if self.engine == "none":
            return None
        from .engine import make_checker
        return make_checker(self.engine, self.workflow, self.book)


class _Pool:
    """A process pool that is replaced when a worker dies."""

    def __init__(self, opts: Options):
        self.opts = opts
        self.ctx = multiprocessing.get_context("fork")
        self.ex = self._new()

    def _new(self) -> ProcessPoolExecutor:
        o = self.opts
        _PRELOADED[(o.workflow.file, tuple(o.rule_paths or ()))] = (o.workflow, o.book)
        return ProcessPoolExecutor(max_workers=o.jobs, mp_context=self.ctx, initializer=_init_worker,
                                   initargs=(o.engine, o.workflow.file, list(o.rule_paths) if o.rule_paths else None))

    @property
    def window(self) -> int:
        """Tasks kept in flight."""
        return 2 * self.opts.jobs

    def submit(self, fn, *args) -> Future:
        return self.ex.submit(fn, *args)

    def renew(self) -> None:
        self.ex.shutdown(wait=False, cancel_futures=True)
        self.ex = self._new()

    def close(self) -> None:
        self.ex.shutdown(wait=True, cancel_futures=True)


def _ordered(pool: _Pool, tasks: Iterator[tuple[Callable, tuple]], window: int):
    """Run tasks with at most ``window`` in flight; yield (task, result or BrokenProcessPool) in task order.

    A broken pool fails every task in flight: each is yielded with the exception, and the pool is replaced."""
    pending: dict[int, tuple[tuple, Future]] = {}
    results: dict[int, Any] = {}
    next_out = 0
    numbered = enumerate(tasks)
    exhausted = False
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
        done, _ = wait([f for _, f in pending.values()], return_when=FIRST_COMPLETED)
        broken = False
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


def _isolated(pool: _Pool, groups: Iterable[tuple[str, list[Event]]], as_of: date,
              opts: Options) -> Iterator[CaseResult]:
    """Check cases one at a time after a crash; a case that crashes again is checked without rules."""
    for case, events in groups:
        try:
            (result,) = pool.submit(_work_groups, [(case, events)], as_of).result()
        except BrokenProcessPool:
            pool.renew()
            base = check_case(case, events, opts.workflow, as_of, None)
            result = attrs.evolve(base, obligations=(), unchecked=Unchecked(
                case, f"the {opts.engine} rule engine crashed on this case twice; only its sequence and data "
                      "checks were made"))
        yield result


def run_ranges(path: str, opts: Options, sink: Sink, pool=None) -> Summary | None:
    """The fast path. Returns None (having sent nothing to the sink) when the file is not sorted by case.

    ``pool``: where tasks run (default: local worker processes; ``sdsrules.distributed`` passes a Dask cluster)."""
    raw = cut(path)
    summary = Summary(workflow=opts.workflow.describe(), engine=opts.engine, rules=_rules(opts))
    pool = pool if pool is not None else _Pool(opts)
    try:
        scans = [res for _, res in _ordered(pool, ((prescan, (path, s, e)) for s, e in raw), pool.window)]
        if any(isinstance(s, BaseException) for s in scans):
            raise RuntimeError("the pre-scan's worker died")
        ok = all(s.sorted for s in scans)
        last = None
        for s in scans:
            if s.first_case is not None:
                if last is not None and s.first_case < last:
                    ok = False
                last = s.last_case
        if not ok:
            return None
        as_of = opts.as_of or max((s.latest for s in scans if s.latest), default=None) or date.today()
        summary.as_of = as_of.isoformat()
        ranges = []
        line, prev = 1, None
        for (s, e), sc in zip(raw, scans, strict=True):
            ranges.append(Range(path, s, e, line, prev))
            line += sc.lines
            if sc.last_case is not None:
                prev = sc.last_case
        feed = _Feed(summary, sink, sum(sc.lines for sc in scans), opts.progress)
        for task, res in _ordered(pool, ((_work_range, (r, as_of)) for r in ranges), pool.window):
            if isinstance(res, BaseException):  # the range's worker died: redo it here, a case at a time
                groups = []
                for kind, item in iter_range(task[1][0]):
                    if kind == "case":
                        groups.append(item)
                    elif kind == "rejection":
                        feed.rejected.add(item)
                    else:
                        summary.events_read += item
                feed.take(_isolated(pool, groups, as_of, opts))
            else:
                results, rej, read = res
                summary.events_read += read
                for x in rej:
                    feed.rejected.add(x)
                feed.take(results)
        return feed.close()
    finally:
        pool.close()


def run_records(records: Iterable[Event | Rejection], opts: Options, sink: Sink, pool=None) -> Summary:
    """The general path: any records, in any order, sorted by case in bounded memory (``pool``: see run_ranges)."""
    summary = Summary(workflow=opts.workflow.describe(), engine=opts.engine, rules=_rules(opts))
    events = Spill(lambda e: (e.case, e.seq))
    rejected = Spill(rejection_key, REJECTION_RUN)
    latest = None
    for r in records:
        summary.events_read += 1
        if isinstance(r, Rejection):
            rejected.add(r)
        else:
            events.add(r)
            if latest is None or r.day > latest:
                latest = r.day
    as_of = opts.as_of or latest or date.today()
    summary.as_of = as_of.isoformat()
    feed = _Feed(summary, sink, events.count, opts.progress, rejected)  # the records' rejections, the cases' to come

    def groups() -> Iterator[tuple[str, list[Event]]]:
        for case, evs in itertools.groupby(events, key=lambda e: e.case):
            yield case, list(evs)

    def batches() -> Iterator[list[tuple[str, list[Event]]]]:
        it = groups()
        while True:
            batch, size = [], 0
            for g in it:
                batch.append(g)
                size += len(g[1])
                if len(batch) >= BATCH_CASES or size >= 20_000:
                    break
            if not batch:
                return
            yield batch

    try:
        if opts.engine in IN_PROCESS and opts.jobs == 1 and pool is None:  # pure Python: no worker
            checker = opts.checker()
            for c, evs in groups():
                feed.take((check_case(c, evs, opts.workflow, as_of, checker),))
        else:
            pool = pool if pool is not None else _Pool(opts)
            try:
                for task, res in _ordered(pool, ((_work_groups, (b, as_of)) for b in batches()), pool.window):
                    feed.take(_isolated(pool, task[1][0], as_of, opts) if isinstance(res, BaseException) else res)
            finally:
                pool.close()
        feed.close()
    finally:
        events.close()
        feed.rejected.close()
    return summary


def _rules(opts: Options) -> int:
    return len(opts.book.rules) if opts.book is not None else 0


class _Feed:
    """Results on their way to the sink, in case order: counted into the summary, progress reported, and at the
    end the rejections (sorted, from disk if many) and the unchecked cases handed over with the summary."""

    def __init__(self, summary: Summary, sink: Sink, total: int, progress, rejected: Spill | None = None):
        self.summary, self.sink, self.total, self.progress = summary, sink, total, progress
        self.rejected = rejected if rejected is not None else Spill(rejection_key, REJECTION_RUN)
        self.unchecked: list[Unchecked] = []
        self.done = 0

    def take(self, results: Iterable[CaseResult]) -> None:
        s = self.summary
        for result in results:
            s.cases += 1
            s.events_replayed += result.replayed
            s.cases_reordered += result.reordered
            for f in result.findings:
                s.findings_by_code[f.code] += 1
            for r in result.rejected:
                self.rejected.add(r)
            if result.unchecked is not None:
                self.unchecked.append(result.unchecked)
            self.sink.case(result)
            self.done += result.replayed
        if self.progress:
            self.progress(min(self.done, self.total), self.total)

    def close(self) -> Summary:
        self.summary.events_rejected = self.rejected.count
        self.summary.cases_unchecked = len(self.unchecked)
        self.sink.close(self.summary, iter(self.rejected), self.unchecked)
        self.rejected.close()
        return self.summary


def fast_path_ok(paths: Sequence[str], input_format: str | None, activity_map) -> str | None:
    """The one path the ranges can read, or None."""
    if len(paths) != 1 or activity_map is not None or input_format not in (None, "jsonl"):
        return None
    p = str(paths[0])
    if p == "-" or not p.lower().endswith((".jsonl", ".ndjson", ".json")) or not Path(p).is_file():
        return None
    return p
