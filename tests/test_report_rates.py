"""Issue 17: rates that add up (open duties are never met), attribution you can state (the trigger's team
and worker; the stage when the duty fell due), trends with Wilson intervals, and the JSON and CSV reports."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules import api
from sdsrules.events import Event
from sdsrules.findings import Evidence, Finding, Obligation, Summary
from sdsrules.formats.report.svg import HOT, INK, LIGHT, contrast
from sdsrules.monitor import event_from
from sdsrules.replay import CaseResult, Report
from sdsrules.reporting import aggregate
from sdsrules.reporting.aggregate import MIN_TREND, wilson

REV = "SDS-REV-01"


def actor(team: str, worker: str) -> dict:
    return {"id": worker, "role": "social_worker", "team": team}


def events(case: str, steps: list[tuple[str, dict, int, str, str]], start: date = date(2024, 1, 8)) -> list[Event]:
    """Events from (activity, attributes, days after the previous step, team, worker)."""
    out, day = [], start
    for n, (activity, attrs_, gap, team, worker) in enumerate(steps):
        day += timedelta(days=gap)
        rec = {"id": f"{case}-{n:02d}", "case": case, "at": day.isoformat(), "activity": activity,
               "actor": actor(team, worker), **attrs_}
        out.append(event_from(rec, n))
    return out


ACCESS, EAST = "access_team", "east_long_term"


def moving_case(case: str = "MOVE-1") -> list[Event]:
    """Referred and triaged to tier 3 by the access team (worker A01); the long-term team (worker E05) takes
    the case over and starts the assessment 40 days later: a tier 3 wait (SDS-ACC-02) the access team held."""
    return events(case, [
        ("referral_received", {"age": 70, "client_group": "older_people"}, 0, ACCESS, "A01"),
        ("triaged", {"tier": 3}, 1, ACCESS, "A01"),
        ("independent_support_offered", {"kind": "advocacy"}, 1, ACCESS, "A01"),
        ("assessment_started", {}, 40, EAST, "E05"),
        ("outcomes_agreed", {"count": 2}, 3, EAST, "E05"),
    ])


def supported_case(case: str = "OPEN-1") -> list[Event]:
    """A tier 3 journey to support under option 3, with nothing after support starts: REV-01 still open."""
    return events(case, [
        ("referral_received", {"age": 70}, 0, EAST, "E05"), ("triaged", {"tier": 3}, 1, EAST, "E05"),
        ("assessment_started", {}, 2, EAST, "E05"), ("outcomes_agreed", {"count": 1}, 1, EAST, "E05"),
        ("assessment_completed", {}, 1, EAST, "E05"), ("budget_calculated", {"amount": 100}, 1, EAST, "E05"),
        ("budget_approved", {"amount": 100, "approver_role": "team_manager"}, 1, EAST, "E05"),
        ("options_offered", {"options": [1, 2, 3, 4], "information_given": True}, 1, EAST, "E05"),
        ("option_chosen", {"option": 3}, 1, EAST, "E05"),
        ("support_plan_agreed", {"contingency": True}, 1, EAST, "E05"),
        ("support_started", {"option": 3}, 1, EAST, "E05")])


def replay(evs: list[Event], as_of: date | None = None) -> Report:
    return api.replay_records(evs, as_of=as_of)


# ------------------------------------------------------------------------------------------- rates


def result(name: str, applicable: set[str], findings=(), obligations=(), team: str = "east") -> CaseResult:
    return CaseResult(name, tuple(findings), obligations=tuple(obligations), applicable=frozenset(applicable),
                      profile=(("quarter", "2024-Q1"), ("team", team)))


def breach(case: str, code: str = REV) -> Finding:
    return Finding(code=code, case=case, at="2024-03-01", message="late", title="first review late",
                   severity="high", events=(Evidence(f"{case}-1", "2024-01-01", "support_started", "trigger"),))


def open_duty(case: str, code: str = REV) -> Obligation:
    return Obligation(code=code, case=case, due="2025-03-01", message="due", title="first review late")


def report_of(*cases: CaseResult) -> Report:
    findings = tuple(f for c in cases for f in c.findings)
    return Report(Summary(cases=len(cases)), findings, (), tuple(o for c in cases for o in c.obligations),
                  cases=tuple(cases))


class TestOpenDuties:
    def test_open_duties_change_nothing_in_the_met_count(self):
        """Two more cases whose duty is still open: applied +2, open +2, met and breached unchanged."""
        base = [result("A", {REV}), result("B", {REV}), result("C", {REV}, [breach("C")])]
        before = aggregate(report_of(*base)).rates_by_code[REV]
        more = [*base, result("D", {REV}, obligations=[open_duty("D")]),
                result("E", {REV}, obligations=[open_duty("E")])]
        after = aggregate(report_of(*more)).rates_by_code[REV]
        assert (before.applied, before.met, before.breached, before.open) == (3, 2, 1, 0)
        assert (after.applied, after.met, after.breached, after.open) == (5, 2, 1, 2)
        assert after.applied == after.met + after.breached + after.open
        assert after.word == before.word == "the majority"  # over the decided cases: 2 of 3
        assert after.sentence() == ("Met in the majority of the 3 cases decided so far (66%, 2 of 3). "
                                    "2 more are open (not yet due).")

    def test_a_breach_outranks_an_open_duty_of_the_same_code(self):
        """A case with a breach and a later duty still open counts once, as breached."""
        r = aggregate(report_of(result("A", {REV}, [breach("A")], [open_duty("A")]))).rates_by_code[REV]
        assert (r.applied, r.met, r.breached, r.open) == (1, 0, 1, 0)

    def test_engine_open_duty_is_open_not_met(self):
        """Replayed before the first review falls due, support just started: REV-01 is open, not met."""
        evs = supported_case()
        rates = aggregate(replay(evs)).rates_by_code
        assert (rates[REV].met, rates[REV].open, rates[REV].breached) == (0, 1, 0)
        later = aggregate(replay(evs, as_of=date(2025, 1, 1))).rates_by_code
        assert (later[REV].met, later[REV].open, later[REV].breached) == (0, 0, 1)


class TestRanking:
    def test_worst_first_by_breach_rate_then_severity(self):
        """The highest breach rate leads; at equal rates the more severe duty comes first."""
        cases = [result("A", {"SDS-PLN-02", REV, "SDS-ACC-02"}, [breach("A", "SDS-PLN-02"), breach("A", REV)]),
                 result("B", {"SDS-PLN-02", REV, "SDS-ACC-02"}, [breach("B", "SDS-PLN-02")])]
        ranked = [r.code for r in aggregate(report_of(*cases)).ranked]
        assert ranked == ["SDS-PLN-02", REV, "SDS-ACC-02"]


class TestTrends:
    def test_wilson_interval(self):
        """The 95% Wilson interval of 3 of 10 is about 10.8% to 60.3%; 0 of n starts at 0."""
        low, high = wilson(3, 10)
        assert round(low, 3) == 0.108 and round(high, 3) == 0.603
        assert wilson(0, 20)[0] == 0.0

    def test_too_few_cases_to_say(self):
        """A quarter with fewer decided cases than the stated minimum has no rate and no interval."""
        cases = [result(f"C{i}", {REV}, [breach(f"C{i}")] if i < 3 else []) for i in range(MIN_TREND - 1)]
        (trend,) = aggregate(report_of(*cases)).trends
        (point,) = trend.points
        assert point.decided == MIN_TREND - 1 and point.rate is None and point.low is None
        cases.append(result("Z", {REV}))
        (point,) = aggregate(report_of(*cases)).trends[0].points
        assert point.rate == 3 / MIN_TREND and point.low is not None


# ------------------------------------------------------------------------------------- attribution


class TestAttribution:
    def test_finding_belongs_to_the_team_and_worker_of_the_trigger(self):
        """The tier 3 wait is the access team's (A01 triaged it), though the long-term team holds the case."""
        (f,) = [f for f in replay(moving_case()).findings if f.code == "SDS-ACC-02"]
        assert (f.team, f.worker) == (ACCESS, "A01")
        assert (f.team_due, f.worker_due) == (EAST, "E05")  # who held it when the breach was recorded
        assert f.to_dict()["team"] == ACCESS

    @pytest.mark.parametrize(("team_of", "access", "east"), [("trigger", 1, 0), ("due", 0, 1), ("latest", 0, 1)])
    def test_team_of_chooses(self, team_of, access, east):
        """--team-of trigger charges the wait to the access team; due and latest to the long-term team."""
        teams = {g.value: g for g in aggregate(replay(moving_case()), team_of).groups["team"]}
        got = {t: teams[t].codes and {r.code: r for r in teams[t].codes}.get("SDS-ACC-02") for t in teams}
        assert (got.get(ACCESS).breached if got.get(ACCESS) else 0) == access
        assert (got.get(EAST).breached if got.get(EAST) else 0) == east

    def test_the_page_says_whose_a_finding_is(self, tmp_path):
        """The HTML report states the attribution rule in use."""
        from sdsrules.formats.report.html import render_html
        from sdsrules.workflow import load_workflow

        page = render_html(replay(moving_case()), load_workflow(None))
        assert "A finding, and every duty, belongs to the team and worker of the event that triggered the duty" in page

    @pytest.mark.parametrize(("team_of", "team"), [("trigger", ACCESS), ("due", EAST), ("latest", EAST)])
    def test_a_met_duty_is_attributed_too(self, team_of, team):
        """A tier 3 wait met in time (the access team triaged, the long-term team started the assessment on day
        10) counts as met for the access team by trigger, for the long-term team by due or latest: the
        denominator of each team's rate is its own duties."""
        evs = moving_case("MET-1")
        evs[3] = event_from({**evs[3].to_dict(), "at": "2024-01-20"}, 3)  # assessment started 11 days after triage
        teams = {g.value: {r.code: r for r in g.codes} for g in aggregate(replay(evs), team_of).groups["team"]}
        acc = teams[team]["SDS-ACC-02"]
        assert (acc.applied, acc.met, acc.breached) == (1, 1, 0)
        other = EAST if team == ACCESS else ACCESS
        assert "SDS-ACC-02" not in teams.get(other, {})


