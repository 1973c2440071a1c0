"""Spec 1.1 "Every finding": a finding reads as a sentence a social worker understands and names the values in
force that decided it. These tests walk every rule's YAML cases (rules/**/*.test.yaml) and read every finding
they produce, on every engine, and check the sequence and data findings of the replay itself."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from sdsrules.calendar import Duration
from sdsrules.engine import load_rulebook, make_checker
from sdsrules.events import ACTIVITIES, build_event
from sdsrules.replay import check_case
from sdsrules.ruletest import load_cases
from sdsrules.workflow import load_workflow, money

ROOT = Path(__file__).resolve().parent.parent
CASE_FILES = sorted((ROOT / "rules").rglob("*.test.yaml"))
ENGINES = ("reference", "compiled", "durable")
#: words that only make sense inside the engine
INTERNAL = ("not this", "None", "{", "}", "[]", "()")
SNAKE = re.compile(r"\b(" + "|".join(sorted((a for a in ACTIVITIES if "_" in a), key=len, reverse=True)) + r")\b")


def _findings_of_every_case():
    wf = load_workflow(None)
    book = load_rulebook(None, wf)
    checkers = {name: make_checker(name, wf, book) for name in ENGINES}
    for path in CASE_FILES:
        for case in load_cases(path):
            if case.workflow:
                continue  # the shipped cases all run on the national design; another would need its own book
            events = [build_event({"case": "T", "id": f"e{n + 1}", **r}, file=str(path), line=0, seq=n)
                      for n, r in enumerate(case.records)]
            as_of = case.as_of or max(e.day for e in events)
            for name, checker in checkers.items():
                for f in check_case("T", events, wf, as_of, checker).findings:
                    yield path.name, case.name, name, f, wf


FINDINGS = list(_findings_of_every_case())


def _fragments(wf, p: dict) -> list[str]:
    """How a parameter's value must appear in a sentence: any one of these."""
    prm = wf.parameters[p["name"]]
    value = prm.at(date.fromisoformat(p["since"])).value
    if isinstance(value, Duration):
        return [str(value)]
    if prm.kind == "amount":
        return [money(value)]
    if prm.kind == "number":
        return [str(int(value))]
    if isinstance(value, dict):
        return [money(x) for x in value.values()]
    if isinstance(value, tuple | list):
        return [" and ".join(map(str, value)), ", ".join(map(str, value))]
    return [str(value)]


def test_the_rule_cases_produce_findings_to_read():
    """The walk below reads a real body of findings: every rule's breaching cases."""
    assert len({f.code for *_, f, _ in FINDINGS}) >= 30
    assert len(FINDINGS) > 150


@pytest.mark.parametrize(("file", "case", "engine", "finding", "wf"), FINDINGS,
                         ids=[f"{fi}:{c}:{e}:{f.code}" for fi, c, e, f, _ in FINDINGS])
class TestEveryFindingReadsRight:
    def test_no_internal_words(self, file, case, engine, finding, wf):
        """No snake_case activity names, template leftovers or Python values in what a social worker reads."""
        for field in ("message", "expected", "actual"):
            text = getattr(finding, field)
            assert not SNAKE.search(text), f"{field}: {text}"
            assert not [w for w in INTERNAL if w in text], f"{field}: {text}"

    def test_names_the_values_in_force(self, file, case, engine, finding, wf):
        """Each parameter the finding lists appears in its sentence, with the value in force."""
        for p in finding.parameters:
            frags = _fragments(wf, p)
            assert any(fr in finding.message for fr in frags), f"{p['name']} ({frags}) not in: {finding.message}"

    def test_a_sentence_with_its_evidence(self, file, case, engine, finding, wf):
        assert finding.message[:1].isupper() and finding.message.rstrip().endswith(".")
        assert finding.events and finding.title and finding.source


class TestParametersNamed:
    def test_bud_02_names_the_threshold_and_the_amount(self):
        """SDS-BUD-02's finding lists the panel threshold and says the approved amount beside it."""
        got = [f for *_, f, _ in FINDINGS if f.code == "SDS-BUD-02"]
        assert got
        for f in got:
            assert [p["name"] for p in f.parameters] == ["panel_threshold"]
            assert "£1,000" in f.message and "the weekly amount was £" in f.message.lower()


def _events(*records):
    return [build_event({"case": "C", "id": f"e{n + 1}", **r}, file="t.jsonl", line=n + 1, seq=n)
            for n, r in enumerate(records)]


def _replay(events, as_of=None):
    wf = load_workflow(None)
    return check_case("C", events, wf, as_of or max(e.day for e in events), None).findings


