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


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _assert_safe(cells: list[str]) -> None:
    """No cell starts a formula. A negative number the product computed (a difference of two rates) is a number
    to a spreadsheet, not a formula, and stays one; any text starting with '-' (even '-1') is neutralised by
    ``safe_cell``, so an unprefixed '-' cell can only be a number written as a number."""
    assert cells
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not (c[:1] == "-" and _number(c))] == []


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


# ------------------------------------------------------------------ every CSV formatter in the registry

HOSTILE_CASES = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0", "-W")
SAMPLE = Path(__file__).resolve().parent.parent / "cases" / "sample.jsonl"


def _csv_formatters() -> list[tuple[str, str]]:
    from sdsrules.formats import FORMATS

    return [k for k in FORMATS if k[1] == "csv" or "csv" in FORMATS[k].media_type]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Six real cases from the sample whose case ids, workers, teams and free text all start a formula."""
    from datetime import date

    from sdsrules import api
    from sdsrules.readers import read_all
    from sdsrules.workflow import load_workflow

    cases: dict[str, list[dict]] = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("case"), str) and (r["case"] in cases or len(cases) < 6):
            cases.setdefault(r["case"], []).append(r)
    rename = dict(zip(cases, HOSTILE_CASES, strict=True))
    lines = []
    for case, records in cases.items():
        for r in records:
            r = dict(r, case=rename[case])
            if isinstance(r.get("actor"), dict):
                actor = r["actor"]
                r["actor"] = dict(actor, id="@" + str(actor.get("id")), team="=" + str(actor.get("team")))
            if r.get("activity") == "referral_received":
                r["source"] = "+gp"
            lines.append(json.dumps(r))
    path = tmp_path_factory.mktemp("hostile") / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    day = date(2026, 6, 30)
    report = api.replay([str(path)], as_of=day)
    assert report.findings and not report.rejected
    events = [e for e in read_all([str(path)]) if not hasattr(e, "reason")]
    return {"report": report, "events": events, "workflow": load_workflow(None), "as_of": day, "path": path}


def _write_all(kind: str, name: str, h) -> list[str]:
    """Every CSV text the (kind, name) formatter writes for the hostile log, fed as the product feeds it."""
    from sdsrules.duelist import due_items
    from sdsrules.formats import formatter
    from sdsrules.formats.report.csv import files

    report = h["report"]
    outs = []

    def run(feed, **options):
        stream = io.StringIO()
        out = formatter(kind, name, stream, **options)
        feed(out)
        outs.append(stream.getvalue())

    if kind == "findings":
        def feed(out):
            for c in report.cases:
                out.case(c)
            out.close(report.summary, report.rejected, report.unchecked)
        run(feed)
    elif kind == "events":
        def feed(out):
            for e in h["events"]:
                out.item(e)
            out.close()
        run(feed)
        run(feed, findings=report.findings)  # convert --annotate
    elif kind == "report":
        for table, _ in files("team"):
            run(lambda out: (out.item(report), out.close()), table=table, by="team")
    elif kind == "due":
        items = due_items(report.findings, report.obligations, h["as_of"])
        assert items

        def feed(out):
            for d in items:
                out.item(d)
            out.close()
        run(feed, as_of=h["as_of"])
    elif kind == "compare":
        from sdsrules.compare import compare, propose

        wf = h["workflow"]
        cmp = compare([str(h["path"])], wf, propose(wf, ["initial_review=1 week", "review_interval=1 month"]),
                      as_of=h["as_of"])
        assert cmp.changes  # findings that change: case ids in the rows
        run(lambda out: (out.item(cmp), out.close()))
    else:
        pytest.fail(f"no test feeds {kind} formatters yet: add it here so its CSV is checked")
    return outs


class TestEveryCsvFormatter:
    """Walks the registry: a CSV formatter added later is checked without touching this test."""

    def test_the_registry_has_every_csv_the_product_writes(self):
        assert {kind for kind, _ in _csv_formatters()} >= {"findings", "events", "report", "due", "compare"}

    @pytest.mark.parametrize(("kind", "name"), _csv_formatters())
    def test_no_cell_starts_a_formula(self, kind, name, hostile):
        texts = _write_all(kind, name, hostile)
        cells = [c for text in texts for row in csv.reader(io.StringIO(text)) for c in row]
        _assert_safe(cells)
        assert {"'" + c for c in HOSTILE_CASES} & set(cells)  # case ids are there, as text
        if kind in ("report", "due"):
            assert any(c.startswith("'=") and c[1:] not in HOSTILE_CASES for c in cells)  # a team, as text

    def test_tab_and_carriage_return_starts_are_neutralised_and_a_carriage_return_is_quoted(self):
        from sdsrules.formats.cells import row_writer

        out = io.StringIO()
        row = row_writer(out)
        row(["\t=1", "\r=1", "a\rb", "ok"])
        row(["plain", 1])
        text = out.getvalue()
        assert text == '\'\t=1,"\'\r=1","a\rb",ok\nplain,1\n'
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows == [["'\t=1", "'\r=1", "a\rb", "ok"], ["plain", "1"]]

    def test_due_csv_from_the_command_line(self, tmp_path, hostile):
        log = tmp_path / "log.jsonl"
        log.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in hostile["events"]), encoding="utf-8")
        out = tmp_path / "due.csv"
        result = CliRunner().invoke(cli, ["due", str(log), "--as-of", "2026-06-30", "--format", "csv", "-o", str(out)])
        assert result.exit_code == 0, result.output
        cells = _cells(out)
        _assert_safe(cells)
        assert any(c.startswith("'") for c in cells)

    def test_a_carriage_return_in_an_event_survives_convert_to_csv_and_back(self, tmp_path):
        log = tmp_path / "cr.jsonl"
        log.write_text(json.dumps({"id": "e1", "case": "C1", "at": "2024-01-01", "activity": "referral_received",
                                   "source": "a\rb"}) + "\n", encoding="utf-8")
        out, back = tmp_path / "cr.csv", tmp_path / "back.jsonl"
        assert CliRunner().invoke(cli, ["convert", str(log), str(out)]).exit_code == 0
        assert b'"a\rb"' in out.read_bytes()
        assert CliRunner().invoke(cli, ["convert", str(out), str(back)]).exit_code == 0
        assert json.loads(back.read_text(encoding="utf-8"))["source"] == "a\rb"
