"""The replay command under stress (issue 8): outputs written atomically, and ``--fail-on`` for CI pipelines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli
from sdsrules.cli.output import atomic_text

from sdsrules.formats.findings import json as json_format
from sdsrules.formats.findings import text as text_format

RULES = Path(__file__).resolve().parent.parent / "rules"
#: three cases, each with a step the national design does not allow after closure: SDS-SEQ findings (medium)
SEQ_LOG = "".join(f'{{"case":"C{n}","at":"2024-01-0{n}","activity":"case_closed"}}\n'
                  f'{{"case":"C{n}","at":"2024-01-0{n + 1}","activity":"signposted"}}\n' for n in (1, 2, 3))
CLEAN_LOG = '{"case":"C1","at":"2024-01-01","activity":"referral_received"}\n'
UNREADABLE = '{"case":"C9","at":"2024-01-01","activity":"tea_and_biscuits"}\n'


def _log(tmp_path: Path, text: str, name: str = "log.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _run(*args: str):
    return CliRunner().invoke(cli, ["replay", *args], catch_exceptions=False)


class TestAtomicOutput:
    @pytest.mark.parametrize("fmt", ["json", "text"])
    @pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
    def test_an_interrupted_report_leaves_the_old_file_and_no_temporary_file(self, tmp_path, monkeypatch, fmt,
                                                                             error):
        """Ctrl-C (or a formatter failing) after the first finding was written: the existing report is
        untouched and no partial or temporary file is left beside it."""
        module = {"json": json_format, "text": text_format}[fmt]
        # the method that writes: the JSON writer is handed findings its workers already wrote (``texts``), all of a
        # small log's in one call (after its opening was written); the text writer a finding at a time
        method, stop = {"json": ("texts", 1), "text": ("finding", 2)}[fmt]
        original = getattr(module.Writer, method)
        calls = []

        def writes(self, f):
            calls.append(f)
            if len(calls) == stop:
                self.stream.write("half a finding")
                raise error("interrupted while writing")
            original(self, f)

        monkeypatch.setattr(module.Writer, method, writes)
        out = tmp_path / "report.out"
        out.write_text("the previous report\n")
        log = _log(tmp_path, SEQ_LOG)
        args = ["replay", log, "--engine", "none", "--format", fmt, "--output", str(out)]
        result = CliRunner().invoke(cli, args)
        assert len(calls) == stop and result.exit_code != 0
        assert out.read_text() == "the previous report\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl", "report.out"]

    def test_a_complete_report_replaces_the_old_one(self, tmp_path):
        out = tmp_path / "report.json"
        out.write_text("old")
        r = _run(_log(tmp_path, SEQ_LOG), "--engine", "none", "--format", "json", "--output", str(out))
        assert r.exit_code == 1 and json.loads(out.read_text())["summary"]["events_read"] == 6
        assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl", "report.json"]

    def test_atomic_text_removes_its_temporary_file_when_the_writer_fails(self, tmp_path):
        target = tmp_path / "r.txt"

        def write_half() -> None:
            with atomic_text(str(target)) as stream:
                stream.write("partial")
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            write_half()
        assert list(tmp_path.iterdir()) == []


class TestFailOn:
    def test_without_fail_on_any_finding_exits_1(self, tmp_path):
        assert _run(_log(tmp_path, SEQ_LOG), "--engine", "none").exit_code == 1

    @pytest.mark.parametrize(("fail_on", "code"), [
        (["SDS-SEQ-01"], 1), (["SDS-SEQ"], 1), (["sds-seq"], 1), (["SDS-REV"], 0), (["SDS-SEQ-02"], 0),
        (["SDS-SE"], 2), (["SDS-REV", "SDS-SEQ"], 1), (["medium"], 1), (["low"], 1), (["high"], 0),
        (["high", "SDS-SEQ-01"], 1)])
    def test_exit_1_only_when_a_finding_matches(self, tmp_path, fail_on, code):
        """A code matches exactly or as a prefix ending at a dash; a severity matches it or anything above; a code
        or prefix the catalogue does not have (SDS-SE) is refused, exit 2."""
        args = [a for v in fail_on for a in ("--fail-on", v)]
        assert _run(_log(tmp_path, SEQ_LOG), "--engine", "none", *args).exit_code == code

    def test_a_high_severity_finding_fails_a_high_threshold(self, tmp_path):
        log = _log(tmp_path, '{"case":"C1","at":"2024-03-10","activity":"budget_approved","amount":301,'
                             '"approver_role":"team_manager"}\n')
        rule = str(RULES / "budget" / "SDS-BUD-01.yaml")
        assert _run(log, "--engine", "reference", "--rules", rule, "--fail-on", "high").exit_code == 1
        assert _run(log, "--engine", "reference", "--rules", rule, "--fail-on", "SDS-BUD-02").exit_code == 0

    def test_unreadable_records_count_as_sds_dat_01_of_low_severity(self, tmp_path):
        log = _log(tmp_path, CLEAN_LOG + UNREADABLE)
        assert _run(log, "--engine", "none").exit_code == 1
        assert _run(log, "--engine", "none", "--fail-on", "SDS-DAT-01").exit_code == 1
        assert _run(log, "--engine", "none", "--fail-on", "low").exit_code == 1
        assert _run(log, "--engine", "none", "--fail-on", "medium").exit_code == 0

    def test_nothing_readable_still_exits_2(self, tmp_path):
        assert _run(_log(tmp_path, UNREADABLE), "--engine", "none", "--fail-on", "high").exit_code == 2

    def test_a_clean_log_exits_0(self, tmp_path):
        assert _run(_log(tmp_path, CLEAN_LOG), "--engine", "none", "--fail-on", "low").exit_code == 0

    @pytest.mark.parametrize("value", ["critical", "SDS REV", "*", ""])
    def test_a_value_that_is_neither_code_nor_severity_is_a_usage_error(self, tmp_path, value):
        r = CliRunner().invoke(cli, ["replay", _log(tmp_path, CLEAN_LOG), "--fail-on", value])
        assert r.exit_code == 2 and "--fail-on" in r.output
