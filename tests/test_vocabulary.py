"""Vocabularies as data (issue 15): the SDS contract as a shipped file, designs in their own words, rule packs with
their own code prefix, and the receipt example replayed from a real public log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules import api
from sdsrules.datafile import DataFileError
from sdsrules.engine import load_rulebook
from sdsrules.events import ACTIVITIES, ROLES, EventError, build_event
from sdsrules.readers.fast import decode_line
from sdsrules.vocabulary import VocabularyError, load_vocabulary, shipped
from sdsrules.workflow import load_workflow

ROOT = Path(__file__).resolve().parent.parent
RECEIPT = ROOT / "cases" / "receipt"
RECEIPT_LOG = ROOT.parent.parent / "shared" / "data" / "receipt.xes"
if not RECEIPT_LOG.exists():
    RECEIPT_LOG = ROOT.parent / "shared" / "data" / "receipt.xes"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


LOCAL_VOCAB = """\
vocabulary: council
title: SDS with the council's own steps
extends: sds
roles: [care_coordinator]
trace_attributes: [locality]
activities:
  rag_meeting_held:
    words: resource allocation group meeting
    stage: Local
    attributes:
      outcome: {one_of: [agreed, deferred], required: true}
  case_note_added:
    words: case note
  review_completed:
    attributes:
      reviewer_grade: whole number
