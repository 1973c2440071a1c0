"""Three engines held equal (issue 16, item 5): compiled, durable-rules and the reference give identical findings,
open obligations and applicable codes, on the sample, on generated logs, and on messy generated cases.

(Every rule's YAML cases run on all three too: ``conftest.py``.)
"""

from __future__ import annotations

import io
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdsrules.cli.main import cli

from sdsrules import api
from sdsrules.engine import load_rulebook, make_checker
from sdsrules.engine import names as engines
from sdsrules.events import ACTIVITIES, Event
from sdsrules.generate import Settings, write
from sdsrules.readers import read_all
from sdsrules.replay import check_cases
from sdsrules.workflow import load_workflow

from .helpers import events_of
from .strategies import attributes, walk

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "cases" / "sample.jsonl"
WF = load_workflow()
BOOK = load_rulebook(None, WF)
CHECKERS = {name: make_checker(name, WF, BOOK) for name in engines.NAMES}


def _view(results) -> list:
    """What the engines decide, case by case: findings (all their words), open obligations, applicable codes."""
    return [(r.case, [f.to_dict() for f in r.findings], [o.to_dict() for o in r.obligations], sorted(r.applicable))
            for r in results]


def _all_engines(cases: list[tuple[str, list[Event]]], as_of: date) -> dict[str, list]:
    got = {name: _view(check_cases(cases, WF, as_of, checker)) for name, checker in CHECKERS.items()}
    # a bulk replay writing findings asks for nothing else (``whole`` False: the compiled ``findings_only``):
    # the same findings, counts and rejections, and none of what it did not ask for
    lean = check_cases(cases, WF, as_of, CHECKERS["compiled"], whole=False)
    full = check_cases(cases, WF, as_of, CHECKERS["compiled"])
    assert [(r.case, [f.to_dict() for f in r.findings]) for r in lean] == [(c, f) for c, f, _, _ in got["reference"]]
    for a, b in zip(lean, full, strict=True):
        assert (a.rejected, a.replayed, a.reordered, a.unchecked) == (b.rejected, b.replayed, b.reordered, b.unchecked)
        assert (a.obligations, a.applicable, a.profile) == ((), frozenset(), ())
    return got


def _grouped(events: list[Event]) -> list[tuple[str, list[Event]]]:
    out: dict[str, list[Event]] = {}
    for ev in events:
        out.setdefault(ev.case, []).append(ev)
    return list(out.items())


def _assert_equal(got: dict[str, list]) -> None:
    ref = got["reference"]
    for name, view in got.items():
        assert len(view) == len(ref)
        for mine, theirs in zip(view, ref, strict=True):
            assert mine == theirs, f"engine {name} differs from the reference on case {theirs[0]}"


class TestTheRegistry:
    def test_there_are_three_engines_and_the_defaults_are_bulk_compiled_and_live_durable(self):
        assert set(engines.NAMES) == {"compiled", "durable", "reference"}
        assert engines.BULK_DEFAULT == "compiled" and engines.LIVE_DEFAULT == "durable"
        assert (*engines.NAMES, "none") == engines.WITH_NONE
        assert {"compiled", "reference", "none"} <= engines.IN_PROCESS and "durable" not in engines.IN_PROCESS

    def test_every_name_makes_a_checker_that_says_its_name(self):
        for name in engines.NAMES:
            assert make_checker(name, WF, BOOK).name == name

    def test_an_unknown_engine_is_refused_naming_the_known_ones(self):
        with pytest.raises(ValueError, match=r"unknown engine 'fast'.*compiled, durable, reference"):
            make_checker("fast", WF, BOOK)
        with pytest.raises(ValueError, match="compiled"):
            api.replay([str(SAMPLE)], engine="fast")

    def test_the_library_defaults_follow_the_registry(self):
        import inspect

        from sdsrules import monitor, service
        assert inspect.signature(api.replay).parameters["engine"].default == engines.BULK_DEFAULT
        assert inspect.signature(api.run).parameters["engine"].default == engines.BULK_DEFAULT
        assert inspect.signature(monitor.check).parameters["engine"].default == engines.LIVE_DEFAULT
        assert inspect.signature(monitor.CaseMonitor).parameters["engine"].default == engines.LIVE_DEFAULT
        assert service.ServiceConfig().engine == engines.LIVE_DEFAULT


