"""The general replay path (issue 16 item 4): records grouped by case as they arrive, the runs held in memory
bounded in (estimated) bytes, traces that arrive whole never sorted event by event, and exactly the answers of a
sort of every event by (case, seq)."""

from __future__ import annotations

import gc
import io
import itertools
import random
import weakref
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsrules import api, pipeline, spill
from sdsrules.events import Event, Rejection
from sdsrules.findings import Summary
from sdsrules.formats.events import write
from sdsrules.formats.findings.json import dumps
from sdsrules.readers import read_all
from sdsrules.workflow import load_workflow

WF = load_workflow()
SAMPLE = Path(__file__).resolve().parent.parent / "cases" / "sample.jsonl"
AT = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


class _Probe:
    """A value that can be watched by weak reference."""


def _ev(case: str, seq: int, n: int, attrs: dict | None = None) -> Event:
    return Event(id=f"{case}-{n}", case=case, at=AT, day=AT.date(), activity="signposted", attrs=attrs or {},
                 seq=seq)


def _sorted_by_case(events: list[Event]) -> list[tuple[str, list[Event]]]:
    """What the general path did before (and must still give): every event sorted by (case, seq), stably."""
    ordered = sorted(events, key=lambda e: (e.case, e.seq))
    return [(c, list(g)) for c, g in itertools.groupby(ordered, key=lambda e: e.case)]


def _gather(records, budget: int | None = None, fan_in: int | None = None):
    rejected = spill.Spill(pipeline.rejection_key, pipeline.REJECTION_RUN)
    with pytest.MonkeyPatch.context() as mp:
        if budget is not None:
            mp.setattr(pipeline, "SORT_BYTES", budget)
        if fan_in is not None:
            mp.setattr(spill.Spill, "FAN_IN", fan_in)
        summary = Summary(workflow="w", engine="none", rules=0)
        reading = pipeline._Reading(records, summary, rejected)
        runs = pipeline._gather(reading.runs())
        return runs, reading.count, reading.latest, summary, rejected


def _ids(groups) -> list[tuple[str, list[str]]]:
    return [(c, [e.id for e in evs]) for c, evs in groups]


def _sample() -> list[Event | Rejection]:
    return list(read_all([str(SAMPLE)]))


def _interleaved(records: list[Event | Rejection], rnd: random.Random) -> list[Event | Rejection]:
    """The same records with each case cut in pieces dealt round-robin (case A, B, A again ...), some pieces
    backwards (events out of seq) and the rejections kept among them."""
    by_case: dict[str, list] = {}
    loose = []
    for r in records:
        if isinstance(r, Event):
            by_case.setdefault(r.case, []).append(r)
        else:
            loose.append(r)
    pieces: list[list] = []
    for evs in by_case.values():
        i = 0
        while i < len(evs):
            n = rnd.randint(1, 4)
            piece = evs[i:i + n]
            pieces.append(piece[::-1] if rnd.random() < 0.3 else piece)
            i += n
    rnd.shuffle(pieces)
    out = [r for p in pieces for r in p]
    for r in loose:
        out.insert(rnd.randrange(len(out) + 1), r)
    return out


# ------------------------------------------------------------------------------------------ the grouping

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABCDE"), st.integers(0, 6)), max_size=120),
       st.sampled_from([None, 1, 700, 2000, 6000]), st.integers(2, 4))
def test_every_case_comes_in_the_order_of_a_sort_of_every_event_by_case_and_seq(pairs, budget, fan_in):
    """Cases interleaved, events out of seq and seqs tied (records built by hand all have seq 0), runs spilled
    and merged level by level: each case's events reach the checker exactly as a stable sort by (case, seq)
    ordered them (ties in arrival order)."""
    events = [_ev(c, s, n) for n, (c, s) in enumerate(pairs)]
    runs, count, _, _, _ = _gather(events, budget, fan_in)
    try:
        assert count == len(events)
        assert _ids(pipeline._cases(runs)) == _ids(_sorted_by_case(events))
    finally:
        runs.close()


