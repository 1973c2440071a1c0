"""Benchmark: aggregate and render the HTML report of a synthetic 100,000-case run.

    python benchmarks/report_bench.py [CASES]

Builds CaseResult/Finding objects directly (no engine): a realistic mix of teams, tiers, client groups and
options, about 20 duties applying per case and 1.3 findings per case with two evidence events each. Prints
the seconds for aggregation and for rendering, the HTML size in MB, and the detail level the size budget
allowed. Not part of the test suite.
"""

from __future__ import annotations

import random
import sys
import time

from sdsrules.findings import Evidence, Finding, Summary
from sdsrules.formats.report.html import render_html
from sdsrules.replay import CaseResult, Report
from sdsrules.reporting import aggregate
from sdsrules.reporting.catalogue import TITLES
from sdsrules.workflow import load_workflow

TEAMS = ("access", "east_long_term", "west_long_term", "learning_disability", "mental_health", "children")
GROUPS = ("older_people", "learning_disability", "physical_disability", "mental_health", "children_families", "carer")
STAGES = ("referred", "tier1", "tier3", "assessing", "assessed", "budgeting", "choosing", "supported", "closed")
CODES = tuple(c for c in TITLES if c != "SDS-DAT-01")


def build(n: int, seed: int = 7) -> Report:
    rnd = random.Random(seed)
    cases = []
    for i in range(n):
        name = f"C-{i:06d}"
        applicable = frozenset(rnd.sample(CODES, 20))
        findings = []
        for _ in range(rnd.choice((0, 0, 0, 1, 1, 2, 2, 3, 4))):
            code = rnd.choice(sorted(applicable))
            day = f"202{rnd.randint(3, 4)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            findings.append(Finding(
                code=code, case=name, at=day, title=TITLES[code], stage=rnd.choice(STAGES),
                message=(f"The review due by {day} (12 weeks after support started on 2023-05-02) was not "
                         f"recorded by the as-of date; the case was still open."),
                expected="a review_completed by " + day, actual="none by 2024-12-31",
                events=(Evidence(f"{name}-e{rnd.randint(1, 30)}", day + "T10:15", "support_started", "trigger"),
                        Evidence(f"{name}-e{rnd.randint(31, 60)}", day, "review_completed", "late")),
                source=("local policy",), severity=rnd.choice(("high", "medium", "low"))))
        findings.sort(key=Finding.sort_key)
        profile = (("client_group", rnd.choice(GROUPS)), ("option", rnd.randint(1, 4)),
                   ("team", rnd.choice(TEAMS)), ("tier", rnd.choice((1, 2, 3, 3))))
        cases.append(CaseResult(name, tuple(findings), applicable=applicable, profile=profile))
    all_findings = tuple(f for c in cases for f in c.findings)
    return Report(Summary(cases=n, as_of="2024-12-31", workflow="national 2024.1", engine="durable"),
                  all_findings, (), cases=tuple(cases))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    report = build(n)
    wf = load_workflow()
    t0 = time.perf_counter()
    agg = aggregate(report)
    t1 = time.perf_counter()
    page = render_html(report, wf, agg=agg)
    t2 = time.perf_counter()
    size = len(page.encode("utf-8")) / (1024 * 1024)
    import re
    level = re.search(r'"level":(\d+)', page)
    print(f"{n:,} cases, {len(report.findings):,} findings")
    print(f"aggregate {t1 - t0:.2f} s, render {t2 - t1:.2f} s, total {t2 - t0:.2f} s")
    print(f"HTML {size:.1f} MB, detail level {level.group(1) if level else '?'}")


if __name__ == "__main__":
    main()