"""

LOCAL_DESIGN = """\
workflow: council
extends: national
vocabulary: council.yaml
anywhere: [rag_meeting_held, case_note_added]
"""


@pytest.fixture
def council(tmp_path: Path) -> Path:
    _write(tmp_path / "council.yaml", LOCAL_VOCAB)
    return _write(tmp_path / "design.yaml", LOCAL_DESIGN)


class TestTheSdsVocabulary:
    def test_events_tables_are_built_from_the_shipped_file(self):
        sds = shipped("sds")
        assert ACTIVITIES is sds and sds.roles == ROLES
        assert len(ACTIVITIES) == 50 and ACTIVITIES["triaged"]["tier"][1] is True
        assert sds.sds and sds.file.endswith("sds.yaml")

    def test_the_contract_tables_are_generated_from_it(self):
        """docs/contract.md below its marker is ``sdsrules activities --format markdown``: regenerate it when the
        vocabulary changes."""
        text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
        marker = "<!-- generated below: sdsrules activities --format markdown -->\n"
        assert marker in text
        out = CliRunner().invoke(cli, ["activities", "--format", "markdown"])
        assert out.exit_code == 0
        assert text.split(marker, 1)[1] == out.output


class TestLoading:
    @pytest.mark.parametrize(("body", "where", "says"), [
        ("vocabulary: x\nactivities:\n  a:\n    attributes:\n      n: colour\n", ":5: activities.a.attributes.n:",
         "'colour' is not a type"),
        ("vocabulary: x\nactivities:\n  a:\n    colour: red\n", ":4: activities.a.colour:",
         "is not a key of an activity"),
        ("vocabulary: x\nactivities:\n  a:\n    attributes:\n      case: text\n", ":5: activities.a.attributes.case:",
         "a field every event has"),
        ("vocabulary: x\nextends: sds\nactivities:\n  triaged:\n    attributes:\n      tier: text\n",
         ":6: activities.triaged.attributes.tier:", "does not change them"),
        ("vocabulary: x\nroles: [a, a]\nactivities: {}\n", ":2: roles.1:", "listed twice"),
        ("vocabulary: x\nshape: round\nactivities: {}\n", ":2: shape:", "is not a key of a vocabulary"),
    ])
    def test_every_problem_names_file_line_and_key(self, tmp_path, body, where, says):
        path = _write(tmp_path / "v.yaml", body)
        with pytest.raises(VocabularyError) as e:
            load_vocabulary(str(path))
        assert where in str(e.value) and says in str(e.value)
        assert str(e.value).startswith(str(path))

    def test_a_design_naming_a_broken_vocabulary_does_not_load(self, tmp_path):
        _write(tmp_path / "v.yaml", "vocabulary: v\nactivities: [a]\n")
        design = _write(tmp_path / "d.yaml", "workflow: d\nvocabulary: v.yaml\nstates: [{name: s}]\n")
        with pytest.raises(DataFileError, match="vocabulary: cannot be loaded"):
            load_workflow(design)

    def test_an_extension_adds_activities_attributes_and_roles(self, council):
        v = load_workflow(council).vocabulary
        assert v.sds and v.base == "sds"
        assert "rag_meeting_held" in v and "triaged" in v and "care_coordinator" in v.roles
        assert "reviewer_grade" in v["review_completed"] and "kind" in v["review_completed"]
        assert "reviewer_grade" not in ACTIVITIES["review_completed"]  # the SDS table is untouched


class TestReadingInTheDesignsWords:
    def test_build_event_judges_by_the_vocabulary_given(self, council):
        v = load_workflow(council).vocabulary
        record = {"case": "C1", "at": "2024-01-02", "activity": "rag_meeting_held", "outcome": "agreed",
                  "actor": {"role": "care_coordinator"}}
        ev = build_event(record, file="f", line=1, seq=0, vocabulary=v)
        assert ev.activity == "rag_meeting_held" and ev.actor.role == "care_coordinator"
        with pytest.raises(EventError) as e:
            build_event(record, file="f", line=1, seq=0)
        assert e.value.field == "activity" and "not a known activity" in e.value.reason
        with pytest.raises(EventError) as e:
            build_event({**record, "outcome": "maybe"}, file="f", line=1, seq=0, vocabulary=v)
        assert e.value.field == "outcome" and "one of agreed, deferred" in e.value.reason
        with pytest.raises(EventError) as e:
            build_event({**record, "activity": "rag_meeting"}, file="f", line=1, seq=0, vocabulary=v)
        assert "not an activity of the vocabulary council" in e.value.reason
        assert "did you mean 'rag_meeting_held'" in e.value.reason

    @pytest.mark.parametrize("line", [
        b'{"case": "C1", "at": "2024-01-02", "activity": "rag_meeting_held", "outcome": "agreed"}',
        b'{"case": "C1", "at": "2024-01-02", "activity": "rag_meeting_held", "outcome": "no"}',
        b'{"case": "C1", "at": "2024-01-02", "activity": "case_note_added", "actor": {"role": "care_coordinator"}}',
        b'{"case": "C1", "at": "2024-01-02", "activity": "case_note_added", "actor": {"role": "boss"}}',
        b'{"case": "C1", "at": "2024-01-02", "activity": "triaged", "tier": 1}',
        b'{"case": "", "at": "2024-01-02", "activity": "nothing"}',
    ])
    def test_the_fast_path_follows_the_vocabulary(self, council, line):
        import orjson

        v = load_workflow(council).vocabulary
        got = decode_line(line, "f", 1, 0, None, v)
        want: Any
        try:
            want = build_event(orjson.loads(line), file="f", line=1, seq=0, vocabulary=v).to_dict()
        except EventError as e:
            want = ("rejected", e.field)
        assert (got.to_dict() if type(got).__name__ == "Event" else ("rejected", got.field)) == want

    def test_a_log_with_local_steps_replays_under_its_design(self, council, tmp_path):
        log = _write(tmp_path / "log.jsonl", "\n".join(json.dumps(r) for r in [
            {"case": "C1", "at": "2024-01-02", "activity": "referral_received"},
            {"case": "C1", "at": "2024-01-03", "activity": "case_note_added", "actor": {"role": "care_coordinator"}},
            {"case": "C1", "at": "2024-01-04", "activity": "triaged", "tier": 3},
            {"case": "C1", "at": "2024-01-05", "activity": "rag_meeting_held", "outcome": "agreed"},
        ]) + "\n")
        local = api.replay([log], workflow=council)
        assert local.summary.events_rejected == 0 and local.summary.events_replayed == 4
        national = api.replay([log], workflow="national")
        assert national.summary.events_rejected == 2


class TestRulePacksBeyondSds:
    PACK = "pack: local\nprefix: LOCAL\n"
    RULE = """\
