"""One XES file read in chunks by the workers (``readers.xes.chunks``/``read_chunk``, ``pipeline._run_chunks``):
every chunk that says it was cut between two traces of the log gives exactly the records the whole file gives
there, and a cut anywhere else is noticed, so the file is read the ordinary way. Either way a replay's answer is
the one of the records read in one piece."""

from __future__ import annotations

import io
import itertools
import random
import re

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsrules import api, pipeline
from sdsrules.engine.rules import load_rulebook
from sdsrules.events import Event
from sdsrules.formats.events import write
from sdsrules.formats.findings.json import dumps
from sdsrules.maps import load_map
from sdsrules.readers import read_all, xes
from sdsrules.workflow import load_workflow

from .faults import faulty
from .test_stream_path import _whole_traces
from .test_xes import _EV, ROADTRAFFIC, RT_MAP, RT_WORKFLOW, _pieces

WF = load_workflow()


def _plain(r):
    """A record as it reads, but for its place number (chunks number theirs from index * 2**32)."""
    if isinstance(r, Event):
        return msgspec.structs.replace(r, seq=0).to_dict() | {"line": r.line, "file": r.file}
    return r


def _in_chunks(path: str, size: int, amap=None, check: bool = False) -> tuple[list, bool, int]:
    """(records, whether every chunk was well-formed and cut right, how many chunks), or ([], False, 0) when
    ``chunks`` refused the file (``check``: expat checks it there, not in ``read_chunk``)."""
    out: list = []
    n = 0
    try:
        for chunk in xes.chunks(path, size, check):
            got, whole = xes.read_chunk(chunk, path, amap)
            n += 1
            if not whole:
                return out, False, n
            out.extend(got)
    except xes.Serial:
        return [], False, 0
    return out, True, n


def _serial(path: str, amap=None) -> list:
    return list(xes.read(path, itertools.count(), amap))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=_pieces(), size=st.sampled_from([1, 40, 200, 1 << 30]), lines=st.booleans(), fake=st.booleans(),
       check=st.booleans())
def test_chunks_cut_right_read_as_the_whole_file(tmp_path, text, size, lines, fake, check):
    """Generated logs (comments and CDATA holding fake tags, escapes, prefixes, nesting, CR LF, broken anywhere),
    many with each trace on a line of its own and some with a line starting ``<trace>`` inside a comment: when
    every cut was right, the records are the whole file's, in order, lines and ids included."""
    if lines:
        text = text.replace("<trace>", "\n\t<trace>")
    if fake:
        text = text.replace("<!-- <event> -->", "<!--\n<trace> -->")
    p = tmp_path / "g.xes"
    p.write_text(text, encoding="utf-8")
    got, ok, _ = _in_chunks(str(p), size, check=check)
    if ok:
        assert [_plain(r) for r in got] == [_plain(r) for r in _serial(str(p))]
        assert all(a.seq < b.seq for a, b in itertools.pairwise(r for r in got if isinstance(r, Event)))


def test_the_public_log_in_many_chunks_reads_as_one(tmp_path):
    if not ROADTRAFFIC.is_file():
        pytest.skip(f"{ROADTRAFFIC} is not present")
    amap = load_map(RT_MAP)
    got, ok, n = _in_chunks(str(ROADTRAFFIC), 2_000, amap)
    assert ok and n > 20
    assert [_plain(r) for r in got] == [_plain(r) for r in _serial(str(ROADTRAFFIC), amap)]


@pytest.mark.parametrize("inside", ["<!--\n<trace>-->", "<![CDATA[\n<trace>]]>", "<?pi \n<trace>?>",
                                    '<container key="c">\n<trace></trace></container>'])
def test_a_line_that_looks_like_a_trace_but_is_not_is_noticed(tmp_path, inside):
    """A line starting ``<trace>`` inside a comment, CDATA, a PI or an attribute of the trace: the chunk before
    it does not end between two traces, so the cut is not trusted."""
    ev = _EV.format(d=1)
    text = (f'<log>\n<trace><string key="concept:name" value="A"/>\n{ev}\n{inside}\n{ev}\n</trace>\n'
            f'<trace><string key="concept:name" value="B"/>\n{ev}\n</trace>\n</log>\n')
    p = tmp_path / "g.xes"
    p.write_text(text, encoding="utf-8")
    _, ok, n = _in_chunks(str(p), 1)
    assert not ok and n >= 2


@pytest.mark.parametrize("text", [b"<log>\n<trace>\xff</trace></log>", b"<log>\n<trace></log>",
                                  b'<?xml version="1.0" encoding="latin-1"?><log></log>',
                                  b"<!DOCTYPE log [<!ENTITY a 'b'>]><log></log>"])
def test_what_expat_refuses_or_is_not_utf8_is_read_the_ordinary_way(tmp_path, text):
    """A bad byte, an unclosed element, another encoding, a DTD: no chunk reading stands (``chunks`` refuses
    the file, or a chunk is not well-formed), so ``read`` reads it and says what is wrong."""
    p = tmp_path / "g.xes"
    p.write_bytes(text)
    assert _in_chunks(str(p), 1)[1] is False
    assert _in_chunks(str(p), 1, check=True)[1] is False
    rec = api.replay([p], workflow=WF, engine="none", jobs=2)
    assert [r.reason for r in rec.rejected] == [r.reason for r in _serial(str(p)) if not isinstance(r, Event)]
    assert text.startswith(b"<?xml") or "reading stopped" in rec.rejected[-1].reason  # (latin-1: read, empty)


