"""Dated rule versions (issue 19 item 2): a rule pack may hold versions of one rule, each in force from a date
until the next replaces it; a duty is judged by the version in force on its trigger's day, on every engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules.compare import compare
from sdsrules.datafile import DataFileError
from sdsrules.engine import load_rulebook, make_checker
from sdsrules.events import build_event
from sdsrules.replay import check_case
from sdsrules.workflow import load_workflow

from .helpers import write_jsonl

V1 = """\
code: SDS-REV-01
title: first review late
version: "2014"
severity: high
sources: ["SDS statutory guidance §12 (review)"]
template: response
trigger: {activity: support_started}
expect: {activity: review_completed}
describe: the first review
within: initial_review
lapses_on: [{activity: [support_ended, case_closed]}]
message: The first review of the person's support did not happen in time.
"""
V2 = V1.replace('version: "2014"', 'version: "2022"\neffective: {from: 2022-04-01}\n'
                'description: a test revision with a six-week first review') \
    .replace("within: initial_review", "within: initial_review_2022")
DESIGN = """\
workflow: dated
extends: national
parameters:
  initial_review_2022:
    kind: duration
    description: the first review under the test revision
    values:
      2022-04-01: {value: 6 weeks, reference: "test value, not a legal fact"}
"""
# support from 2022-02-01 reviewed after 11 weeks (on time under version 2014's 12 weeks, late under 2022's six);
# support again from 2022-05-01 reviewed after 8 weeks and 4 days (late under 2022's six, on time under 12)
SPANNING = [
    {"at": "2022-01-10", "activity": "referral_received"},
    {"at": "2022-02-01", "activity": "support_started", "option": 3},
    {"at": "2022-04-19", "activity": "review_completed", "kind": "initial"},
    {"at": "2022-04-25", "activity": "support_ended"},
    {"at": "2022-05-01", "activity": "support_started", "option": 3},
    {"at": "2022-07-01", "activity": "review_completed", "kind": "initial"},
]
TEST_CASES = """\
cases:
  - name: a case spanning the revision is judged by each version on its own side of the date
    events:
""" + "".join(f"      - {{at: {r['at']}, activity: {r['activity']}"
              + "".join(f", {k}: {v}" for k, v in r.items() if k not in ("at", "activity")) + "}\n"
              for r in SPANNING) + """\
    findings:
      - {at: 2022-07-01, events: [e5, e6]}