class TestSequenceFindings:
    def test_a_complaint_after_closure_is_no_seq_02(self):
        events = _events({"at": "2024-01-01", "activity": "referral_received"},
                         {"at": "2024-01-02", "activity": "case_closed"},
                         {"at": "2024-01-03", "activity": "complaint_received", "stage": 1},
                         {"at": "2024-01-04", "activity": "complaint_acknowledged", "stage": 1},
                         {"at": "2024-01-05", "activity": "complaint_responded", "stage": 1})
        assert [f.code for f in _replay(events)] == []

    def test_anything_else_after_closure_is_seq_02_in_plain_words(self):
        events = _events({"at": "2024-01-01", "activity": "referral_received"},
                         {"at": "2024-01-02", "activity": "case_closed"},
                         {"at": "2024-01-03", "activity": "information_given"})
        (f,) = _replay(events)
        assert f.code == "SDS-SEQ-02"
        assert f.message == ("Written information was recorded on 2024-01-03, after the case was closed on "
                             "2024-01-02. Only a new referral reopens a closed case.")

    @pytest.mark.parametrize("state_steps", [
        [("assessment_completed", {})],  # assessed
        [("assessment_completed", {}), ("budget_calculated", {"amount": 100})],  # budgeting
    ])
    def test_an_options_exception_is_allowed_in_assessed_and_budgeting(self, state_steps):
        base = [{"at": "2024-01-01", "activity": "referral_received"},
                {"at": "2024-01-02", "activity": "triaged", "tier": 3},
                {"at": "2024-01-03", "activity": "assessment_started"}]
        steps = [{"at": "2024-01-04", "activity": a, **extra} for a, extra in state_steps]
        exc = {"at": "2024-01-05", "activity": "options_exception", "reason": "short_term"}
        assert [f.code for f in _replay(_events(*base, *steps, exc))] == []

    @pytest.mark.parametrize("activity", ["capacity_concern_raised", "capacity_assessed", "proxy_recorded"])
    def test_capacity_steps_are_allowed_while_choosing_and_supported(self, activity):
        extra = {"capacity_assessed": {"has_capacity": True}, "proxy_recorded": {"kind": "guardian"}}.get(activity, {})
        path = [{"at": "2024-01-01", "activity": "referral_received"},
                {"at": "2024-01-02", "activity": "triaged", "tier": 3},
                {"at": "2024-01-03", "activity": "assessment_started"},
                {"at": "2024-01-04", "activity": "assessment_completed"},
                {"at": "2024-01-05", "activity": "budget_calculated", "amount": 100},
                {"at": "2024-01-06", "activity": "options_offered", "options": [1, 2, 3, 4]}]
        choosing = {"at": "2024-01-07", "activity": activity, **extra}
        started = {"at": "2024-01-08", "activity": "support_started", "option": 3}
        supported = {"at": "2024-01-09", "activity": activity, **extra}
        events = _events(*path, choosing, started, supported)
        wf = load_workflow(None)
        assert [f.code for f in check_case("C", events, wf, date(2024, 1, 9), None).findings] == []

    def test_a_triage_to_a_lower_tier_says_only_a_higher_tier_is_allowed(self):
        events = _events({"at": "2024-01-01", "activity": "referral_received"},
                         {"at": "2024-01-02", "activity": "triaged", "tier": 2},
                         {"at": "2024-01-03", "activity": "triaged", "tier": 1})
        (f,) = _replay(events)
        assert f.code == "SDS-SEQ-01"
        assert "may only be re-triaged to a higher tier" in f.message
        assert f.expected == "a triage to a tier higher than 2" and f.actual == "a triage to tier 1"


class TestDataFindings:
    def test_one_misplaced_line_is_one_event_out_of_place(self):
        """A closure written first in a case of twelve events is 1 event out of place, not 11 of 12."""
        days = [f"2024-01-{d:02d}" for d in range(1, 12)]
        records = [{"at": "2024-02-01", "activity": "case_closed"},
                   {"at": days[0], "activity": "referral_received"},
                   *({"at": d, "activity": "information_given"} for d in days[1:])]
        (f,) = [f for f in _replay(_events(*records)) if f.code == "SDS-DAT-02"]
        assert f.message.startswith("Of this case's 12 events, 1 was recorded out of time order")
        assert f.actual == "1 event out of place"

    def test_two_swapped_pairs_are_two_events(self):
        records = [{"at": "2024-01-01", "activity": "referral_received"},
                   {"at": "2024-01-03", "activity": "information_given"},
                   {"at": "2024-01-02", "activity": "signposted"},
                   {"at": "2024-01-05", "activity": "information_given"},
                   {"at": "2024-01-04", "activity": "signposted"}]
        (f,) = [f for f in _replay(_events(*records)) if f.code == "SDS-DAT-02"]
        assert f.actual == "2 events out of place"

    def test_a_time_given_with_an_offset_is_shown_in_london_time_and_says_so(self):
        """2024-06-30T23:30:00Z is 1 July in London (00:30 BST): its day and the sentence say so."""
        events = _events({"at": "2024-06-01", "activity": "referral_received"},
                         {"at": "2024-06-02", "activity": "case_closed"},
                         {"at": "2024-06-30T23:30:00Z", "activity": "information_given"})
        (f,) = _replay(events)
        assert f.at == "2024-07-01"
        assert "recorded on 2024-07-01T00:30 London time" in f.message
