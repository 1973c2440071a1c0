"""The one replay driver (``pipeline.drive``): every way in runs through it, every executor gives the same answer,
and supervision lives in ``supervise`` alone."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest

from sdsrules import api, pipeline, spill, supervise
from sdsrules.engine import load_rulebook
from sdsrules.monitor import CaseMonitor, assess
from sdsrules.readers import read_all
from sdsrules.workflow import load_workflow

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "cases" / "sample.jsonl"
PACKAGE = ROOT / "sdsrules"


def _report(executor: str, engine: str = "compiled", jobs: int = 1, paths=True) -> dict:
    wf = load_workflow(None)
    opts = pipeline.Options(wf, engine, jobs, book=load_rulebook(None, wf), executor=executor)
    sink = pipeline.CollectSink()
    if paths:
        pipeline.drive(sink, opts, paths=[str(SAMPLE)])
    else:
        pipeline.drive(sink, opts, records=read_all([str(SAMPLE)]))
    return sink.report().to_dict()


@pytest.fixture(scope="module")
def expected() -> dict:
    return _report("processes", jobs=2)


class TestExecutors:
    @pytest.mark.parametrize(("executor", "jobs", "paths"), [("inline", 1, True), ("inline", 1, False),
                                                     ("processes", 1, True), ("processes", 2, False)])
    def test_every_executor_gives_the_same_report(self, expected, executor, jobs, paths):
        assert _report(executor, jobs=jobs, paths=paths) == expected

    @pytest.mark.parametrize(("executor", "jobs"), [("inline", 1), ("processes", 2)])
    def test_a_findings_writer_gets_what_a_collecting_sink_gets(self, expected, executor, jobs, tmp_path):
        """A findings writer asks workers for findings only (the quiet cases counted, not sent, no profile or
        obligations): the same summary and the same findings as a sink that takes whole results."""
        from sdsrules.formats import formatter

        wf = load_workflow(None)
        opts = pipeline.Options(wf, "compiled", jobs, book=load_rulebook(None, wf), executor=executor)
        out = tmp_path / "findings.json"
        with out.open("w") as f:
            writer = formatter("findings", "json", f)
            assert not pipeline._wants_whole(writer)
            summary = pipeline.drive(writer, opts, paths=[str(SAMPLE)])
        got = json.loads(out.read_text())
        assert 0 < len({f["case"] for f in got["findings"]}) < summary.cases == expected["summary"]["cases"]
        assert got["summary"] == expected["summary"]
        assert got["findings"] == expected["findings"]

    def test_durable_inline_runs_on_the_engine_thread_and_agrees(self, expected):
        got = _report("inline", engine="durable")
        assert got["summary"].pop("engine") == "durable"
        assert got == {**expected, "summary": {k: v for k, v in expected["summary"].items() if k != "engine"}}

    def test_the_executor_is_chosen_by_name_from_the_registry(self):
        wf = load_workflow(None)
        assert set(supervise.EXECUTORS) == {"inline", "processes", "dask"}
        choose = pipeline.choose_executor
        assert choose(pipeline.Options(wf, "compiled"), files=False) == "inline"
        assert choose(pipeline.Options(wf, "compiled"), files=True) == "processes"
        assert choose(pipeline.Options(wf, "durable"), files=False) == "processes"
        assert choose(pipeline.Options(wf, "compiled", jobs=2), files=False) == "processes"
        assert choose(pipeline.Options(wf, "compiled", scheduler="tcp://127.0.0.1:1"), files=False) == "dask"
        with pytest.raises(ValueError, match="unknown executor 'threads' \\(known: inline, processes, dask\\)"):
            choose(pipeline.Options(wf, "compiled", executor="threads"), files=False)

    def test_paths_or_records_not_both(self):
        wf = load_workflow(None)
        with pytest.raises(TypeError, match="paths or records"):
            pipeline.drive(pipeline.CollectSink(), pipeline.Options(wf, "none"), paths=[str(SAMPLE)], records=[])

    def test_a_deadline_past_stops_an_inline_run_with_check_timeout(self):
        wf = load_workflow(None)
        opts = pipeline.Options(wf, "compiled", book=load_rulebook(None, wf), executor="inline", deadline=0.0)
        with pytest.raises(supervise.CheckTimeout, match="did not finish in time"):
            pipeline.drive(pipeline.CollectSink(), opts, records=read_all([str(SAMPLE)]))


class TestEveryWayInAgrees:
    def test_live_check_and_bulk_replay_give_one_case_the_same_findings(self, expected):
        case = sorted(f["case"] for f in expected["findings"])[len(expected["findings"]) // 2]
        records = [r for r in read_all([str(SAMPLE)]) if getattr(r, "case", None) == case]
        as_of = date.fromisoformat(expected["summary"]["as_of"])
        for engine in ("compiled", "durable", "reference"):
            live = assess(records, None, as_of, engine=engine)
            assert live is not None
            bulk = [f for f in expected["findings"] if f["case"] == case]
            assert bulk
            assert [f.to_dict() for f in live.findings] == bulk, engine
            monitor = CaseMonitor(engine=engine)
            update = monitor.extend(records, as_of)
            assert [f.to_dict() for f in update.findings] == bulk, engine

    def test_api_replay_is_the_driver_with_a_collecting_sink(self, expected):
        assert api.replay([SAMPLE]).to_dict() == expected
        assert json.dumps(api.replay_records(read_all([str(SAMPLE)])).to_dict(), sort_keys=True) == \
            json.dumps(expected, sort_keys=True)


def _calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
    return names


class TestOneDriverOneSupervisor:
    """Structural: checks are run by the driver alone, engines are made and supervised in ``supervise`` alone."""

    def test_only_the_driver_runs_checks(self):
        for path in PACKAGE.rglob("*.py"):
            rel = path.relative_to(PACKAGE).as_posix()
            called = _calls(ast.parse(path.read_text()))
            if rel not in ("pipeline.py", "replay.py"):
                assert not called & {"check_case", "check_cases"}, f"{rel} runs checks itself; call pipeline.drive"
            if rel not in ("supervise.py",) and not rel.startswith("engine/"):
                assert "make_checker" not in called, f"{rel} makes an engine itself; supervise.py does"
            if rel != "supervise.py":
                text = path.read_text()
                for word in ("ProcessPoolExecutor(", "PR_SET_PDEATHSIG", "threading.Thread(target=self._serve"):
                    assert word not in text or rel == "isolate.py", f"{rel} supervises workers itself ({word})"

    def test_the_callers_go_through_drive(self):
        for rel in ("api.py", "monitor.py", "service.py", "ruletest.py"):
            called = _calls(ast.parse((PACKAGE / rel).read_text()))
            assert "drive" in called, f"{rel} does not call pipeline.drive"


class TestTransport:
    def test_results_cross_processes_field_for_field(self):
        """A range's results pickled with the driver's reducers (``spill.dumps``) come back equal, field for
        field, nested findings, evidence, obligations, rejections and the unchecked mark included."""
        import pickle

        from sdsrules.events import Rejection
        from sdsrules.findings import Unchecked

        results = list(api.replay([str(SAMPLE)], as_of=date(2025, 6, 1)).cases)
        results.append(pipeline.CaseResult("X1", (), unchecked=Unchecked("X1", "the worker died")))
        results.append(pipeline.CaseResult("X2", (), (Rejection("a.jsonl", 3, "'id' repeated", "id", "X2", "e1"),)))
        assert any(r.findings for r in results) and any(r.obligations for r in results)
        assert any(r.profile for r in results) and any(f.events for r in results for f in r.findings)
        back = pickle.loads(spill.dumps(results))
        assert back == results
        assert [type(r) for r in back] == [type(r) for r in results]