code: LOCAL-REV-01
title: a RAG meeting deferred without a case note
severity: low
sources: [local policy]
template: response
trigger: {activity: rag_meeting_held, where: {outcome: deferred, locality: north}}
expect: {activity: case_note_added}
within: 5 days
message: A deferred RAG meeting in the north was not followed by a case note.
"""

    def test_a_local_pack_runs_beside_the_sds_pack(self, council, tmp_path):
        pack = tmp_path / "local"
        pack.mkdir()
        _write(pack / "pack.yaml", self.PACK)
        _write(pack / "LOCAL-REV-01.yaml", self.RULE.replace("within: 5 days\n", ""))
        wf = load_workflow(council)
        book = load_rulebook([str(ROOT / "rules"), str(pack)], wf)
        codes = [r.code for r in book.rules]
        assert "LOCAL-REV-01" in codes and "SDS-REV-01" in codes

    def test_a_code_must_carry_its_packs_prefix(self, council, tmp_path):
        pack = tmp_path / "local"
        pack.mkdir()
        _write(pack / "pack.yaml", self.PACK)
        _write(pack / "SDS-REV-99.yaml", self.RULE.replace("LOCAL-REV-01", "SDS-REV-99"))
        with pytest.raises(DataFileError, match="code"):
            load_rulebook([str(pack)], load_workflow(council))
        # without a manifest a pack speaks SDS: a LOCAL- code is refused
        plain = tmp_path / "plain"
        plain.mkdir()
        _write(plain / "LOCAL-REV-01.yaml", self.RULE)
        with pytest.raises(DataFileError, match="code"):
            load_rulebook([str(plain)], load_workflow(council))

    def test_where_may_name_a_trace_attribute_but_not_an_unknown_one(self, council, tmp_path):
        pack = tmp_path / "local"
        pack.mkdir()
        _write(pack / "pack.yaml", self.PACK)
        _write(pack / "LOCAL-REV-01.yaml", self.RULE.replace("within: 5 days\n", ""))
        load_rulebook([str(pack)], load_workflow(council))
        _write(pack / "LOCAL-REV-01.yaml", self.RULE.replace("locality", "postcode").replace("within: 5 days\n", ""))
        with pytest.raises(DataFileError, match="postcode"):
            load_rulebook([str(pack)], load_workflow(council))


class TestValidate:
    def test_the_sds_standards_judge_only_designs_in_sds_words(self, tmp_path):
        design = _write(tmp_path / "d.yaml", (RECEIPT / "design.yaml").read_text(encoding="utf-8")
                        .replace("vocabulary: vocabulary.yaml", f"vocabulary: {RECEIPT / 'vocabulary.yaml'}"))
        out = CliRunner().invoke(cli, ["validate", str(design)])
        assert out.exit_code == 0, out.output
        assert "WF-SWS" not in out.output

    def test_rules_judges_a_design_by_the_packs_it_runs(self, tmp_path):
        out = CliRunner().invoke(cli, ["validate", str(RECEIPT / "design.yaml"), "--rules", str(RECEIPT / "rules")])
        assert out.exit_code == 0, out.output
        text = (RECEIPT / "design.yaml").read_text(encoding="utf-8")
        cut = text.split("  decision_period_extended:")[0]
        design = _write(RECEIPT / "_without_extension.yaml", cut)
        try:
            out = CliRunner().invoke(cli, ["validate", str(design), "--rules", str(RECEIPT / "rules")])
        finally:
            design.unlink()
        assert out.exit_code == 1 and "WF-PARAM-01" in out.output and "RCPT-DEC-01" in out.output


class TestActivitiesCommand:
    def test_one_activity_with_its_attributes(self):
        out = CliRunner().invoke(cli, ["activities", "options_offered"])
        assert out.exit_code == 0
        assert "options*" in out.output and "budget_stated" in out.output
        assert "a list of one of 1, 2, 3, 4" in out.output

    def test_an_unknown_name_gets_did_you_mean(self):
        out = CliRunner().invoke(cli, ["activities", "option_offered"])
        assert out.exit_code == 2 and "did you mean options_offered?" in out.output

    def test_a_designs_own_vocabulary(self):
        out = CliRunner().invoke(cli, ["activities", "-w", str(RECEIPT / "design.yaml"), "--format", "json"])
        assert out.exit_code == 0
        data = json.loads(out.output)
        assert data["vocabulary"] == "receipt"
        assert "T10 Determine necessity to stop indication" in [a["activity"] for a in data["activities"]]


@pytest.mark.skipif(not RECEIPT_LOG.exists(), reason="shared/data/receipt.xes is not beside this checkout")
class TestReceipt:
    """The public permit-receipt log, checked in its own words."""

    def test_replayed_with_nothing_rejected_and_no_sds_words(self):
        out = CliRunner().invoke(cli, ["replay", str(RECEIPT_LOG), "-w", str(RECEIPT / "design.yaml"),
                                       "--rules", str(RECEIPT / "rules"), "--format", "json"])
        assert out.exit_code == 1, out.output
        report = json.loads(out.output)
        assert report["summary"]["events_read"] == 8577 and report["summary"]["events_rejected"] == 0
        assert report["summary"]["cases"] == 1434
        codes = {f["code"] for f in report["findings"]}
        assert codes and all(c.startswith("RCPT-") for c in codes)
        for word in ("SDS-", "referral", "options", "support plan"):
            assert word not in out.output


COUNCIL = ROOT / "cases" / "council-export"


class TestMapsForRealExports:
    def test_the_council_export_reads_through_ignore_and_patterns(self):
        report = api.replay([COUNCIL / "export.csv"], activity_map=COUNCIL / "map.yaml")
        s = report.summary
        assert (s.events_read, s.events_replayed, s.events_rejected, s.events_ignored) == (30, 24, 0, 6)
        assert s.balanced()
        assert dict(s.ignored) == {"Case Note": 3, "Duty Visit": 1, "Phone Call - Inbound": 1,
                                   "Phone Call - Outbound": 1}
        started = [e for c in report.cases for e in c.events if e.activity == "assessment_started"] \
            if hasattr(report.cases[0], "events") else []
        assert started == [] or all(e.get("source_activity") == "Assessment - Started" for e in started)

    def test_ignored_steps_are_counted_apart_in_every_output(self):
        out = CliRunner().invoke(cli, ["replay", str(COUNCIL / "export.csv"), "--map", str(COUNCIL / "map.yaml")])
        assert "30 events read, 24 replayed, 0 rejected, 6 ignored" in out.output
        assert "ignored steps: Case Note (3), Duty Visit (1)" in out.output
        out = CliRunner().invoke(cli, ["replay", str(COUNCIL / "export.csv"), "--map", str(COUNCIL / "map.yaml"),
                                       "--format", "json"])
        summary = json.loads(out.output)["summary"]
        assert summary["events_ignored"] == 6 and summary["ignored"]["Case Note"] == 3

    def test_the_sds_summary_says_nothing_of_ignoring(self):
        out = CliRunner().invoke(cli, ["replay", str(ROOT / "cases" / "sample.jsonl"), "--format", "json"])
        assert "ignored" not in json.loads(out.output)["summary"]

    def test_lifecycle_keys_default_and_role_values(self, tmp_path):
        from sdsrules.maps import load_map

        m = load_map(_write(tmp_path / "m.yaml", """\
