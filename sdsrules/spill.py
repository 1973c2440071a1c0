"""Sorting in bounded memory (``Spill``) and the pickling the replay driver moves its results with (``dump``,
``dumps``).

``pipeline.drive`` sorts what arrives out of case order (events of an unsorted log, results that come back from
the workers as they finish, rejections) without holding it all: sorted runs bounded in size go to temporary
files and are merged on read. What it spills to disk and sends between processes is pickled with reducers of its
own (``_PICKLED``): an attrs class as its fields in order, a fixed UTC offset as its arguments.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import io
import itertools
import operator
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import timezone
from typing import Any

import attrs

from .events import Actor, Rejection
from .findings import Evidence, Finding, Obligation, Unchecked
from .replay import CaseResult


class Spill:
    """Items with sort keys, sorted in bounded memory: sorted runs go to temporary files, merged on read.

    ``run`` bounds what is held in memory, in the units of ``add``'s ``size`` (1 an item by default: a count; the
    general path passes an estimate in bytes). Items added in key order are never sorted: a run already in order is
    written as it is, and when every item came in order the runs are read back one after the other, not merged.
    Items are pickled in small blocks, each on its own (a Pickler or Unpickler kept across a file would keep every
    item it has seen alive in its memo: the whole spilled log back in memory while merging)."""

    def __init__(self, key: Callable[[Any], Any], run: int):
        self.key, self.run = key, run
        self.items: list = []
        self.files: list[tuple[int, Any]] = []  # (level, sorted run)
        self.count = 0
        self.held = 0  # the size of the items in memory
        self.in_order = True  # every item so far came in key order (then nothing needs sorting or merging)
        self.run_in_order = True  # the items in memory came in key order
        self._last: Any = None

    def add(self, item: Any, size: int = 1) -> None:
        k = self.key(item)
        if self.count and k < self._last:
            self.in_order = self.run_in_order = False
        self._last = k
        self.items.append(item)
        self.count += 1
        self.held += size
        if self.held >= self.run:
            self._spill()

    def _sorted_items(self) -> list:
        if not self.run_in_order:
            self.items.sort(key=self.key)
        return self.items

    def _spill(self) -> None:
        self.files.append(self._write(self._sorted_items(), 0))
        self.items, self.held, self.run_in_order = [], 0, True
        # at most FAN_IN runs of a level: FAN_IN runs are merged into one of the next level, so open files grow
        # with the log's size only logarithmically (a log of bad lines must not run out of file descriptors)
        while True:
            counts = collections.Counter(level for level, _ in self.files)
            full = sorted(level for level, n in counts.items() if n >= self.FAN_IN)
            if not full:
                return
            group = [f for level, f in self.files if level == full[0]]
            self.files = [(level, f) for level, f in self.files if level != full[0]]
            merged = self._write(self._merge([self._read(f) for f in group]), full[0] + 1)
            for f in group:
                f.close()
            self.files.append(merged)

    #: sorted runs of one level merged into one when there are this many
    FAN_IN = 64

    def _merge(self, runs: list[Iterator[Any]]) -> Iterator[Any]:
        """Sorted runs (in the order they were written) as one sorted stream; equal keys keep that order."""
        if self.in_order:  # the runs follow one another
            return itertools.chain.from_iterable(runs)
        return heapq.merge(*runs, key=self.key)

    #: items pickled together (one Pickler call for a block, not one an item: a third of the time; a merge holds a
    #: block of each run it reads, so few)
    BLOCK = 64

    def _write(self, items: Iterable[Any], level: int) -> tuple[int, Any]:
        f = tempfile.TemporaryFile(prefix="sdsrules-sort-")  # noqa: SIM115 - closed in close(); deleted with it
        block: list = []
        for item in items:
            block.append(item)
            if len(block) == self.BLOCK:
                dump(block, f)
                block = []
        if block:
            dump(block, f)
        f.seek(0)
        return level, f

    def __iter__(self) -> Iterator[Any]:
        items = self._sorted_items()
        if not self.files:
            yield from items
            return
        yield from self._merge([*(self._read(f) for _, f in self.files), iter(items)])

    @staticmethod
    def _read(f) -> Iterator[Any]:
        load = pickle.load
        while True:
            try:
                block = load(f)
            except EOFError:
                return
            yield from block

    def close(self) -> None:
        for _, f in self.files:
            with contextlib.suppress(OSError):
                f.close()
        self.files, self.items = [], []


def _fields_reducer(cls: type) -> Callable[[Any], tuple]:
    """An attrs class as its fields in order, rebuilt by its own __init__ (attrs' own pickling goes through a dict
    of the fields each way: a quarter of the time of pickling an Event, a third of unpickling a result)."""
    get = operator.attrgetter(*(a.name for a in attrs.fields(cls)))
    return lambda obj: (cls, get(obj))


#: how the replay driver pickles what it moves most of, to disk (a spilled run) and between processes (a range's
#: results): copyreg's form, type -> reducer
_PICKLED: dict[type, Any] = {cls: _fields_reducer(cls)
                             for cls in (Actor, Rejection, CaseResult, Finding, Evidence, Obligation, Unchecked)}
# a fixed UTC offset (every timestamp that carries one) as its arguments: its own reduction looks up its slots
# through copyreg on every call, a fifth of the time of pickling an XES event
_PICKLED[timezone] = lambda tz: (timezone, tz.__getinitargs__())
# (an Event is a msgspec Struct, which pickles as its fields in C already)


def dump(obj: Any, f: Any) -> None:
    """``pickle.dump`` with the driver's reducers (``_PICKLED``), a Pickler of its own (no memo shared with other
    items); ``pickle.load`` reads it back."""
    p = pickle.Pickler(f, pickle.HIGHEST_PROTOCOL)
    p.dispatch_table = _PICKLED
    p.dump(obj)


def dumps(obj: Any) -> bytes:
    """``dump`` to bytes."""
    out = io.BytesIO()
    dump(obj, out)
    return out.getvalue()
