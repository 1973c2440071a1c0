"""The msgspec fast path of JSON Lines decoding against ``build_event`` (issue 16 item 2): on hostile records
the two agree exactly, rejection messages and extra attributes included, and never does the fast path accept a
record the slow path refuses."""

from __future__ import annotations

import gzip
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sdsrules.events import Event, Rejection
from sdsrules.readers import fast, read_all
from sdsrules.readers.fast import MAX_DEPTH, decode_line, decode_slow

from .strategies_hostile import BROKEN_LINES, HUGE, bad_record, good_record

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(line: bytes) -> Event | Rejection:
    got, want = decode_line(line, "f.jsonl", 3, 42), decode_slow(line, "f.jsonl", 3, 42)
    assert type(got) is type(want)
    if isinstance(want, Rejection):
        assert got == want
    else:
        for field in ("id", "case", "at", "day", "activity", "actor", "file", "line", "seq", "date_only"):
            assert getattr(got, field) == getattr(want, field), field
        # the same attributes, in the same order, with the same types (1 is not 1.0 is not True)
        assert [(k, type(v), v) for k, v in got.attrs.items()] == [(k, type(v), v) for k, v in want.attrs.items()]
        assert type(got.case) is str and type(got.id) is str
    return got


def _dumps(rec: dict) -> bytes:
    return json.dumps(rec, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")


def _shuffled(draw, rec: dict) -> dict:
    items = list(rec.items())
    return dict(draw(st.permutations(items)))


@st.composite
def hostile_line(draw) -> bytes:
    rec = draw(good_record() | bad_record())
    rec = _shuffled(draw, rec)
    how = draw(st.sampled_from(["plain", "plain", "dup", "value_is_a_name", "huge", "float_count", "escape",
                                "actor", "broken"]))
    line = _dumps(rec)
    if how == "dup" and len(rec) > 3:  # a duplicate key: orjson keeps the first position and the last value
        k = draw(st.sampled_from(sorted(rec)))
        line = line[:-1] + b", " + json.dumps(k).encode() + b": " + _dumps({"v": draw(
            st.sampled_from([None, 1, 2.5, "x", True, [1]]))})[6:-1] + b"}"
    elif how == "value_is_a_name":
        names = [k for k in rec if k not in ("case", "at", "activity", "id")] or ["to"]
        rec["what"] = draw(st.sampled_from(names))
        line = _dumps(rec)
    elif how == "huge":
        rec[draw(st.sampled_from(["amount", "count", "age", "case", "id", "tier"]))] = draw(
            st.sampled_from([*HUGE, 2**64 - 1, -(2**63), 2**63 - 1, 3.0, -0.0, 0]))
        line = _dumps(rec)
    elif how == "float_count":
        rec[draw(st.sampled_from(["count", "outcomes", "age", "option", "tier", "stage"]))] = draw(
            st.sampled_from([1.0, 2.0, 3.5, True, False, "1"]))
        line = _dumps(rec)
    elif how == "escape":
        line = json.dumps(rec, ensure_ascii=True).encode()  # names and values \u-escaped
        line = line.replace(b'"amount"', b'"\\u0061mount"').replace(b'"tier"', b'"t\\u0069er"')
    elif how == "actor":
        rec["actor"] = draw(st.sampled_from([{}, {"id": 5}, {"id": "W1", "role": "panel", "team": 3},
                                             {"role": None}, {"id": True}, {"team": 1.5}, None,
                                             {"id": "W1", "id2": 1}, {"role": "social_worker", "role2": 1}]))
        line = _dumps(rec)
    elif how == "broken":
        line = draw(st.sampled_from(BROKEN_LINES))
    if draw(st.booleans()):
        line = b"  " + line + b" \t"
    return line


class TestFastPathAgreesWithBuildEvent:
    @SETTINGS
    @given(hostile_line())
    @example(b'{"case":"C1","at":"2024-01-01","activity":"budget_approved","amount":18446744073709551616,'
             b'"approver_role":"panel"}')
    @example(b'{"case":"C1","at":"2024-01-01","activity":"budget_approved","amount":5,"approver_role":"panel",'
             b'"amount":7}')
    @example(b'{"case":"C1","at":"2024-01-01","activity":"triaged","tier":1,"activity":"signposted"}')
    @example(b'{"case":123,"id":9223372036854775807,"at":"2024-01-01","activity":"signposted"}')
    @example(b'{"case":"C1","at":"2024-01-01","activity":"options_offered","options":[1,true]}')
    def test_hostile_records(self, line):
        _same(line)

    @SETTINGS
    @given(good_record())
    @example({"case": "C1", "at": "2000-01-01", "activity": "referral_received", "source": "age", "age": 0})
    def test_good_records_take_the_fast_path(self, rec):
        """Records without extras, duplicates or odd numbers are decoded by msgspec (not just agreed on)."""
        line = _dumps(rec)
        want = decode_slow(line, "f", 1, 0)
        # the fast path hands on (by design) a line where an attribute's name also appears as a value, since it
        # orders attributes by where their names are in the line: {"source": "age", "age": 0}
        names_as_values = any(isinstance(v, str) and v in rec for v in rec.values())
        if isinstance(want, Event) and not names_as_values and \
                not any(type(v) is float and v == int(v) for v in want.attrs.values()):
            got = fast._fast().event(line, "f", 1, 0)
            assert got is not None, line
        _same(line)

    @SETTINGS
    @given(hostile_line())
    @example(b'{"case":"C1","at":"2024-01-01","activity":"budget_approved","amount":5,"approver_role":"panel",'
             b'"amount":7}')
    @example(b'{"case":"C1","at":"2024-01-01","activity":"referral_received","source":"age","age":3}')
    def test_in_any_order_only_the_order_of_attributes_may_differ(self, line):
        """The decoder of a findings-only replay (``line_decoder(keep_order=False)``) reads the same events, the
        same values and the same rejections: only the attributes' order may be the Struct's."""
        got = fast.line_decoder(keep_order=False)(line, "f.jsonl", 3, 42)
        want = decode_slow(line, "f.jsonl", 3, 42)
        assert type(got) is type(want)
        if isinstance(want, Rejection):
            assert got == want
            return
        for field in ("id", "case", "at", "day", "activity", "actor", "file", "line", "seq", "date_only"):
            assert getattr(got, field) == getattr(want, field), field
        assert sorted((k, type(v).__name__, repr(v)) for k, v in got.attrs.items()) == \
            sorted((k, type(v).__name__, repr(v)) for k, v in want.attrs.items())

    def test_the_fast_path_is_built_from_the_activity_table(self, monkeypatch):
        """Replace events.ACTIVITIES (as a design's vocabulary does) and the decoder follows it."""
        from sdsrules import events
        table = dict(events.ACTIVITIES)
        table["tea_served"] = {"cups": (events.COUNT, True)}
        monkeypatch.setattr(events, "ACTIVITIES", table)
        monkeypatch.setitem(events._REQUIRED, "tea_served", ("cups",))
        line = b'{"case":"C1","at":"2024-01-01","activity":"tea_served","cups":2}'
        got = fast._fast().event(line, "f", 1, 0)
        assert got is not None and got.attrs == {"cups": 2}
        assert _same(line).activity == "tea_served"


class TestNesting:
    def test_a_deeply_nested_extra_attribute_is_a_rejection(self):
        deep = b"[" * 1000 + b"]" * 1000
        line = b'{"case":"C1","at":"2024-01-01","activity":"signposted","notes":' + deep + b"}"
        r = decode_line(line, "f.jsonl", 1, 0)
        assert isinstance(r, Rejection) and r.field == "notes" and str(MAX_DEPTH) in r.reason
        shallow = b'{"case":"C1","at":"2024-01-01","activity":"signposted","notes":[[["x"]]]}'
        assert isinstance(decode_line(shallow, "f.jsonl", 1, 0), Event)

    def test_a_deep_list_in_a_gz_log_is_rejected_not_a_crash(self, tmp_path):
        deep = "[" * 1000 + "]" * 1000
        p = tmp_path / "deep.jsonl.gz"
        with gzip.open(p, "wt") as f:
            f.write('{"case":"C1","at":"2024-01-01","activity":"signposted"}\n')
            f.write('{"case":"C1","at":"2024-01-02","activity":"signposted","x":' + deep + "}\n")
        out = list(read_all([p]))
        assert isinstance(out[0], Event) and isinstance(out[1], Rejection) and out[1].line == 2

    def test_the_replay_of_a_deep_gz_log_ends_with_a_rejection_not_a_traceback(self, tmp_path):
        from click.testing import CliRunner
        from sdsrules.cli.main import cli

        deep = "[" * 1000 + "]" * 1000
        p = tmp_path / "deep.jsonl.gz"
        with gzip.open(p, "wt") as f:
            f.write('{"case":"C1","at":"2024-01-01","activity":"referral_received"}\n')
            f.write('{"case":"C1","at":"2024-01-02","activity":"signposted","x":' + deep + "}\n")
        r = CliRunner().invoke(cli, ["replay", str(p), "--format", "json", "--engine", "reference", "--jobs", "2"])
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        doc = json.loads(r.stdout)
        assert [x["field"] for x in doc["rejected"]] == ["x"]