"""


@pytest.fixture
def pack(tmp_path) -> Path:
    p = tmp_path / "pack"
    p.mkdir()
    (p / "SDS-REV-01.yaml").write_text(V1)
    (p / "SDS-REV-01.2022.yaml").write_text(V2)
    return p


@pytest.fixture
def design(tmp_path) -> Path:
    d = tmp_path / "dated.yaml"
    d.write_text(DESIGN)
    return d


def events(records):
    return [build_event({"case": "T", "id": f"e{n + 1}", **r}, file="t", line=n + 1, seq=n)
            for n, r in enumerate(records)]


class TestLoading:
    def test_versions_are_ordered_and_the_older_closes_the_day_before_the_newer(self, pack, design):
        book = load_rulebook([pack], load_workflow(design))
        v1, v2 = book.versions("SDS-REV-01")
        assert (v1.version, v1.effective_from, v1.effective_until) == ("2014", None, date(2022, 3, 31))
        assert (v2.version, v2.effective_from, v2.effective_until) == ("2022", date(2022, 4, 1), None)
        assert book.by_code("SDS-REV-01", date(2022, 3, 31)) is v1
        assert book.by_code("SDS-REV-01", date(2022, 4, 1)) is v2
        assert book.by_code("SDS-REV-01") is v2
        keys = [c.key for _, c in book.checks()]
        assert len(keys) == len(set(keys))

    def test_two_undated_definitions_of_a_code_are_refused(self, tmp_path, design):
        p = tmp_path / "twice"
        p.mkdir()
        (p / "a.yaml").write_text(V1)
        (p / "b.yaml").write_text(V1.replace('"2014"', '"2015"'))
        with pytest.raises(DataFileError, match="is also defined in"):
            load_rulebook([p], load_workflow(design))

    def test_the_same_version_twice_is_refused(self, pack, design):
        (pack / "SDS-REV-01.2022.yaml").write_text(V2.replace('"2022"', '"2014"'))
        with pytest.raises(DataFileError, match="version 2014 is also defined in"):
            load_rulebook([pack], load_workflow(design))

    def test_overlapping_versions_are_refused(self, pack, design):
        (pack / "SDS-REV-01.yaml").write_text(V1.replace('version: "2014"',
                                                         'version: "2014"\neffective: {until: 2022-06-30}'))
        with pytest.raises(DataFileError, match="may not overlap"):
            load_rulebook([pack], load_workflow(design))


class TestJudgedOnEachSide:
    @pytest.mark.parametrize("engine", ["reference", "compiled", "durable"])
    def test_a_case_spanning_the_date_is_judged_by_each_version_on_its_own_side(self, pack, design, engine):
        wf = load_workflow(design)
        book = load_rulebook([pack], wf)
        res = check_case("T", events(SPANNING), wf, date(2022, 12, 31), make_checker(engine, wf, book))
        (f,) = [f for f in res.findings if f.code == "SDS-REV-01"]
        assert f.at == "2022-07-01" and [e.id for e in f.events] == ["e5", "e6"]
        assert f.rule_version == "2022"
        assert [(p["name"], p["value"], p["since"]) for p in f.parameters] == \
            [("initial_review_2022", "6 weeks", "2022-04-01")]
        assert "Judged by version 2022 of the rule, in force from 2022-04-01." in f.message
        assert "SDS-REV-01" in res.applicable

    @pytest.mark.parametrize("engine", ["reference", "compiled", "durable"])
    def test_the_older_version_alone_finds_nothing_and_the_newer_alone_only_after_its_date(self, tmp_path, design,
                                                                                         engine):
        wf = load_workflow(design)
        for name, text, want in (("old", V1, []), ("new", V2, ["2022-07-01"])):
            p = tmp_path / name
            p.mkdir()
            (p / "r.yaml").write_text(text)
            book = load_rulebook([p], wf)
            res = check_case("T", events(SPANNING), wf, date(2022, 12, 31), make_checker(engine, wf, book))
            assert [f.at for f in res.findings if f.code == "SDS-REV-01"] == want, name

    def test_the_yaml_rule_test_beside_the_versions_passes_on_every_engine(self, pack, design):
        (pack / "SDS-REV-01.test.yaml").write_text(TEST_CASES)
        r = CliRunner().invoke(cli, ["rules", "test", str(pack), "-w", str(design)])
        assert r.exit_code == 0, r.output
        assert "1 passed, 0 failed" in r.output


class TestExplainAndCompare:
    def test_rules_explain_shows_the_history(self, pack, design):
        r = CliRunner().invoke(cli, ["rules", "explain", "SDS-REV-01", "--rules", str(pack), "-w", str(design)])
        assert r.exit_code == 0, r.output
        out = r.output
        assert "History" in out
        assert "version 2014: from always until 2022-03-31" in out
        assert "version 2022: from 2022-04-01 (in force now)" in out and "<- explained below" in out
        assert "initial_review_2022" in out and "initial_review:" in out
        old = CliRunner().invoke(cli, ["rules", "explain", "SDS-REV-01", "--rules", str(pack), "-w", str(design),
                                       "--on", "2021-06-01"])
        assert "(severity high, version 2014)" in old.output

    def test_rules_list_names_each_version_and_counts_the_rule_once(self, pack, design):
        r = CliRunner().invoke(cli, ["rules", "list", "--rules", str(pack), "-w", str(design)])
        assert r.exit_code == 0, r.output
        assert "first review late  (version 2014: from always until 2022-03-31)" in r.output
        assert "first review late  (version 2022: from 2022-04-01)" in r.output
        assert "1 rules (2 dated versions);" in r.output

    def test_a_bad_on_date_is_exit_2(self, pack, design):
        r = CliRunner().invoke(cli, ["rules", "explain", "SDS-REV-01", "--rules", str(pack), "-w", str(design),
                                       "--on", "soon"])
        assert r.exit_code == 2 and "YYYY-MM-DD" in r.output

    def test_a_proposed_revision_of_a_rule_is_the_reason_its_findings_change(self, tmp_path, pack, design):
        old = tmp_path / "old"
        old.mkdir()
        (old / "SDS-REV-01.yaml").write_text(V1)
        log = write_jsonl(tmp_path / "c.jsonl", [{"case": "T", "id": f"e{n + 1}", **r}
                                                 for n, r in enumerate(SPANNING)])
        wf = load_workflow(design)
        result = compare([log], wf, wf, rules=[old], proposed_rules=[pack], as_of=date(2022, 12, 31))
        (ch,) = [c for c in result.changes if c.code == "SDS-REV-01"]
        assert ch.change == "added"
        assert ch.reasons[0] == ("the rule differs: SDS-REV-01 version 2014 (current) and 2022 (proposed) in force "
                                 "on 2022-05-01")
