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


def _csv(tmp_path: Path, text: str) -> list:
    p = tmp_path / "log.csv"
    p.write_text(text, encoding="utf-8")
    return list(read_all([str(p)]))


class TestHostileCsv:
    """Issue 18: quadratic headers and a stray quote that swallowed 20,000 rows."""

    def test_80000_columns_header_is_linear(self, tmp_path):
        """An 80,000-column header (58 s before) is checked in well under a second or two."""
        import time

        cols = ["case", "at", "activity", *(f"x{i}" for i in range(80_000))]
        row = ["C1", "2024-01-01", "signposted", *([""] * 80_000)]
        start = time.perf_counter()
        recs = _csv(tmp_path, ",".join(cols) + "\n" + ",".join(row) + "\n")
        assert time.perf_counter() - start < 5
        assert len(recs) == 1 and isinstance(recs[0], Event)

    def test_80000_duplicate_columns_are_named_once_each(self, tmp_path):
        """Duplicate column names are found by counting once, not by counting per column."""
        import time

        cols = ["case", "at", "activity", *(f"x{i % 40_000}" for i in range(80_000))]
        start = time.perf_counter()
        recs = _csv(tmp_path, ",".join(cols) + "\nC1,2024-01-01,signposted\n")
        assert time.perf_counter() - start < 5
        assert len(recs) == 1 and "twice" in recs[0].reason and recs[0].field == "header"

    def test_a_stray_quote_costs_only_its_own_line(self, tmp_path):
        """One stray quote among 20,000 rows: that row is one rejection, the 19,999 others replay."""
        rows = [f"C{i},2024-01-01,signposted" for i in range(20_000)]
        rows[5] = 'C5,2024-01-01,"signposted'
        recs = _csv(tmp_path, "case,at,activity\n" + "\n".join(rows) + "\n")
        rejected = [r for r in recs if isinstance(r, Rejection)]
        assert len(recs) == 20_000 and len(rejected) == 1
        (r,) = rejected
        assert r.line == 7 and "quoted cell" in r.reason and "line 7 skipped" in r.reason

    def test_a_stray_quote_with_a_second_one_later_costs_only_the_lines_between_nothing_more(self, tmp_path):
        """Two stray quotes 10,000 rows apart (which closed one 10,000-line record before) cost two lines."""
        rows = [f"C{i},2024-01-01,signposted" for i in range(20_000)]
        rows[5] = 'C5,2024-01-01,"signposted'
        rows[10_005] = 'C10005,2024-01-01,signposted"'
        recs = _csv(tmp_path, "case,at,activity\n" + "\n".join(rows) + "\n")
        rejected = [r for r in recs if isinstance(r, Rejection)]
        assert len(recs) == 20_000 and [r.line for r in rejected] == [7, 10_007]

    def test_a_quoted_cell_over_several_lines_still_reads(self, tmp_path):
        """A real multi-line cell, even with lines that look like rows, is one record, not a stray quote."""
        recs = _csv(tmp_path, 'case,at,activity,to\nC1,2024-01-01,signposted,"line one\nC2,2024-01-02,x\n'
                              'end"\nC3,2024-01-03,signposted,\n')
        assert [type(r).__name__ for r in recs] == ["Event", "Event"]
        assert recs[0].attrs["to"] == "line one\nC2,2024-01-02,x\nend" and recs[1].line == 5

    def test_broken_lines_up_to_the_next_row_are_one_rejection(self, tmp_path):
        """Lines that are no row of their own after a stray quote go with it; reading resumes at the next row."""
        recs = _csv(tmp_path, 'case,at,activity\nC1,2024-01-01,"signposted\nnot, a row, at, all\n'
                              "half a row\nC2,2024-01-02,signposted\n")
        assert [type(r).__name__ for r in recs] == ["Rejection", "Event"]
        assert recs[0].line == 2 and "lines 2-4 skipped" in recs[0].reason and recs[1].line == 5

    def test_the_file_ending_in_a_quote_keeps_the_rows_after_it(self, tmp_path):
        """An unclosed quote at the end of the file: the rows after the stray quote stand."""
        recs = _csv(tmp_path, 'case,at,activity\nC1,2024-01-01,"signposted\nC2,2024-01-02,signposted\n'
                              "C3,2024-01-03,signposted\n")
        assert [type(r).__name__ for r in recs] == ["Rejection", "Event", "Event"]
        assert "file ends inside a quoted cell" in recs[0].reason

    def test_reader_writes_nothing_to_stderr(self, tmp_path, capfd):
        """Bad rows become rejections; nothing of them goes to stderr."""
        _csv(tmp_path, 'case,at,activity,age\nMrs Doe,2024-01-01,visit to Mrs Doe,x\n"Mrs Doe\n\xff\n')
        out, err = capfd.readouterr()
        assert out == "" and err == ""
