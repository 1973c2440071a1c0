"""``sdsrules compare`` (issue 19): the same cases under a current and a proposed design, side by side."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules.compare import ProposalError, compare, design_diff, newcombe, propose
from sdsrules.formats.compare import write_csv
from sdsrules.workflow import load_workflow

from .helpers import write_jsonl

SAMPLE = Path(__file__).resolve().parent.parent / "cases" / "sample.jsonl"


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def support_case(case: str, review_day: str | None) -> list[dict]:
    """Support started on 2024-01-01; a first review on ``review_day`` (or none)."""
    evs = [{"id": f"{case}-1", "case": case, "at": "2023-11-01", "activity": "referral_received"},
           {"id": f"{case}-2", "case": case, "at": "2024-01-01", "activity": "support_started", "option": 3}]
    if review_day:
        evs.append({"id": f"{case}-3", "case": case, "at": review_day, "activity": "review_completed",
                    "kind": "initial"})
    return evs


class TestInterval:
    def test_newcombes_own_worked_example(self):
        # Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 against 48/80, method 10
        d, low, high = newcombe(56, 70, 48, 80)
        assert d == pytest.approx(0.2)
        assert low == pytest.approx(0.0524, abs=1e-4)
        assert high == pytest.approx(0.3339, abs=1e-4)

    def test_no_difference_is_centred_on_zero_and_an_empty_side_has_none(self):
        d, low, high = newcombe(5, 50, 5, 50)
        assert d == 0 and low == pytest.approx(-high)
        assert newcombe(1, 0, 1, 10) is None

    def test_the_interval_stays_inside_minus_one_and_one(self):
        d, low, high = newcombe(10, 10, 0, 10)
        assert d == 1 and -1 <= low < 1 and high == 1


class TestIdenticalProposal:
    def test_a_proposal_identical_to_the_current_design_changes_nothing(self):
        wf = load_workflow("national")
        same = propose(wf, ["initial_review=12 weeks"])  # the value it already has
        result = compare([SAMPLE], wf, same)
        assert not result.design
        assert result.changes == ()
        assert not any(d.changed for d in result.duties)
        for d in result.duties:
            if d.current is not None and d.current.decided:
                diff = d.difference
                assert diff is not None and diff[0] == 0 and diff[1] < 0 < diff[2]
        assert result.only_current == () and result.only_proposed == ()

    def test_the_same_design_named_twice_changes_nothing_on_the_command_line(self):
        r = run("compare", SAMPLE, "-w", "national", "-w", "national", "--format", "json")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.output)
        assert doc["changes"] == [] and doc["cases_changed"] == 0
        assert doc["design"]["parameters"] == [] and doc["design"]["transitions_added"] == []
        assert all(d["current"] == d["proposed"] for d in doc["duties"])


@pytest.fixture(scope="module")
def six_weeks():
    wf = load_workflow("national")
    return compare([SAMPLE], wf, propose(wf, ['initial_review="6 weeks"']))


class TestSixWeekReview:
    @pytest.fixture
    def result(self, six_weeks):
        return six_weeks

    def test_only_the_first_review_duty_changes_and_gets_harder(self, result):
        changed = [d for d in result.duties if d.changed]
        assert [d.code for d in changed] == ["SDS-REV-01"]
        (rev,) = changed
        assert rev.current is not None and rev.proposed is not None
        assert rev.proposed.breached > rev.current.breached
        assert rev.current.applied == rev.proposed.applied  # the same cases: the duty applies to the same ones
        d, low, high = rev.difference or (0, 0, 0)
        assert 0 < low < d < high

    def test_every_change_is_an_added_late_first_review_with_its_reason(self, result):
        assert result.changes
        assert {c.change for c in result.changes} == {"added"}
        assert {c.code for c in result.changes} == {"SDS-REV-01"}
        for c in result.changes:
            (reason,) = c.reasons
            assert reason.startswith("initial_review in force on ")
            assert "12 weeks (current" in reason and "6 weeks (proposed" in reason
            assert c.finding.parameters[0]["value"] == "6 weeks"

    def test_for_whom_every_dimension_accounts_for_every_case(self, result):
        assert set(result.groups) == {"team", "tier", "client_group", "option"}
        for dim, rows in result.groups.items():
            assert sum(t for _, _, t in rows) == result.cases, dim
            assert sum(n for _, n, _ in rows) == result.cases_changed, dim
        tiers = {v: n for v, n, _ in result.groups["tier"]}
        assert tiers["3"] == result.cases_changed  # only tier 3 cases reach support and its first review

    def test_the_design_diff_names_the_parameter(self, result):
        assert result.design.lines() == ["parameter initial_review: 12 weeks -> 6 weeks"]

    def test_the_text_shows_both_sides_and_the_difference(self):
        r = run("compare", SAMPLE, "-w", "national", "--set", "initial_review=6 weeks")
        assert r.exit_code == 0, r.output
        assert "current" in r.output and "proposed" in r.output
        rev = next(line for line in r.output.splitlines() if line.startswith("SDS-REV-01"))
        assert "[+" in rev  # the interval is wholly above zero
        assert "because initial_review in force on" in r.output


class TestCasesAndReasons:
    def test_a_case_on_time_under_12_weeks_is_late_under_6(self, tmp_path):
        log = write_jsonl(tmp_path / "c.jsonl", support_case("A", "2024-03-01") + support_case("B", "2024-02-01"))
        wf = load_workflow("national")
        result = compare([log], wf, propose(wf, ["initial_review=6 weeks"]), as_of=date_("2024-06-01"))
        assert [(c.case, c.code, c.change) for c in result.changes] == [("A", "SDS-REV-01", "added")]
        (rev,) = [d for d in result.duties if d.code == "SDS-REV-01"]
        assert rev.current is not None and (rev.current.applied, rev.current.breached) == (2, 0)
        assert rev.proposed is not None and (rev.proposed.applied, rev.proposed.breached) == (2, 1)

    def test_a_dated_setting_judges_each_trigger_by_the_value_of_its_day(self, tmp_path):
        late = support_case("A", "2024-03-01")  # support started 2024-01-01: 8 weeks and 4 days
        later = [{**e, "case": "B", "id": e["id"].replace("A", "B"), "at": e["at"].replace("2024-01-01", "2024-05-01")
                  .replace("2024-03-01", "2024-06-30")} for e in late]
        log = write_jsonl(tmp_path / "c.jsonl", late + later)
        wf = load_workflow("national")
        proposal = propose(wf, ["initial_review@2024-04-01=6 weeks"])
        assert [str(v.value) for v in proposal.parameters["initial_review"].values] == ["12 weeks", "6 weeks"]
        result = compare([log], wf, proposal, as_of=date_("2024-12-31"))
        assert [(c.case, c.change) for c in result.changes] == [("B", "added")]
        assert "since 2024-04-01" in result.changes[0].reasons[0]

    def test_a_transition_the_proposal_drops_gives_sequence_findings_with_the_reason(self, tmp_path):
        wf = load_workflow("national")
        dropped = attrs.evolve(wf, version="no early exceptions", transitions=tuple(
            t for t in wf.transitions if not (t.trigger == "options_exception" and t.source == "assessed")))
        recs = [{"id": "1", "case": "X", "at": "2024-01-01", "activity": "referral_received"},
                {"id": "2", "case": "X", "at": "2024-01-02", "activity": "triaged", "tier": 3},
                {"id": "3", "case": "X", "at": "2024-01-03", "activity": "assessment_started"},
                {"id": "4", "case": "X", "at": "2024-01-04", "activity": "assessment_completed"},
                {"id": "5", "case": "X", "at": "2024-01-05", "activity": "options_exception", "reason": "short_term"}]
        result = compare([write_jsonl(tmp_path / "x.jsonl", recs)], wf, dropped)
        seq = [c for c in result.changes if c.code == "SDS-SEQ-01"]
        assert [(c.case, c.change) for c in seq] == [("X", "added")]
        assert seq[0].reasons == ("the current design allows it (at assessed, options_exception keeps the stage)",
                                  "the proposed design does not allow options_exception at assessed")
        assert result.design.transitions_removed == ("at assessed, options_exception keeps the stage",)

    def test_duties_only_one_rule_pack_checks_are_said(self, tmp_path):
        pack = tmp_path / "pack"
        pack.mkdir()
        src = Path(__file__).resolve().parent.parent / "rules" / "review" / "SDS-REV-01.yaml"
        (pack / "SDS-REV-01.yaml").write_text(src.read_text())
        log = write_jsonl(tmp_path / "c.jsonl", support_case("A", "2024-05-01"))
        wf = load_workflow("national")
        result = compare([log], wf, wf, proposed_rules=[pack], as_of=date_("2024-06-01"))
        only = {d.code for d in result.only_current}
        assert "SDS-REV-02" in only and "SDS-REV-01" not in only
        assert result.only_proposed == ()
        removed = [c for c in result.changes if c.change == "removed"]
        assert all(c.reasons == (f"only the current rule pack checks {c.code}",) for c in removed)


class TestFormats:
    def test_csv_cells_are_spreadsheet_safe(self, tmp_path):
        log = write_jsonl(tmp_path / "c.jsonl", support_case("=HYPERLINK(1)", "2024-03-01"))
        wf = load_workflow("national")
        result = compare([log], wf, propose(wf, ["initial_review=6 weeks"]), as_of=date_("2024-06-01"))
        out = io.StringIO()
        write_csv(result, out)
        rows = list(csv.reader(io.StringIO(out.getvalue())))
        case_rows = [r for r in rows if r[0] == "case"]
        assert case_rows and all(r[19] == "'=HYPERLINK(1)" for r in case_rows)
        for cell in (c for r in rows for c in r if c):
            try:
                float(cell)  # a number stays a number (a negative difference is no formula)
            except ValueError:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    def test_csv_has_a_row_per_duty_and_per_change(self):
        r = run("compare", SAMPLE, "-w", "national", "--set", "initial_review=6 weeks", "--format", "csv")
        assert r.exit_code == 0
        rows = list(csv.DictReader(io.StringIO(r.output)))
        kinds = {k: sum(x["kind"] == k for x in rows) for k in ("duty", "case", "design")}
        assert kinds["duty"] >= 30 and kinds["case"] > 0 and kinds["design"] == 1
        rev = next(x for x in rows if x["kind"] == "duty" and x["code"] == "SDS-REV-01")
        assert float(rev["difference_low"]) > 0

    def test_html_has_the_current_vs_proposed_column_pair_and_escapes_case_data(self, tmp_path):
        log = write_jsonl(tmp_path / "c.jsonl", support_case("<b>x</b>", "2024-03-01"))
        out = tmp_path / "cmp.html"
        r = run("compare", log, "-w", "national", "--set", "initial_review=6 weeks", "--format", "html",
                "-o", out, "--as-of", "2024-06-01")
        assert r.exit_code == 0, r.output
        page = out.read_text()
        assert '<th class="side" colspan="5">current</th><th class="side" colspan="5">proposed</th>' in page
        assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
        assert "initial_review: 12 weeks -&gt; 6 weeks" in page
        assert "http" not in page.split("<body>")[1]  # nothing fetched


class TestErrors:
    @pytest.mark.parametrize(("setting", "said"), [
        ("nope=6 weeks", "has no parameter 'nope'"),
        ("initial_review=soon", "--set initial_review:"),
        ("initial_review", "must be NAME=VALUE"),
        ("initial_review@2024-13-01=6 weeks", "YYYY-MM-DD"),
        ("panel_threshold=lots", "--set panel_threshold: must be a number"),
    ])
    def test_a_bad_setting_is_one_line_and_exit_2(self, setting, said):
        r = CliRunner().invoke(cli, ["compare", str(SAMPLE), "-w", "national", "--set", setting])
        assert r.exit_code == 2, r.output
        assert said in r.output
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1

    def test_no_proposal_is_a_usage_error(self):
        r = CliRunner().invoke(cli, ["compare", str(SAMPLE), "-w", "national"])
        assert r.exit_code == 2 and "give the proposal" in r.output

    def test_a_missing_log_is_exit_2(self, tmp_path):
        r = CliRunner().invoke(cli, ["compare", str(tmp_path / "none.jsonl"), "-w", "national", "-w", "moray"])
        assert r.exit_code == 2 and "Traceback" not in r.output

    def test_propose_refuses_in_the_api_too(self):
        with pytest.raises(ProposalError):
            propose(load_workflow("national"), ["initial_review=-3 weeks"])


class TestDesignDiff:
    def test_moray_against_national(self):
        diff = design_diff(load_workflow("national"), load_workflow("moray"))
        names = {p.name for p in diff.parameters}
        assert names == {"delegated_limits", "panel_threshold"}
        assert set(diff.states_added) == {"resource_allocation_group", "sds_panel"}
        assert "at budgeting, panel_referred moves the case to sds_panel unless panel is resource_allocation_group" \
            in diff.transitions_added
        assert diff.transitions_removed == ("at budgeting, panel_decided or panel_referred keeps the stage",) or \
            set(diff.transitions_removed) == {"at budgeting, panel_decided keeps the stage",
                                              "at budgeting, panel_referred keeps the stage"}
        assert not design_diff(load_workflow("moray"), load_workflow("moray"))


def date_(text: str):
    from datetime import date

    return date.fromisoformat(text)
