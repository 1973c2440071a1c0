"""Rates, denominators and breakdowns against a hand-counted fixture (no engine involved)."""

from __future__ import annotations

import pytest

from sdsrules.findings import Evidence, Finding, Summary
from sdsrules.replay import CaseResult, Report
from sdsrules.reporting import aggregate, breakdown, rates, stage_counts
from sdsrules.reporting.aggregate import compliance_word, percent

REV, PLN, OPT = "SDS-REV-01", "SDS-PLN-02", "SDS-OPT-01"


def finding(case: str, code: str, at: str, stage: str = "supported") -> Finding:
    return Finding(code=code, case=case, at=at, message=f"{code} in {case}", stage=stage, title=code.lower(),
                   events=(Evidence(f"{case}-e1", at, "support_started", "trigger"),))


def case(name: str, applicable: set[str], findings: tuple[Finding, ...] = (), **profile) -> CaseResult:
    return CaseResult(name, findings, applicable=frozenset(applicable), profile=tuple(sorted(profile.items())))


def hand_counted() -> Report:
    """Six cases. Hand count:

    REV-01 applies to A, B, C, D, E (5); breached in A (twice), B  -> 2 of 5 breached, 3 met.
    PLN-02 applies to A, C, D, F and to E through its finding (E's `applicable` omits it) -> 5;
           breached in C, D, E -> 3 of 5 breached, 2 met.
    OPT-01 applies to F only; never breached -> 0 of 1.
    Team east: A, B, C (3 cases; A, B, C have findings -> 3 with findings).
    Team west: D, E (2; both with findings). No team: F (1; none).
    Months: 2024-01 -> A (REV twice) and C (PLN); 2024-02 -> B (REV), D (PLN), E (PLN).
    Stages: supported: A REV x2, B REV, C PLN, D PLN (5); choosing: E PLN (1).
    """
    cases = (
        case("A", {REV, PLN}, (finding("A", REV, "2024-01-10"), finding("A", REV, "2024-01-20")), team="east",
             tier=3),
        case("B", {REV}, (finding("B", REV, "2024-02-01"),), team="east", tier=3),
        case("C", {REV, PLN}, (finding("C", PLN, "2024-01-15"),), team="east", tier=2),
        case("D", {REV, PLN}, (finding("D", PLN, "2024-02-03"),), team="west", tier=3),
        case("E", {REV}, (finding("E", PLN, "2024-02-09", stage="choosing"),), team="west", tier=3),
        case("F", {PLN, OPT}, tier=1),
    )
    findings = tuple(sorted((f for c in cases for f in c.findings), key=Finding.sort_key))
    return Report(Summary(cases=6), findings, (), cases=cases)


class TestRates:
    def test_denominators_are_cases_where_the_duty_applied(self):
        """REV-01 2 of 5, PLN-02 3 of 5 (E counted through its finding), OPT-01 0 of 1."""
        got = {r.code: (r.applied, r.breached, r.findings) for r in rates(hand_counted())}
        assert got == {REV: (5, 2, 3), PLN: (5, 3, 3), OPT: (1, 0, 0)}

    def test_words_describe_compliance(self):
        """Met in 3 of 5 (60%) is 'the majority'; 2 of 5 (40%) 'less than half'; 1 of 1 'all'."""
        by = {r.code: r for r in rates(hand_counted())}
        assert by[REV].word == "the majority"
        assert by[PLN].word == "less than half"
        assert by[OPT].word == "all"
        assert by[REV].sentence() == "Met in the majority of the 5 cases where the duty applied (60%, 3 of 5)."
        assert by[OPT].sentence() == "Met in all 1 case where the duty applied."

    def test_titles_from_findings_else_catalogue(self):
        """A finding's title wins; a code with no finding takes the catalogue's."""
        by = {r.code: r.title for r in rates(hand_counted())}
        assert by[REV] == "sds-rev-01"
        assert by[OPT] == "not all four options offered"

    def test_totals(self):
        """5 of 6 cases have findings (F has none); 6 findings (A two, B, C, D, E one each)."""
        agg = aggregate(hand_counted())
        assert (agg.cases, agg.cases_breached, agg.findings) == (6, 5, 6)


class TestBreakdown:
    def test_by_team(self):
        """east 3 cases all with findings; west 2 of 2; unknown (F) 0 of 1, listed last."""
        got = [(g.value, g.cases, g.cases_breached, g.findings) for g in breakdown(hand_counted(), "team")]
        assert got == [("east", 3, 3, 4), ("west", 2, 2, 2), ("unknown", 1, 0, 0)]

    def test_per_code_rates_within_a_group(self):
        """In west, REV-01 applies to D and E and neither breached it; PLN-02 applies to D and E, both breached."""
        west = next(g for g in breakdown(hand_counted(), "team") if g.value == "west")
        assert {r.code: (r.applied, r.breached) for r in west.codes} == {REV: (2, 0), PLN: (2, 2)}

    def test_by_tier_in_numeric_order(self):
        """Tiers 1, 2, 3: F; C; A, B, D, E."""
        got = [(g.value, g.cases, g.cases_breached) for g in breakdown(hand_counted(), "tier")]
        assert got == [("1", 1, 0), ("2", 1, 1), ("3", 4, 4)]

    def test_by_month_counts_findings_without_denominator(self):
        """2024-01: 3 findings in A and C; 2024-02: 3 findings in B, D, E."""
        got = [(g.value, g.cases, g.cases_breached, g.findings) for g in breakdown(hand_counted(), "month")]
        assert got == [("2024-01", None, 2, 3), ("2024-02", None, 3, 3)]

    def test_unknown_dimension_is_refused(self):
        """A dimension outside the list is an error naming the allowed ones."""
        with pytest.raises(ValueError, match="team, tier"):
            breakdown(hand_counted(), "postcode")


def test_stage_counts():
    """5 findings arose at 'supported', 1 at 'choosing'."""
    assert stage_counts(hand_counted()) == {"supported": 5, "choosing": 1}


def test_empty_report():
    """No cases: no rates, no groups, nothing divided by zero."""
    agg = aggregate(Report(Summary(), (), ()))
    assert agg.rates == ()
    assert agg.groups["team"] == ()


@pytest.mark.parametrize(("met", "applied", "word"), [
    (0, 4, "none"), (1, 10, "few"), (14, 100, "few"), (15, 100, "less than half"), (1, 2, "the majority"),
    (75, 100, "most"), (9, 10, "almost all"), (99, 100, "almost all"), (3, 3, "all"), (0, 0, ""),
])
def test_compliance_word(met, applied, word):
    """The Care Inspectorate's bands, with none and all said plainly."""
    assert compliance_word(met, applied) == word


@pytest.mark.parametrize(("part", "whole", "shown"), [(1, 3, "33%"), (2, 3, "66%"), (898, 1000, "89%"),
                                                      (1, 1000, "<1%"), (999, 1000, "99%"),
                                                      (0, 5, "0%"), (2, 0, "n/a")])
def test_percent(part, whole, shown):
    """Rounds down (never into a higher band than its word); never 0% for some nor 100% for part."""
    assert percent(part, whole) == shown
