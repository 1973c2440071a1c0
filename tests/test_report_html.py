"""The HTML report: self-contained, escaped, honest about what it leaves out."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sdsrules import api
from sdsrules.formats.report.html import MB, render_html
from sdsrules.workflow import load_workflow

HOSTILE = 'C-5</script><b class="injected">x'

LOG = [
    {"id": "e1", "case": "C-1", "at": "2024-01-05", "activity": "referral_received", "client_group": "older_people",
     "actor": {"id": "W1", "role": "access_officer", "team": "access"}},
    {"id": "e2", "case": "C-1", "at": "2024-01-06", "activity": "triaged", "tier": 3,
     "actor": {"id": "W1", "role": "access_officer", "team": "east_long_term"}},
    {"id": "e3", "case": "C-1", "at": "2024-01-07", "activity": "support_started", "option": 1,
     "actor": {"id": "W2", "role": "social_worker", "team": "east_long_term"}},
    {"id": "e4", "case": "C-2", "at": "2024-02-05", "activity": "referral_received", "client_group": "carer",
     "actor": {"id": "W3", "role": "access_officer", "team": "west_long_term"}},
    {"id": "e5", "case": "C-2", "at": "2024-02-04", "activity": "triaged", "tier": 1},
    {"id": "e6", "case": "C-2", "at": "2024-03-01", "activity": "case_closed"},
    {"id": "e7", "case": "C-2", "at": "2024-03-02", "activity": "review_completed"},
    {"id": "e8", "case": "C-3", "at": "2024-01-05", "activity": "referral_received"},
    {"id": "e9", "case": "C-3", "at": "2024-01-06", "activity": "triaged", "tier": 1},
    {"id": "e10", "case": "C-3", "at": "2024-01-09", "activity": "case_closed"},
    {"case": "C-4", "at": "not a date", "activity": "triaged"},
    {"id": "e12", "case": HOSTILE, "at": "2024-01-05", "activity": "triaged", "tier": 2},
]


def write_log(folder: Path) -> Path:
    path = folder / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in LOG), encoding="utf-8")
    return path


def replay_with_events(path: Path):
    events: dict = {}
    from sdsrules.events import Event
    from sdsrules.readers import read_all

    def keep(records):
        for r in records:
            if isinstance(r, Event):
                events.setdefault(r.case, []).append(r)
            yield r
    wf = load_workflow()
    report = api.replay_records(keep(read_all([str(path)])), wf, engine="none")
    return report, events, wf


def hostile_log_report(folder: Path, **kw) -> str:
    """The rendered report of LOG (three cases with SEQ/DAT findings, one hostile case id)."""
    report, events, wf = replay_with_events(write_log(folder))
    return render_html(report, wf, events=events, **kw)


def data_of(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


class TestRenderHtml:
    def test_self_contained(self, tmp_path):
        """No reference to anything outside the file, and a CSP that forbids any network use."""
        page = hostile_log_report(tmp_path)
        assert "default-src 'none'" in page
        assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
        assert "<link" not in page
        assert "@import" not in page
        assert set(re.findall(r"url\(([^)]*)\)", page)) <= {"#arrow"}

    def test_script_hash_matches(self, tmp_path):
        """The CSP names the hash of the one inline script, so the page runs it and nothing injected."""
        import base64
        import hashlib

        page = hostile_log_report(tmp_path)
        script = re.findall(r"<script>(.*?)</script>", page, re.S)
        assert len(script) == 1
        digest = base64.b64encode(hashlib.sha256(script[0].encode()).digest()).decode()
        import html

        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
        assert f"script-src 'sha256-{digest}';" in html.unescape(csp)

    def test_hostile_case_id_cannot_end_the_data(self, tmp_path):
        """A case id with </script> and markup stays inside the JSON blob, intact."""
        page = hostile_log_report(tmp_path)
        assert '<b class="injected">' not in page
        assert HOSTILE in [c[0] for c in data_of(page)["cases"]]

    def test_rates_show_denominators_and_words(self, tmp_path):
        """SDS-SEQ-01 breached in 3 of the 4 cases replayed (C-1, C-2 and the hostile one): met in 1 of 4."""
        page = hostile_log_report(tmp_path)
        assert "Met in less than half of the 4 cases where the duty applied (25%, 1 of 4)." in page
        assert "1 records could not be read (SDS-DAT-01)" in page

    def test_pseudonymised_or_not_is_said(self, tmp_path):
        """The header says whether the report is pseudonymised."""
        assert "Not pseudonymised" in hostile_log_report(tmp_path)
        assert "Pseudonymised: case, worker and event ids" in hostile_log_report(tmp_path, pseudonymised=True)

    def test_breakdowns_and_pathway_are_drawn(self, tmp_path):
        """Each breakdown has its own chart and the pathway shows counts on the stages."""
        page = hostile_log_report(tmp_path, by="tier")
        for dim in ("team", "tier", "client_group", "option", "month"):
            assert f'id="by-{dim}"' in page
        assert page.index('id="by-tier"') < page.index('id="by-team"')
        assert page.count('<svg class="chart"') == 5
        # SEQ-01 arose at tier3 (C-1) and at start (C-2, hostile); SEQ-02 at closed (C-2)
        assert re.search(r'data-stage="tier3"><title>tier3: 1 findings', page)
        assert re.search(r'data-stage="start"><title>start: 2 findings', page)

    def test_detail_shed_to_fit_and_said(self, tmp_path):
        """Under a tiny size limit, detail is shed in steps and the report says what was left out."""
        full = data_of(hostile_log_report(tmp_path))
        assert full["level"] == 0
        assert full["timelines"]
        small = hostile_log_report(tmp_path, size_limit=2 * MB + 100)
        data = data_of(small)
        assert data["level"] > 0
        assert "detail-note" in small


def test_timeline_holds_every_event_of_a_case(tmp_path):
    """Full detail: the timeline of C-2 has all four of its events, in time order."""
    data = data_of(hostile_log_report(tmp_path))
    ix = [c[0] for c in data["cases"]].index("C-2")
    assert [e[0] for e in data["timelines"][str(ix)]] == ["e5", "e4", "e6", "e7"]