class TestStage:
    """A finding's stage is the stage of the case when the duty fell due or was breached, per template."""

    def test_acc02_is_at_tier3(self):
        """response with a deadline: the tier 3 wait fell due while the case was at tier3."""
        (f,) = [f for f in replay(moving_case()).findings if f.code == "SDS-ACC-02"]
        assert f.stage == "tier3"

    def test_precedence_at_the_stage_of_the_trigger(self):
        """precedence: a budget set before outcomes is at the stage the budget was recorded in."""
        evs = events("PRE-1", [
            ("referral_received", {"age": 70}, 0, EAST, "E05"), ("triaged", {"tier": 3}, 1, EAST, "E05"),
            ("assessment_started", {}, 2, EAST, "E05"), ("assessment_completed", {}, 1, EAST, "E05"),
            ("budget_calculated", {"amount": 100}, 1, EAST, "E05")])
        (f,) = [f for f in replay(evs).findings if f.code == "SDS-ASM-01"]
        assert f.stage == "assessed"

    def test_forbid_at_the_stage_of_the_event(self):
        """forbid: a plan without contingency is at the stage it was agreed in."""
        evs = events("FOR-1", [
            ("referral_received", {"age": 70}, 0, EAST, "E05"), ("triaged", {"tier": 3}, 1, EAST, "E05"),
            ("assessment_started", {}, 2, EAST, "E05"), ("assessment_completed", {}, 1, EAST, "E05"),
            ("budget_calculated", {"amount": 100}, 1, EAST, "E05"),
            ("options_offered", {"options": [1, 2, 3, 4], "budget_stated": True}, 1, EAST, "E05"),
            ("support_plan_agreed", {"contingency": False}, 1, EAST, "E05")])
        (f,) = [f for f in replay(evs).findings if f.code == "SDS-PLN-02"]
        assert f.stage == "choosing"

    def test_function_with_a_deadline(self):
        """function (direct payment financial reviews): overdue while the case was supported."""
        evs = events("FUN-1", [
            ("referral_received", {"age": 70}, 0, EAST, "E05"), ("triaged", {"tier": 3}, 1, EAST, "E05"),
            ("assessment_started", {}, 2, EAST, "E05"), ("assessment_completed", {}, 1, EAST, "E05"),
            ("budget_calculated", {"amount": 100}, 1, EAST, "E05"),
            ("options_offered", {"options": [1, 2, 3, 4], "budget_stated": True}, 1, EAST, "E05"),
            ("option_chosen", {"option": 1}, 1, EAST, "E05"),
            ("support_plan_agreed", {"contingency": True}, 1, EAST, "E05"),
            ("support_started", {"option": 1}, 1, EAST, "E05")])
        (f,) = [f for f in replay(evs, as_of=date(2025, 1, 1)).findings if f.code == "SDS-REV-03"]
        assert f.stage == "supported" and f.outstanding and f.due

    def test_stage_is_defined_once(self):
        """Every engine finding's stage comes from ``attribution.stage_of``: the reference engine agrees."""
        ref = api.replay_records(moving_case(), engine="reference")
        dur = replay(moving_case())
        assert [(f.code, f.stage, f.team) for f in ref.findings] == [(f.code, f.stage, f.team) for f in dur.findings]