class TestTheSample:
    def test_the_three_engines_agree_on_every_case_of_the_sample(self):
        events = [r for r in read_all([str(SAMPLE)]) if isinstance(r, Event)]
        as_of = max(e.day for e in events)
        got = _all_engines(_grouped(events), as_of)
        _assert_equal(got)
        assert sum(len(c[1]) for c in got["compiled"]) > 50  # the sample is rich in findings

    @pytest.mark.parametrize("engine", ["compiled", "reference"])
    def test_replay_json_is_byte_identical_to_durable_but_for_the_engine_name(self, engine, tmp_path):
        out = {}
        for name in (engine, "durable"):
            r = CliRunner().invoke(cli, ["replay", str(SAMPLE), "--format", "json", "--engine", name,
                                         "-o", str(tmp_path / f"{name}.json")], catch_exceptions=False)
            assert r.exit_code == 1, r.output  # the sample has findings
            out[name] = (tmp_path / f"{name}.json").read_text()
        a, b = json.loads(out[engine]), json.loads(out["durable"])
        assert a["summary"].pop("engine") == engine and b["summary"].pop("engine") == "durable"
        assert a == b
        assert out[engine].replace(f'"engine": "{engine}"', '"engine": "durable"') == out["durable"]

    def test_replay_defaults_to_the_compiled_engine(self, tmp_path):
        r = CliRunner().invoke(cli, ["replay", str(SAMPLE), "--format", "json"], catch_exceptions=False)
        assert json.loads(r.stdout)["summary"]["engine"] == "compiled"

    def test_the_live_check_gives_the_same_on_every_engine(self):
        from sdsrules.monitor import CaseMonitor, assess
        events = [r for r in read_all([str(SAMPLE)]) if isinstance(r, Event)]
        for case, evs in _grouped(events)[:40]:
            got = {name: assess(evs, WF, engine=name) for name in engines.NAMES}
            ref = got["reference"]
            for name, a in got.items():
                assert a is not None and ref is not None
                assert a.to_dict() == ref.to_dict() and a.applicable == ref.applicable, (name, case)
        mon = {name: CaseMonitor(WF, engine=name) for name in engines.NAMES}
        for ev in _grouped(events)[0][1]:
            steps = {name: m.add(ev) for name, m in mon.items()}
            assert len({repr(s) for s in steps.values()}) == 1


def _generated(cases: int, seed: int, interleave: bool = False) -> list[Event]:
    out, truth = io.BytesIO(), io.BytesIO()
    write(Settings(cases=cases, seed=seed, interleave=interleave), out, truth)
    from sdsrules.events import EventError, build_event
    events = []
    for n, line in enumerate(out.getvalue().decode().splitlines()):
        try:
            events.append(build_event(json.loads(line), file="g.jsonl", line=n + 1, seq=n))
        except (EventError, ValueError):  # the generator's unreadable records (SDS-DAT-01)
            continue
    return events


class TestGeneratedLogs:
    @pytest.mark.parametrize("seed", [1, 7, 2024])
    def test_the_three_engines_agree_on_a_generated_log(self, seed):
        events = _generated(400, seed)
        as_of = max(e.day for e in events)
        got = _all_engines(_grouped(events), as_of)
        _assert_equal(got)
        assert sum(len(c[1]) for c in got["compiled"]) > 20

    @pytest.mark.parametrize("later", [0, 200, 2000])
    def test_they_agree_judged_later_than_the_log(self, later):
        """Later as-of dates turn open duties overdue: the open branch of every template."""
        events = _generated(300, 5)
        as_of = max(e.day for e in events) + timedelta(days=later)
        _assert_equal(_all_engines(_grouped(events), as_of))

    def test_they_agree_on_a_shuffled_generated_log(self):
        """Out-of-order input: the replay sorts each case; ties on time keep the (shuffled) input order."""
        events = _generated(300, 9)
        records = [(e.case, e) for e in events]
        random.Random(3).shuffle(records)
        shuffled = events_of([_record(e) for _, e in records])
        _assert_equal(_all_engines(_grouped(shuffled), max(e.day for e in shuffled)))

    def test_findings_only_keeps_the_findings_a_complete_history_makes_of_open_duties(self):
        """``--complete`` turns duties open at the end of a case's log into findings (``replay.close_history``):
        the findings-only check must still find those open duties."""
        import attrs

        wf = attrs.evolve(WF, complete=True)
        checker = make_checker("compiled", wf, BOOK)
        cases = _grouped(_generated(300, 21))
        as_of = max(e.day for _, evs in cases for e in evs)
        lean = check_cases(cases, wf, as_of, checker, whole=False)
        full = check_cases(cases, wf, as_of, checker)
        assert [[f.to_dict() for f in r.findings] for r in lean] == [[f.to_dict() for f in r.findings] for r in full]
        assert sum(f.outstanding for r in lean for f in r.findings if "complete history" in f.message) > 0

    @pytest.mark.slow
    def test_they_agree_on_a_large_generated_log(self):
        events = _generated(5000, 16)
        _assert_equal(_all_engines(_grouped(events), max(e.day for e in events)))


def _record(ev: Event) -> dict:
    """An Event back as a canonical record (enough for build_event)."""
    rec = {"id": ev.id, "case": ev.case, "at": ev.at.isoformat() if isinstance(ev.at, datetime) else str(ev.at),
           "activity": ev.activity, **ev.attrs}
    if ev.actor is not None:
        rec["actor"] = {k: v for k, v in (("id", ev.actor.id), ("role", ev.actor.role), ("team", ev.actor.team)) if v}
    return rec


# ------------------------------------------------------------------------------------ hypothesis differential

