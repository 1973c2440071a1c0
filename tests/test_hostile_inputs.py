"""Hostile and broken case logs (issue 8): nothing lost, nothing leaked, no traceback.

The accounting property, over every reader: for any generated log, every record (JSONL: non-blank line;
CSV: record after the header; XES: ``<event>`` under the root ``<log>`` or one of its ``<trace>``\\s) is
either replayed or rejected with file, line and reason; ``events_read == events_replayed + events_rejected``;
no exception escapes ``read_all``, ``api.replay(engine="none")`` or the ``replay`` command; and the command
exits 2 only when nothing could be replayed. Long runs: ``pytest -m slow`` and ``python fuzz/run.py``.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdsrules.cli.main import cli

from sdsrules import api
from sdsrules.events import Event, Rejection
from sdsrules.readers import read_all

from .strategies_hostile import HOSTILE_DTD, csv_logs, hostile_dtd, jsonl_logs, xes_logs

DATA = Path(__file__).parent / "data" / "malformed"
LOGS = {"jsonl": jsonl_logs(), "csv": csv_logs(), "xes": xes_logs()}
CI = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD = b'{"case":"C1","at":"2024-01-01","activity":"signposted"}\n'


def _write(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="sdsrules-hostile-"))
    path = folder / f"log.{suffix}"
    path.write_bytes(data)
    return path


def _accounted(fmt: str, data: bytes, records: int) -> None:
    """The whole property for one generated log: reader, library call and command line."""
    path = _write(data, fmt)
    read = list(read_all([str(path)]))
    assert len(read) == records, (records, [str(r) for r in read])
    for r in read:
        assert isinstance(r, Event | Rejection)
        if isinstance(r, Rejection):
            assert r.file == str(path) and r.line >= 1 and r.reason and r.code == "SDS-DAT-01"
    report = api.replay([path], engine="none")
    s = report.summary
    assert s.events_read == records and s.events_read == s.events_replayed + s.events_rejected
    assert s.events_rejected == len(report.rejected)
    assert all(r.file == str(path) and r.line >= 1 and r.reason for r in report.rejected)
    result = CliRunner().invoke(cli, ["replay", str(path), "--engine", "none", "--format", "json"],
                                catch_exceptions=False)
    assert "Traceback" not in result.output
    assert (result.exit_code == 2) == (s.events_replayed == 0), (result.exit_code, s)
    assert result.exit_code in (0, 1, 2)
    if result.exit_code != 2 or records:
        body = json.loads(result.stdout)
        assert body["summary"]["events_read"] == records


class TestAccountingProperty:
    @CI
    @given(st.data())
    def test_every_jsonl_record_is_replayed_or_rejected(self, data):
        """Broken JSON, wrong types, huge numbers, bad dates, unknown activities, duplicate ids, invalid UTF-8,
        byte-order marks and blank lines: every non-blank line is accounted for."""
        _accounted("jsonl", *data.draw(jsonl_logs()))

    @CI
    @given(st.data())
    def test_every_csv_record_is_replayed_or_rejected(self, data):
        """Reordered, missing, extra and duplicated columns, short and long rows, quoted newlines, invalid
        UTF-8 and an unclosed quote: every record after the header is accounted for."""
        _accounted("csv", *data.draw(csv_logs()))

    @CI
    @given(st.data())
    def test_every_xes_event_is_replayed_or_rejected(self, data):
        """Events with bad values, outside a trace, in a trace without a name, with look-alike events nested
        in an attribute: every <event> of the log is accounted for, and the look-alikes are not records."""
        _accounted("xes", *data.draw(xes_logs()))

    @pytest.mark.slow
    @pytest.mark.skipif("'slow' not in config.getoption('-m')", reason="a long run: pytest -m slow")
    @LONG
    @given(st.sampled_from(sorted(LOGS)), st.data())
    def test_long_run_over_every_reader(self, fmt, data):
        """The same property with many more examples (``pytest -m slow``)."""
        _accounted(fmt, *data.draw(LOGS[fmt]))


class TestFastPathGaps:  # found here, closed in readers.ranges.iter_range
    def test_a_null_line_is_a_rejection_on_the_fast_path_too(self, tmp_path):
        """``null`` is a record that is not an object: read_all rejects it; so must api.replay."""
        path = tmp_path / "n.jsonl"
        path.write_bytes(GOOD + b"null\n")
        assert len(list(read_all([str(path)]))) == 2
        assert api.replay([path], engine="none").summary.events_read == 2


class TestHostileXml:
    @CI
    @given(hostile_dtd())
    def test_a_dtd_stops_reading_with_one_rejection_and_nothing_is_expanded_or_fetched(self, name):
        """Entity expansion, external entities, an external DTD and parameter entities: one rejection naming
        the refusal; the secret file's contents appear nowhere in the report or the command's output."""
        folder = Path(tempfile.mkdtemp(prefix="sdsrules-hostile-"))
        secret = folder / "secret.txt"
        secret.write_text("NHS-943-476-5919 Jean Grant")
        path = folder / "log.xes"
        path.write_text(HOSTILE_DTD[name].replace("{secret}", str(secret)))
        report = api.replay([path], engine="none")
        (rej,) = report.rejected
        assert "DTD" in rej.reason and "reading stopped" in rej.reason and report.summary.events_replayed == 0
        result = CliRunner().invoke(cli, ["replay", str(path), "--engine", "none", "--format", "json"],
                                    catch_exceptions=False)
        assert result.exit_code == 2 and "Jean Grant" not in result.output and "aaaaaaaa" not in result.output

    def test_an_unknown_encoding_is_one_rejection_not_a_traceback(self):
        """An XML declaration naming an encoding Python cannot use for XML (found by fuzzing)."""
        report = api.replay([DATA / "xes_unknown_encoding.xes"], engine="none")
        (rej,) = report.rejected
        assert rej.line == 1 and "encoding cannot be read" in rej.reason and "UTF-9" in rej.reason

    @pytest.mark.parametrize("encoding", ["hex", "rot13", "utf-32", "shift_jis", "idna"])
    def test_encodings_that_are_not_for_xml_text_are_refused(self, tmp_path, encoding):
        path = tmp_path / "e.xes"
        path.write_text(f'<?xml version="1.0" encoding="{encoding}"?>\n<log/>\n')
        (rej,) = read_all([str(path)])
        assert isinstance(rej, Rejection) and "reading stopped" in rej.reason


class TestHugeAndBroken:
    @pytest.mark.parametrize("fmt", ["jsonl", "csv"])
    def test_a_10_mb_line_is_one_rejection_and_the_next_line_still_reads(self, tmp_path, fmt):
        """A 10 MB line is skipped in chunks (never held whole), rejected with its line; reading goes on."""
        head = b"case,at,activity,note\n" if fmt == "csv" else b""
        good = b"C1,2024-01-01,signposted,\n" if fmt == "csv" else GOOD
        path = tmp_path / f"big.{fmt}"
        with path.open("wb") as f:
            f.write(head + good)
            f.write(b"C2,2024-01-01,signposted," if fmt == "csv" else b'{"case":"C2","note":"')
            for _ in range(10):
                f.write(b"x" * (1024 * 1024))
            f.write(b"\n" if fmt == "csv" else b'"}\n')
            f.write(good)
        records = list(read_all([str(path)]))
        base = 2 if fmt == "csv" else 1
        assert [type(r).__name__ for r in records] == ["Event", "Rejection", "Event"]
        assert records[1].line == base + 1 and "longer than" in records[1].reason

    def test_an_unclosed_quote_over_many_short_lines_is_read_in_linear_time(self, tmp_path):
        """600,000 two-byte lines inside an unclosed quote: one rejection once the record passes 1,000 lines (the
        CSV reader's lookahead), then reading goes on. Joining the pending lines again at each line made this
        quadratic (minutes to hours)."""
        path = tmp_path / "q.csv"
        path.write_text('case,at,activity\n"C1,2024-01-01,signposted\n' + "a\n" * 600_000
                        + "C2,2024-01-01,signposted\n")
        started = time.monotonic()
        records = list(read_all([str(path)]))
        assert time.monotonic() - started < 60
        assert records[0].line == 2 and "still open after 1001 lines" in records[0].reason
        assert isinstance(records[-1], Event) and records[-1].case == "C2"

    def test_a_10_mb_xes_attribute_rejects_its_event_only(self, tmp_path):
        path = tmp_path / "big.xes"
        ev = '<event><string key="concept:name" value="signposted"/><date key="time:timestamp" value="2024-01-01"/>'
        path.write_text('<log><trace><string key="concept:name" value="C1"/>' + ev + "</event>" + ev
                        + '<string key="note" value="' + "x" * (10 * 1024 * 1024) + '"/></event>' + ev
                        + "</event></trace></log>")
        records = list(read_all([str(path)]))
        assert [type(r).__name__ for r in records] == ["Event", "Rejection", "Event"]
        assert "longer than" in records[1].reason

    @pytest.mark.parametrize("cut", [10, 40, 80])
    def test_a_truncated_gzip_keeps_what_was_read_and_says_reading_stopped(self, tmp_path, cut):
        """A .gz cut short (a copy that failed half-way) is a rejection, never a traceback (found by fuzzing)."""
        whole = gzip.compress(GOOD * 3)
        path = tmp_path / "cut.jsonl.gz"
        path.write_bytes(whole[: len(whole) * cut // 100])
        records = list(read_all([str(path)]))
        assert isinstance(records[-1], Rejection) and "reading stopped" in records[-1].reason

    @pytest.mark.parametrize("value", ["1e400", "-1e400", "2e308"])
    def test_numbers_too_big_for_a_double_are_a_rejection(self, tmp_path, value):
        path = tmp_path / "n.jsonl"
        path.write_bytes(b'{"case":"C1","at":"2024-01-01","activity":"budget_calculated","amount":%s}\n'
                         % value.encode() + GOOD)
        first, second = read_all([str(path)])
        assert isinstance(first, Rejection) and first.line == 1 and isinstance(second, Event)

    def test_a_whole_number_beyond_64_bits_is_read_as_a_finite_number(self, tmp_path):
        """orjson reads it as a float; the amount is finite and the run goes on (a finding may follow)."""
        path = tmp_path / "n.jsonl"
        path.write_bytes(b'{"case":"C1","at":"2024-01-01","activity":"budget_calculated",'
                         b'"amount":123456789012345678901234567890}\n')
        (ev,) = read_all([str(path)])
        assert isinstance(ev, Event) and ev.attrs["amount"] == pytest.approx(1.2345678901234568e29)

    @pytest.mark.parametrize("at", ["1899-12-31", "0001-01-01T00:00", "2101-01-01", "9999-12-31T23:59:59+14:00"])
    def test_dates_before_1900_or_far_in_the_future_are_rejected_naming_the_range(self, tmp_path, at):
        path = tmp_path / "d.jsonl"
        path.write_text(json.dumps({"case": "C1", "at": at, "activity": "signposted"}) + "\n")
        (rej,) = read_all([str(path)])
        assert isinstance(rej, Rejection) and rej.field == "at" and "between 1900-01-01" in rej.reason


class TestNothingLeaked:
    def test_rejection_reasons_quote_at_most_a_short_excerpt_of_a_bad_value(self, tmp_path):
        """A bad value is shown cut to a few dozen characters: a reason never carries a whole case note."""
        note = "Mrs Jean Grant, 14 Kirk Street, told me about her son's " + "history " * 50
        path = tmp_path / "n.jsonl"
        path.write_text(json.dumps({"case": "C1", "at": note, "activity": "signposted"}) + "\n")
        (rej,) = read_all([str(path)])
        assert len(rej.reason) < 160 and "history history history history history history" not in rej.reason

    def test_the_command_line_says_nothing_of_the_records_on_stderr(self, tmp_path):
        """With --output, stderr carries counts and the output path only, never a case identifier."""
        path = tmp_path / "l.jsonl"
        path.write_text('{"case":"CASE-SECRET-77","at":"2024-01-01","activity":"tea"}\n')
        out = tmp_path / "r.json"
        result = CliRunner().invoke(cli, ["replay", str(path), "--engine", "none", "--format", "json", "-o",
                                          str(out)], catch_exceptions=False)
        assert result.exit_code == 2 and "CASE-SECRET-77" not in result.stderr
        assert "CASE-SECRET-77" in out.read_text()  # the report itself is where case data belongs
