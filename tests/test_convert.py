"""``sdsrules convert``: formats both ways, maps, exit codes, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from sdsrules.events import Event
from sdsrules.readers import read_all

ROOT = Path(__file__).resolve().parent.parent
LOG = ('{"id": "e1", "case": "C1", "at": "2024-03-05T10:15:00Z", "activity": "options_offered", '
       '"actor": {"id": "W17", "role": "social_worker", "team": "east"}, "options": [1, 2, 4], '
       '"information_given": true}\n'
       '{"id": "e2", "case": "C2", "at": "2024-03-06", "activity": "budget_calculated", "amount": 212.5, '
       '"period": "week", "note": "line one\\nline two, \\"quoted\\""}\n'
       '{"id": "e3", "case": "C1", "at": "2024-03-07T09:00:00", "activity": "triaged", "tier": 3}\n')


@pytest.fixture
def runner():
    return CliRunner()


def _events(path: Path) -> list[dict]:
    return [r.to_dict() for r in read_all([str(path)]) if isinstance(r, Event)]


class TestConvert:
    @pytest.mark.parametrize("via", ["xes", "csv", "xes.gz", "jsonl.gz", "csv.gz"])
    def test_round_trip_through_each_format(self, runner, tmp_path, via):
        """JSONL -> XES or CSV -> JSONL gives the same events (XES groups them by case). A target named .gz is
        gzip (the readers read such a name as gzip: it once held plain text, which they could not read back)."""
        src = tmp_path / "in.jsonl"
        src.write_text(LOG, encoding="utf-8")
        mid, back = tmp_path / f"mid.{via}", tmp_path / "back.jsonl"
        r1 = runner.invoke(cli, ["convert", str(src), str(mid)])
        r2 = runner.invoke(cli, ["convert", str(mid), str(back)])
        assert (r1.exit_code, r2.exit_code) == (0, 0), r1.output + r2.output
        assert "3 events converted" in r2.output
        assert sorted(_events(back), key=str) == sorted(_events(src), key=str)
        assert (mid.read_bytes()[:2] == b"\x1f\x8b") == via.endswith(".gz")

    def test_map_and_rejections_exit_1(self, runner, tmp_path):
        """The example export converts through its map; the uncovered step is listed, counted, exit 1."""
        out = tmp_path / "out.xes"
        listing = tmp_path / "rejected.jsonl"
        r = runner.invoke(cli, ["convert", str(ROOT / "cases" / "example-export.csv"), str(out),
                                "--map", str(ROOT / "cases" / "maps" / "example-export.yaml"),
                                "--rejected", str(listing)])
        assert r.exit_code == 1, r.output
        # stderr: where and why, never the record's value (SECURITY.md); the file the user asked for has it all
        assert "example-export.csv:24: 'activity' a value is not covered" in r.output
        assert "Home Visit" not in r.output
        assert "not covered by the map: 1 name in 1 records" in r.output
        lines = listing.read_text(encoding="utf-8").splitlines()
        assert any("'Home Visit' is not covered" in x for x in lines)
        assert '{"not_covered_by_map":"Home Visit","field":"activity","records":1}' in lines
        assert "23 events converted" in r.output and "1 rejected" in r.output
        assert len(_events(out)) == 23

    def test_nothing_readable_exit_2_and_no_output(self, runner, tmp_path):
        """When no record can be read, exit 2 and no output file appears."""
        src = tmp_path / "in.jsonl"
        src.write_text('{"case": "C", "at": "2024-01-01", "activity": "Create Fine"}\n', encoding="utf-8")
        out = tmp_path / "out.xes"
        r = runner.invoke(cli, ["convert", str(src), str(out)])
        assert r.exit_code == 2
        assert "none of the 1 records" in r.output and not out.exists()
        assert list(tmp_path.iterdir()) == [src]

    @pytest.mark.parametrize(("args", "words"), [
        (["missing.jsonl", "out.xes"], "no such file"),
        (["in.txt", "out.xes"], "unknown format"),
        (["in.jsonl", "out.docx"], "unknown format"),
        (["in.jsonl", "out.xes", "--map", "nomap.yaml"], "cannot be read"),
        (["-", "out.xes", "--annotate"], "IN must be a file"),
    ])
    def test_unusable_input_exit_2(self, runner, tmp_path, monkeypatch, args, words):
        """Missing files, unknown formats, a missing map and --annotate on stdin are usage problems: exit 2."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "in.jsonl").write_text(LOG, encoding="utf-8")
        (tmp_path / "in.txt").write_text(LOG, encoding="utf-8")
        r = runner.invoke(cli, ["convert", *args])
        assert r.exit_code == 2, r.output
        assert words in r.output

    def test_stdin_to_stdout(self, runner):
        """``-`` reads stdin and writes stdout; --to chooses the format."""
        r = runner.invoke(cli, ["convert", "-", "-", "--to", "xes"], input=LOG)
        assert r.exit_code == 0
        assert r.stdout.count("<trace>") == 2 and r.stdout.count("<event>") == 3

    def test_annotate_attaches_findings(self, runner, tmp_path):
        """--annotate replays first and attaches the findings to the evidence events."""
        if not Path("/work/shared/data/roadtraffic100traces.xes").is_file():
            pytest.skip("the road traffic sample is not present")
        out = tmp_path / "out.xes"
        r = runner.invoke(cli, ["convert", "/work/shared/data/roadtraffic100traces.xes", str(out), "--annotate",
                                "--engine", "none", "--map", str(ROOT / "tests/data/roadtraffic/map.yaml"),
                                "-w", str(ROOT / "tests/data/roadtraffic/workflow.yaml")])
        assert r.exit_code == 0, r.output
        text = out.read_text(encoding="utf-8")
        assert text.count('<string key="sdsrules:findings" value="SDS-SEQ-01"/>') == 2  # the trace and the event


