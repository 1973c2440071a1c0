"""One registry of every output format (issue 14 item 3): each class says what it is, names() feeds the command
line, formatter() makes one or names the known ones."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules import formats
from sdsrules.formats import FORMATS, KINDS, formatter, names


@pytest.mark.parametrize(("kind", "name"), list(FORMATS))
def test_every_formatter_says_what_it_is(kind, name):
    cls = FORMATS[kind, name]
    assert (cls.kind, cls.name) == (kind, name)
    assert cls.media_type and "/" in cls.media_type
    assert cls.suffix.startswith(".")
    assert callable(getattr(cls, "item", None)) and callable(getattr(cls, "close", None))


def test_the_kinds():
    assert KINDS == ("findings", "events", "designs", "report", "due", "diagram")
    assert names("findings") == ("text", "json", "csv")
    assert names("events") == ("jsonl", "csv", "xes")
    assert names("designs") == ("text", "json", "sarif", "junit")


def test_an_unknown_name_gets_did_you_mean():
    with pytest.raises(ValueError, match=r"unknown findings format 'jsn' \(did you mean json\? known: text, json, "
                                         r"csv\)"):
        formatter("findings", "jsn", io.StringIO())
    with pytest.raises(ValueError, match=r"unknown kind of output 'finding' \(did you mean findings"):
        names("finding")


def test_importing_the_package_loads_no_formatter():
    import subprocess
    import sys

    code = ("import sys, sdsrules.formats.cells; "
            "print(sorted(m for m in sys.modules if m.startswith('sdsrules.formats.') or m in ('jinja2', 'orjson')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['sdsrules.formats.base', 'sdsrules.formats.cells']"


@pytest.mark.parametrize(("command", "kind"), [("replay", "findings"), ("convert", "events"),
                                               ("validate", "designs"), ("due", "due"), ("diagram", "diagram")])
def test_the_command_line_offers_what_the_registry_has(command, kind):
    from sdsrules.cli.main import cli as group

    cmd = group.commands[command]
    option = next(p for p in cmd.params if p.name in ("fmt", "to_fmt"))
    assert tuple(option.type.choices) == names(kind)


def test_a_streamed_findings_run_and_write_agree(tmp_path):
    from sdsrules import api

    log = tmp_path / "log.jsonl"
    log.write_text('{"id": "e1", "case": "C1", "at": "2024-01-01", "activity": "case_closed"}\n'
                   '{"id": "e2", "case": "C1", "at": "2024-01-02", "activity": "information_given"}\n',
                   encoding="utf-8")
    report = api.replay([str(log)], engine="none")
    for fmt in names("findings"):
        whole, streamed = io.StringIO(), io.StringIO()
        formats.write(report, fmt, whole)
        out = formatter("findings", fmt, streamed)
        for c in report.cases:
            out.item(c)
        out.close(report.summary, report.rejected, report.unchecked)
        assert whole.getvalue() == streamed.getvalue()
    assert CliRunner().invoke(cli, ["replay", str(log), "--format", "jsn"]).exit_code == 2
