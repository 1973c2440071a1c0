"""The in-process API: ``sdsrules.check`` for one case's history and the incremental ``CaseMonitor``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

import sdsrules
from sdsrules import CaseMonitor, EventInputError, api, check
from sdsrules.monitor import assess, identity
from tests.helpers import events_of

SECRET = "Zq-7731-private"  # a value that must never appear in an error text


def long_case(case: str = "M-1", n: int = 60, start: date = date(2023, 1, 9)) -> list[dict]:
    """A tier 3 journey to a direct payment, then years of reviews, complaints and changes: ``n`` events with
    late reviews, a late complaint answer and options not re-offered (findings) and open duties at the end."""
    steps = [("referral_received", {"age": 70, "client_group": "older_people", "unpaid_carer": True}, 0),
             ("triaged", {"tier": 3}, 2), ("information_given", {"topics": ["sds_options", "advocacy"]}, 1),
             ("independent_support_offered", {"kind": "advocacy"}, 1), ("assessment_started", {}, 10),
             ("outcomes_agreed", {"count": 3}, 3), ("assets_explored", {"areas": ["finance", "community"]}, 3),
             ("eligibility_determined", {"band": "substantial", "eligible": True}, 4),
             ("eligibility_communicated", {"reasons_given": True}, 1),
             ("carer_support_offered", {"plan": "adult_carer_support_plan"}, 2), ("assessment_completed", {}, 5),
             ("budget_calculated", {"amount": 250}, 3),
             ("budget_approved", {"amount": 250, "approver_role": "team_manager"}, 2),
             ("options_offered", {"options": [1, 2, 3, 4], "information_given": True}, 3),
             ("option_chosen", {"option": 1}, 2), ("support_plan_agreed", {"contingency": True}, 3),
             ("support_started", {"option": 1, "personal_care": True}, 7), ("dp_means_test_completed", {}, 20)]
    cycle = [("financial_review_completed", {}, 80),
             ("review_completed", {"kind": "scheduled", "outcomes_met": "some"}, 20),
             ("complaint_received", {"stage": 1}, 15), ("complaint_responded", {"stage": 1}, 9),
             ("material_change_recorded", {"what": "health"}, 30),
             ("options_offered", {"options": [1, 2, 3, 4], "information_given": True}, 40)]
    day, out = start, []
    for i in range(n):
        activity, extra, gap = steps[i] if i < len(steps) else cycle[(i - len(steps)) % len(cycle)]
        day += timedelta(days=gap)
        out.append({"id": f"{case}-{i:03d}", "case": case, "at": day.isoformat(), "activity": activity, **extra})
    return out


def _replayed(records, as_of=None, engine="durable"):
    report = api.replay_records(events_of(records), as_of=as_of, engine=engine)
    return [f.to_dict() for f in report.findings]


class TestCheck:
    def test_same_findings_as_the_replay(self):
        """check() of one case gives exactly the findings the replay reports for it."""
        case = long_case()
        found = check(case)
        assert found, "the long case has breaches"
        assert [f.to_dict() for f in found] == _replayed(case)

    def test_takes_events_or_dicts(self):
        """Event objects and canonical dicts give the same answer."""
        case = long_case(n=30)
        assert [f.to_dict() for f in check(events_of(case))] == [f.to_dict() for f in check(case)]

    def test_as_of_judges_open_duties(self):
        """A later as-of date turns an open duty into an overdue finding."""
        case = long_case(n=17)  # support started, no review yet
        assert "SDS-REV-01" not in {f.code for f in check(case, as_of=date(2023, 3, 2))}
        later = check(case, as_of=date(2024, 6, 1))
        assert "SDS-REV-01" in {f.code for f in later}

    def test_default_is_today_in_london_and_echoed(self):
        """Without as_of, a case is judged at today's date in Scotland and the answer says so: a review due in
        2023 is overdue to someone asking today."""
        from sdsrules.duelist import today

        got = check(long_case(n=17))
        assert got.as_of == today()
        assert "SDS-REV-01" in {f.code for f in got}

    @pytest.mark.parametrize("as_of", ["2024-06-01", date(2024, 6, 1), "2024-06-01T09:00:00+01:00",
                                       "2024-05-31T23:30:00Z"])
    def test_as_of_as_date_or_iso_string(self, as_of):
        """as_of may be a date or an ISO string (a date-time counts as its London day); the answer echoes it."""
        got = check(long_case(n=17), as_of=as_of)
        assert got.as_of == date(2024, 6, 1)
        assert got == check(long_case(n=17), as_of=date(2024, 6, 1))

    @pytest.mark.parametrize("as_of", ["June", "2024-13-01", 20240601])
    def test_bad_as_of_is_refused(self, as_of):
        """An as_of that is not a date says what was allowed, not the value."""
        with pytest.raises(ValueError, match="as_of must be a date or an ISO 8601 date"):
            check(long_case(n=5), as_of=as_of)

    def test_reference_engine_agrees(self):
        """The reference engine gives the same findings as durable-rules."""
        case = long_case()
        assert check(case, engine="reference") == check(case)

    def test_no_events_no_findings(self):
        """An empty history has nothing to find."""
        assert check([]) == []

    def test_exported_from_the_package(self):
        """check, CaseMonitor and EventInputError are public names of sdsrules."""
        assert {"check", "CaseMonitor", "EventInputError"} <= set(sdsrules.__all__)


class TestCheckErrors:
    @pytest.mark.parametrize(("record", "field", "words"), [
        ({"at": "2024-01-01", "activity": "triaged", "tier": 1}, "case", "is required"),
        ({"case": SECRET, "at": SECRET, "activity": "triaged", "tier": 1}, "at", "ISO 8601"),
        ({"case": SECRET, "at": "2024-01-01", "activity": SECRET}, "activity",
         "activities of the event contract (docs/contract.md)"),
        ({"case": SECRET, "at": "2024-01-01", "activity": "triaged", "tier": SECRET}, "tier", "one of 1, 2, 3"),
        ({"case": SECRET, "at": "2024-01-01", "activity": "triaged"}, "tier", "is required for triaged"),
        ({"case": SECRET, "at": "2024-01-01", "activity": "budget_approved", "amount": -5,
          "approver_role": "panel"}, "amount", "at least 0"),
        ({"case": SECRET, "at": "2024-01-01", "activity": "triaged", "tier": 1, "actor": {SECRET: 1}},
         "actor", "id, role and team"),
    ])
    def test_names_index_and_field_never_the_value(self, record, field, words):
        """A bad event raises a ValueError naming its index, the field and what was allowed, not the value."""
        records = [*long_case(SECRET, n=3), record]
        with pytest.raises(EventInputError) as info:
            check(records)
        e = info.value
        assert isinstance(e, ValueError)
        assert (e.index, e.field) == (3, field)
        assert str(e).startswith(f"event 3: '{field}' ") and words in str(e)
        assert SECRET not in str(e) and SECRET not in repr(e.args)
        assert e.__cause__ is None and e.__suppress_context__  # no chained error carrying the value

    def test_one_case_only(self):
        """Events of a second case are refused: check is for one case's history."""
        with pytest.raises(EventInputError) as info:
            check(long_case("A", n=3) + long_case("B", n=1))
        assert (info.value.index, info.value.field) == (3, "case")

    def test_repeated_id(self):
        """An event id used twice is refused, naming both positions."""
        case = long_case(n=4)
        with pytest.raises(EventInputError) as info:
            check([*case, {**case[1], "at": "2023-02-01"}])
        assert (info.value.index, info.value.field) == (4, "id") and "event 1" in str(info.value)

    def test_not_a_mapping(self):
        """Something that is not an event object is refused by index."""
        with pytest.raises(EventInputError) as info:
            check([long_case(n=1)[0], [SECRET]])
        assert info.value.index == 1 and SECRET not in str(info.value)


