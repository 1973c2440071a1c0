"""The breach codes the generator covers and how each is injected (one minimal mutation per code)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

#: Every code of ``shared/spec/breaches.md``.
CODES = (
    "SDS-ACC-01", "SDS-ACC-02", "SDS-ADV-01", "SDS-ADV-02", "SDS-INF-01",
    "SDS-ELG-01", "SDS-ELG-02", "SDS-ELG-03", "SDS-ELG-04", "SDS-ELG-05", "SDS-ASM-01", "SDS-ASM-02",
    "SDS-CAR-01", "SDS-CAR-02", "SDS-CAP-01", "SDS-CAP-02",
    "SDS-BUD-01", "SDS-BUD-02", "SDS-BUD-03", "SDS-BUD-04", "SDS-BUD-05",
    "SDS-OPT-01", "SDS-OPT-02", "SDS-OPT-03", "SDS-PLN-01", "SDS-PLN-02", "SDS-DPY-01",
    "SDS-REV-01", "SDS-REV-02", "SDS-REV-03", "SDS-APL-01", "SDS-APL-02", "SDS-APL-03",
    "SDS-TRN-01", "SDS-TRN-02", "SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-01", "SDS-DAT-02",
)


@attrs.frozen(slots=True)
class Mutation:
    """How one code is injected: the opportunity, the change, and every code the change must produce."""

    code: str
    opportunity: str
    change: str
    consequences: tuple[str, ...]
    dated: str  # which event the finding is dated by


def _m(code: str, opportunity: str, change: str, dated: str, *also: str) -> Mutation:
    return Mutation(code, opportunity, change, (code, *also), dated)


#: The documented consequence set of every mutation (README "Generating logs" repeats this table).
MUTATIONS: Mapping[str, Mutation] = {m.code: m for m in (
    _m("SDS-ACC-01", "tier 1 contact", "the information_given/signposted before closure left out", "case_closed"),
    _m("SDS-ACC-02", "tier 3 triage (not a move-in)", "assessment_started 3-21 days after the tier 3 wait",
       "assessment_started"),
    _m("SDS-ADV-01", "tier 3 case, no mental disorder", "independent_support_offered (and the answer) left out",
       "first options_offered, else case_closed"),
    _m("SDS-ADV-02", "tier 3 eligible case with a mental disorder", "the offer's kind advice, not advocacy",
       "first options_offered"),
    _m("SDS-INF-01", "first options_offered", "information_given false and sds_options dropped from the "
       "information given before it", "options_offered"),
    _m("SDS-ELG-01", "eligibility_determined", "eligibility_communicated left out",
       "next budget, options or closure event"),
    _m("SDS-ELG-02", "eligible case with a budget", "closed (declined) after the budget, options never offered",
       "case_closed"),
    _m("SDS-ELG-03", "ineligible case", "the signposting/information before closure left out", "case_closed"),
    _m("SDS-ELG-04", "critical/substantial personal care (not a move-in)",
       "support_started 3-20 days after the personal-care wait", "support_started"),
    _m("SDS-ELG-05", "eligible critical/substantial case", "band recorded as moderate, eligible still true, "
       "no override_reason (the personal-care wait then no longer applies)", "eligibility_determined"),
    _m("SDS-ASM-01", "tier 3 eligible case", "outcomes_agreed left out", "each budget_calculated"),
    _m("SDS-ASM-02", "tier 3 eligible case", "finance dropped from assets_explored areas",
       "each budget_calculated"),
    _m("SDS-CAR-01", "carer identified (not terminal)", "carer_support_offered 3-20 days after the target",
       "carer_support_offered"),
    _m("SDS-CAR-02", "carer of a person with a terminal illness",
       "carer_support_offered 3-8 working days after identification (still within 28 days)",
       "carer_support_offered"),
    _m("SDS-CAP-01", "capacity concern, has capacity", "capacity_assessed left out", "option_chosen"),
    _m("SDS-CAP-02", "no capacity, proxy chooses", "proxy_recorded left out", "option_chosen"),
    _m("SDS-BUD-01", "budget within the panel threshold above the lowest limit",
       "approved by a role whose delegated limit is below the amount", "budget_approved"),
    _m("SDS-BUD-02", "budget above the panel threshold", "approved by the top of the scheme of delegation "
       "(head_of_service), no panel referral or decision", "budget_approved", "SDS-BUD-01"),
    _m("SDS-BUD-03", "budget reduced", "the reduction's reasons left out", "budget_reduced"),
    _m("SDS-BUD-04", "budget reduced", "decision_communicated 11-14 working days after the reduction",
       "decision_communicated"),
    _m("SDS-BUD-05", "budget approved by a manager", "budget_approved left out and budget_stated false",
       "options_offered"),
    _m("SDS-OPT-01", "options offered (no exception)", "one option not chosen left out of options_offered",
       "support_started"),
    _m("SDS-OPT-02", "support started", "started under another option than the one chosen (never option 1)",
       "support_started"),
    _m("SDS-OPT-03", "material change while supported", "options re-offered 3-20 days after the target",
       "options_offered"),
    _m("SDS-PLN-01", "support started", "support_plan_agreed left out", "support_started"),
    _m("SDS-PLN-02", "support plan agreed", "contingency false", "support_plan_agreed"),
    _m("SDS-DPY-01", "option 1 support started", "dp_means_test_completed 3-40 days after the year",
       "dp_means_test_completed"),
    _m("SDS-REV-01", "support started", "first review 3-30 days after the initial-review interval",
       "review_completed"),
    _m("SDS-REV-02", "each later review", "review 3-200 days after the review interval", "review_completed"),
    _m("SDS-REV-03", "each direct-payment financial review", "3-30 days after it fell due",
       "financial_review_completed"),
    _m("SDS-APL-01", "stage 1 complaint", "response 1-5 working days late (not extended)", "complaint_responded"),
    _m("SDS-APL-02", "stage 2 complaint", "acknowledgement 1-4 working days late", "complaint_acknowledged"),
    _m("SDS-APL-03", "stage 2 complaint", "response 1-8 working days late (not extended)", "complaint_responded"),
    _m("SDS-TRN-01", "young person aged 14-16 with support", "transition_planning_started 3-40 days late",
       "transition_planning_started"),
    _m("SDS-TRN-02", "moved in with support elsewhere", "support_started 3-12 days after the target",
       "support_started"),
    _m("SDS-SEQ-01", "first review", "outcomes_agreed recorded at the review (not allowed while supported)",
       "outcomes_agreed"),
    _m("SDS-SEQ-02", "closed case", "information_given recorded after case_closed", "information_given"),
    _m("SDS-DAT-01", "any case", "an extra unreadable line (bad JSON, bad date, unknown activity, missing tier)",
       "(a rejection: file and line)"),
    _m("SDS-DAT-02", "any case of 2+ events", "two adjacent lines of the case swapped",
       "the earlier event of the pair"),
)}