def test_a_log_in_case_order_is_not_sorted_at_all():
    """Cases arriving whole and in order: one item a case, held in order, and each case's list handed on as it
    was gathered (not a sorted copy)."""
    events = [_ev(f"C{c:02d}", 3 * c + i, i) for c in range(20) for i in range(3)]
    runs, _, _, _, _ = _gather(events)
    try:
        assert runs.in_order and not runs.files and runs.count == 20
        gathered = [item[1] for item in runs.items]
        out = list(pipeline._cases(runs))
        assert all(evs is g for (_, evs), g in zip(out, gathered, strict=True))
        assert _ids(out) == _ids(_sorted_by_case(events))
    finally:
        runs.close()


def test_whole_traces_out_of_case_order_are_sorted_a_key_a_trace():
    """XES (one <trace> a case) and most exports: the sort has one item a trace, never one an event, and the
    events inside a trace are not sorted."""
    rnd = random.Random(5)
    cases = [f"C{c:02d}" for c in range(30)]
    rnd.shuffle(cases)
    seq = itertools.count()
    events = [_ev(c, next(seq), i) for c in cases for i in range(7)]
    runs, _, _, _, _ = _gather(events)
    try:
        assert runs.count == 30 and not runs.in_order
        out = list(pipeline._cases(runs))
        assert _ids(out) == _ids(_sorted_by_case(events))
    finally:
        runs.close()


def test_the_runs_in_memory_are_bounded_in_bytes_and_a_case_bigger_than_that_is_one_item():
    """Many small attributes cost more than few: the budget counts them; a case larger than the whole budget is
    still read whole, as one item."""
    budget = 20 * (pipeline.EVENT_BYTES + 4 * pipeline.ATTRIBUTE_BYTES)
    wide = {f"a{i}": i for i in range(4)}
    seq = itertools.count()
    events = [_ev(f"C{c:03d}", next(seq), 0, wide) for c in range(200, 0, -1)]
    events += [_ev("HUGE", next(seq), i) for i in range(500)]  # about 14 budgets in one case
    events += [_ev(f"D{c:03d}", next(seq), 0) for c in range(100, 0, -1)]
    held = []
    real_add = spill.Spill.add

    def add(self, item, size=1):
        real_add(self, item, size)
        held.append(self.held)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(spill.Spill, "add", add)
        runs, _, _, _, _ = _gather(events, budget)
    try:
        assert max(held) < budget  # spilled as soon as the budget is reached
        assert len(runs.files) >= 200 // 20  # the wide events: one run a 20
        assert runs.count == 301
        assert _ids(pipeline._cases(runs)) == _ids(_sorted_by_case(events))
    finally:
        runs.close()


def test_reading_back_the_spilled_runs_keeps_only_what_is_in_hand():
    """Each item is pickled and unpickled on its own: an Unpickler kept across a run's file keeps every object it
    has loaded in its memo, which put a whole spilled log back in memory during the merge."""
    seq = itertools.count()
    events = [_ev(f"C{c:04d}", next(seq), i, {"probe": _Probe()}) for c in range(2000, 0, -1) for i in range(2)]
    runs, _, _, _, _ = _gather(events, budget=50 * pipeline.EVENT_BYTES)
    refs = []
    try:
        assert len(runs.files) > 10  # one merged of 64, and more
        for n, (_, evs) in enumerate(pipeline._cases(runs)):
            refs.append(weakref.ref(evs[0].attrs["probe"]))  # alive while its event is (events take no weakref)
            del evs
            if n == 1500:
                gc.collect()
                alive = sum(1 for r in refs if r() is not None)
                # one item of each run in the merge's heap, and the items in memory: not 1,500
                assert alive <= len(runs.files) + 60, alive
    finally:
        runs.close()


def test_events_read_back_from_disk_are_the_events_spilled():
    """Every field (the actor, the time zone, the attributes and their types) survives the spilled runs."""
    events = [r for r in _sample() if isinstance(r, Event)]
    events += [msgspec.structs.replace(events[0], case="Z", zone=ZoneInfo("America/New_York"), actor=None,
                                       date_only=True)]
    runs, _, _, _, _ = _gather(events[::-1], budget=10_000)
    try:
        assert len(runs.files) > 10
        back = [e for _, evs in pipeline._cases(runs) for e in evs]
        fields = list(Event.__struct_fields__)

        def state(e: Event) -> tuple:
            return tuple((getattr(e, f), type(getattr(e, f))) for f in fields if f != "attrs") + tuple(
                (k, v, type(v)) for k, v in e.attrs.items())

        assert sorted(map(state, back), key=repr) == sorted(map(state, events), key=repr)
    finally:
        runs.close()