def _sds_xes(tmp_path, seed: int = 1):
    """The sample log's events as XES, whole traces in a shuffled order (and its records, as read back)."""
    from .test_records_path import _sample
    records = [r for r in _whole_traces(_sample(), random.Random(seed)) if isinstance(r, Event)]
    buf = io.StringIO()
    write(records, buf, "xes")
    p = tmp_path / "sds.xes"
    p.write_text(buf.getvalue(), encoding="utf-8")
    return p


def _replay(path, engine: str = "compiled", jobs: int = 2, as_of=None):
    book = load_rulebook(None, WF) if engine != "none" else None
    opts = pipeline.Options(WF, engine, jobs, book=book, executor="processes", as_of=as_of)
    sink = pipeline.CollectSink()
    pipeline.drive(sink, opts, paths=[str(path)])
    return sink.report()


@pytest.mark.parametrize(("engine", "jobs", "size"), [("compiled", 2, 3_000), ("reference", 1, 20_000),
                                                      ("durable", 2, 50_000), ("none", 2, 1), ("none", 1, 1)])
def test_an_xes_replayed_in_chunks_gives_the_report_of_its_records(tmp_path, monkeypatch, engine, jobs, size):
    """Chunks judged at their own guesses of the as-of date: the cases whose check read it are judged again."""
    monkeypatch.setattr(xes, "CHUNK_BYTES", size)
    p = _sds_xes(tmp_path)
    want = api.replay_records(list(read_all([str(p)])), workflow=WF, engine=engine)
    got = _replay(p, engine, jobs)
    assert pipeline.LAST_STREAM.batches > 3 and not pipeline.LAST_STREAM.gathered
    assert got.to_dict() == want.to_dict()
    assert dumps(got) == dumps(want)
    if engine == "none":
        assert pipeline.LAST_STREAM.judged_again == 0


def test_a_trace_name_used_twice_is_one_case_judged_whole(tmp_path, monkeypatch):
    """XES lets two traces carry one concept:name; read in one piece they are one case, and so they are here."""
    monkeypatch.setattr(xes, "CHUNK_BYTES", 2_000)
    p = _sds_xes(tmp_path, 2)
    text = p.read_text(encoding="utf-8")
    names = sorted(set(re.findall(r'<trace>\s*<string key="concept:name" value="([^"]+)"', text)))
    # rename a few traces to the name of another, far away in the file
    for a, b in [(names[3], names[200]), (names[50], names[7]), (names[120], names[121])]:
        text = text.replace(f'key="concept:name" value="{a}"', f'key="concept:name" value="{b}"', 1)
    p.write_text(text, encoding="utf-8")
    want = api.replay_records(list(read_all([str(p)])), workflow=WF, engine="compiled")
    got = _replay(p)
    assert got.to_dict() == want.to_dict()
    assert pipeline.LAST_STREAM.judged_again >= 3


def test_a_wrong_cut_reads_the_file_the_ordinary_way(tmp_path, monkeypatch):
    monkeypatch.setattr(xes, "CHUNK_BYTES", 1)
    p = _sds_xes(tmp_path, 3)
    text = p.read_text(encoding="utf-8")
    i = text.index("</trace>", len(text) // 2)
    p.write_text(text[:i] + "<!--\n<trace>-->" + text[i:], encoding="utf-8")
    want = api.replay_records(list(read_all([str(p)])), workflow=WF, engine="compiled")
    got = _replay(p)
    assert got.to_dict() == want.to_dict()


def test_a_worker_that_dies_on_a_chunk_leaves_one_case_unchecked(tmp_path, monkeypatch):
    monkeypatch.setattr(xes, "CHUNK_BYTES", 5_000)
    p = _sds_xes(tmp_path, 4)
    records = list(read_all([str(p)]))
    case = sorted({r.case for r in records if isinstance(r, Event)})[77]
    want = api.replay_records(records, workflow=WF, engine="compiled")
    monkeypatch.setattr(pipeline, "_check", faulty({case}))
    got = _replay(p)
    assert [u.case for u in got.unchecked] == [case]
    assert got.summary.cases == want.summary.cases
    assert got.summary.events_read == want.summary.events_read
    assert [f for f in got.findings if f.case != case] == [f for f in want.findings if f.case != case]


def test_a_map_its_ignored_and_unmapped_steps_are_counted_as_in_one_piece(tmp_path, monkeypatch):
    """The public Road Traffic log through its map, with one step moved to ``ignore`` and one left unmapped: the
    same ignored counts, rejections and findings as the records read in one piece."""
    if not ROADTRAFFIC.is_file():
        pytest.skip(f"{ROADTRAFFIC} is not present")
    monkeypatch.setattr(xes, "CHUNK_BYTES", 3_000)
    text = RT_MAP.read_text(encoding="utf-8")
    text = text.replace("  Payment: financial_review_completed\n", "")
    text = text.replace("  Add penalty: {activity: material_change_recorded, set: {what: penalty added}}\n", "")
    amap_path = tmp_path / "map.yaml"
    amap_path.write_text(text + "ignore: [Payment]\n", encoding="utf-8")
    amap = load_map(amap_path)
    rt = load_workflow(RT_WORKFLOW)
    want = api.replay_records(list(read_all([str(ROADTRAFFIC)], activity_map=amap)), workflow=rt, engine="none")
    got = api.replay([ROADTRAFFIC], workflow=rt, engine="none", jobs=2, activity_map=amap)
    assert pipeline.LAST_STREAM.batches > 5
    assert got.summary.events_ignored > 0 and got.rejected
    assert got.to_dict() == want.to_dict()
