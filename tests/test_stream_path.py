"""The general path with worker processes judges cases while the log is read (``pipeline._run_stream``): at a
guess of the as-of date, its results (not its events) sorted by case, a case judged again when its first judgement
cannot stand. Whatever the order of the log, the size of the batches, the guess or a worker's death, the answer is
the one the gathering path (``_run_records``, inline) gives."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsrules import api, pipeline
from sdsrules.engine.caseview import AS_OF_READS, CaseView
from sdsrules.engine.rules import load_rulebook
from sdsrules.events import Event, Rejection
from sdsrules.formats.findings.json import dumps
from sdsrules.replay import check_cases
from sdsrules.workflow import load_workflow

from .faults import faulty
from .test_records_path import _interleaved, _sample

WF = load_workflow()


def _by_case(records: list[Event | Rejection]) -> dict[str, list[Event]]:
    cases: dict[str, list[Event]] = {}
    for r in records:
        if isinstance(r, Event):
            cases.setdefault(r.case, []).append(r)
    return cases


def _whole_traces(records: list[Event | Rejection], rnd: random.Random) -> list[Event | Rejection]:
    """The records with each case's events together (a case's trace whole, as XES and most exports give them),
    the cases in a shuffled order, the rejections among them."""
    cases = list(_by_case(records).values())
    rnd.shuffle(cases)
    out: list[Event | Rejection] = [e for evs in cases for e in evs]
    for r in records:
        if isinstance(r, Rejection):
            out.insert(rnd.randrange(len(out) + 1), r)
    return out


def _split_some(records: list[Event | Rejection], rnd: random.Random, n: int) -> list[Event | Rejection]:
    """Whole traces, but ``n`` cases come in two pieces far apart (the second at the end of the log)."""
    out = _whole_traces(records, rnd)
    cases = [c for c, evs in _by_case(out).items() if len(evs) > 2]
    moved: list[Event | Rejection] = []
    for case in rnd.sample(cases, n):
        evs = [r for r in out if isinstance(r, Event) and r.case == case]
        tail = evs[len(evs) // 2:]
        moved.extend(tail)
        ids = {id(e) for e in tail}
        out = [r for r in out if id(r) not in ids]
    return out + moved


def _want(records, engine: str = "compiled", as_of: date | None = None):
    """The gathering path's report, in this process: every record read, then every case judged."""
    return api.replay_records(records, workflow=WF, engine=engine, as_of=as_of)


def _got(records, engine: str = "compiled", jobs: int = 1, as_of: date | None = None):
    book = load_rulebook(None, WF) if engine != "none" else None
    opts = pipeline.Options(WF, engine, jobs, book=book, executor="processes", as_of=as_of)
    sink = pipeline.CollectSink()
    pipeline.drive(sink, opts, records=records)
    return sink.report()


@pytest.mark.parametrize(("engine", "jobs"), [("compiled", 1), ("compiled", 2), ("reference", 2), ("durable", 2),
                                              ("none", 1)])
def test_whole_traces_in_any_order_give_the_gathered_report(engine, jobs, monkeypatch):
    """Small batches, so each is judged at its own guess of the as-of date (the latest day read so far): the cases
    whose check read the date are judged again, the rest stand, and the report is the gathered one."""
    monkeypatch.setattr(pipeline, "BATCH_CASES", 7)
    records = _whole_traces(_sample(), random.Random(3))
    want = _want(records, engine)
    got = _got(records, engine, jobs)
    assert got.findings and got.rejected and (got.obligations or engine == "none")
    assert got.summary == want.summary
    assert dumps(got) == dumps(want)
    assert got.to_dict() == want.to_dict()
    assert not pipeline.LAST_STREAM.gathered
    if engine in ("compiled", "reference", "durable"):
        # some first guesses were wrong for cases that read the date; not every case read it
        assert 0 < pipeline.LAST_STREAM.judged_again < want.summary.cases
    else:
        assert pipeline.LAST_STREAM.judged_again == 0  # no rule, no date read: every first judgement stands


