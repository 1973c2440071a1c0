"""The command line: exit codes a pipeline can use, the JSON contract, errors without tracebacks."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sdsrules.cli.main import cli

from .helpers import write_jsonl

CLEAN = [{"id": "e1", "case": "C1", "at": "2024-01-01", "activity": "referral_received"},
         {"id": "e2", "case": "C1", "at": "2024-01-02", "activity": "triaged", "tier": 1},
         {"id": "e3", "case": "C1", "at": "2024-01-03", "activity": "signposted", "to": "community café"},
         {"id": "e4", "case": "C1", "at": "2024-01-04", "activity": "case_closed"}]


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


class TestReplayCommand:
    def test_a_clean_log_exits_0(self, tmp_path):
        r = run("replay", write_jsonl(tmp_path / "c.jsonl", CLEAN))
        assert r.exit_code == 0, r.output
        assert "No findings." in r.output

    def test_findings_exit_1_and_the_json_has_the_contract_shape(self, tmp_path):
        recs = [*CLEAN[:2], CLEAN[3]]  # closed with no information or signposting: SDS-ACC-01
        r = run("replay", write_jsonl(tmp_path / "f.jsonl", recs), "--format", "json")
        assert r.exit_code == 1
        doc = json.loads(r.output)
        assert set(doc) >= {"summary", "findings", "rejected"}
        assert set(doc["summary"]) >= {"cases", "events_read", "events_replayed", "events_rejected",
                                       "findings_by_code", "as_of", "workflow"}
        assert doc["summary"]["findings_by_code"] == {"SDS-ACC-01": 1}
        (f,) = doc["findings"]
        assert set(f) >= {"code", "case", "at", "events", "message", "source"}
        assert [e["id"] for e in f["events"]] == ["e2", "e4"]

    def test_nothing_readable_exits_2(self, tmp_path):
        p = tmp_path / "junk.jsonl"
        p.write_text("junk\nmore junk\n")
        r = CliRunner().invoke(cli, ["replay", str(p)])
        assert r.exit_code == 2 and "none of the 2 records" in r.output

    def test_a_missing_file_exits_2_with_an_error_not_a_traceback(self, tmp_path):
        r = CliRunner().invoke(cli, ["replay", str(tmp_path / "nope.jsonl")])
        assert r.exit_code == 2 and "Error:" in r.output and "Traceback" not in r.output

    def test_a_broken_workflow_exits_2_naming_file_and_line(self, tmp_path):
        wf = tmp_path / "wf.yaml"
        wf.write_text("workflow: x\nextends: national\nbogus: 1\n")
        r = CliRunner().invoke(cli, ["replay", str(write_jsonl(tmp_path / "c.jsonl", CLEAN)), "--workflow", str(wf)])
        assert r.exit_code == 2 and f"{wf}:3" in r.output and "bogus" in r.output

    def test_a_bad_as_of_is_a_usage_error(self, tmp_path):
        r = CliRunner().invoke(cli, ["replay", str(write_jsonl(tmp_path / "c.jsonl", CLEAN)), "--as-of", "someday"])
        assert r.exit_code == 2 and "YYYY-MM-DD" in r.output

    def test_output_file_is_written_whole_and_the_summary_goes_to_stderr(self, tmp_path):
        out = tmp_path / "out.csv"
        r = CliRunner().invoke(cli, ["replay", str(write_jsonl(tmp_path / "c.jsonl", CLEAN)), "--format", "csv",
                                     "-o", str(out)])
        assert r.exit_code == 0
        assert out.read_text().startswith("case,code,at")
        assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind

    def test_jobs_2_gives_byte_identical_output_to_jobs_1(self, tmp_path):
        recs = [{**r, "case": f"C{n}", "id": f"{n}-{r['id']}"} for n in range(30) for r in CLEAN[:2]]
        p = write_jsonl(tmp_path / "m.jsonl", recs)
        assert run("replay", p, "--format", "json", "-j", "1").output == run("replay", p, "--format", "json",
                                                                              "-j", "2").output


class TestRulesCommand:
    def test_list_names_every_catalogue_code(self):
        r = run("rules", "list")
        assert r.exit_code == 0 and r.output.count("SDS-") >= 35

    def test_explain_shows_sources_and_dated_parameters(self):
        r = run("rules", "explain", "SDS-REV-02")
        assert "guidance (2014) §12.3" in r.output and "from 2014-04-01: 12 months" in r.output

    def test_explain_of_an_unknown_code_exits_2(self):
        r = CliRunner().invoke(cli, ["rules", "explain", "SDS-XXX-99"])
        assert r.exit_code == 2 and "no rule" in r.output
