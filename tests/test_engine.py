"""The engine's robustness: supervised workers, rule-pack loading errors."""

from __future__ import annotations

import pytest

from sdsrules import api, pipeline
from sdsrules.datafile import DataFileError
from sdsrules.engine import load_rulebook
from sdsrules.workflow import load_workflow

from .faults import faulty
from .helpers import write_jsonl

JOURNEY = [("referral_received", {}), ("triaged", {"tier": 1}), ("case_closed", {})]


def _log(tmp_path, n):
    recs = [{"id": f"{c}-{i}", "case": f"C{c:03d}", "at": f"2024-01-{i + 1:02d}", "activity": a, **x}
            for c in range(n) for i, (a, x) in enumerate(JOURNEY)]
    return write_jsonl(tmp_path / "log.jsonl", recs)


class TestSupervision:
    def test_a_worker_crash_is_retried_and_the_crashing_case_reported_not_lost(self, tmp_path, monkeypatch):
        """A worker that aborts (as durable-rules' C engine can) is replaced; the other cases of its batch are
        checked again; the case that crashes every time gets its sequence checks and an explicit Unchecked."""
        log = _log(tmp_path, 450)
        clean = api.replay([log], engine="durable", jobs=2)
        monkeypatch.setattr(pipeline, "_check", faulty({"C007"}))
        crashed = api.replay([log], engine="durable", jobs=2)
        assert crashed.summary.cases == 450 and crashed.summary.events_replayed == 1350
        assert [u.case for u in crashed.unchecked] == ["C007"]
        assert "crashed" in crashed.unchecked[0].reason
        others = lambda r: [f.to_dict() for f in r.findings if f.case != "C007"]  # noqa: E731
        assert others(crashed) == others(clean)


class TestRulePackLoading:
    def test_a_rule_using_a_parameter_the_workflow_lacks_is_refused_with_file_and_key(self, tmp_path):
        (tmp_path / "SDS-REV-09.yaml").write_text(
            "code: SDS-REV-09\ntitle: t\nseverity: low\nsources: [s]\ntemplate: response\n"
            "trigger: {activity: support_started}\nexpect: {activity: review_completed}\nwithin: fortnightly\n"
            "message: m\n")
        with pytest.raises(DataFileError, match="fortnightly"):
            load_rulebook([tmp_path], load_workflow())

    @pytest.mark.parametrize(("body", "words"), [
        ("template: response\ntrigger: {activity: tea}\nexpect: {activity: review_completed}\n", "'tea' is not"),
        ("template: forbid\ntrigger: {activity: triaged, where: {tier: {near: 3}}}\n", "near: is not an operator"),
        ("template: forbid\ntrigger: {activity: triaged, where: {colour: red}}\n", "not a field"),
        ("template: function\nfunction: os.system\ntrigger: {activity: triaged}\n", "names no known function"),
        ("template: forbid\ntrigger: {activity: triaged}\nwithinn: x\n", "unknown key 'withinn'"),
    ])
    def test_rule_text_is_data_checked_on_load_never_code(self, tmp_path, body, words):
        (tmp_path / "SDS-ZZZ-01.yaml").write_text(f"code: SDS-ZZZ-01\ntitle: t\nseverity: low\nsources: [s]\n"
                                                  f"message: m\n{body}")
        with pytest.raises(DataFileError) as e:
            load_rulebook([tmp_path], load_workflow())
        assert words in e.value.report() and "SDS-ZZZ-01.yaml" in e.value.report()


class TestExpectAlternatives:
    def test_plain_alternatives_in_an_expect_list_all_count(self, tmp_path):
        """`expect: [A, B]` is met by either: B alone meets it (a bug once made only the first count)."""
        from sdsrules.replay import check_case

        from .helpers import events_of

        (tmp_path / "SDS-ZZZ-02.yaml").write_text(
            "code: SDS-ZZZ-02\ntitle: t\nseverity: low\nsources: [s]\ntemplate: response\n"
            "trigger: {activity: triaged, where: {tier: 1}}\n"
            "expect: [{activity: information_given}, {activity: signposted}]\n"
            "before: {activity: case_closed}\nmessage: m\n")
        wf = load_workflow()
        from sdsrules.engine.reference import ReferenceChecker
        checker = ReferenceChecker(wf, load_rulebook([tmp_path], wf))
        recs = [{"case": "C", "id": f"e{n}", "at": f"2024-01-0{n}", "activity": a, **x} for n, (a, x) in enumerate(
            [("referral_received", {}), ("triaged", {"tier": 1}), ("signposted", {}), ("case_closed", {})], 1)]
        evs = events_of(recs)
        assert check_case("C", evs, wf, evs[-1].day, checker).findings == ()
        evs = events_of([r for r in recs if r["activity"] != "signposted"])
        assert [f.code for f in check_case("C", evs, wf, evs[-1].day, checker).findings] == ["SDS-ZZZ-02"]


