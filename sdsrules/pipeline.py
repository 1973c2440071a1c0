"""The one replay driver (``drive``): read, order by case, step, judge, and hand results to a sink in case order,
streaming, with memory that does not grow with the number of cases. Every replay of the product runs here.

Two ways cases reach the checks:

* **Ranges** (the fast path, ``readers.ranges``): one uncompressed JSON Lines file whose cases are sorted by case
  id (each worker checks the order of what it reads; no pre-scan). The file is cut into byte ranges; a worker
  reads its own range straight from disk and owns exactly the cases whose first line lies in it: it skips the
  leading lines of a case that began before its range and reads on past its end to finish its last case.
* **Groups** (everything else: CSV, XES, several files, compressed or unsorted input, records already read):
  records are read once, grouped as they arrive (consecutive events of a case are one item), sorted by case
  through an external sort (``spill.Spill``: sorted runs bounded in bytes spilled to temporary files, merged by a
  heap; a log that arrives in case order is not sorted), and checked a batch of cases at a time.

The checks run on an executor chosen by name (``supervise.EXECUTORS``: inline, local processes, Dask); either way
results come back in case order and go to a sink (a formatter that streams, or a collector that keeps a Report),
so ``--jobs N`` gives byte-identical output to ``--jobs 1``. What happens when a worker dies (durable-rules is a C
extension with known crashes at scale) is ``supervise``'s: the pool is replaced, the unfinished cases are retried
one at a time, and a case that still cannot be checked gets its sequence checks and an explicit ``Unchecked``
record. Fault injection for the tests lives in tests/faults.py, not here.

The as-of date is ``choose_as_of``: the date given, else the latest day of an accepted event (a record the reader
rejected never counts), else today; the summary's ``as_of_rule`` says which.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import operator
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import attrs

from .engine.names import BULK_DEFAULT, IN_PROCESS
from .events import Event, Rejection
from .findings import Finding, Summary, Unchecked
from .maps import ignored_step
from .readers.ranges import Range, RangeScan, cut, iter_range, numbered
from .replay import CaseResult, Report, check_case, check_cases
from .spill import Spill, dumps
from .supervise import (
    EXECUTORS,
    WORKER,
    CheckTimeout,
    ProcessPool,
    inline,
    isolated,
    ordered,
    sigterm_as_interrupt,
    uncollected,
)
from .workflow import Workflow

RANGE_BYTES = 4 * 1024 * 1024  # a range is about this big: small enough to balance, big enough to amortise
BATCH_CASES = 300  # cases a batch, on both paths
#: the general path's budget for events held in memory (an estimate in bytes, below), before a sorted run of them
#: is spilled to disk. 64 MB: the issue's ceiling is 300 MB for a replay of a 262k-event XES (and 500 MB for a whole
#: process tree); the interpreter, the libraries and the rule packs take about 100 MB, a batch in flight and the
#: reader's buffers a few more, so 64 MB leaves room; and runs of 64 MB keep a 10M-event log (about 9 GB of events
#: in memory) to some 150 runs, which FAN_IN merges once. Fewer bytes only means more, smaller runs. Measured
#: (benchmarks/xes_bench.py): the 262k-event XES replays at 79 MB peak RSS, 106 MB as unsorted JSON Lines.
SORT_BYTES = 64 * 1024 * 1024
#: the estimate of an Event's bytes in memory: a fixed cost (the Event, its id, datetime, actor, attribute dict and
#: the list slot) and a cost per attribute (key slot and value). Fitted to tracemalloc over 50k events of three
#: logs (700 B an event with 1.6 attributes in the generated logs, 900-1,360 B with 9.3 in the XES benchmark's):
#: counting costs one len() an event, where measuring each value would cost as much as reading it
EVENT_BYTES = 550
ATTRIBUTE_BYTES = 90
#: rejections held before a sorted run is spilled: fewer, so that a log with many bad lines (the 10M-event benchmark
#: log has 40k) does not hold them all until the end (about 14 MB there)
REJECTION_RUN = 10_000


class Sink:
    """Where results go, in case order. ``case`` is called once per case; ``close`` once at the end."""

    def case(self, result: CaseResult) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self, summary: Summary, rejected: Iterable[Rejection], unchecked: Sequence[Unchecked]) -> None:
        raise NotImplementedError  # pragma: no cover - interface


class CollectSink(Sink):
    """Keeps everything a run finds, for a Report (the API, the live checks, the HTML report; fine for all but
    huge logs)."""

    def __init__(self) -> None:
        self.cases: list[CaseResult] = []
        self.findings: list = []
        self.obligations: list = []

    def case(self, result: CaseResult) -> None:
        self.cases.append(result)
        self.findings.extend(result.findings)
        self.obligations.extend(result.obligations)

    def close(self, summary: Summary, rejected: Iterable[Rejection], unchecked: Sequence[Unchecked]) -> None:
        self.summary, self.rejected, self.unchecked = summary, tuple(rejected), tuple(unchecked)

    def report(self) -> Report:
        return Report(self.summary, tuple(self.findings), self.rejected, tuple(self.obligations), self.unchecked,
                      tuple(self.cases))


def rejection_key(r: Rejection) -> tuple:
    return (r.file, r.line)


# ------------------------------------------------------------------------------------------ the as-of date

AS_OF_GIVEN = "given"
AS_OF_LATEST = "latest accepted event"
AS_OF_TODAY = "today (no event accepted)"


def choose_as_of(given: date | None, latest: date | None) -> tuple[date, str]:
    """The one as-of rule of every way in (issue 13): the date given, else the latest day of an accepted event
    (a record rejected by the reader never counts), else today; with the words that say which."""
    if given is not None:
        return given, AS_OF_GIVEN
    if latest is not None:
        return latest, AS_OF_LATEST
    return date.today(), AS_OF_TODAY


# ------------------------------------------------------------------------------------------- the workers
# (run in worker processes or on a Dask worker, with the state ``supervise.init_worker`` loaded)

#: cases a worker checks together (one durable-rules batch): large enough to spread each engine call's fixed
#: cost thin, small enough that a batch's cases, steps and facts stay a few megabytes
BATCH = BATCH_CASES


def _check(groups: list[tuple[str, list[Event]]], as_of: date, whole: bool = True,
           read_as_of: list[bool] | None = None) -> list[CaseResult]:
    """The cases' results; ``whole`` False: only what a list of findings needs (``replay.check_cases``), which is
    all that goes back to the parent when the output is a findings writer. ``read_as_of``: see ``check_cases``."""
    return check_cases(groups, WORKER["wf"], as_of, WORKER["checker"], whole, read_as_of)


_NONE = pickle.dumps(((0, 0, 0), []), protocol=pickle.HIGHEST_PROTOCOL)


class Written(NamedTuple):
    """A case's result whose findings a worker has written already, with the sink's ``render``
    (``formats.base.Writer.render``): the result without them, their codes (the summary counts them) and their
    text, in order."""

    result: CaseResult
    codes: tuple[str, ...]
    texts: tuple[str, ...]


def _quiet(r: CaseResult) -> bool:
    """A case with nothing to say (no finding, rejection or failure): a findings writer only counts it."""
    return not (r.findings or r.rejected or r.unchecked is not None)


def _sent(r: CaseResult, render: Callable[[Finding], str] | None) -> CaseResult | Written:
    """A case's result as a worker sends it to a findings writer: its findings written already (``Written``) when
    the writer says how (``render``) and there are any, else as it is."""
    if render is None or not r.findings:
        return r
    return Written(CaseResult(r.case, (), r.rejected, (), r.replayed, r.reordered, r.unchecked),
                   tuple(f.code for f in r.findings), tuple(map(render, r.findings)))


def _payload(results: list[CaseResult], whole: bool, render: Callable[[Finding], str] | None = None) -> bytes:
    """A range's results as the worker sends them: (quiet, results), quiet the cases left out, counted as (cases,
    events replayed, cases reordered). For a sink that wants findings only (``whole`` False), the cases with
    nothing to say (no finding, rejection or failure: most of them) are only counted, never sent; a findings
    writer does nothing with them but count them. ``render`` (a findings writer's, ``whole`` False): each case's
    findings go as the text it writes (``Written``), so the writing is done here, in parallel, not by the parent
    at the end."""
    if whole:
        return dumps(((0, 0, 0), results))
    loud: list[CaseResult | Written] = []
    cases = replayed = reordered = 0
    for r in results:
        if not _quiet(r):
            loud.append(_sent(r, render))
        else:
            cases += 1
            replayed += r.replayed
            reordered += r.reordered
    return dumps(((cases, replayed, reordered), loud))


@attrs.frozen(slots=True)
class RangeResult:
    #: the range's results as ``_payload`` pickles them: the driver keeps them on disk as they are until the as-of
    #: date is known, and unpickles them once, on their way to the sink
    results: bytes
    rejected: list[Rejection]
    scan: RangeScan
    as_of: date | None  # the date the cases were judged at (None: not judged, the file is not sorted)


def _work_range(r: Range, hint: date | None, forced: bool, whole: bool = True,
                render: Callable[[Finding], str] | None = None) -> RangeResult:
    """Read a range, then judge its cases at ``hint`` (``forced``) or at the later of ``hint`` and the range's own
    latest day (a guess at the log's as-of date: the driver redoes the range if the guess was wrong). ``whole``
    and ``render``: see ``_payload``."""
    with uncollected():
        return _read_and_judge(r, hint, forced, whole, render)


def _read_and_judge(r: Range, hint: date | None, forced: bool, whole: bool,
                    render: Callable[[Finding], str] | None) -> RangeResult:
    scan = RangeScan()
    groups: list[tuple[str, list[Event]]] = []
    rejected: list[Rejection] = []
    for kind, item in iter_range(r, scan, whole):  # findings only: no event is shown, nor its attributes' order
        if kind == "case":
            groups.append(item)
        elif kind == "rejection":
            rejected.append(item)
    if not scan.sorted:
        return RangeResult(_NONE, [], scan, None)
    as_of = hint if forced or scan.latest is None or (hint is not None and hint >= scan.latest) else scan.latest
    if as_of is None:
        as_of = date.today()
    results: list[CaseResult] = []
    for i in range(0, len(groups), BATCH):
        results.extend(_check(groups[i:i + BATCH], as_of, whole))
    return RangeResult(_payload(results, whole, render), rejected, scan, as_of)


def _check_one(case: str, events: list[Event], wf: Workflow, as_of: date, checker: Any) -> CaseResult:
    return check_case(case, events, wf, as_of, checker)


def _work_groups(groups: list[tuple[str, list[Event]]], as_of: date,
                 whole: bool = True) -> list[CaseResult]:
    with uncollected():
        return _check(groups, as_of, whole)


# ------------------------------------------------------------------------------------------- the driver

@attrs.define
class Options:
    """What a replay runs with. ``executor`` (``supervise.EXECUTORS``): None picks one (see ``choose_executor``).
    ``deadline``: a ``time.monotonic()`` time by which an inline run must be done (``CheckTimeout``)."""

    workflow: Workflow
    engine: str = BULK_DEFAULT
    jobs: int = 1
    rule_paths: Sequence[str] | None = None
    as_of: date | None = None
    progress: Callable[[int, int], None] | None = None
    book: Any = None  # the loaded Rulebook (None for engine "none")
    executor: str | None = None
    scheduler: str | None = None  # a Dask scheduler address (executor "dask")
    deadline: float | None = None


def choose_executor(opts: Options, files: bool) -> str:
    """The executor named in ``opts``, else: Dask when a scheduler is given; this process for a pure-Python
    engine on one job given records already read; worker processes otherwise (durable-rules is isolated from the
    parent; the byte ranges of a sorted JSON Lines file are read by the workers themselves, and any other file is
    read here while the workers judge what has been read)."""
    if opts.executor is not None:
        if opts.executor not in EXECUTORS:
            raise ValueError(f"unknown executor {opts.executor!r} (known: {', '.join(EXECUTORS)})")
        return opts.executor
    if opts.scheduler is not None:
        return "dask"
    if opts.engine in IN_PROCESS and opts.jobs == 1 and not files:
        return "inline"
    return "processes"


def _unchecked(opts: Options, as_of: date) -> Callable[[str, list[Event]], CaseResult]:
    def unchecked(case: str, events: list[Event]) -> CaseResult:
        base = check_case(case, events, opts.workflow, as_of, None)
        return attrs.evolve(base, obligations=(), unchecked=Unchecked(
            case, f"the {opts.engine} rule engine crashed on this case twice; only its sequence and data "
                  "checks were made"))
    return unchecked


def _isolated(pool, groups: Iterable[tuple[str, list[Event]]], as_of: date, opts: Options,
              whole: bool = True) -> Iterator[CaseResult]:
    """Check cases one at a time after a crash; a case that crashes again is checked without rules."""
    return isolated(pool, _work_groups, groups, as_of, whole, _unchecked(opts, as_of))


class _Store:
    """Pickles (bytes) in a temporary file, read back in the order they were put (or one by one, ``get``). Each
    item is pickled on its own (a Pickler kept across items would keep every item alive in its memo: memory
    growing with the log)."""

    def __init__(self) -> None:
        self.f = tempfile.TemporaryFile(prefix="sdsrules-results-")  # noqa: SIM115 - closed in close()

    def put(self, data: bytes) -> int:
        """Add an item at the end; its place, for ``get``."""
        f = self.f
        f.seek(0, os.SEEK_END)
        at = f.tell()
        f.write(len(data).to_bytes(8, "little"))
        f.write(data)
        return at

    def get(self, at: int) -> bytes:
        """The item put at ``at``."""
        f = self.f
        f.seek(at)
        return f.read(int.from_bytes(f.read(8), "little"))

    def __iter__(self) -> Iterator[bytes]:
        f = self.f
        f.flush()
        f.seek(0)
        while True:
            head = f.read(8)
            if len(head) < 8:
                return
            yield f.read(int.from_bytes(head, "little"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.f.close()


def _wants_whole(sink: Sink) -> bool:
    """Whether a sink reads more of a case's result than a findings writer does (open obligations, applicable
    codes, the case's profile, its quiet cases): every sink but a findings writer, unless it says (``wants_whole``).
    When not, the workers check for findings only and send back only the cases with something to say."""
    from .formats.base import Writer
    return getattr(sink, "wants_whole", not isinstance(sink, Writer))


def _render(sink: Sink) -> Callable[[Finding], str] | None:
    """The sink's ``render`` (``formats.base.Writer.render``): how it writes a finding, when workers can do that
    for it."""
    return getattr(type(sink), "render", None)


def drive(sink: Sink, opts: Options, *, paths: Sequence[str | Path] | None = None,
          records: Iterable[Event | Rejection] | None = None, input_format: str | None = None,
          activity_map: Any = None) -> Summary:
    """The one replay driver: read, order by case, step, judge, and hand each case's result to ``sink`` in case
    order, then the summary, the rejections and the unchecked cases. Every replay runs here: the CLI (``replay``,
    ``report``, ``convert --annotate``, ``due``), the API (``api.run``/``replay``, ``check``, ``CaseMonitor``),
    the service and the YAML rule-case runner.

    The input is ``paths`` (read with ``input_format`` and ``activity_map``) or ``records`` already read (events
    and rejections). The checks run on the executor ``choose_executor`` picks (``supervise.EXECUTORS``); the
    answer does not depend on which. One case-sorted JSON Lines file is read by the workers in byte ranges (no
    pre-scan); anything else is sorted by case on disk first. Memory does not grow with the number of cases."""
    if (paths is None) == (records is None):
        raise TypeError("drive() takes paths or records, not both")
    own = opts.workflow.reading_vocabulary  # a design in its own words or time zone: read in them, not the ranges
    fast = None
    if paths is not None and own is None:
        fast = fast_path_ok([str(p) for p in paths], input_format, activity_map)
    executor = choose_executor(opts, paths is not None)
    with sigterm_as_interrupt():
        client = None
        pool: Any = None
        clean = False
        try:
            if executor == "dask":
                from .distributed import DaskPool, connect
                client = connect(opts.scheduler or "")
                pool = DaskPool(client, opts)
            elif executor == "processes":
                pool = ProcessPool(opts.engine, opts.workflow, opts.book,
                                   list(opts.rule_paths) if opts.rule_paths else None, max(1, opts.jobs))
            if fast is not None and pool is not None:
                summary = _run_ranges(fast, opts, sink, pool)
                if summary is not None:
                    clean = True
                    return summary
                pool.renew()  # the file is not sorted by case: what is still in flight is of no use
            if records is None and pool is not None:
                xes = chunks_ok([str(p) for p in paths or ()], input_format)
                if xes is not None:
                    summary = _run_chunks(xes, opts, sink, pool, activity_map, own)
                    if summary is not None:
                        clean = True
                        return summary
            if records is None:
                from .readers import read_all
                records = read_all([str(p) for p in paths or ()], input_format, activity_map, own)
            summary = (_run_stream if pool is not None else _run_records)(records, opts, sink, pool)
            clean = True
            return summary
        finally:
            if pool is not None:
                pool.close(clean)
            if client is not None:
                client.close()


def run_ranges(path: str, opts: Options, sink: Sink) -> Summary | None:
    """The fast path alone, on local worker processes (for tests and benchmarks; ``drive`` chooses it itself).
    Returns None (having sent nothing to the sink) when the file is not sorted by case."""
    pool = ProcessPool(opts.engine, opts.workflow, opts.book, list(opts.rule_paths) if opts.rule_paths else None,
                       max(1, opts.jobs))
    clean = False
    try:
        with sigterm_as_interrupt():
            summary = _run_ranges(path, opts, sink, pool)
        clean = summary is not None
        return summary
    finally:
        pool.close(clean)


def run_records(records: Iterable[Event | Rejection], opts: Options, sink: Sink) -> Summary:
    """``drive`` over records already read."""
    return drive(sink, opts, records=records)


def _run_ranges(path: str, opts: Options, sink: Sink, pool) -> Summary | None:
    """The fast path. Returns None (having sent nothing to the sink) when the file is not sorted by case.

    There is no pre-scan: each worker reads its range, checks the order of its cases and judges them at a guess of
    the as-of date (the latest day known so far, or the range's own); results are kept on disk until the whole
    log is read and the as-of date known (the latest day of an accepted event); a range judged at another date
    is judged again; then everything goes to the sink in case order."""
    summary = Summary(workflow=opts.workflow.describe(), engine=opts.engine, rules=_rules(opts))
    keep = _wants_whole(sink)
    render = None if keep else _render(sink)
    store, again = _Store(), _Store()
    rejected = Spill(rejection_key, REJECTION_RUN)
    total_bytes = max(1, os.path.getsize(path))
    try:
        raw = cut(path, RANGE_BYTES)
        ranges: list[Range] = []
        judged: list[date | None] = []
        latest: date | None = None

        def first_pass() -> Iterator[tuple[Callable, tuple]]:
            for start, end, line in numbered(path, raw):
                r = Range(path, start, end, line)
                ranges.append(r)
                yield _work_range, (r, opts.as_of or latest, opts.as_of is not None, keep, render)

        done_bytes = 0
        for task, res in ordered(pool, first_pass(), pool.window):
            r = task[1][0]
            if isinstance(res, BaseException):  # the worker died: read it here; judge it in the second pass
                scan, rej = RangeScan(), []
                for kind, item in iter_range(r, scan):
                    if kind == "rejection":
                        rej.append(item)
                res = RangeResult(_NONE, rej, scan, None)
            if not res.scan.sorted:
                return None
            summary.events_read += res.scan.read
            for x in res.rejected:
                rejected.add(x)
            if res.scan.latest is not None and (latest is None or res.scan.latest > latest):
                latest = res.scan.latest
            judged.append(res.as_of)
            store.put(res.results)
            done_bytes += r.end - r.start
            if opts.progress:
                opts.progress(summary.events_read, max(summary.events_read,
                                                       summary.events_read * total_bytes // done_bytes))
        as_of, summary.as_of_rule = choose_as_of(opts.as_of, latest)
        summary.as_of = as_of.isoformat()
        redo = [i for i, at in enumerate(judged) if at != as_of]
        for task, res in ordered(pool, ((_work_range, (ranges[i], as_of, True, keep, render)) for i in redo),
                                 pool.window):
            if isinstance(res, BaseException):  # a worker died: the range's cases one at a time
                groups = [item for kind, item in iter_range(task[1][0]) if kind == "case"]
                again.put(_payload(list(_isolated(pool, groups, as_of, opts, keep)), keep, render))
            else:
                again.put(res.results)
        feed = _Feed(summary, sink, summary.events_read, None, rejected)
        redone = set(redo)
        later = iter(again)
        for i, results in enumerate(store):
            feed.take_payload(next(later) if i in redone else results)
        return feed.close()
    finally:
        store.close()
        again.close()
        rejected.close()


class _Reading:
    """Records read once (``runs``): each counted into the summary, a rejection into ``rejected`` (a step the map
    says is no part of the process counted apart), and the events grouped as they arrive: consecutive events of
    one case are one run, yielded as (case, events, in_seq, size) (in_seq: its events came in seq order; size: an
    estimate of its bytes in memory). ``count`` is the events accepted so far, ``latest`` their latest day."""

    def __init__(self, records: Iterable[Event | Rejection], summary: Summary, rejected: Spill | _Kept):
        self.records, self.summary = records, summary
        self.rejected: Any = rejected
        self.count = 0
        self.latest: date | None = None

    def runs(self) -> Iterator[tuple[str, list[Event], bool, int]]:
        summary, rejected = self.summary, self.rejected
        event_bytes, attribute_bytes = EVENT_BYTES, ATTRIBUTE_BYTES
        latest = self.latest
        count = self.count
        case: Any = None  # the case of the run being gathered
        run: list[Event] = []
        size = 0  # its estimate in bytes
        in_seq = True  # its events came in seq order
        last = 0  # the seq of its last event
        for r in self.records:
            summary.events_read += 1
            if isinstance(r, Rejection):
                step = ignored_step(r) if r.field == "activity" else None
                if step is not None:  # a step the map says is no part of the process: counted apart
                    summary.ignore(step)
                else:
                    rejected.add(r)
                continue
            count += 1
            if r.case == case and run:
                run.append(r)
                if r.seq < last:
                    in_seq = False
            else:
                if run:
                    self.count, self.latest = count, latest
                    yield case, run, in_seq, size
                case, run, size, in_seq = r.case, [r], 0, True
            last = r.seq
            size += event_bytes + attribute_bytes * len(r.attrs)
            if latest is None or r.day > latest:
                latest = r.day
        self.count, self.latest = count, latest
        if run:
            yield case, run, in_seq, size


def _gather(runs: Iterable[tuple[str, list[Event], bool, int]]) -> Spill:
    """Runs (``_Reading.runs``) into a Spill, sorted by (case, n) (n: the run's place in the input), as items
    ``((case, n), events, in_seq)``, so a log whose traces arrive whole (XES always, most exports) is sorted a key
    a trace, not a key an event, and one already in case order not at all. Memory is bounded by an estimate in
    bytes (SORT_BYTES); a run is one item, so a single case larger than that is still read whole."""
    events = Spill(_run_key, SORT_BYTES)
    try:
        for n, (case, run, in_seq, size) in enumerate(runs):
            events.add(((case, n), run, in_seq), size)
    except BaseException:  # Ctrl-C, or a reader's failure: the runs on disk go now
        events.close()
        raise
    return events


def _cases(runs: Iterable[tuple[tuple[str, int], list[Event], bool]]) -> Iterator[tuple[str, list[Event]]]:
    """Each case's events from the sorted runs, in exactly the order a stable sort of every event by (case, seq)
    gives: a case's runs come in arrival order, so a stable sort by seq of them joined is that order. Only a case
    that came in several runs or out of seq order is sorted; its runs are joined first."""
    case: Any = None
    evs: list[Event] = []
    ok = True
    for (c, _), run, in_seq in runs:
        if evs and c == case:
            if ok:
                ok = in_seq and run[0].seq >= evs[-1].seq
            evs.extend(run)  # evs is the case's first run's own list: each run is read once
            continue
        if evs:
            yield case, evs if ok else sorted(evs, key=_seq)
        case, evs, ok = c, run, in_seq
    if evs:
        yield case, evs if ok else sorted(evs, key=_seq)


def _run_records(records: Iterable[Event | Rejection], opts: Options, sink: Sink, pool) -> Summary:
    """The general path: any records, in any order, grouped by case in bounded memory (``_gather``, ``_cases``),
    judged once the whole log is read; ``pool`` None: inline. The as-of date (unless given) is the latest day of
    an accepted event, as on the fast path. (With worker processes, ``_run_stream`` does the same sooner.)"""
    summary = Summary(workflow=opts.workflow.describe(), engine=opts.engine, rules=_rules(opts))
    rejected = Spill(rejection_key, REJECTION_RUN)
    reading = _Reading(records, summary, rejected)
    try:
        events = _gather(reading.runs())
    except BaseException:
        rejected.close()
        raise
    return _judge_gathered(events, reading, opts, sink, pool)


def _judge_gathered(events: Spill, reading: _Reading, opts: Options, sink: Sink, pool) -> Summary:
    """Every case of the gathered runs judged at the log's as-of date and handed to the sink in case order."""
    summary = reading.summary
    as_of, summary.as_of_rule = choose_as_of(opts.as_of, reading.latest)
    summary.as_of = as_of.isoformat()
    feed = _Feed(summary, sink, reading.count, opts.progress, reading.rejected)  # the records' rejections, the
    # cases' to come

    def batches() -> Iterator[list[tuple[str, list[Event]]]]:
        it = _cases(events)
        while True:
            batch, size = [], 0
            for g in it:
                batch.append(g)
                size += len(g[1])
                if len(batch) >= BATCH_CASES or size >= BATCH_EVENTS:
                    break
            if not batch:
                return
            yield batch

    keep = _wants_whole(sink)
    try:
        if pool is None:  # inline: this process (durable-rules on its engine thread)
            wf = opts.workflow
            for c, evs in _cases(events):
                left = None
                if opts.deadline is not None:
                    left = opts.deadline - time.monotonic()
                    if left <= 0:
                        raise CheckTimeout("the replay did not finish in time")
                feed.take((inline(opts.engine, wf, opts.book, functools.partial(_check_one, c, evs, wf, as_of), left),))
        else:
            for task, res in ordered(pool, ((_work_groups, (b, as_of, keep)) for b in batches()), pool.window):
                feed.take(_isolated(pool, task[1][0], as_of, opts, keep) if isinstance(res, BaseException) else res)
        feed.close()
    finally:
        events.close()
        feed.rejected.close()
    return summary


#: events a batch of cases holds at most (with BATCH_CASES cases)
BATCH_EVENTS = 20_000


class _Seen:
    """Which case ids have been seen, approximately, in a fixed 16 MB: a Bloom filter (two bits a case; no false
    "not seen"; false "seen" about 1 in 4,500 after a million cases, 1 in 50 after ten million). The streamed path
    asks it only to notice, early, a log whose cases do not arrive whole; which cases really came in several runs
    it learns exactly at the end."""

    BITS = 1 << 27

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS >> 3)

    def add(self, key: str) -> bool:
        """Mark ``key``; whether it may have been marked before."""
        h = hash(key)
        a, b = h & (self.BITS - 1), (h >> 27) & (self.BITS - 1)
        bits = self.bits
        seen = (bits[a >> 3] >> (a & 7)) & (bits[b >> 3] >> (b & 7)) & 1
        bits[a >> 3] |= 1 << (a & 7)
        bits[b >> 3] |= 1 << (b & 7)
        return bool(seen)


@attrs.define
class StreamStats:
    """What the last streamed replay in this process did (``_run_stream``), for benchmarks and tests: batches
    sent, cases judged a second time (their first judgement could not stand) and whether it gave up and gathered."""

    batches: int = 0
    judged_again: int = 0
    gathered: bool = False


#: the last streamed replay's figures
LAST_STREAM = StreamStats()

#: the streamed path gives up (and gathers, as ``_run_records`` does) when at least this many runs, and this
#: share of them, belong to cases seen before: the log's cases do not arrive whole
STREAM_GIVE_UP = (200, 0.05)

# what a case's first judgement is good for, once the as-of date is known (``_run_stream``)
_GOOD = 0  # any as-of date: its check never read it
_IF_GUESSED = 1  # the as-of date it was judged at, only
_AGAIN = 2  # nothing: its batch's worker died


def _work_guess(data: bytes, guess: date, whole: bool, render: Callable[[Finding], str] | None,
                batch: int) -> bytes:
    """A batch of cases (``spill.dumps`` of [(case, events)]) judged at ``guess``, a guess of the as-of date
    (``_judged``)."""
    with uncollected():
        return dumps(_judged(pickle.loads(data), guess, whole, render))


def _result_bytes(item: Any) -> int:
    """An estimate of a result's bytes in memory (for the Spill that sorts them)."""
    if type(item) is Written:
        return 300 + sum(map(len, item.texts))
    return 600 + 500 * (len(item.findings) + len(item.obligations))


def _joined(runs: list[list[Event]]) -> list[Event]:
    """A case's runs (each in seq order already), in arrival order, as one list in the order ``_cases`` gives."""
    evs = runs[0]
    ok = True
    for run in runs[1:]:
        if ok and run[0].seq < evs[-1].seq:
            ok = False
        evs = evs + run
    return evs if ok else sorted(evs, key=_seq)


class _Streamed:
    """What the streamed paths share (``_run_stream``, ``_run_chunks``): each batch's first judgements as they come
    (``take``), then, once the log is read and its as-of date known, the cases whose first judgement cannot stand
    judged again and everything handed to the sink in case order (``finish``).

    A first judgement stands when its check never read the as-of date (``CaseView.as_of``; most cases) or read
    the date it turned out to be, and the case came in one run. Results, not events, are sorted by case (on disk
    when many): ``index`` holds a small entry for every case as judged, ``loud`` the results with something to
    say, ``again`` the results of the cases judged again."""

    def __init__(self, opts: Options, sink: Sink, pool) -> None:
        global LAST_STREAM
        self.stats = LAST_STREAM = StreamStats()
        self.opts, self.sink, self.pool = opts, sink, pool
        self.summary = Summary(workflow=opts.workflow.describe(), engine=opts.engine, rules=_rules(opts))
        self.rejected = Spill(rejection_key, REJECTION_RUN)
        self.keep = _wants_whole(sink)
        self.render = None if self.keep else _render(sink)
        # (a quarter of SORT_BYTES each: results are estimated low, a Written's text at its length, and these
        # Spills are held while the workers read and judge)
        self.index = Spill(_run_key, SORT_BYTES // 4)  # ((case, run), batch, _GOOD/_IF_GUESSED/_AGAIN, quiet)
        self.loud = Spill(_run_key, SORT_BYTES // 4)  # ((case, run), result) of the cases with something to say
        self.again = Spill(_case_key, SORT_BYTES // 4)  # the results of the cases judged again
        self.first_run: list[int] = []  # each batch's first run
        self.guesses: list[date] = []  # the date each batch was judged at
        self.runs = 0  # runs judged so far
        self.done = 0  # events replayed so far

    def take(self, guess: date, entries: list[tuple[str, int, Any]]) -> None:
        """The next batch's first judgements, in run order, made at ``guess`` (``_work_guess``)."""
        b, first = len(self.guesses), self.runs
        self.guesses.append(guess)
        self.first_run.append(first)
        self.runs += len(entries)
        summary, index, loud = self.summary, self.index, self.loud
        for j, (case, good, item) in enumerate(entries):
            key = (case, first + j)
            if type(item) is tuple:  # a case with nothing to say: counted
                summary.cases += 1
                summary.events_replayed += item[0]
                summary.cases_reordered += item[1]
                self.done += item[0]
                index.add((key, b, good, item), 200)
            else:
                index.add((key, b, good, None), 200)
                loud.add((key, item), _result_bytes(item))
        if self.opts.progress:
            self.opts.progress(self.done, max(self.done, self.summary.events_read))

    def lost(self, cases: list[str]) -> None:
        """The next batch's worker died: its cases (in run order) are all judged again."""
        b, first = len(self.guesses), self.runs
        self.guesses.append(date.min)
        self.first_run.append(first)
        self.runs += len(cases)
        for j, case in enumerate(cases):
            self.index.add(((case, first + j), b, _AGAIN, None), 200)

    def finish(self, latest: date | None, total: int,
               redo: Callable[[date, dict[int, set[int]], dict[int, set[int]], dict[str, int]],
                              Iterator[tuple[Callable, tuple]]],
               lost: Callable[[tuple], list[tuple[str, list[Event]]]]) -> Summary:
        """Judge again what cannot stand and hand everything to the sink. ``redo(as_of, wanted, split, pieces)``
        makes the tasks that judge them, each answering a list of results: ``wanted`` and ``split`` map a batch to
        the places in it of the runs to judge again, of cases that came in one run and in several; ``pieces``: the
        cases that came in several runs, with how many. ``lost(args)``: a task's cases, when its worker died
        twice."""
        opts, summary, stats = self.opts, self.summary, self.stats
        as_of, summary.as_of_rule = choose_as_of(opts.as_of, latest)
        summary.as_of = as_of.isoformat()
        wanted: dict[int, set[int]] = collections.defaultdict(set)
        split: dict[int, set[int]] = collections.defaultdict(set)
        pieces: dict[str, int] = {}
        guesses = self.guesses

        def plan(group: list[tuple]) -> None:
            places = wanted
            if len(group) == 1:
                (_, b, good, _quiet), = group
                if good == _GOOD or (good == _IF_GUESSED and guesses[b] == as_of):
                    return
            else:
                pieces[group[0][0][0]] = len(group)
                places = split
            for (_, run), b, _good, quiet in group:
                places[b].add(run - self.first_run[b])
                if quiet is not None:  # counted as it came: not any more
                    summary.cases -= 1
                    summary.events_replayed -= quiet[0]
                    summary.cases_reordered -= quiet[1]

        group: list[tuple] = []
        for entry in self.index:
            if group and entry[0][0] != group[0][0][0]:
                plan(group)
                group = []
            group.append(entry)
        if group:
            plan(group)
        self.index.close()
        pool, keep, again = self.pool, self.keep, self.again
        for task, res in ordered(pool, redo(as_of, wanted, split, pieces), pool.window):
            got = _isolated(pool, lost(task[1]), as_of, opts, keep) if isinstance(res, BaseException) else res
            for r in got:
                again.add(r, _result_bytes(r))
                stats.judged_again += 1
        # the results in case order: a case judged again has its new result in place of the first ones
        feed = _Feed(summary, self.sink, total, None, self.rejected)
        out: list[Any] = []
        later = iter(again)
        nxt = next(later, None)
        skip = None
        for (case, _), item in self.loud:
            while nxt is not None and nxt.case < case:
                out.append(nxt)
                nxt = next(later, None)
            if nxt is not None and nxt.case == case:
                out.append(nxt)
                nxt = next(later, None)
                skip = case
                continue
            if case == skip:
                continue
            out.append(item)
            if len(out) >= 1000:
                feed.take(out)
                out = []
        while nxt is not None:
            out.append(nxt)
            nxt = next(later, None)
        feed.take(out)
        if opts.progress:
            opts.progress(total, total)
        return feed.close()

    def close(self) -> None:
        for spill in (self.index, self.loud, self.again, self.rejected):
            spill.close()


def _redo_groups(as_of: date, keep: bool, wanted: dict[int, set[int]], pieces: dict[str, int],
                 groups_of: Callable[[int], list[tuple[str, list[Event]]]]) -> Iterator[tuple[Callable, tuple]]:
    """``_work_groups`` tasks for the cases to judge again, their runs read back a batch at a time
    (``groups_of(batch)``, in batch order), a case in several runs joined when its last run is read."""
    parts: dict[str, list[list[Event]]] = {}
    batch: list[tuple[str, list[Event]]] = []
    for b in sorted(wanted):
        places = wanted[b]
        for j, (case, evs) in enumerate(groups_of(b)):
            if j not in places:
                continue
            n = pieces.get(case)
            if n is not None:
                got = parts.setdefault(case, [])
                got.append(evs)
                if len(got) < n:
                    continue
                del parts[case]
                evs = _joined(got)
            batch.append((case, evs))
            if len(batch) >= BATCH_CASES:
                yield _work_groups, (batch, as_of, keep)
                batch = []
    if batch:
        yield _work_groups, (batch, as_of, keep)


def _run_stream(records: Iterable[Event | Rejection], opts: Options, sink: Sink, pool) -> Summary:
    """The general path with worker processes, for a log whose cases arrive whole (XES always, most exports):
    cases are judged while the log is still being read, not after (``_Streamed``).

    Each batch of runs as read goes to a worker with a guess of the as-of date (the date given, else the latest
    day read so far) and is kept on disk as sent, for the cases judged again. The answer is the one
    ``_run_records`` gives; so is the memory bound. When cases are seen to arrive in pieces (``STREAM_GIVE_UP``)
    the runs go to ``_gather`` and ``_judge_gathered`` instead, those already read from disk."""
    st = _Streamed(opts, sink, pool)
    reading = _Reading(records, st.summary, st.rejected)
    store = _Store()  # every batch as sent
    offsets: list[int] = []  # each batch's place in ``store``
    seen = _Seen()
    runs = reading.runs()
    counts = {"runs": 0, "repeats": 0}
    left: list[tuple[str, list[Event], bool, int]] = []  # runs read but not sent (when giving up)
    try:
        def send(batch: list[tuple[str, list[Event]]]) -> tuple[Callable, tuple]:
            data = dumps(batch)
            offsets.append(store.put(data))
            st.stats.batches += 1
            guess = opts.as_of or reading.latest or date.today()
            return _work_guess, (data, guess, st.keep, st.render, len(offsets) - 1)

        def tasks() -> Iterator[tuple[Callable, tuple]]:
            batch: list[tuple[str, list[Event]]] = []
            size = 0
            min_runs, share = STREAM_GIVE_UP
            for run in runs:
                case, evs, in_seq, _ = run
                if seen.add(case):
                    counts["repeats"] += 1
                    if counts["repeats"] >= min_runs and counts["repeats"] >= share * counts["runs"]:
                        left.extend((c, e, True, 0) for c, e in batch)
                        left.append(run)
                        return
                counts["runs"] += 1
                batch.append((case, evs if in_seq else sorted(evs, key=_seq)))
                size += len(evs)
                if len(batch) >= BATCH_CASES or size >= BATCH_EVENTS:
                    yield send(batch)
                    batch, size = [], 0
            if batch:
                yield send(batch)

        for task, res in ordered(pool, tasks(), pool.window):
            if isinstance(res, BaseException):  # the worker died: every case of the batch is judged again
                st.lost([case for case, _ in pickle.loads(task[1][0])])
            else:
                st.take(task[1][1], pickle.loads(res))
        if left:  # the cases do not arrive whole: gather them (those sent come back from disk)
            def everything() -> Iterator[tuple[str, list[Event], bool, int]]:
                for off in offsets:
                    for case, evs in pickle.loads(store.get(off)):
                        yield case, evs, True, len(evs) * EVENT_BYTES
                yield from left
                yield from runs

            st.stats.gathered = True
            events = _gather(everything())
            store.close()
            st.index.close()
            st.loud.close()
            summary = st.summary
            summary.cases = summary.events_replayed = summary.cases_reordered = 0
            return _judge_gathered(events, reading, opts, sink, pool)

        def redo(as_of: date, wanted: dict[int, set[int]], split: dict[int, set[int]],
                 pieces: dict[str, int]) -> Iterator[tuple[Callable, tuple]]:
            places = {b: wanted.get(b, set()) | split.get(b, set()) for b in wanted.keys() | split.keys()}
            return _redo_groups(as_of, st.keep, places, pieces, lambda b: pickle.loads(store.get(offsets[b])))

        return st.finish(reading.latest, reading.count, redo, lambda args: args[0])
    finally:
        store.close()
        st.close()


class _ChunkRead(NamedTuple):
    """A chunk of an XES file read (``readers.xes.read_chunk``) and counted as ``_Reading`` counts records: whether
    it ended where the next may start, records read, ignored steps, rejections, the latest day, and its cases in
    run order (each run's events in seq order)."""

    clean: bool
    read: int
    ignored: dict[str, int]
    rejected: list[Rejection]
    latest: date | None
    groups: list[tuple[str, list[Event]]]


def _read_chunk(chunk: Any, name: str, activity_map: Any, vocabulary: Any) -> _ChunkRead:
    from .readers.xes import read_chunk
    records, clean = read_chunk(chunk, name, activity_map, vocabulary)
    summary = Summary(workflow="", engine="", rules=0)
    rejected = _Kept()
    reading = _Reading(records, summary, rejected)
    groups = [(case, evs if in_seq else sorted(evs, key=_seq)) for case, evs, in_seq, _ in reading.runs()]
    return _ChunkRead(clean, summary.events_read, dict(summary.ignored), rejected, reading.latest, groups)


def _work_chunk(chunk: Any, name: str, activity_map: Any, vocabulary: Any, hint: date | None, forced: bool,
                whole: bool, render: Callable[[Finding], str] | None) -> bytes:
    """A chunk of an XES file (``readers.xes.Chunk``) read and its cases judged at ``hint`` (``forced``) or at the
    later of ``hint`` and the chunk's own latest day: the chunk as read (``_ChunkRead``) without its cases, the
    date judged at, and for each case in run order what ``_work_guess`` answers."""
    with uncollected():
        got = _read_chunk(chunk, name, activity_map, vocabulary)
        latest, groups = got.latest, got.groups
        guess = hint if forced or latest is None or (hint is not None and hint >= latest) else latest
        if guess is None:
            guess = date.today()
        out: list[tuple[str, int, Any]] = []
        for i in range(0, len(groups), BATCH):
            out.extend(_judged(groups[i:i + BATCH], guess, whole, render))
        return dumps((got._replace(groups=[]), guess, out))


def _work_chunk_again(chunk: Any, name: str, activity_map: Any, vocabulary: Any, places: set[int], as_of: date,
                      whole: bool) -> list[CaseResult]:
    """The runs of a chunk at these places (each a whole case) read again and judged at the as-of date."""
    with uncollected():
        groups = _read_chunk(chunk, name, activity_map, vocabulary).groups
        return _check([g for j, g in enumerate(groups) if j in places], as_of, whole)


class _Kept(list):
    """Rejections kept in a list (what ``_Reading`` adds them to in a worker)."""

    def add(self, item: Any) -> None:
        self.append(item)


def _run_chunks(path: str, opts: Options, sink: Sink, pool, activity_map: Any, vocabulary: Any) -> Summary | None:
    """One XES file read in chunks by the workers (``readers.xes.chunks``): this process only decompresses it,
    has expat check it and cuts it at lines that start a trace; each worker reads its chunk and judges its cases
    at a guess of the as-of date (the latest day known so far, or the chunk's own), as ``_run_stream`` does with
    batches. Returns None (having sent nothing to the sink) when the file cannot be read so: not UTF-8, not
    well-formed, or a cut that was not between two traces of the log; then it is read the ordinary way."""
    from .readers.xes import Serial, chunks
    st = _Streamed(opts, sink, pool)
    summary = st.summary
    store = _Store()  # every chunk, for the cases judged again
    offsets: list[int] = []
    name = path
    latest: date | None = None
    state = {"serial": False}
    try:
        def tasks() -> Iterator[tuple[Callable, tuple]]:
            try:
                for chunk in chunks(path, check=getattr(pool, "jobs", 2) == 1):  # one worker: check here
                    if state["serial"]:  # a chunk came back not whole: the file is read the ordinary way
                        return
                    offsets.append(store.put(dumps(chunk)))
                    st.stats.batches += 1
                    yield _work_chunk, (chunk, name, activity_map, vocabulary, opts.as_of or latest,
                                        opts.as_of is not None, st.keep, st.render)
            except Serial:
                state["serial"] = True

        for task, res in ordered(pool, tasks(), pool.window):
            if state["serial"]:
                continue  # the rest is of no use: drain what is in flight
            if isinstance(res, BaseException):  # the worker died: read the chunk here, judge its cases again
                got, entries = _read_chunk(task[1][0], name, activity_map, vocabulary), None
            else:
                got, guess, entries = pickle.loads(res)
            if not got.clean:
                state["serial"] = True
                continue
            summary.events_read += got.read
            for step, n in got.ignored.items():
                summary.events_ignored += n
                summary.ignored[step] += n
            for r in got.rejected:
                st.rejected.add(r)
            if got.latest is not None and (latest is None or got.latest > latest):
                latest = got.latest
            if entries is None:
                st.lost([case for case, _ in got.groups])
            else:
                st.take(guess, entries)
        if state["serial"]:
            return None
        total = summary.events_read - st.rejected.count - summary.events_ignored  # the events accepted

        def chunk_of(b: int) -> Any:
            return pickle.loads(store.get(offsets[b]))

        def redo(as_of: date, wanted: dict[int, set[int]], split: dict[int, set[int]],
                 pieces: dict[str, int]) -> Iterator[tuple[Callable, tuple]]:
            for b in sorted(wanted):  # whole cases: their chunk read again by a worker, which judges them
                yield _work_chunk_again, (chunk_of(b), name, activity_map, vocabulary, wanted[b], as_of, st.keep)
            yield from _redo_groups(as_of, st.keep, split, pieces,  # cases in pieces: joined here
                                    lambda b: _read_chunk(chunk_of(b), name, activity_map, vocabulary).groups)

        def lost(args: tuple) -> list[tuple[str, list[Event]]]:
            if len(args) == 3:  # _work_groups
                return args[0]
            chunk, places = args[0], args[4]
            groups = _read_chunk(chunk, name, activity_map, vocabulary).groups
            return [g for j, g in enumerate(groups) if j in places]

        return st.finish(latest, total, redo, lost)
    finally:
        store.close()
        st.close()


def _judged(groups: list[tuple[str, list[Event]]], guess: date, whole: bool,
            render: Callable[[Finding], str] | None) -> list[tuple[str, int, Any]]:
    """Cases judged at ``guess``: for each (case, _GOOD or _IF_GUESSED, result), the result (events replayed,
    cases reordered) for a case with nothing to say when only findings are wanted (``whole`` False), else the
    result (``Written`` with ``render``)."""
    reads: list[bool] = []
    results = _check(groups, guess, whole, reads)
    out: list[tuple[str, int, Any]] = []
    for r, read in zip(results, reads, strict=True):
        item: Any = r if whole else (r.replayed, r.reordered) if _quiet(r) else _sent(r, render)
        out.append((r.case, _IF_GUESSED if read else _GOOD, item))
    return out


def _case_key(result: CaseResult) -> str:
    return result.case


def _run_key(item: tuple[tuple[str, int], list[Event], bool]) -> tuple[str, int]:
    return item[0]


_seq = operator.attrgetter("seq")


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

    def take_payload(self, data: bytes) -> None:
        """``take`` of a range's results as a worker sent them (``_payload``): the quiet cases only counted."""
        (cases, replayed, reordered), results = pickle.loads(data)
        s = self.summary
        s.cases += cases
        s.events_replayed += replayed
        s.cases_reordered += reordered
        self.done += replayed
        self.take(results)

    def take(self, results: Iterable[CaseResult | Written]) -> None:
        s = self.summary
        by_code = s.findings_by_code
        written: list[str] = []  # the text of consecutive cases' findings, handed to the sink in one call
        for item in results:
            if type(item) is Written:  # findings a worker wrote with the sink's render
                result = item.result
                for code in item.codes:
                    by_code[code] += 1
                written.extend(item.texts)
            else:
                result = item  # type: ignore[assignment]
                if written:
                    self.sink.texts(written)  # type: ignore[attr-defined]
                    written = []
                for f in result.findings:
                    by_code[f.code] += 1
                self.sink.case(result)
            s.cases += 1
            s.events_replayed += result.replayed
            s.cases_reordered += result.reordered
            for r in result.rejected:
                self.rejected.add(r)
            if result.unchecked is not None:
                self.unchecked.append(result.unchecked)
            self.done += result.replayed
        if written:
            self.sink.texts(written)  # type: ignore[attr-defined]
        if self.progress:
            self.progress(min(self.done, self.total), self.total)

    def close(self) -> Summary:
        self.summary.events_rejected = self.rejected.count
        self.summary.cases_unchecked = len(self.unchecked)
        self.sink.close(self.summary, iter(self.rejected), self.unchecked)
        self.rejected.close()
        return self.summary


def chunks_ok(paths: Sequence[str], input_format: str | None) -> str | None:
    """The one XES file the workers can read in chunks (``_run_chunks``), or None."""
    if len(paths) != 1 or paths[0] == "-" or not Path(paths[0]).is_file():
        return None
    from .readers import ReaderError, format_of
    try:
        return paths[0] if format_of(paths[0], input_format) == "xes" else None
    except ReaderError:
        return None


def fast_path_ok(paths: Sequence[str], input_format: str | None, activity_map) -> str | None:
    """The one path the ranges can read, or None."""
    if len(paths) != 1 or activity_map is not None or input_format not in (None, "jsonl"):
        return None
    p = str(paths[0])
    if p == "-" or not p.lower().endswith((".jsonl", ".ndjson", ".json")) or not Path(p).is_file():
        return None
    return p