# ------------------------------------------------------------------------------------------ outputs


class TestOutputs:
    def test_json_report_has_rates_and_open_obligations(self, tmp_path):
        """report --json: summary.rates add up, and open obligations list code, case, due and trigger."""
        log = tmp_path / "log.jsonl"
        log.write_text("\n".join(json.dumps(e.to_dict()) for e in moving_case() + supported_case()) + "\n")
        out = tmp_path / "r.json"
        res = CliRunner().invoke(cli, ["report", str(log), "--json", str(out)])
        assert res.exit_code == 1, res.output
        body = json.loads(out.read_text())
        for r in body["summary"]["rates"]:
            assert r["applied"] == r["met"] + r["breached"] + r["open"] + r["excused"]
        assert body["obligations"], "the case has duties still open at its last event"
        o = body["obligations"][0]
        assert {"code", "case", "due", "trigger"} <= set(o) and o["trigger"]["id"]
        assert body["summary"]["team_of"] == "trigger"

    def test_rates_csv_has_the_open_column(self, tmp_path):
        """rates.csv: applied = met + breached + open on every row."""
        log = tmp_path / "log.jsonl"
        log.write_text("\n".join(json.dumps(e.to_dict()) for e in moving_case()) + "\n")
        res = CliRunner().invoke(cli, ["report", str(log), "--csv", str(tmp_path / "csv")])
        assert res.exit_code == 1, res.output
        with open(tmp_path / "csv" / "rates.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(
            int(r["applied"]) == int(r["met"]) + int(r["breached"]) + int(r["open"]) + int(r["excused"]) for r in rows)

    def test_rejected_records_listed_without_their_value(self, tmp_path):
        """The page lists each rejected record by file and line with a reason that never repeats the value."""
        from sdsrules.formats.report.html import render_html
        from sdsrules.workflow import load_workflow

        log = tmp_path / "log.jsonl"
        log.write_text(json.dumps({"case": "R-1", "at": "2024-01-01", "activity": "triaged",
                                   "tier": "SECRET-VALUE-77"}) + "\n")
        report = api.replay([str(log)])
        page = render_html(report, load_workflow(None))
        assert 'id="rejected"' in page and "<details>" in page
        assert "SECRET-VALUE-77" not in page.split('id="rejected"')[1].split("</section>")[0]
        assert f"{log}" in page