class TestThreads:
    def test_eight_threads_agree_with_sequential(self):
        """check() from 8 threads at once (durable-rules on its engine thread) equals the sequential answers."""
        cases = [long_case(f"T-{k}", n=20 + 5 * (k % 9), start=date(2023, 1, 2) + timedelta(days=7 * k))
                 for k in range(32)]
        sequential = [check(c) for c in cases]
        barrier = threading.Barrier(8)

        def run(k: int) -> list:
            if k < 8:
                barrier.wait()  # the first eight start together
            return check(cases[k])

        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(run, range(len(cases))))
        assert concurrent == sequential
        assert sum(len(f) for f in sequential) > 32

    def test_reference_engine_from_threads(self):
        """The reference engine is safe from many threads too."""
        cases = [long_case(f"R-{k}", n=40) for k in range(16)]
        sequential = [check(c, engine="reference") for c in cases]
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(lambda c: check(c, engine="reference"), cases)) == sequential


class TestCaseMonitor:
    def test_each_finding_returned_once(self):
        """Adding events one at a time returns every finding exactly once; together they are the whole
        case's findings (the last step judged at the last event's day, as check does)."""
        case = long_case()
        monitor = CaseMonitor()
        returned = []
        for ev in case:
            returned.extend(monitor.add(ev).new_findings)
        keys = [identity(f) for f in returned]
        assert len(keys) == len(set(keys))
        assert {identity(f) for f in check(case)} <= set(keys)
        assert monitor.case == "M-1" and len(monitor.events) == 60

    def test_open_obligations_with_due_dates(self):
        """After support starts, the first review and the financial review are due by dates 12 weeks and 3
        months on."""
        monitor = CaseMonitor()
        update = monitor.extend(long_case(n=17), as_of="2023-03-02")
        due = {o.code: o.due for o in update.obligations}
        assert due["SDS-REV-01"] == "2023-05-25"  # support started 2023-03-02, 12 weeks on
        assert due["SDS-REV-03"] == "2023-06-02"  # 3 months on
        assert update.as_of == date(2023, 3, 2)

    def test_monitor_judges_at_today_by_default(self):
        """Without as_of the monitor judges at today's date (Europe/London) and says so."""
        from sdsrules.duelist import today

        update = CaseMonitor().extend(long_case(n=17))
        assert update.as_of == today()
        assert "SDS-REV-01" in {f.code for f in update.findings}

    def test_duty_falling_overdue_is_new(self):
        """Re-checked on a later day, a duty that fell overdue comes back once as a new finding."""
        monitor = CaseMonitor()
        monitor.extend(long_case(n=17), as_of=date(2023, 3, 2))
        late = monitor.status(date(2023, 6, 1))
        assert [f.code for f in late.new_findings] == ["SDS-REV-01"]
        assert "SDS-REV-01" not in {o.code for o in late.obligations}
        assert monitor.status(date(2023, 6, 1)).new_findings == ()

    def test_refused_event_is_not_kept(self):
        """A bad event raises and leaves the monitor as it was."""
        monitor = CaseMonitor()
        monitor.extend(long_case(n=5))
        with pytest.raises(EventInputError) as info:
            monitor.add({"case": "M-1", "at": "2023-02-01", "activity": "triaged", "tier": 9})
        assert info.value.index == 5 and len(monitor.events) == 5
        with pytest.raises(EventInputError):
            monitor.add({**long_case(n=1)[0], "case": "other"})
        assert len(monitor.events) == 5

    def test_shared_between_threads(self):
        """Threads adding to one monitor lose no event and get each finding once."""
        case = long_case(n=48)
        monitor = CaseMonitor()
        chunks = [case[i:i + 6] for i in range(0, 48, 6)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            updates = list(pool.map(monitor.extend, chunks))
        assert len(monitor.events) == 48
        final = assess(case)
        keys = [identity(f) for u in updates for f in u.new_findings]
        assert len(keys) == len(set(keys))
        # chunks may arrive out of time order (then SDS-DAT-02 says so); otherwise the same case, the same findings
        now = [f.to_dict() for f in monitor.status().findings if f.code != "SDS-DAT-02"]
        assert now == [f.to_dict() for f in final.findings]