map: m
keep_source: true
activities:
  "Visit+start": assessment_started
  "Visit+complete": assessment_completed
  "Call*": signposted
default: material_change_recorded
values:
  actor.role: {Worker: social_worker}
"""))
        rec = m.apply({"activity": "Visit", "lifecycle:transition": "start", "actor": {"role": "Worker"}})
        assert rec["activity"] == "assessment_started" and rec["actor"]["role"] == "social_worker"
        assert rec["source_activity"] == "Visit"
        assert m.apply({"activity": "Visit", "lifecycle:transition": "complete"})["activity"] == "assessment_completed"
        assert m.apply({"activity": "Call back"})["activity"] == "signposted"
        assert m.apply({"activity": "Anything"})["activity"] == "material_change_recorded"
        csv_rec = m.apply({"activity": "Call", "actor_role": "Worker"}, text_cells=True)
        assert csv_rec["actor_role"] == "social_worker"

    def test_convert_counts_ignored_steps_apart(self, tmp_path):
        out = CliRunner().invoke(cli, ["convert", str(COUNCIL / "export.csv"), str(tmp_path / "o.jsonl"),
                                       "--map", str(COUNCIL / "map.yaml")])
        assert out.exit_code == 0, out.output
        assert "0 rejected, 6 ignored" in out.output
        first = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()[0])
        assert first["source_activity"] == "Contact: New Referral"


class TestMapScaffold:
    def test_a_csv_export_gets_every_step_field_and_count(self, tmp_path):
        target = tmp_path / "m.yaml"
        out = CliRunner().invoke(cli, ["map", "scaffold", str(COUNCIL / "export.csv"), "-o", str(target)])
        assert out.exit_code == 0, out.output
        text = target.read_text(encoding="utf-8")
        assert '"Event Type": activity' in text
        assert '"Case Note": "Case Note"   # 3 events' in text
        assert '# "Staff Role": "Staff Role"   # 30 events' in text

    @pytest.mark.skipif(not RECEIPT_LOG.exists(), reason="shared/data/receipt.xes is not beside this checkout")
    def test_the_receipt_scaffold_is_a_working_map_for_its_vocabulary(self, tmp_path):
        target = tmp_path / "m.yaml"
        out = CliRunner().invoke(cli, ["map", "scaffold", str(RECEIPT_LOG), "-o", str(target)])
        assert out.exit_code == 0, out.output
        assert '"Confirmation of receipt": "Confirmation of receipt"   # 1,434 events' in target.read_text("utf-8")
        report = api.replay([RECEIPT_LOG], workflow=RECEIPT / "design.yaml", rules=[RECEIPT / "rules"],
                            activity_map=target)
        assert report.summary.events_rejected == 0 and report.summary.events_replayed == 8577

    def test_an_unreadable_log_is_a_one_line_error(self, tmp_path):
        bad = _write(tmp_path / "x.xes", "<log><trace>")
        out = CliRunner().invoke(cli, ["map", "scaffold", str(bad)])
        assert out.exit_code == 2 and "cannot be read as xes" in out.output
        assert "Traceback" not in out.output


class TestTimeForAnyProcess:
    def test_a_design_names_its_time_zone_and_holiday_calendar(self, tmp_path):
        design = _write(tmp_path / "d.yaml", "workflow: d\nextends: national\ntime_zone: Europe/Amsterdam\n"
                                             "holidays: {country: NL}\n")
        wf = load_workflow(design)
        assert wf.time_zone == "Europe/Amsterdam" and wf.holidays == ("NL", None)
        from datetime import date

        wait = wf.param_value("complaint_stage1_response", date(2024, 5, 6))  # 5 working days
        assert wait.after(date(2024, 5, 6)) == date(2024, 5, 14)  # Ascension Day (9 May) is a Dutch holiday
        national = load_workflow("national").param_value("complaint_stage1_response", date(2024, 5, 6))
        assert national.after(date(2024, 5, 6)) == date(2024, 5, 13)

    @pytest.mark.parametrize(("key", "says"), [("time_zone: Mars/Olympus", "is not a time zone"),
                                               ("holidays: {country: XX}", "is not a country"),
                                               ("holidays: {country: GB, subdivision: ZZ}", "not a subdivision")])
    def test_a_bad_zone_or_calendar_names_the_key(self, tmp_path, key, says):
        design = _write(tmp_path / "d.yaml", f"workflow: d\nextends: national\n{key}\n")
        with pytest.raises(DataFileError) as e:
            load_workflow(design)
        assert ":3:" in str(e.value) and says in str(e.value)

    def test_days_and_times_are_the_designs(self, tmp_path):
        design = _write(tmp_path / "d.yaml", "workflow: d\nextends: national\ntime_zone: Europe/Amsterdam\n")
        log = _write(tmp_path / "l.jsonl", json.dumps({"case": "C1", "at": "2024-06-30T22:30:00Z",
                                                       "activity": "referral_received"}) + "\n")
        wf = load_workflow(design)
        from sdsrules.readers import read_all

        ev = next(iter(read_all([str(log)], vocabulary=wf.reading_vocabulary)))
        assert str(ev.day) == "2024-07-01" and ev.said == "2024-07-01T00:30 Amsterdam time"
        london = next(iter(read_all([str(log)])))
        assert str(london.day) == "2024-06-30" and london.said == "2024-06-30T23:30 London time"


class TestSameInputOptions:
    @pytest.mark.parametrize("command", [["replay"], ["report"], ["due"]])
    def test_from_names_the_input_format_and_map_reads_a_council_export(self, command):
        out = CliRunner().invoke(cli, [*command, str(COUNCIL / "export.csv"), "--from", "csv",
                                       "--map", str(COUNCIL / "map.yaml"), "--as-of", "2024-05-13"])
        assert out.exit_code in (0, 1), out.output
        assert "Traceback" not in out.output

    def test_a_pack_in_other_words_asks_for_its_design(self):
        out = CliRunner().invoke(cli, ["rules", "list", "--rules", str(RECEIPT / "rules")])
        assert out.exit_code == 2
        assert "speaks the vocabulary receipt" in out.output and "--workflow" in out.output
        out = CliRunner().invoke(cli, ["rules", "list", "--rules", str(RECEIPT / "rules"),
                                       "-w", str(RECEIPT / "design.yaml")])
        assert out.exit_code == 0 and "RCPT-DEC-01" in out.output


def test_the_receipt_pack_cases_pass_on_every_engine():
    """The receipt pack's own YAML cases, run as `sdsrules rules test cases/receipt/rules -w ...` runs them: the
    reference, compiled and durable engines agree in the process's own words."""
    from sdsrules.ruletest import Runner, find_test_files

    runner = Runner([RECEIPT / "rules"], workflow=str(RECEIPT / "design.yaml"))
    assert len(runner.engines) >= 3
    outcomes = list(runner.run_files(find_test_files([RECEIPT / "rules"])))
    assert len(outcomes) == 12
    assert [o.report() for o in outcomes if not o.passed] == []


