"""Activity maps: their names to ours before validation; uncovered names rejected, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsrules.datafile import DataFileError
from sdsrules.events import Event, Rejection
from sdsrules.maps import load_map, unmapped
from sdsrules.readers import read_all

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MAP = ROOT / "cases" / "maps" / "example-export.yaml"
EXAMPLE_CSV = ROOT / "cases" / "example-export.csv"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


class TestLoadMap:
    def test_shipped_example_loads(self):
        """The shipped example map loads and covers the export's steps."""
        m = load_map(EXAMPLE_MAP)
        assert m.name == "example-export"
        assert m.activities["SDS Options Discussed"].activity == "options_offered"
        assert m.values["options"]["DP"] == 1

    def test_every_problem_named_with_line_and_key(self, tmp_path):
        """An unknown key and an unknown activity are both reported, each with its line and key."""
        p = _write(tmp_path, "bad.yaml", "map: x\nactivities:\n  Foo: not_an_activity\n  Bar: referral_received\n"
                                         "colour: blue\n")
        with pytest.raises(DataFileError) as e:
            load_map(p)
        text = e.value.report()
        assert "unknown key 'colour'" in text and ":5:" in text
        # the schema problem is reported first; the activity check runs once the shape is right
        p.write_text("map: x\nactivities:\n  Foo: not_an_activity\n", encoding="utf-8")
        with pytest.raises(DataFileError) as e:
            load_map(p)
        assert ("bad.yaml:3: activities.Foo: 'not_an_activity' is not an activity of the event contract "
                "(docs/contract.md)") in e.value.report()

    def test_set_may_not_give_core_fields(self, tmp_path):
        """A step may imply attributes, not the case or the date."""
        p = _write(tmp_path, "m.yaml", "map: x\nactivities:\n  Foo: {activity: triaged, set: {case: C1}}\n")
        with pytest.raises(DataFileError, match="not the core field 'case'"):
            load_map(p)


class TestApply:
    def test_example_export_reads_through_the_map(self):
        """The MOSAIC-like export becomes canonical events; options DP;ISF;... become [1, 2, 3, 4]."""
        records = list(read_all([str(EXAMPLE_CSV)], activity_map=load_map(EXAMPLE_MAP)))
        events = [r for r in records if isinstance(r, Event)]
        rejected = [r for r in records if isinstance(r, Rejection)]
        assert len(records) == 24 and len(events) == 23
        offered = next(e for e in events if e.id == "X-8")
        assert offered.activity == "options_offered"
        assert offered.attrs["options"] == (1, 2, 3, 4)
        assert offered.attrs["information_given"] is True
        assert offered.actor.role == "social_worker" and offered.actor.team == "east_long_term"
        decided = next(e for e in events if e.id == "X-4")
        assert decided.attrs == {"band": "substantial", "eligible": True}
        assert [r.line for r in rejected] == [24]
        assert "'Home Visit' is not covered by the activity map example-export" in rejected[0].reason
        assert rejected[0].case == "MOS-1003"

    def test_unmapped_names_are_counted(self, tmp_path):
        """Every uncovered step and value is a rejection, and a run can list them with counts."""
        m = _write(tmp_path, "m.yaml", "map: m\nactivities:\n  Start: referral_received\n  Offer: options_offered\n"
                                       "values:\n  options: {DP: 1}\n")
        log = _write(tmp_path, "log.jsonl",
                     '{"case": 1, "at": "2024-01-01", "activity": "Start"}\n'
                     '{"case": 1, "at": "2024-01-02", "activity": "Visit"}\n'
                     '{"case": 2, "at": "2024-01-02", "activity": "Visit"}\n'
                     '{"case": 2, "at": "2024-01-03", "activity": "Offer", "options": ["DP", "Weird"]}\n'
                     '{"case": 2, "at": "2024-01-03", "activity": "O\'Brien step"}\n')
        records = list(read_all([str(log)], activity_map=load_map(m)))
        assert len(records) == 5
        rejected = [r for r in records if isinstance(r, Rejection)]
        assert unmapped(rejected) == {("activity", "Visit"): 2, ("options", "Weird"): 1,
                                      ("activity", "O'Brien step"): 1}
        assert {r.line for r in rejected} == {2, 3, 4, 5}

    def test_validation_still_judges_the_canonical_shape(self, tmp_path):
        """A mapped record that breaks the contract is rejected by the contract's own check."""
        m = _write(tmp_path, "m.yaml", "map: m\nactivities:\n  Screen: triaged\n")
        log = _write(tmp_path, "log.jsonl", '{"case": "A", "at": "2024-01-01", "activity": "Screen", "tier": 7}\n')
        (r,) = read_all([str(log)], activity_map=load_map(m))
        assert isinstance(r, Rejection)
        assert r.field == "tier" and "must be one of 1, 2, 3 (got 7)" in r.reason

    def test_pass_canonical_lets_our_names_through(self, tmp_path):
        """With pass_canonical, a name that is already ours needs no entry."""
        m = _write(tmp_path, "m.yaml", "map: m\npass_canonical: true\nactivities:\n  Screen: triaged\n")
        log = _write(tmp_path, "log.jsonl", '{"case": "A", "at": "2024-01-01", "activity": "referral_received"}\n')
        (r,) = read_all([str(log)], activity_map=load_map(m))
        assert isinstance(r, Event) and r.activity == "referral_received"
