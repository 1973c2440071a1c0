"""The streaming, partitioned replay (issue 7): same answers as the simple path, in bounded memory."""

from __future__ import annotations

import io
import json
import math
import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsrules import api, pipeline
from sdsrules.formats import formatter
from sdsrules.formats.findings.json import dumps
from sdsrules.readers import ranges, read_all
from sdsrules.spill import Spill
from sdsrules.workflow import load_workflow

from .strategies import walk

WF = load_workflow()


def _lines(cases, rnd, junk=0.0):
    out = []
    for recs in cases:
        for r in recs:
            if rnd.random() < junk:
                out.append(rnd.choice(['{"broken', "", "[1, 2]", '{"at": "2024-01-01", "activity": "signposted"}']))
            out.append(json.dumps(r))
    return "\n".join(out) + "\n"


@st.composite
def sorted_log(draw):
    n = draw(st.integers(1, 12))
    cases = [draw(walk(WF, max_steps=12, case=f"C{i:03d}")) for i in range(n)]
    return cases, draw(st.randoms(use_true_random=False))


def _stream(path, monkeypatch, range_bytes, engine="reference", jobs=1, fmt="json"):
    monkeypatch.setattr(pipeline, "RANGE_BYTES", range_bytes)
    buf = io.StringIO()
    api.run([path], formatter("findings", fmt, buf), workflow=WF, engine=engine, jobs=jobs)
    return buf.getvalue()


def _written(report, fmt: str) -> str:
    """The report as its writer writes it when handed each finding itself (not the text workers wrote)."""
    buf = io.StringIO()
    w = formatter("findings", fmt, buf)
    for f in report.findings:
        w.finding(f)
    w.close(report.summary, report.rejected, report.unchecked)
    return buf.getvalue()


class TestRanges:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture])
    @given(sorted_log(), st.integers(40, 400))
    def test_ranges_give_the_same_json_as_reading_the_whole_file(self, tmp_path, monkeypatch, log, size):
        """Cut into ranges of a few hundred bytes (so cases and bad lines straddle every boundary), a sorted
        log gives byte-identical JSON to the general path over the same records."""
        cases, rnd = log
        p = tmp_path / "log.jsonl"
        p.write_text(_lines(cases, rnd, junk=0.1))
        streamed = _stream(p, monkeypatch, size, engine="none", jobs=2)
        whole = dumps(api.replay_records(read_all([p]), workflow=WF, engine="none"))
        assert streamed == whole
        doc = json.loads(streamed)
        s = doc["summary"]
        assert s["events_read"] == s["events_replayed"] + s["events_rejected"]
        # with the rules: the ranges' workers write each finding's text (the JSON and CSV writers' render), and
        # the bytes are the writer's own over the whole report
        report = api.replay_records(read_all([p]), workflow=WF, engine="compiled")
        assert _stream(p, monkeypatch, size, engine="compiled", jobs=2) == dumps(report) == _written(report, "json")
        assert _stream(p, monkeypatch, size, engine="compiled", jobs=2, fmt="csv") == _written(report, "csv")

    def test_every_range_owns_exactly_the_cases_that_begin_in_it(self, tmp_path):
        """Over tiny ranges, each case is read by exactly one range and every record exactly once."""
        rnd = random.Random(7)
        cases = [[{"id": f"{c}-{i}", "case": f"K{c:02d}", "at": f"2024-01-{i + 1:02d}", "activity": "signposted"}
                  for i in range(rnd.randint(1, 6))] for c in range(30)]
        p = tmp_path / "log.jsonl"
        p.write_text(_lines(cases, rnd, junk=0.2))
        raw = ranges.cut(str(p), size=97)
        seen, read = [], 0
        for s, e, line in ranges.numbered(str(p), raw):
            for kind, item in ranges.iter_range(ranges.Range(str(p), s, e, line)):
                if kind == "case":
                    seen.append((item[0], [ev.line for ev in item[1]]))
                elif kind == "read":
                    read += item
        assert [c for c, _ in seen] == [f"K{c:02d}" for c in range(30)]
        records = sum(1 for ln in p.read_text().splitlines() if ln.strip())
        assert read == records

    def test_an_unsorted_file_falls_back_to_the_external_sort(self, tmp_path, monkeypatch):
        """Cases out of id order are not cut into ranges; the general path sorts them and reports in case order."""
        recs = [{"id": f"{c}{i}", "case": c, "at": f"2024-01-0{i + 1}", "activity": a, **x}
                for c in ("B", "A") for i, (a, x) in enumerate([("referral_received", {}),
                                                                ("support_started", {"option": 1})])]
        p = tmp_path / "u.jsonl"
        p.write_text("".join(json.dumps(r) + "\n" for r in recs))
        opts = api._options(WF, "none", 1, None, None, None)
        assert pipeline.run_ranges(str(p), opts, api.CollectSink()) is None
        out = json.loads(_stream(p, monkeypatch, 50))
        assert sorted({f["case"] for f in out["findings"]}) == ["A", "B"]
        assert [f["case"] for f in out["findings"]] == sorted(f["case"] for f in out["findings"])
        assert out["summary"]["events_replayed"] == 4


