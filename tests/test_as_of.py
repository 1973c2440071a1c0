"""One as-of rule for every way in (issue 13 item 2): the latest day of an accepted event, whatever the input's
format or path through the pipeline; a rejected record never moves it, even when it carries the latest date."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules import api, pipeline
from sdsrules.formats import formatter

GOOD = [
    {"id": "a1", "case": "C1", "at": "2024-01-01", "activity": "referral_received"},
    {"id": "a2", "case": "C1", "at": "2024-01-05", "activity": "triaged", "tier": 1},
    {"id": "b1", "case": "C2", "at": "2024-02-01", "activity": "referral_received"},
]
#: rejected (an unknown activity; a known one missing its required attribute), both carrying later dates
BAD = [
    {"id": "b2", "case": "C2", "at": "2024-12-31", "activity": "tea_party"},
    {"id": "b3", "case": "C2", "at": "2025-03-01T10:00", "activity": "triaged"},
]
AS_OF = "2024-02-01"


def _jsonl(records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _summary(paths, **kw) -> dict:
    buf = io.StringIO()
    api.run([str(p) for p in paths], formatter("findings", "json", buf), engine=kw.pop("engine", "reference"), **kw)
    return json.loads(buf.getvalue())["summary"]


def _check(s: dict) -> None:
    assert s["as_of"] == AS_OF and s["as_of_rule"] == "latest accepted event"
    assert s["events_rejected"] == 2 and s["events_replayed"] == 3


@pytest.fixture
def log(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text(_jsonl(GOOD + BAD))  # sorted by case: the ranges path
    return p


class TestOneRule:
    @pytest.mark.parametrize("jobs", [1, 2])
    @pytest.mark.parametrize("range_bytes", [60, 4 * 1024 * 1024])
    def test_the_ranges_path(self, log, monkeypatch, jobs, range_bytes):
        monkeypatch.setattr(pipeline, "RANGE_BYTES", range_bytes)
        assert pipeline.fast_path_ok([str(log)], None, None) == str(log)
        _check(_summary([log], jobs=jobs))
        _check(_summary([log], jobs=jobs, engine="durable"))

    def test_an_unsorted_file_the_external_sort(self, tmp_path):
        p = tmp_path / "u.jsonl"
        p.write_text(_jsonl(list(reversed(GOOD + BAD))))
        _check(_summary([p]))
        _check(_summary([p], jobs=2))

    def test_gz_and_several_files(self, tmp_path):
        gz = tmp_path / "log.jsonl.gz"
        with gzip.open(gz, "wt") as f:
            f.write(_jsonl(GOOD + BAD))
        _check(_summary([gz]))
        a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
        a.write_text(_jsonl(BAD))
        b.write_text(_jsonl(GOOD))
        _check(_summary([a, b], jobs=2))

    def test_stdin(self, log):
        r = CliRunner().invoke(cli, ["replay", "-", "--format", "json", "--engine", "reference"],
                               input=log.read_bytes())
        assert r.exit_code in (0, 1), r.output
        _check(json.loads(r.stdout)["summary"])

    def test_csv(self, tmp_path):
        p = tmp_path / "log.csv"
        rows = ["id,case,at,activity,tier"] + [
            f"{r['id']},{r['case']},{r['at']},{r['activity']},{r.get('tier', '')}" for r in GOOD + BAD]
        p.write_text("\n".join(rows) + "\n")
        _check(_summary([p]))

    def test_xes(self, tmp_path):
        def event(r):
            tier = f'<int key="tier" value="{r["tier"]}"/>' if "tier" in r else ""
            return (f'<event><string key="concept:name" value="{r["activity"]}"/>'
                    f'<string key="identity:id" value="{r["id"]}"/>'
                    f'<date key="time:timestamp" value="{r["at"]}"/>{tier}</event>\n')
        traces = "".join(f'<trace><string key="concept:name" value="{c}"/>\n'
                         + "".join(event(r) for r in GOOD + BAD if r["case"] == c) + "</trace>\n"
                         for c in ("C1", "C2"))
        p = tmp_path / "log.xes"
        p.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n{traces}</log>\n')
        _check(_summary([p]))

    def test_a_given_date_wins(self, log):
        s = _summary([log], as_of=date(2030, 1, 1))
        assert s["as_of"] == "2030-01-01" and s["as_of_rule"] == "given"

    def test_no_accepted_event_today(self, tmp_path):
        p = tmp_path / "bad.jsonl"
        p.write_text(_jsonl(BAD))
        s = _summary([p])
        assert s["as_of"] == date.today().isoformat() and s["as_of_rule"] == "today (no event accepted)"

    def test_the_service_says_the_same(self):
        """POST /v1/replay judges with the same rule and says so."""
        from starlette.testclient import TestClient

        from sdsrules.service import ServiceConfig, create_app

        client = TestClient(create_app(ServiceConfig(engine="reference")))
        r = client.post("/v1/replay", json={"events": GOOD + BAD})
        assert r.status_code == 200, r.text
        s = r.json()["summary"]
        assert s["as_of"] == AS_OF and s["as_of_rule"] == "latest accepted event"
