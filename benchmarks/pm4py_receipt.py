"""PM4Py's answers on the receipt log, trace by trace, for every Declare-expressible rule of cases/receipt/rules,
written to tests/data/pm4py_receipt.json for tests/test_pm4py_receipt.py to compare sdsrules' answers with.

PM4Py is AGPL and heavy: it is NOT a dependency of sdsrules. Run this script with a Python that has it
(``pip install pm4py`` into a scratch venv), only when the rules or the log change:

    python benchmarks/pm4py_receipt.py [../shared/data/receipt.xes] [-o tests/data/pm4py_receipt.json]

How each rule is put to PM4Py (``pm4py.conformance_declare`` with a one-constraint model, and the LTL checker
``eventually_follows`` with ``timestamp_diff_boundaries`` for the time bounds):

- RCPT-ORD-01..04 (precedence: B only after A): Declare ``precedence(A, B)``.
- RCPT-AFT-01 (forbid T06 after T10): Declare ``nonsuccession(T10, T06)``.
- RCPT-CNF-01 (T05 within 14 days of the receipt): Declare ``response(receipt, T05)``, and the LTL checker's
  ``eventually_follows([receipt, T05])`` within 14 x 24 hours (its dataframe variant: the EventLog variant of
  pm4py 2.7 measures the bound between the trace's first two events instead of the pair it matched).
- RCPT-DEC-01 (T10 within 8 weeks, 14 weeks once T08 or T16 extended it): ``eventually_follows`` within
  8 x 7 x 24 hours, or within 14 x 7 x 24 hours in a trace where Declare ``existence`` holds for T08 or T16.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECEIPT = "Confirmation of receipt"
DAY = 86_400


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", nargs="?", default=str(ROOT.parent.parent / "shared" / "data" / "receipt.xes"))
    ap.add_argument("-o", "--output", default=str(ROOT / "tests" / "data" / "pm4py_receipt.json"))
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import pm4py
    from pm4py.algo.filtering.pandas.ltl import ltl_checker

    log = pm4py.read_xes(args.log, return_legacy_log_object=True)
    frame = pm4py.convert_to_dataframe(log)
    cases = [t.attributes["concept:name"] for t in log]

    def declare(template: str, a: str, b: str | None = None) -> list[str]:
        key = (a, b) if b is not None else a
        res = pm4py.conformance_declare(log, {template: {key: {"support": 1.0, "confidence": 1.0}}})
        return sorted(c for c, r in zip(cases, res, strict=True) if not r["is_fit"])

    def within(a: str, b: str, seconds: int) -> set[str]:
        """Traces where ``b`` eventually follows ``a`` at most ``seconds`` later (PM4Py's LTL checker)."""
        # the dataframe variant: the EventLog variant of eventually_follows (pm4py 2.7) ignores the bounds unless
        # ENABLE_TIMESTAMP is given, and then measures them between the trace's first two events, not the pair
        p = ltl_checker.Parameters
        kept = ltl_checker.eventually_follows(frame, [a, b], parameters={
            p.POSITIVE: True, p.ENABLE_TIMESTAMP: True, p.TIMESTAMP_DIFF_BOUNDARIES: [(0, seconds)]})
        return set(kept["case:concept:name"].unique())

    rules: dict[str, dict] = {}
    for code, a, b in (("RCPT-ORD-01", "T04 Determine confirmation of receipt",
                        "T05 Print and send confirmation of receipt"),
                       ("RCPT-ORD-02", "T02 Check confirmation of receipt", "T04 Determine confirmation of receipt"),
                       ("RCPT-ORD-03", "T14 Determine document X request unlicensed",
                        "T15 Print document X request unlicensed"),
                       ("RCPT-ORD-04", "T19 Determine report Y to stop indication",
                        "T20 Print report Y to stop indication")):
        rules[code] = {"pm4py": f"declare precedence({a!r}, {b!r})", "timed": False,
                       "violating": declare("precedence", a, b)}
    rules["RCPT-AFT-01"] = {"pm4py": "declare nonsuccession('T10 ...', 'T06 ...')", "timed": False,
                            "violating": declare("nonsuccession", "T10 Determine necessity to stop indication",
                                                 "T06 Determine necessity of stop advice")}
    t05 = "T05 Print and send confirmation of receipt"
    in_time = within(RECEIPT, t05, 14 * DAY)
    rules["RCPT-CNF-01"] = {"pm4py": "declare response(receipt, T05); ltl eventually_follows within 14 x 24 h",
                            "timed": True, "untimed_violating": declare("response", RECEIPT, t05),
                            "violating": sorted(set(cases) - in_time)}
    t10 = "T10 Determine necessity to stop indication"
    in_8w, in_14w = within(RECEIPT, t10, 8 * 7 * DAY), within(RECEIPT, t10, 14 * 7 * DAY)
    extended = (set(cases) - set(declare("existence", "T08 Draft and send request for advice"))) | \
        (set(cases) - set(declare("existence", "T16 Report reasons to hold request")))
    rules["RCPT-DEC-01"] = {"pm4py": "ltl eventually_follows(receipt, T10) within 8 x 7 x 24 h, or within "
                                     "14 x 7 x 24 h where declare existence(T08) or existence(T16) holds",
                            "timed": True, "untimed_violating": declare("response", RECEIPT, t10),
                            "violating": sorted(c for c in cases
                                                if c not in in_8w and not (c in extended and c in in_14w))}
    out = {"log": Path(args.log).name, "traces": len(cases), "pm4py": pm4py.__version__, "rules": rules}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for code, r in sorted(rules.items()):
        print(f"{code}: {len(r['violating'])} of {len(cases)} traces violate ({r['pm4py']})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