def test_a_date_given_is_the_guess_and_nothing_is_judged_again(monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_CASES", 7)
    records = _whole_traces(_sample(), random.Random(4))
    as_of = date(2025, 6, 30)
    want = _want(records, as_of=as_of)
    got = _got(records, as_of=as_of)
    assert got.to_dict() == want.to_dict()
    assert pipeline.LAST_STREAM.judged_again == 0


def test_a_case_in_two_pieces_far_apart_is_judged_once_whole(monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_CASES", 5)
    records = _split_some(_sample(), random.Random(5), 6)
    want = _want(records, as_of=date(2030, 1, 1))
    got = _got(records, as_of=date(2030, 1, 1), jobs=2)
    assert got.to_dict() == want.to_dict()
    assert pipeline.LAST_STREAM.judged_again == 6  # the date was given: only the six cases in pieces
    assert not pipeline.LAST_STREAM.gathered


def test_cases_that_do_not_arrive_whole_are_gathered_instead(monkeypatch):
    """Cut and dealt round-robin: the path notices early (``STREAM_GIVE_UP``) and hands everything, what it sent
    included, to the gathering path."""
    monkeypatch.setattr(pipeline, "STREAM_GIVE_UP", (20, 0.05))
    records = _interleaved(_sample(), random.Random(6))
    want = _want(records)
    got = _got(records, jobs=2)
    assert got.to_dict() == want.to_dict()
    assert pipeline.LAST_STREAM.gathered


def test_a_worker_that_dies_has_its_batch_judged_again_and_one_case_unchecked(monkeypatch):
    """A worker that aborts on one case (durable-rules' C engine can): its batch's cases are judged again, one at
    a time after a second death, and that case alone gets its sequence checks and an Unchecked record, as on the
    gathering path."""
    monkeypatch.setattr(pipeline, "BATCH_CASES", 9)
    records = _whole_traces(_sample(), random.Random(8))
    case = sorted(_by_case(records))[40]
    monkeypatch.setattr(pipeline, "_check", faulty({case}))
    got = _got(records, jobs=2)
    assert [u.case for u in got.unchecked] == [case]
    monkeypatch.undo()
    want = _want(records)
    assert got.summary.cases == want.summary.cases
    assert got.summary.events_replayed == want.summary.events_replayed
    assert [f for f in got.findings if f.case != case] == [f for f in want.findings if f.case != case]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 40), pieces=st.integers(0, 8),
       given_date=st.sampled_from([None, date(2024, 1, 1), date(2031, 3, 3)]))
def test_any_batching_guess_and_split_gives_the_gathered_report(seed, batch, pieces, given_date, monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH_CASES", batch)
    records = _split_some(_SAMPLE, random.Random(seed), pieces)
    got = _got(records, as_of=given_date)
    want = _want(records, as_of=given_date)
    assert got.to_dict() == want.to_dict()


_SAMPLE = _sample()


class TestAsOfReads:
    """``CaseView.as_of`` counts its reads; ``check_cases`` says, case by case, whether the check read it."""

    def _cases(self):
        cases = _by_case(_SAMPLE)
        return sorted(cases.items())[:60]

    @pytest.mark.parametrize("engine", ["compiled", "reference", "durable"])
    def test_a_case_that_never_read_the_date_has_the_same_result_at_any_date(self, engine):
        from sdsrules.engine import make_checker
        checker = make_checker(engine, WF, load_rulebook(None, WF))
        groups = self._cases()
        reads: list[bool] = []
        early = check_cases(groups, WF, date(2024, 6, 1), checker, True, reads)
        late = check_cases(groups, WF, date(2035, 6, 1), checker, True)
        assert len(reads) == len(groups)
        assert any(reads) and not all(reads) if engine != "durable" else any(reads)
        for read, a, b in zip(reads, early, late, strict=True):
            if not read:
                assert a == b
        assert any(a != b for read, a, b in zip(reads, early, late, strict=True) if read)

    def test_no_checker_reads_nothing(self):
        reads: list[bool] = []
        check_cases(self._cases(), WF, date(2024, 6, 1), None, False, reads)
        assert reads == [False] * 60

    def test_every_read_is_counted(self):
        view = CaseView([], WF, date(2024, 1, 2))
        before = AS_OF_READS.n
        assert view.as_of == date(2024, 1, 2)
        assert view.as_of == date(2024, 1, 2)
        assert AS_OF_READS.n == before + 2


def test_a_lost_task_is_named_in_words_whatever_its_kind(tmp_path):
    """What a Dask error says of the task it lost: a streamed batch and an XES chunk name their place too."""
    from sdsrules import distributed
    from sdsrules.readers import xes

    chunk = xes.Chunk(b"<trace></trace>\n", 120, 3, False, b"<log>", b"log")
    assert distributed._what(pipeline._work_guess, (b"", date(2024, 1, 1), False, None, 4)) == \
        "batch 5 of the cases as read"
    assert distributed._what(pipeline._work_chunk, (chunk, "log.xes", None, None, None, False, False, None)) == \
        "the chunk of log.xes from line 120"
    assert distributed._what(pipeline._work_groups, ([("C1", []), ("C9", [])], date(2024, 1, 1), True)) == \
        "the batch of 2 cases from C1 to C9"