class TestDenominators:
    def test_a_duty_met_by_its_trigger_still_counts_as_applied(self):
        """A support plan with contingency applies PLN-02 (the denominator) without breaching it; one without
        breaches it. Both engines agree (the met flag is a fact field durable-rules judges)."""
        from sdsrules.engine.durable import DurableChecker
        from sdsrules.engine.reference import ReferenceChecker
        from sdsrules.replay import check_case

        from .helpers import events_of

        wf = load_workflow()
        book = load_rulebook(None, wf)
        for contingency, breached in ((True, False), (False, True)):
            evs = events_of([{"case": "C", "id": "p", "at": "2024-01-01", "activity": "support_plan_agreed",
                              "contingency": contingency}])
            for checker in (ReferenceChecker(wf, book), DurableChecker(wf, book)):
                result = check_case("C", evs, wf, evs[-1].day, checker)
                assert "SDS-PLN-02" in result.applicable
                assert ("SDS-PLN-02" in {f.code for f in result.findings}) is breached


class TestBatches:
    def test_durable_rules_judging_hundreds_of_cases_at_once_agrees_with_the_reference_case_by_case(self, tmp_path):
        """Workers hand durable-rules the facts of a few hundred cases at once, in chunks of ``CHUNK``. On a
        generated log whose batch spans many chunks, every case's findings, obligations and applicable codes are
        those of the reference engine checking it alone."""
        from sdsrules.engine.durable import DurableChecker
        from sdsrules.engine.reference import ReferenceChecker
        from sdsrules.replay import check_case, check_cases

        groups, wf, book, as_of = _generated(tmp_path, cases=400)
        durable = DurableChecker(wf, book)
        batch = check_cases(list(groups.items()), wf, as_of, durable)
        ref = ReferenceChecker(wf, book)
        assert next(durable.ids) > 4 * durable.CHUNK  # the batch really spanned several chunks
        assert sum(len(r.findings) for r in batch) > 100
        for got in batch:
            want = check_case(got.case, groups[got.case], wf, as_of, ref)
            assert got == want, got.case

    def test_the_host_timer_thread_cannot_take_a_batch_s_actions(self, tmp_path, monkeypatch):
        """durable-rules' host calls every ruleset's ``dispatch`` from a timer thread, which would run a pending
        action there and lose its verdict. Here another thread calls it as fast as it can, with the GIL handed
        over every microsecond and batches cut into many small chunks, and every case is still judged exactly as
        the reference judges it alone."""
        import sys
        import threading

        from sdsrules.engine.durable import DurableChecker
        from sdsrules.engine.reference import ReferenceChecker
        from sdsrules.replay import check_case, check_cases

        groups, wf, book, as_of = _generated(tmp_path, cases=150)
        durable = DurableChecker(wf, book)
        monkeypatch.setattr(durable, "CHUNK", 10)
        stop = threading.Event()

        def timer_thread():  # what durable.engine.Host._run's dispatch_ruleset does, without the sleeps
            while not stop.is_set():
                for ruleset in list(durable._host._ruleset_list):
                    ruleset.dispatch()

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        thread = threading.Thread(target=timer_thread, daemon=True)
        thread.start()
        try:
            batch = [check_cases(list(groups.items()), wf, as_of, durable) for _ in range(10)]
        finally:
            stop.set()
            thread.join()
            sys.setswitchinterval(interval)
        ref = ReferenceChecker(wf, book)
        want = [check_case(case, events, wf, as_of, ref) for case, events in groups.items()]
        assert sum(len(r.findings) for r in want) > 30
        for got in batch:
            assert got == want


    def test_an_error_in_reading_a_verdict_leaves_the_engine_usable(self, tmp_path, monkeypatch):
        """If reading an action's verdict fails, the action is abandoned (as durable-rules does) and the error
        propagates; the session is not left locked, so the next batch is judged in full."""
        from sdsrules.engine.durable import DurableChecker
        from sdsrules.engine.reference import ReferenceChecker
        from sdsrules.replay import check_case, check_cases

        groups, wf, book, as_of = _generated(tmp_path, cases=60)
        durable = DurableChecker(wf, book)
        status = durable._status
        monkeypatch.setattr(durable, "_status", {})  # every verdict lookup fails
        with pytest.raises(KeyError):
            check_cases(list(groups.items()), wf, as_of, durable)
        monkeypatch.setattr(durable, "_status", status)
        ref = ReferenceChecker(wf, book)
        got = check_cases(list(groups.items()), wf, as_of, durable)
        assert got == [check_case(case, events, wf, as_of, ref) for case, events in groups.items()]
        assert sum(len(r.findings) for r in got) > 10

def _generated(tmp_path, cases: int):
    """A generated log's events grouped by case, with the design, rule book and as-of date to check them."""
    from sdsrules.generate import Settings, truth_path, write
    from sdsrules.readers import read_all

    log = tmp_path / "log.jsonl"
    with log.open("wb") as out, truth_path(log).open("wb") as truth:
        write(Settings(cases=cases, seed=5, breach_rate=0.3), out, truth)
    wf = load_workflow()
    book = load_rulebook(None, wf)
    groups: dict[str, list] = {}
    for rec in read_all([str(log)]):
        if hasattr(rec, "activity"):
            groups.setdefault(rec.case, []).append(rec)
    return groups, wf, book, max(e.day for evs in groups.values() for e in evs)
