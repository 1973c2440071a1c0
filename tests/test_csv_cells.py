"""Every CSV sdsrules writes is spreadsheet-safe: a value that could start a formula is written as text, and
event logs still survive a round trip (issue 14)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules.formats.cells import plain_cell, safe_cell

HOSTILE = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


class TestSafeCell:
    @pytest.mark.parametrize("value", HOSTILE)
    def test_a_formula_start_is_neutralised(self, value):
        assert safe_cell(value) == "'" + value

    @pytest.mark.parametrize("value", ["C-0001", "plain", "", "'quoted", 3, 2.5, None, "1-2"])
    def test_anything_else_is_left_alone(self, value):
        assert safe_cell(value) == value

    @pytest.mark.parametrize("value", [*HOSTILE, "'=x", "''", "'", "'plain", "x"])
    def test_plain_cell_restores_every_value(self, value):
        assert plain_cell(safe_cell(value)) == value


def _log(tmp_path: Path) -> Path:
    bad = '=HYPERLINK("http://x")'
    records = [
        {"id": "@e1", "case": bad, "at": "2024-01-01", "activity": "referral_received", "source": "+gp",
         "actor": {"id": "-W1", "role": "social_worker", "team": "=team"}},
        {"id": "e2", "case": bad, "at": "2024-01-02", "activity": "case_closed"},
        {"id": "e3", "case": bad, "at": "2024-01-03", "activity": "information_given"},  # SDS-SEQ-02
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _cells(path: Path) -> list[str]:
    return [c for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) for c in row]


def _assert_safe(cells: list[str]) -> None:
    assert cells
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


class TestEveryCsvOutput:
    def test_replay_csv(self, tmp_path):
        out = tmp_path / "f.csv"
        CliRunner().invoke(cli, ["replay", str(_log(tmp_path)), "--format", "csv", "-o", str(out)])
        cells = _cells(out)
        _assert_safe(cells)
        assert "'=HYPERLINK(\"http://x\")" in cells

    def test_report_csv(self, tmp_path):
        folder = tmp_path / "csv"
        CliRunner().invoke(cli, ["report", str(_log(tmp_path)), "--csv", str(folder)])
        files = sorted(folder.glob("*.csv"))
        assert files
        for f in files:
            _assert_safe(_cells(f))

    def test_convert_to_csv_and_back_is_lossless(self, tmp_path):
        log = _log(tmp_path)
        out = tmp_path / "log.csv"
        back = tmp_path / "back.jsonl"
        assert CliRunner().invoke(cli, ["convert", str(log), str(out)]).exit_code == 0
        _assert_safe(_cells(out))
        assert CliRunner().invoke(cli, ["convert", str(out), str(back)]).exit_code == 0
        original = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
        again = [json.loads(x) for x in back.read_text(encoding="utf-8").splitlines()]
        assert [(r["id"], r["case"], r.get("source"), r.get("actor")) for r in again] == \
            [(r["id"], r["case"], r.get("source"), r.get("actor")) for r in original]
