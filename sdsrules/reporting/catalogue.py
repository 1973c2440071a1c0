"""The breach catalogue's short titles (``shared/spec/breaches.md``), for codes a run found no finding of.

A finding's own title wins where there is one; this only names the duties that applied and were all met.
"""

from __future__ import annotations

TITLES: dict[str, str] = {
    "SDS-ACC-01": "tier 1 contact closed with no information or signposting recorded",
    "SDS-ACC-02": "waited too long for a tier 3 assessment",
    "SDS-ADV-01": "no offer of independent support or advocacy",
    "SDS-ADV-02": "advocacy not offered to a person with a mental disorder",
    "SDS-INF-01": "options offered without the written information",
    "SDS-ELG-01": "eligibility decision not explained",
    "SDS-ELG-02": "eligible person never offered the options",
    "SDS-ELG-03": "ineligible person closed without signposting",
    "SDS-ELG-04": "waiting time for personal care exceeded",
    "SDS-ELG-05": "eligibility decision at odds with the local criteria",
    "SDS-ASM-01": "budget set before personal outcomes",
    "SDS-ASM-02": "budget set before strengths and supports were explored",
    "SDS-CAR-01": "unpaid carer not offered a carer support plan",
    "SDS-CAR-02": "terminal-illness carer timescales missed",
    "SDS-CAP-01": "options chosen with capacity in doubt and unresolved",
    "SDS-CAP-02": "choice made for an adult without capacity by nobody with powers",
    "SDS-BUD-01": "approved above the approver's delegated limit",
    "SDS-BUD-02": "above the panel threshold without a panel",
    "SDS-BUD-03": "funding refused or reduced without recorded reasons",
    "SDS-BUD-04": "person not told how to challenge a refusal",
    "SDS-BUD-05": "options put before the budget was known",
    "SDS-OPT-01": "not all four options offered",
    "SDS-OPT-02": "support arranged under an option nobody chose",
    "SDS-OPT-03": "material change without options re-offered",
    "SDS-PLN-01": "support started with no agreed support plan",
    "SDS-PLN-02": "support plan without contingency arrangements",
    "SDS-DPY-01": "direct payment means test late",
    "SDS-REV-01": "first review late",
    "SDS-REV-02": "later review overdue",
    "SDS-REV-03": "direct payment financial review overdue",
    "SDS-APL-01": "stage 1 complaint answered late",
    "SDS-APL-02": "stage 2 complaint acknowledged late",
    "SDS-APL-03": "stage 2 complaint answered late",
    "SDS-TRN-01": "no transition planning for a young person",
    "SDS-TRN-02": "support lapsed on a move between authorities",
    "SDS-SEQ-01": "a step the workflow does not allow here",
    "SDS-SEQ-02": "activity recorded after the case was closed",
    "SDS-DAT-01": "unusable record",
    "SDS-DAT-02": "records out of time order",
}
