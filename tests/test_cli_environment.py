"""A broken environment or output is one line and exit 2, never a traceback, and nothing is half-written
(issue 18); --fail-on names real codes (issue 18); stderr never carries a record's values (SECURITY.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "cases" / "sample.jsonl")
SDSRULES = [sys.executable, "-c", "from sdsrules.cli.main import main; main()"]


def run(*args: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([*SDSRULES, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120)


def _one_error_line(p: subprocess.CompletedProcess, words: str) -> None:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = [x for x in p.stderr.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1 and words in lines[0], p.stderr


class TestUnusableOutput:
    def test_a_missing_folder(self, tmp_path):
        p = run("replay", SAMPLE, "-o", str(tmp_path / "no" / "such" / "out.json"))
        _one_error_line(p, "does not exist")

    def test_a_folder_as_the_output(self, tmp_path):
        p = run("replay", SAMPLE, "-o", str(tmp_path))
        _one_error_line(p, "it is a folder")
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
    def test_a_full_disk_as_the_output_file(self):
        _one_error_line(run("replay", SAMPLE, "--format", "json", "-o", "/dev/full"), "No space left on device")

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
    def test_a_full_disk_on_standard_output(self):
        with open("/dev/full", "w") as full:
            p = run("replay", SAMPLE, stdout=full)
        _one_error_line(p, "No space left on device")

    @pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
    def test_a_folder_without_permission(self, tmp_path):
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        _one_error_line(run("replay", SAMPLE, "-o", str(locked / "out.json")), "Permission denied")

    def test_the_html_report_into_a_missing_folder(self, tmp_path):
        _one_error_line(run("report", SAMPLE, "--html", str(tmp_path / "no" / "r.html")), "does not exist")

    def test_nothing_half_written_is_left_beside_a_failed_output(self, tmp_path):
        target = tmp_path / "out.json"
        target.mkdir()
        run("replay", SAMPLE, "-o", str(target))
        assert list(tmp_path.iterdir()) == [target]


class TestFailOn:
    def test_an_unknown_code_is_refused_with_the_nearest(self):
        p = run("replay", SAMPLE, "--fail-on", "SDS-REV-1")
        assert p.returncode == 2 and "did you mean SDS-REV-01?" in p.stderr

    def test_an_unknown_prefix_is_refused(self):
        p = run("replay", SAMPLE, "--fail-on", "SDS-XYZ")
        assert p.returncode == 2 and "names no breach code or code prefix" in p.stderr

    @pytest.mark.parametrize("value", ["SDS-REV", "SDS-SEQ-01", "SDS-DAT-01", "high"])
    def test_real_codes_prefixes_and_severities_pass(self, value):
        assert run("replay", SAMPLE, "--fail-on", value).returncode in (0, 1)


class TestStderrCarriesNoRecordValues:
    def test_convert_names_file_line_and_field_but_not_the_value(self, tmp_path):
        log = tmp_path / "log.jsonl"
        log.write_text('{"case": "A", "at": "2024-01-01", "activity": "home visit to Mrs Doe"}\n'
                       '{"case": "A", "at": "2024-02-30", "activity": "referral_received"}\n', encoding="utf-8")
        p = run("convert", str(log), str(tmp_path / "out.csv"))
        assert p.returncode == 2 or p.returncode == 1
        assert "Mrs Doe" not in p.stderr and "2024-02-30" not in p.stderr
        assert f"{log}:1:" in p.stderr and f"{log}:2:" in p.stderr


class TestRulePacksAndDesignsAsFiles:
    def test_a_fifo_in_a_rule_pack_is_refused_not_waited_on(self, tmp_path):
        (tmp_path / "SDS-BUD-01.yaml").write_text((ROOT / "rules" / "budget" / "SDS-BUD-01.yaml").read_text())
        os.mkfifo(tmp_path / "SDS-X.yaml")
        p = run("rules", "list", "--rules", str(tmp_path))
        _one_error_line(p, "is not a regular file")

    def test_a_link_leading_outside_the_pack_is_skipped_with_a_warning(self, tmp_path):
        pack, outside = tmp_path / "pack", tmp_path / "outside"
        pack.mkdir()
        outside.mkdir()
        (pack / "SDS-BUD-01.yaml").write_text((ROOT / "rules" / "budget" / "SDS-BUD-01.yaml").read_text())
        (outside / "SDS-BUD-02.yaml").write_text((ROOT / "rules" / "budget" / "SDS-BUD-02.yaml").read_text())
        (pack / "SDS-BUD-02.yaml").symlink_to(outside / "SDS-BUD-02.yaml")
        p = run("rules", "list", "--rules", str(pack))
        assert p.returncode == 0 and "1 rules" in p.stdout
        assert "SDS-BUD-02.yaml: skipped: it links outside the rule pack" in p.stderr

    def test_a_4300_digit_integer_is_one_error_naming_file_and_line(self, tmp_path):
        design = tmp_path / "big.yaml"
        design.write_text("workflow: big\nextends: national\nparameters:\n  panel_threshold:\n    kind: amount\n"
                          "    values:\n      2020-01-01: {value: " + "9" * 4300 + ", reference: x}\n")
        p = run("validate", str(design))
        assert p.returncode == 2 and "Traceback" not in p.stderr
        assert f"{design}:7:" in p.stdout and "a number of 4,300 characters" in p.stdout
