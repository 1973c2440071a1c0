"""Readers (issue 2): every record read is replayed or rejected with file, line, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdsrules import api
from sdsrules.events import Event, Rejection
from sdsrules.readers import ReaderError, read_all

DATA = Path(__file__).parent / "data" / "malformed"

#: file -> (line of the bad record, words its reason must contain)
CASES = {
    "broken_json.jsonl": (2, ["not valid JSON"]),
    "not_object.jsonl": (2, ["must be a JSON object", "list"]),
    "missing_case.jsonl": (2, ["'case'", "required"]),
    "missing_at.jsonl": (2, ["'at'", "required"]),
    "bad_date.jsonl": (2, ["'at'", "not a valid date", "2024-02-30"]),
    "date_too_early.jsonl": (2, ["'at'", "between 1900-01-01"]),
    "unknown_activity.jsonl": (2, ["'activity'", "tea_and_biscuits", "not a known activity"]),
    "missing_required_attr.jsonl": (2, ["'tier'", "required for triaged"]),
    "bad_enum.jsonl": (2, ["'tier'", "one of 1, 2, 3", "got 4"]),
    "wrong_type.jsonl": (2, ["'amount'", "must be a number", "'lots'"]),
    "bad_list_item.jsonl": (2, ["'options'", "item 2", "got 5"]),
    "bad_actor_role.jsonl": (2, ["'actor.role'", "wizard"]),
    "unknown_actor_key.jsonl": (2, ["'actor'", "salary"]),
    "boolean_case.jsonl": (2, ["'case'", "text or a number"]),
    "duplicate_id.jsonl": (2, ["'id'", "g1", "already used", "duplicate_id.jsonl:1"]),
    "invalid_utf8.jsonl": (2, ["not UTF-8"]),
    "extra_cell.csv": (3, ["5 cells", "header has 4"]),
    "csv_bad_value.csv": (3, ["'tier'", "got 'high'"]),
    "csv_unclosed_quote.csv": (3, ["quoted cell"]),
    # found by fuzzing (issue 8): each was a traceback or a silently lost record before
    "truncated.jsonl.gz": (0, ["reading stopped", "Compressed file ended"]),
    "xes_nested_event.xes": (6, ["'activity'", "tea_and_biscuits"]),
    "unhashable_value.jsonl": (2, ["'tier'", "one of 1, 2, 3", "got [3]"]),
    "xes_list_activity.xes": (4, ["'activity'", "must be text"]),
    "actor_cache_unknown_key.jsonl": (2, ["'actor'", "salary"]),
}


class TestMalformedFixtures:
    @pytest.mark.parametrize(("name", "line", "words"), [(n, *v) for n, v in CASES.items()], ids=list(CASES))
    def test_the_bad_record_is_rejected_with_file_line_and_reason(self, name, line, words):
        """One malformed record per failure mode: rejected with its file, its line and the words that explain it;
        the good record beside it still replays."""
        report = api.replay([DATA / name], engine="none")
        s = report.summary
        assert (s.events_read, s.events_replayed, s.events_rejected) == (2, 1, 1)
        (rej,) = report.rejected
        assert rej.file.endswith(name) and rej.line == line and rej.code == "SDS-DAT-01"
        for w in words:
            assert w in rej.reason, (w, rej.reason)

    def test_a_csv_without_a_required_column_rejects_every_row_and_says_which_column(self):
        """A header without 'at' makes each row unusable; every row is counted and rejected, none dropped."""
        report = api.replay([DATA / "csv_missing_column.csv"], engine="none")
        assert report.summary.events_read == report.summary.events_rejected == 2
        assert all("no column 'at'" in r.reason for r in report.rejected)

    def test_a_byte_order_mark_is_not_part_of_the_first_column_name(self):
        """A UTF-8 BOM (as Excel writes) is ignored."""
        report = api.replay([DATA / "csv_bom_ok.csv"], engine="none")
        assert report.summary.events_replayed == 1 and not report.rejected


class TestAccounting:
    def test_read_equals_replayed_plus_rejected_across_every_fixture(self):
        """Over all fixtures at once, events_read == events_replayed + events_rejected."""
        report = api.replay(sorted(DATA.iterdir()), engine="none")
        s = report.summary
        assert s.events_read == s.events_replayed + s.events_rejected
        assert s.events_rejected == len(report.rejected) >= len(CASES)

    def test_blank_lines_are_not_records(self, tmp_path):
        """Blank lines in JSON Lines are skipped and not counted."""
        p = tmp_path / "b.jsonl"
        p.write_text('\n{"case":"C","at":"2024-01-01","activity":"referral_received"}\n\n  \n')
        recs = list(read_all([p]))
        assert len(recs) == 1 and isinstance(recs[0], Event) and recs[0].line == 2

    def test_an_overlong_line_is_rejected_without_being_loaded(self, tmp_path):
        """A line over 1 MiB becomes a rejection; the next line still reads."""
        p = tmp_path / "long.jsonl"
        good = b'{"case":"C","at":"2024-01-01","activity":"signposted"}\n'
        p.write_bytes(b'{"x":"' + b"a" * (2 * 1024 * 1024) + b'"}\n' + good)
        recs = list(read_all([p]))
        assert isinstance(recs[0], Rejection) and "longer than" in recs[0].reason
        assert isinstance(recs[1], Event) and recs[1].line == 2

    def test_a_missing_file_is_a_reader_error_naming_it(self, tmp_path):
        with pytest.raises(ReaderError, match="no such file"):
            list(read_all([tmp_path / "nope.jsonl"]))


class TestEventFields:
    def test_a_date_time_without_offset_is_scottish_local_time(self, tmp_path):
        """2024-07-01T00:30 in summer is 23:30 UTC the day before, but its day is 1 July."""
        p = tmp_path / "t.jsonl"
        p.write_text('{"case":7,"at":"2024-07-01T00:30","activity":"signposted"}\n')
        (ev,) = read_all([p])
        assert ev.case == "7" and str(ev.day) == "2024-07-01" and ev.at.utcoffset().total_seconds() == 3600

    def test_extra_attributes_are_kept_not_interpreted(self, tmp_path):
        p = tmp_path / "t.jsonl"
        p.write_text('{"case":"C","at":"2024-01-01","activity":"signposted","mosaic_step":"X12"}\n')
        (ev,) = read_all([p])
        assert ev.attrs["mosaic_step"] == "X12"

    def test_csv_cells_are_typed_by_the_vocabulary(self, tmp_path):
        p = tmp_path / "t.csv"
        p.write_text("case,at,activity,options,budget_stated,actor_role\nC,2024-01-01,options_offered,1;2;4,true,panel\n")
        (ev,) = read_all([p])
        assert ev.attrs == {"options": (1, 2, 4), "budget_stated": True} and ev.actor.role == "panel"
