"""The report of a process in its own words: a permit-receipt log (cases/receipt) reported with no SDS words in
what the reader sees, while the SDS report keeps its own."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
RECEIPT = ROOT / "cases" / "receipt"

#: three permit applications: one confirmed late and decided late, one on time, one still open
LOG = [
    ("A1", "2011-03-01T09:00:00", "Confirmation of receipt"),
    ("A1", "2011-03-28T09:00:00", "T02 Check confirmation of receipt"),
    ("A1", "2011-03-29T09:00:00", "T04 Determine confirmation of receipt"),
    ("A1", "2011-03-30T09:00:00", "T05 Print and send confirmation of receipt"),
    ("A1", "2011-06-01T09:00:00", "T10 Determine necessity to stop indication"),
    ("A2", "2011-03-02T09:00:00", "Confirmation of receipt"),
    ("A2", "2011-03-02T10:00:00", "T02 Check confirmation of receipt"),
    ("A2", "2011-03-02T11:00:00", "T04 Determine confirmation of receipt"),
    ("A2", "2011-03-03T09:00:00", "T05 Print and send confirmation of receipt"),
    ("A2", "2011-03-20T09:00:00", "T10 Determine necessity to stop indication"),
    ("A2", "2011-03-21T09:00:00", "Receipt phase closed"),
    ("A3", "2011-06-20T09:00:00", "Confirmation of receipt"),
]

SDS_WORDS = ("SDS option", "referral", "Self-directed", "client group", "By tier", "London", "advocacy")


def _visible(page: str) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def test_the_receipt_report_speaks_of_the_permit_process(tmp_path):
    log = tmp_path / "receipt.jsonl"
    log.write_text("".join(json.dumps({"case": c, "at": at, "activity": a}) + "\n" for c, at, a in LOG),
                   encoding="utf-8")
    page, doc = tmp_path / "report.html", tmp_path / "report.json"
    out = CliRunner().invoke(cli, ["report", str(log), "-w", str(RECEIPT / "design.yaml"), "--rules",
                                   str(RECEIPT / "rules"), "--html", str(page), "--json", str(doc), "--no-progress"])
    assert out.exit_code == 1, out.output  # findings
    text = _visible(page.read_text(encoding="utf-8"))
    assert "Receipt phase of an environmental permit application case file audit" in text
    assert "confirmation of receipt not sent in time" in text  # the pack's own titles
    assert "stop indication not decided within the decision period" in text
    for words in SDS_WORDS:
        assert words.lower() not in text.lower(), words
    # every duty that applied has a title, its pack's where no finding gave one (a duty met in every case)
    rates = json.loads(doc.read_text(encoding="utf-8"))["summary"]["rates"]
    met_everywhere = [r for r in rates if r["code"].startswith("RCPT-") and not r["breached"]]
    assert met_everywhere and all(r["title"] for r in rates), rates


def test_the_sds_report_keeps_its_words(tmp_path):
    page = tmp_path / "report.html"
    out = CliRunner().invoke(cli, ["report", str(ROOT / "cases" / "sample.jsonl"), "--html", str(page),
                                   "--no-progress"])
    assert out.exit_code == 1, out.output
    text = _visible(page.read_text(encoding="utf-8"))
    for words in ("Self-directed Support case file audit", "By SDS option", "By tier", "By client group",
                  "(its referral)"):
        assert words in text, words


def test_live_checks_read_a_case_in_its_design_words():
    """check(), CaseMonitor and the due list take the design's vocabulary, as replay does."""
    from datetime import date

    from sdsrules import check
    from sdsrules.api import due
    from sdsrules.monitor import CaseMonitor, EventInputError
    from sdsrules.workflow import load_workflow

    wf = load_workflow(RECEIPT / "design.yaml")
    rules = [RECEIPT / "rules"]
    a1 = [{"case": c, "id": f"e{n}", "at": at, "activity": a} for n, (c, at, a) in enumerate(LOG) if c == "A1"]
    found = check(a1, wf, "2011-12-31", engine="compiled", rules=rules)
    assert {f.code for f in found} >= {"RCPT-CNF-01", "RCPT-DEC-01"}
    live = CaseMonitor(wf, engine="durable", rules=rules)
    update = live.extend(a1, date(2011, 12, 31))
    assert sorted(f.code for f in update.findings) == sorted(f.code for f in found)
    a3 = [{"case": "A3", "at": "2011-06-20T09:00:00", "activity": "Confirmation of receipt"}]
    assert [d.code for d in due(a3, as_of="2011-06-25", workflow=wf, rules=rules, engine="reference")] \
        == ["RCPT-CNF-01", "RCPT-DEC-01"]
    with pytest.raises(EventInputError) as e:  # an SDS step is no step of the permit process
        check([{"case": "A9", "at": "2011-06-20", "activity": "referral_received"}], wf, rules=rules)
    assert e.value.field == "activity"
