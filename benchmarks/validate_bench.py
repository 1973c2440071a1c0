"""How long ``sdsrules validate`` takes on a large design: a generated pathway of N states (default 300).

    python benchmarks/validate_bench.py [--states 300] [--repeat 5]

The design is the national shape with a long assessment stage in the middle: a chain of assessment states,
each with a step forward, a step that skips one ahead, self-loops and the national anywhere list, so every
check (including the product-graph path searches) runs over the whole graph. It validates clean. Prints the
load-and-check time of one file (best and median of the repeats), as the issue's benchmark figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sdsrules.validate import validate_file

ANYWHERE = ("information_given, signposted, independent_support_offered, independent_support_declined, "
            "independent_support_referred, carer_identified, carer_support_offered, carer_support_accepted, "
            "carer_support_declined, carer_conversation_held, carer_support_plan_completed, complaint_received, "
            "complaint_acknowledged, complaint_responded, transition_planning_started, "
            "transferred_to_adult_services, moved_out, moved_in, material_change_recorded, "
            "short_term_support_started, short_term_support_ended, dp_means_test_completed")


def generate(states: int = 300) -> str:
    """A design of exactly ``states`` states that validates clean (extends national for its parameters)."""
    fixed = ["start", "referred", "tier1", "tier3", "budgeting", "choosing", "supported", "closed"]
    n = max(states - len(fixed), 2)
    steps = [f"assessing_{i:03d}" for i in range(n)]
    lines = ["workflow: generated", "extends: national", f"title: Generated design of {len(fixed) + n} states",
             "initial: start", "states:"]
    for s in fixed[:4] + steps + fixed[4:]:
        closed = ", closed: true" if s == "closed" else ""
        lines.append(f"  - {{name: {s}{closed}}}")
    t = [
        "{trigger: referral_received, source: [start, closed], dest: referred}",
        "{trigger: triaged, source: referred, dest: tier1, conditions: {tier: 1}}",
        "{trigger: triaged, source: [referred, tier1], dest: tier3, conditions: {tier: 3}}",
        f"{{trigger: assessment_started, source: tier3, dest: {steps[0]}}}",
    ]
    t.append(f"{{trigger: [eligibility_determined, eligibility_communicated, capacity_assessed], "
             f"source: [{', '.join(steps)}], dest: '='}}")
    for i, s in enumerate(steps):
        nxt = steps[i + 1] if i + 1 < n else "budgeting"
        skip = steps[i + 2] if i + 2 < n else "budgeting"
        t.append(f"{{trigger: outcomes_agreed, source: {s}, dest: {nxt}}}")
        t.append(f"{{trigger: assets_explored, source: {s}, dest: {skip}}}")
    t += [
        "{trigger: [budget_calculated, budget_approved, budget_refused, budget_reduced, panel_referred, "
        "panel_decided, decision_communicated], source: budgeting, dest: '='}",
        "{trigger: options_offered, source: budgeting, dest: choosing}",
        "{trigger: [options_offered, option_chosen, support_plan_agreed], source: choosing, dest: '='}",
        "{trigger: support_started, source: choosing, dest: supported}",
        "{trigger: [review_completed, budget_refused, decision_communicated, options_offered], "
        "source: supported, dest: '='}",
        f"{{trigger: support_ended, source: supported, dest: {steps[-1]}}}",
        "{trigger: case_closed, source: '*', dest: closed}",
    ]
    lines.append("transitions:")
    lines += [f"  - {x}" for x in t]
    lines.append(f"anywhere: [{ANYWHERE}]")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.yaml"
        path.write_text(generate(args.states), encoding="utf-8")
        first = validate_file(path)  # the first run also loads the shipped rule packs once
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = validate_file(path)
            times.append(time.perf_counter() - started)
    print(f"design: {result.states} states, {result.transitions} transitions, "
          f"{len(result.problems)} problem(s)")
    print(f"first run (loads the rule packs): {first.seconds:.3f} s")
    print(f"validate one design: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
          f"over {args.repeat} runs")


if __name__ == "__main__":
    main()
