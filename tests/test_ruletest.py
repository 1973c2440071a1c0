"""``sdsrules rules test``: a council runs the YAML cases of a pack it wrote, from an installed sdsrules."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from sdsrules.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent

CASES = """given:
  - {at: 2024-01-01, activity: referral_received}
  - {at: 2024-01-01, activity: support_started, option: 3}
cases:
  - name: a first review on the last day is on time
    events:
      - {at: 2024-03-25, activity: review_completed}
    findings: []
  - name: a deliberately wrong expectation
    events:
      - {at: 2024-03-26, activity: review_completed}
    findings:
      - {at: 2024-03-27}
"""


def _pack(tmp_path: Path, cases: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(ROOT / "rules" / "review" / "SDS-REV-01.yaml", pack)
    (pack / "SDS-REV-01.test.yaml").write_text(cases, encoding="utf-8")
    return pack


class TestRulesTest:
    def test_the_shipped_packs_pass(self):
        r = CliRunner().invoke(cli, ["rules", "test"])
        assert r.exit_code == 0, r.output
        assert r.output.strip().endswith("0 failed")

    def test_a_failing_case_is_named_with_file_line_engine_and_the_difference(self, tmp_path):
        pack = _pack(tmp_path, CASES)
        r = CliRunner().invoke(cli, ["rules", "test", str(pack)])
        assert r.exit_code == 1
        assert f"FAILED: {pack / 'SDS-REV-01.test.yaml'}:9: SDS-REV-01: a deliberately wrong expectation" in r.output
        assert "engine reference: expected ['SDS-REV-01 2024-03-27'], got:" in r.output
        assert "SDS-REV-01 2024-03-26" in r.output
        assert r.output.strip().endswith("1 passed, 1 failed")

    def test_a_malformed_test_file_is_unusable_input(self, tmp_path):
        pack = _pack(tmp_path, CASES.replace("    findings: []", "    findngs: []"))
        r = CliRunner().invoke(cli, ["rules", "test", str(pack)])
        assert r.exit_code == 2
        assert "findngs" in r.output and "is not a key of a rule test case" in r.output

    def test_a_folder_without_test_files_is_unusable_input(self, tmp_path):
        r = CliRunner().invoke(cli, ["rules", "test", str(tmp_path)])
        assert r.exit_code == 2 and "no rule test files" in r.output