DURATIONS = sorted(n for n, p in WF.parameters.items() if p.kind == "duration")
#: trigger activity -> the activities its checks look for; -> the deadlines its checks set
RELATED: dict[str, list[str]] = {}
DEADLINES: dict[str, list[str]] = {}
for _rule, _check in BOOK.checks():
    for _a in _check.trigger_activities:
        RELATED[_a] = sorted({*RELATED.get(_a, ()), *(a for m in _check.all_matchers() for a in m.activities)})
        DEADLINES[_a] = sorted({*DEADLINES.get(_a, ()), *(p for p in (_check.within, _check.extension_within) if p)})


@st.composite
def messy_case(draw) -> list[dict]:
    """One case made hostile to the engines' searches: one to three walks the design allows, one after the other
    (a closure then a new referral opens a new episode; without a closure the later walk is out of place),
    extra events of any activity at any of its times or between them, repeated ids and repeated contents,
    the input order shuffled, and the whole case moved back up to eight years (across rules' effective dates
    and parameters' changes)."""
    records: list[dict] = []
    shift = timedelta(days=draw(st.integers(-8 * 365, 0)))
    last = None
    for w in range(draw(st.integers(1, 3))):
        part = draw(walk(WF, max_steps=20, case="M1"))
        if last is not None:  # after the previous walk
            gap = last - datetime.fromisoformat(part[0]["at"]) + timedelta(days=draw(st.integers(1, 500)))
            part = [{**r, "at": (datetime.fromisoformat(r["at"]) + gap).isoformat(timespec="minutes")} for r in part]
        part = [{**r, "id": f"w{w}-{r['id']}"} for r in part]
        last = datetime.fromisoformat(part[-1]["at"])
        records.extend(part)
    for n in range(draw(st.integers(0, 10))):
        near = draw(st.sampled_from(records))
        base = datetime.fromisoformat(near["at"])
        related = RELATED.get(near["activity"])
        # an activity a check the chosen event triggers looks for (expected, before, lapse, excuse...), or any
        activity = draw(st.sampled_from(related if related and draw(st.booleans()) else sorted(ACTIVITIES)))
        if draw(st.booleans()):  # on a deadline of the design, or a day after it: the boundaries of late/overdue
            names = DEADLINES.get(near["activity"]) if draw(st.booleans()) else None
            d = WF.param(draw(st.sampled_from(names or DURATIONS)), base.date()).value.after(base.date())
            at = datetime.combine(d, base.time()) + timedelta(days=draw(st.sampled_from([0, 0, 1])))
        else:
            at = base + timedelta(hours=draw(st.sampled_from([0, 0, 1, 24, 24 * 30, -24, -24 * 90])))
        records.append({"id": f"x{n}", "case": "M1", "at": at.isoformat(timespec="minutes"), "activity": activity,
                        **draw(attributes(activity))})
    for n in range(draw(st.integers(0, 3))):  # repeats: the same id (rejected), or the same content anew
        r = draw(st.sampled_from(records))
        records.append(dict(r) if draw(st.booleans()) else {**r, "id": f"d{n}"})
    records = draw(st.permutations(records))
    return [{**r, "at": (datetime.fromisoformat(r["at"]) + shift).isoformat(timespec="minutes")} for r in records]


class TestMessyCases:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(messy_case(), st.integers(0, 900))
    def test_compiled_durable_and_reference_give_identical_reports(self, records, extra_days):
        evs = events_of(records)
        as_of = max(e.day for e in evs) + timedelta(days=extra_days)
        _assert_equal(_all_engines([("M1", evs)], as_of))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(messy_case(), min_size=2, max_size=5))
    def test_many_cases_in_one_batch_give_what_each_gives_alone(self, logs):
        """``many`` (durable's batch, compiled's loop) against one case at a time."""
        cases = [(f"K{i}", events_of([{**r, "case": f"K{i}"} for r in log])) for i, log in enumerate(logs)]
        as_of = max(e.day for _, evs in cases for e in evs)
        together = _all_engines(cases, as_of)
        _assert_equal(together)
        alone = [_view(check_cases([c], WF, as_of, CHECKERS["compiled"]))[0] for c in cases]
        assert alone == together["compiled"]


class TestTheService:
    def test_the_service_on_the_compiled_engine_answers_as_the_reference_library(self, tmp_path):
        """``sdsrules serve --engine compiled`` over a real socket: /healthz names the engine, and /v1/check of
        each of the sample's first cases gives the reference's findings and obligations."""
        from sdsrules.monitor import EventInputError, assess, event_from

        from .test_service import Server, _sample_records

        by_case: dict[str, list[dict]] = {}
        for n, rec in enumerate(_sample_records()):
            try:
                event_from(rec, n)
            except EventInputError:
                continue
            by_case.setdefault(str(rec["case"]), []).append(rec)
        server = Server(tmp_path, "--engine", "compiled")
        try:
            assert server.client.get("/healthz").json()["engine"] == "compiled"
            for case in sorted(by_case)[:25]:
                r = server.client.post("/v1/check", json={"events": by_case[case]})
                assert r.status_code == 200
                want = assess(by_case[case], engine="reference")
                assert want is not None
                got = r.json()
                assert got["findings"] == want.to_dict()["findings"], case
                assert got["obligations"] == want.to_dict()["obligations"], case
        finally:
            server.stop()
