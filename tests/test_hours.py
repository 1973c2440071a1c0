"""Deadlines in hours: counted from the trigger's instant in elapsed time (48 hours across a change of the clocks
is 48 hours), judged to the instant, alike on the three engines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sdsrules import api
from sdsrules.calendar import parse_duration
from sdsrules.compare import propose
from sdsrules.workflow import load_workflow

RECEIPT = Path(__file__).resolve().parent.parent / "cases" / "receipt"
CNF = "RCPT-CNF-01"  # a confirmation of receipt sent within confirmation_period of the receipt

#: (case, receipt, confirmation sent or None); Amsterdam time, the design's zone (summer time from 2011-03-27)
CASES = [
    ("A-met", "2011-03-01T09:00:00", "2011-03-03T08:59:00"),          # 47 h 59 min
    ("B-late", "2011-03-01T09:00:00", "2011-03-03T09:01:00"),         # 48 h 1 min: 1 hour late (begun)
    ("C-clocks", "2011-03-26T10:00:00", "2011-03-28T10:30:00"),       # 47 h 30 min elapsed: the clocks went forward
    ("D-open", "2011-06-01T09:00:00", None),                          # due 2011-06-03 09:00, never sent
]


def test_hours_parse_and_count_elapsed_time():
    d = parse_duration("48 hours")
    assert (d.count, d.unit, d.exact, str(d), str(parse_duration("1 hour"))) == (48, "hours", True, "48 hours",
                                                                                 "1 hour")
    amsterdam = datetime.fromisoformat("2011-03-26T10:00:00+01:00")
    due = d.instant_after(amsterdam)
    assert due - amsterdam == timedelta(hours=48)
    assert due.astimezone(UTC) == datetime(2011, 3, 28, 9, 0, tzinfo=UTC)
    assert d.after(date(2011, 3, 1)) == date(2011, 3, 3)  # where only a day is known: whole days of 24 hours
    with pytest.raises(ValueError, match="counted in days"):
        parse_duration("2 days").instant_after(amsterdam)


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hours") / "receipt.jsonl"
    lines = []
    for case, received, sent in CASES:
        lines.append({"case": case, "at": received, "activity": "Confirmation of receipt"})
        if sent:
            lines.append({"case": case, "at": sent, "activity": "T05 Print and send confirmation of receipt"})
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["compiled", "durable", "reference"])
def test_a_deadline_in_hours_is_judged_to_the_instant_on_every_engine(log, engine):
    wf = propose(load_workflow(RECEIPT / "design.yaml"), ["confirmation_period=48 hours"])
    report = api.replay([log], wf, as_of=date(2011, 6, 4), engine=engine, rules=[RECEIPT / "rules"])
    assert not report.rejected
    found = {f.case: f for f in report.findings if f.code == CNF}
    assert sorted(found) == ["B-late", "D-open"]
    late, overdue = found["B-late"], found["D-open"]
    assert late.at == "2011-03-03"
    assert "was due by 2011-03-03 09:00 (48 hours after the receipt of the application of 2011-03-01" in late.message
    assert "1 hour late." in late.message
    assert overdue.at == "2011-06-03"
    assert "was due by 2011-06-03 09:00" in overdue.message and "had not happened by 2011-06-04" in overdue.message


@pytest.mark.parametrize("engine", ["compiled", "durable", "reference"])
def test_not_overdue_on_the_day_it_falls_due(log, engine):
    """Judged on 2011-06-03, the duty due at 09:00 that day is still open (an as-of date is a whole day)."""
    wf = propose(load_workflow(RECEIPT / "design.yaml"), ["confirmation_period=48 hours"])
    report = api.replay([log], wf, as_of=date(2011, 6, 3), engine=engine, rules=[RECEIPT / "rules"])
    assert "D-open" not in {f.case for f in report.findings if f.code == CNF}
    open_ = [o for o in report.obligations if o.code == CNF and o.case == "D-open"]
    assert [o.due for o in open_] == ["2011-06-03"]


def test_the_same_log_in_days_differs_only_where_hours_matter(log):
    """With 2 days instead of 48 hours, the case one minute late by the clock is on time (its confirmation came on
    the due day), which is why a design may say hours."""
    wf = propose(load_workflow(RECEIPT / "design.yaml"), ["confirmation_period=2 days"])
    report = api.replay([log], wf, as_of=date(2011, 6, 4), rules=[RECEIPT / "rules"])
    assert sorted(f.case for f in report.findings if f.code == CNF) == ["D-open"]


def test_a_duration_past_a_century_is_refused_not_a_crash():
    """Found while testing hours: '999999999 hours' (or days) in a design or --set overflowed the calendar deep in
    a worker. Now the design loader refuses it with one line."""
    assert str(parse_duration("100 years")) == "100 years"
    assert str(parse_duration("876600 hours")) == "876600 hours"
    for text in ("101 years", "876601 hours", "999999999 days", "1201 months"):
        with pytest.raises(ValueError, match="at most 100 years"):
            parse_duration(text)
    with pytest.raises(ValueError, match="at most 100 years"):
        propose(load_workflow(RECEIPT / "design.yaml"), ["confirmation_period=999999999 hours"])