class TestSpill:
    def test_a_spilled_sort_equals_an_in_memory_sort(self):
        rnd = random.Random(1)
        items = [(rnd.randint(0, 50), n) for n in range(2000)]
        spill = Spill(key=lambda x: x, run=97)
        for it in items:
            spill.add(it)
        assert len(spill.files) == 2000 // 97
        assert list(spill) == sorted(items)
        spill.close()

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.integers(-30, 30), max_size=400), st.integers(1, 7), st.integers(2, 5),
           st.sampled_from([1, 2, 3, 64]))
    def test_runs_merged_level_by_level_still_give_every_item_in_order(self, keys, run, fan_in, block):
        """The external sort keeps at most FAN_IN runs of a level (so a long log of bad lines cannot run out of
        file descriptors), and still gives back every item, sorted, equal keys in the order they came, whatever
        the size of the blocks items are written in."""
        items = [(k, n) for n, k in enumerate(keys)]
        spill = Spill(lambda x: x[0], run)
        spill.FAN_IN = fan_in
        spill.BLOCK = block
        most_open = 0
        try:
            for x in items:
                spill.add(x)
                most_open = max(most_open, len(spill.files))
                levels = Counter(level for level, _ in spill.files)
                assert all(n < fan_in for n in levels.values())
            assert list(spill) == sorted(items, key=lambda x: x[0])
        finally:
            spill.close()
        assert most_open <= (fan_in - 1) * (1 + math.ceil(math.log(max(len(items), 2), fan_in)))

    def test_the_general_path_spills_and_still_gives_the_same_answer(self, tmp_path, monkeypatch):
        rnd = random.Random(3)
        recs = [{"id": f"{c}-{i}", "case": f"C{c}", "at": f"2024-0{1 + i % 9}-1{i % 9}", "activity": "signposted"}
                for c in range(40) for i in range(5)]
        rnd.shuffle(recs)
        p = tmp_path / "s.csv"
        p.write_text("id,case,at,activity\n" + "".join(f"{r['id']},{r['case']},{r['at']},{r['activity']}\n"
                                                      for r in recs))
        whole = dumps(api.replay([p], workflow=WF, engine="reference"))
        monkeypatch.setattr(pipeline, "SORT_BYTES", 17 * 600)
        assert dumps(api.replay([p], workflow=WF, engine="reference")) == whole


class TestStreamingJson:
    def test_the_streamed_json_is_byte_identical_to_dumping_the_whole_report(self, tmp_path):
        recs = [{"id": "a", "case": "C", "at": "2024-01-01", "activity": "support_started", "option": 2},
                {"id": "b", "case": "C", "at": "2024-01-01", "activity": "bogus"}]
        p = tmp_path / "x.jsonl"
        p.write_text("".join(json.dumps(r) + "\n" for r in recs) + "junk\n")
        report = api.replay([p], workflow=WF, engine="reference")
        assert report.findings and report.rejected
        buf = io.StringIO()
        w = formatter("findings", "json", buf)
        for f in report.findings:
            w.finding(f)
        w.close(report.summary, report.rejected, report.unchecked)
        assert buf.getvalue() == dumps(report)

    def test_an_empty_run_is_still_the_same_shape(self, tmp_path):
        p = tmp_path / "e.jsonl"
        p.write_text("\n")
        report = api.replay([p], workflow=WF, engine="none")
        buf = io.StringIO()
        api.run([p], formatter("findings", "json", buf), workflow=WF, engine="none")
        assert buf.getvalue() == dumps(report)
        assert json.loads(buf.getvalue())["findings"] == []


class TestLongLines:
    def test_a_line_over_the_limit_is_rejected_on_the_fast_path_and_never_held_whole(self, tmp_path, monkeypatch):
        """Cut, pre-scan and range reading read in bounded chunks; the long line is one rejection with its line
        number, like the JSONL reader's, and the records around it replay."""
        monkeypatch.setattr(ranges, "MAX_LINE", 1000)
        good = [json.dumps({"id": f"e{i}", "case": f"C{i}", "at": "2024-01-01", "activity": "signposted"})
                for i in range(6)]
        p = tmp_path / "long.jsonl"
        p.write_text("\n".join([*good[:3], '{"pad": "' + "x" * 5000 + '"}', *good[3:]]) + "\n")
        monkeypatch.setattr(pipeline, "RANGE_BYTES", 700)
        report = api.replay([p], workflow=WF, engine="none")
        assert (report.summary.events_read, report.summary.events_replayed) == (7, 6)
        (rej,) = report.rejected
        assert rej.line == 4 and "longer than" in rej.reason



class TestNoPreScan:
    def test_ranges_judged_at_an_early_guess_are_judged_again_at_the_log_s_date(self, tmp_path, monkeypatch):
        """Only the last case reaches the log's latest day, so every other range first judges its cases at its own
        (earlier) latest day: those ranges are judged again, and the report is the general path's, byte for byte
        (open duties that the later date makes overdue included)."""
        recs = []
        for c in range(12):
            recs += [{"id": f"{c}a", "case": f"K{c:02d}", "at": "2023-01-02", "activity": "referral_received"},
                     {"id": f"{c}b", "case": f"K{c:02d}", "at": "2023-01-03", "activity": "support_started",
                      "option": 1}]
        recs.append({"id": "z", "case": "K99", "at": "2025-06-30", "activity": "referral_received"})
        p = tmp_path / "log.jsonl"
        p.write_text("".join(json.dumps(r) + "\n" for r in recs))
        whole = dumps(api.replay_records(read_all([p]), workflow=WF, engine="reference"))
        assert json.loads(whole)["summary"]["as_of"] == "2025-06-30"
        for jobs in (1, 2):
            assert _stream(p, monkeypatch, 300, engine="reference", jobs=jobs) == whole