class TestDeepValues:
    @pytest.mark.parametrize("fmt", ["jsonl", "csv", "xes"])
    def test_a_3000_deep_list_is_one_skipped_event_not_a_recursion_error(self, fmt):
        """An extra attribute nested 3,000 deep: that event is passed to ``skipped`` naming the field; the next
        one (lists in lists, an object) is written."""
        import io
        from datetime import UTC, date, datetime

        from sdsrules.formats.events import write

        deep: list = []
        cur = deep
        for _ in range(3_000):
            cur.append([])
            cur = cur[0]
        day = (datetime(2024, 1, 1, tzinfo=UTC), date(2024, 1, 1))
        bad = Event("e1", "C", *day, "signposted", {"x": deep}, None)
        ok = Event("e2", "C", *day, "signposted", {"x": [[1, 2], [3]], "o": {"a": [1]}}, None)
        seen: list = []
        out = io.StringIO()
        assert write([bad, ok], out, fmt, skipped=lambda e, f, r: seen.append((e.id, f))) == 1
        assert [s[0] for s in seen] == ["e1"] and "e2" in out.getvalue()


class TestAnnotateTakesTheReplayOptions:
    """``convert --annotate`` takes the same --rules and --as-of as replay, and attaches what replay finds."""

    def test_rules_and_as_of_reach_the_replay(self, tmp_path):
        from click.testing import CliRunner

        from cli.main import cli

        sample = Path(__file__).resolve().parent.parent / "cases" / "sample.jsonl"
        pack = Path(__file__).resolve().parent.parent / "rules"
        out = {}
        for as_of in ("2024-12-31", "2026-06-30"):
            target = tmp_path / f"{as_of}.jsonl"
            res = CliRunner().invoke(cli, ["convert", str(sample), str(target), "--annotate", "--rules", str(pack),
                                           "--as-of", as_of])
            assert res.exit_code == 1, res.output  # the sample has rejected records
            replay = CliRunner().invoke(cli, ["replay", str(sample), "--rules", str(pack), "--as-of", as_of,
                                              "--format", "json"])
            found = json.loads(replay.stdout)["findings"]
            attached = [r for r in map(json.loads, target.read_text(encoding="utf-8").splitlines())
                        if r.get("sdsrules:findings")]
            out[as_of] = (len(found), len(attached))
            assert attached
        # judged later, more duties are overdue: more findings, and more events carry them
        assert out["2026-06-30"][0] > out["2024-12-31"][0]
        assert out["2026-06-30"][1] > out["2024-12-31"][1]
