"""``sdsrules report``: exit codes, outputs written, pseudonymised consistently."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner
from sdsrules.cli.main import cli

try:  # tests/ as a package or as a folder on the path
    from tests.test_report_html import write_log
except ImportError:
    from test_report_html import write_log


def run(*args):
    return CliRunner().invoke(cli, ["report", *args, "--engine", "none"])


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class TestExitCodes:
    def test_findings_exit_1(self, tmp_path):
        """A log with findings exits 1 and prints the rates with their denominators."""
        res = run(str(write_log(tmp_path)))
        assert res.exit_code == 1
        assert "SDS-SEQ-01  breached 3 of 4 decided (75%), 0 open" in res.output

    def test_clean_log_exits_0(self, tmp_path):
        """A case that follows the pathway exits 0."""
        log = tmp_path / "ok.jsonl"
        log.write_text(json.dumps({"id": "a", "case": "C-9", "at": "2024-01-01", "activity": "referral_received"})
                       + "\n")
        assert run(str(log)).exit_code == 0

    def test_unusable_input_exits_2(self, tmp_path):
        """Nothing readable: exit 2 with an Error on stderr."""
        log = tmp_path / "bad.jsonl"
        log.write_text('{"case": "C-1"}\n')
        res = run(str(log))
        assert res.exit_code == 2
        assert "Error: none of the 1 records could be read" in res.output

    def test_missing_file_exits_2(self, tmp_path):
        """A log that does not exist is a usage problem."""
        res = run(str(tmp_path / "nope.jsonl"))
        assert res.exit_code == 2
        assert "Error:" in res.output

    def test_bad_key_file_exits_2(self, tmp_path):
        """A key file too short to be safe is refused."""
        key = tmp_path / "key"
        key.write_bytes(b"123")
        res = run(str(write_log(tmp_path)), "--pseudonymise", str(key))
        assert res.exit_code == 2
        assert "at least 16" in res.output


class TestOutputs:
    def test_html_and_csv(self, tmp_path):
        """--html and --csv write the page, findings, rates, cases and the --by breakdown."""
        out = tmp_path / "out"
        res = run(str(write_log(tmp_path)), "--html", str(tmp_path / "r.html"), "--csv", str(out), "--by", "team")
        assert res.exit_code == 1
        assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
        rates = {r["code"]: r for r in rows(out / "rates.csv")}
        assert (rates["SDS-SEQ-01"]["applied"], rates["SDS-SEQ-01"]["breached"]) == ("4", "3")
        assert len(rows(out / "findings.csv")) == 5
        assert [r["case"] for r in rows(out / "cases.csv")][:3] == ["C-1", "C-2", "C-3"]
        # C-1 east, C-2 west, C-3 and the hostile case record no team
        teams = {r["value"] for r in rows(out / "rates_by_team.csv")}
        assert teams == {"east_long_term", "west_long_term", "unknown"}
        assert not list(tmp_path.glob(".*.tmp"))

    def test_formula_cells_defused(self, tmp_path):
        """A case id a spreadsheet would run as a formula is written with a leading apostrophe."""
        log = tmp_path / "f.jsonl"
        log.write_text(json.dumps({"id": "a", "case": "=HYPERLINK(1)", "at": "2024-01-01", "activity": "triaged",
                                   "tier": 1}) + "\n")
        run(str(log), "--csv", str(tmp_path / "o"))
        assert rows(tmp_path / "o" / "findings.csv")[0]["case"] == "'=HYPERLINK(1)"

    def test_pseudonymised_consistently(self, tmp_path):
        """Every output carries the same pseudonyms and no original case or worker id."""
        key = tmp_path / "key"
        key.write_bytes(b"0123456789abcdef0123456789abcdef")
        log = write_log(tmp_path)
        res = run(str(log), "--pseudonymise", str(key), "--html", str(tmp_path / "r.html"), "--csv",
                  str(tmp_path / "o"))
        assert res.exit_code == 1
        page = (tmp_path / "r.html").read_text()
        text = page + "".join(p.read_text() for p in (tmp_path / "o").glob("*.csv"))
        for original in ('"C-1"', "C-2", "C-3", "W1", "W2", "W3", '"e1"'):
            assert original not in text
        cases = {r["case"] for r in rows(tmp_path / "o" / "findings.csv")}
        assert cases <= {r["case"] for r in rows(tmp_path / "o" / "cases.csv")}
        assert all(c.startswith("P-") and c in page for c in cases)
        assert "Pseudonymised: case, worker and event ids" in page

    def test_progress_when_asked(self, tmp_path):
        """--progress reports the phases on stderr."""
        res = CliRunner().invoke(cli, ["report", str(write_log(tmp_path)), "--engine", "none", "--progress"])
        assert "reading and checking the logs" in res.output