def test_counts_rejections_and_the_latest_day_are_those_of_every_record():
    records = _sample()
    runs, count, latest, summary, rejected = _gather(_interleaved(records, random.Random(2)), budget=20_000)
    try:
        events = [r for r in records if isinstance(r, Event)]
        assert count == len(events) and summary.events_read == len(records)
        assert rejected.count == len(records) - len(events)
        assert latest == max(e.day for e in events)
        assert list(rejected) == sorted((r for r in records if isinstance(r, Rejection)),
                                        key=pipeline.rejection_key)
    finally:
        runs.close()
        rejected.close()


# ------------------------------------------------------------------------------------------ whole reports

@pytest.mark.parametrize(("engine", "jobs", "budget"), [
    ("reference", 1, None),
    ("compiled", 1, 30_000),
    ("compiled", 2, None),
    ("reference", 2, 30_000),
])
def test_an_interleaved_log_gives_the_report_of_its_records_sorted_by_case(engine, jobs, budget, monkeypatch):
    """The sample log's cases cut and dealt (A, B, A again), pieces backwards, rejections among them, spilled
    or not, inline or on worker processes: the same report, byte for byte, as its records sorted by (case, seq),
    which is the order the general path sorted every event into before."""
    records = _sample()
    ordered = sorted((r for r in records if isinstance(r, Event)), key=lambda e: (e.case, e.seq))
    ordered += [r for r in records if isinstance(r, Rejection)]
    mixed = _interleaved(records, random.Random(16))
    if budget is not None:
        monkeypatch.setattr(pipeline, "SORT_BYTES", budget)
    want = api.replay_records(ordered, workflow=WF, engine=engine, jobs=jobs)
    got = api.replay_records(mixed, workflow=WF, engine=engine, jobs=jobs)
    assert got.findings and got.rejected
    assert got.summary == want.summary
    assert dumps(got) == dumps(want)


def test_an_unsorted_jsonl_file_and_an_xes_of_it_give_the_reports_of_their_records_sorted(tmp_path, monkeypatch):
    """Through the driver's own choice of path: an unsorted JSON Lines file (the ranges refuse it, the general
    path takes over) and the same events as XES (whole traces, not in case order), with small runs spilled."""
    records = [r for r in _interleaved(_sample(), random.Random(7)) if isinstance(r, Event)]
    jsonl, xes = tmp_path / "mixed.jsonl", tmp_path / "mixed.xes"
    with jsonl.open("w", encoding="utf-8") as f:
        write(records, f, "jsonl")
    buf = io.StringIO()
    write(records, buf, "xes")  # grouped into traces in first-seen order
    xes.write_text(buf.getvalue(), encoding="utf-8")
    monkeypatch.setattr(pipeline, "SORT_BYTES", 50_000)
    for path in (jsonl, xes):
        read = list(read_all([str(path)]))
        ordered = sorted(read, key=lambda e: (e.case, e.seq))
        want = dumps(api.replay_records(ordered, workflow=WF, engine="compiled"))
        assert dumps(api.replay([path], workflow=WF, engine="compiled", jobs=2)) == want
        assert dumps(api.replay([path], workflow=WF, engine="compiled", jobs=1)) == want


@pytest.mark.slow
@pytest.mark.skipif("'slow' not in config.getoption('-m')", reason="a long run: pytest -m slow")
def test_a_big_xes_replays_in_bounded_memory(tmp_path):
    """The issue's 249 MB XES that peaked at 1.15 GB: 500,000 events in 50,000 traces (not in case order)
    replayed with no rule engine under 300 MB peak RSS."""
    import os
    import subprocess
    import sys

    from .helpers import write_big_xes

    order = list(range(50_000))
    random.Random(1).shuffle(order)
    path = write_big_xes(tmp_path / "big.xes", order)
    assert path.stat().st_size > 240e6
    exe = str(Path(sys.executable).with_name("sdsrules"))
    proc = subprocess.Popen([exe, "replay", str(path), "--engine", "none", "--jobs", "1", "--format", "json",
                             "-o", str(tmp_path / "r.json")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) in (0, 1), proc.stderr.read() if proc.stderr else b""
    assert usage.ru_maxrss / 1024 < 300, usage.ru_maxrss / 1024
