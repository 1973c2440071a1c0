"""In-process cost per event of each rule engine on one log (issue 16): reading excluded.

    python benchmarks/engine_cost.py LOG.jsonl [--engines compiled,reference,durable] [--repeat 3]
    sdsrules generate --cases 16000 --seed 1 -o /tmp/g.jsonl   # about 200k events

Reads and groups the log once, then times (CPU time, best of ``--repeat``) ordering and stepping every case
through the workflow, and each engine judging every case (words of findings and obligations included), as
the worker does: garbage collection frozen after loading. Prints µs/event and each engine's ratio to the
reference, measured in the same run, and checks the engines gave identical results.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from sdsrules.engine import load_rulebook, make_checker
from sdsrules.events import Event
from sdsrules.readers import read_all
from sdsrules.replay import order_case, step_case
from sdsrules.workflow import load_workflow


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--engines", default="compiled,reference,durable")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64, help="cases per many() call (durable: one batch of facts)")
    args = ap.parse_args()
    wf = load_workflow(None)
    book = load_rulebook(None, wf)
    cases: dict[str, list[Event]] = {}
    for r in read_all([args.log]):
        if isinstance(r, Event):
            cases.setdefault(r.case, []).append(r)
    n = sum(map(len, cases.values()))
    as_of = max(e.day for evs in cases.values() for e in evs)
    gc.collect()
    gc.freeze()

    def timed(fn) -> tuple[float, Any]:
        best, out = float("inf"), None
        for _ in range(args.repeat):
            t = time.process_time()
            out = fn()
            best = min(best, time.process_time() - t)
        return best / n * 1e6, out

    def step_all():
        return [step_case(order_case(evs)[0], wf)[0] for evs in cases.values()]

    us, prepared = timed(step_all)
    steps: list = prepared
    print(f"{n} events, {len(cases)} cases, {len(book.rules)} rules; order+step {us:.2f} us/event")
    results: dict[str, list] = {}
    cost: dict[str, float] = {}
    for name in args.engines.split(","):
        checker = make_checker(name, wf, book)
        many = getattr(checker, "many", None)

        def judge(checker=checker, many=many):
            if many is None:
                return [checker(s, as_of) for s in steps]
            out = []
            for k in range(0, len(steps), args.batch):
                out.extend(many([(s, as_of) for s in steps[k:k + args.batch]]))
            return out

        judge()  # warm: compiled rules, parameter and holiday caches, durable's ruleset
        cost[name], results[name] = timed(judge)
    ref = cost.get("reference")
    for name, us in cost.items():
        ratio = f"  ({ref / us:.2f}x the reference's speed)" if ref else ""
        print(f"judge {name:9} {us:6.2f} us/event{ratio}")
    names = list(results)
    for name in names[1:]:
        same = results[name] == results[names[0]]
        print(f"{name} identical to {names[0]}: {same}")


if __name__ == "__main__":
    main()