class TestContrast:
    def test_stage_boxes_keep_aa_contrast(self):
        """The pathway's text (ink) on the lightest and the hottest stage box passes WCAG AA (4.5:1)."""
        assert contrast(INK, LIGHT) >= 4.5 and contrast(INK, HOT) >= 4.5

    def test_page_colours_pass_aa(self):
        """The page's muted text, links, banners and severity colour pass AA on their backgrounds."""
        pairs = [("#5a6573", "#ffffff"), ("#5a6573", "#f1f4f7"), ("#5a6573", "#fafbfc"), ("#1f5f9e", "#ffffff"),
                 ("#8a2a20", "#fbe9e7"), ("#1f5135", "#e4f1e8"), ("#b8433a", "#ffffff"), ("#cfd8e3", "#243447"),
                 ("#8a5a00", "#fff4d6"), ("#1d2733", "#eea096")]
        assert all(contrast(a, b) >= 4.5 for a, b in pairs), [(a, b, contrast(a, b)) for a, b in pairs]


class TestExcused:
    def test_excused_duties_are_counted_apart(self):
        """An eligible person not offered the options, with a recorded exception: the duty applied and was
        excused, so applied = met + breached + open + excused, and the words are over the decided cases."""
        evs = events("EXC-1", [
            ("referral_received", {"age": 70}, 0, EAST, "E05"), ("triaged", {"tier": 3}, 1, EAST, "E05"),
            ("assessment_started", {}, 2, EAST, "E05"),
            ("eligibility_determined", {"band": "substantial", "eligible": True}, 1, EAST, "E05"),
            ("eligibility_communicated", {"reasons_given": True}, 1, EAST, "E05"),
            ("options_exception", {"reason": "significant_risk", "written_reasons": True}, 1, EAST, "E05"),
            ("case_closed", {"reason": "declined"}, 1, EAST, "E05")])
        r = aggregate(replay(evs)).rates_by_code["SDS-ELG-02"]
        assert (r.applied, r.met, r.breached, r.open, r.excused) == (1, 0, 0, 0, 1)
        assert r.applied == r.met + r.breached + r.open + r.excused
        assert "1 was excused by a recorded exception" in r.sentence()
        teams = {g.value: {x.code: x for x in g.codes} for g in aggregate(replay(evs)).groups["team"]}
        assert teams[EAST]["SDS-ELG-02"].excused == 1