class TestComplete:
    def test_open_duties_are_breached_at_the_end_of_a_complete_history_on_every_engine(self):
        runs = {}
        for engine in ("reference", "compiled", "durable"):
            plain = api.replay([COUNCIL / "export.csv"], activity_map=COUNCIL / "map.yaml", engine=engine)
            done = api.replay([COUNCIL / "export.csv"], activity_map=COUNCIL / "map.yaml", engine=engine,
                              complete=True)
            assert plain.obligations and len(done.findings) > len(plain.findings)
            closed = [f for f in done.findings if "complete history" in f.message]
            assert closed and all(f.at in ("2024-05-13", "2024-03-13", "2024-05-01") for f in closed)
            open_left = [o for o in done.obligations if not o.overdue]
            assert open_left == []
            runs[engine] = sorted((f.case, f.code, f.at, f.message) for f in done.findings)
        assert runs["reference"] == runs["compiled"] == runs["durable"]

    def test_the_flag_on_the_command_line(self):
        out = CliRunner().invoke(cli, ["replay", str(COUNCIL / "export.csv"), "--map", str(COUNCIL / "map.yaml"),
                                       "--complete"])
        assert out.exit_code == 1 and "judged as its complete history" in out.output


class TestResponseWithoutDeadline:
    RULE = """\
code: RCPT-END-01
title: phase closed without a decision on the stop indication
severity: high
sources: [local policy]
template: response
trigger: {activity: Confirmation of receipt}
expect: {activity: T10 Determine necessity to stop indication}
message: The receipt phase ended without a decision on the stop indication.
"""

    @pytest.fixture
    def setup(self, tmp_path):
        pack = tmp_path / "pack"
        pack.mkdir()
        _write(pack / "pack.yaml", "pack: end\nprefix: RCPT\n")
        _write(pack / "RCPT-END-01.yaml", self.RULE)
        rows = [("A", "2011-10-03", "Confirmation of receipt"), ("A", "2011-10-10", "Receipt phase closed"),
                ("B", "2011-10-03", "Confirmation of receipt"),
                ("B", "2011-10-05", "T10 Determine necessity to stop indication"),
                ("B", "2011-10-10", "Receipt phase closed"),
                ("C", "2011-10-03", "Confirmation of receipt")]
        log = _write(tmp_path / "l.jsonl", "".join(json.dumps({"case": c, "at": a, "activity": x}) + "\n"
                                                   for c, a, x in rows))
        return pack, log

    @pytest.mark.parametrize("engine", ["reference", "compiled", "durable"])
    def test_breached_at_closure_open_until_then_and_at_the_end_with_complete(self, setup, engine):
        pack, log = setup
        report = api.replay([log], workflow=RECEIPT / "design.yaml", rules=[pack], engine=engine)
        got = sorted((f.case, f.at) for f in report.findings)
        assert got == [("A", "2011-10-10")]
        f = report.findings[0]
        assert "closed by the close of the receipt phase of 2011-10-10" in f.message
        assert [e.role for e in f.events] == ["trigger", "ended by"]
        assert [o.case for o in report.obligations] == ["C"]
        done = api.replay([log], workflow=RECEIPT / "design.yaml", rules=[pack], engine=engine, complete=True)
        assert sorted((f.case, f.at) for f in done.findings) == [("A", "2011-10-10"), ("C", "2011-10-03")]


def test_validate_rules_names_rules_in_other_words_than_the_designs():
    out = CliRunner().invoke(cli, ["validate", "national", "--rules", str(RECEIPT / "rules")])
    assert out.exit_code == 1
    assert "WF-ACT-01" in out.output and "Rule RCPT-DEC-01 names" in out.output
    out = CliRunner().invoke(cli, ["validate", "national", "--rules", str(ROOT / "rules")])
    assert out.exit_code == 0, out.output
