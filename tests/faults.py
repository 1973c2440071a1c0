"""Test-only fault injection for the supervision tests: a worker that checks one of the named cases aborts (as
durable-rules' C engine can). Nothing of this is in the product.

* In this process (forked workers inherit it): ``monkeypatch.setattr(pipeline, "_check", faulty({"C007"}))``.
* In another process (a CLI run, a Dask worker): set ``ENV`` to the comma-separated case ids and import this
  module first (``python -c "import tests.faults; ..."``, or ``preload=["tests.faults"]`` for Dask workers).
"""

from __future__ import annotations

import faulthandler
import os

from sdsrules import pipeline

ENV = "SDSRULES_TEST_FAULT_CASES"


def faulty(cases: set[str], real=None):
    real = real or pipeline._check

    def check(groups, as_of, whole=True, read_as_of=None):
        if any(case in cases for case, _ in groups):
            faulthandler.disable()  # the abort is deliberate: no stack dump in the test output
            os.abort()
        return real(groups, as_of, whole, read_as_of)

    return check


def install_from_env() -> None:
    cases = set(filter(None, os.environ.get(ENV, "").split(",")))
    if cases and not getattr(pipeline._check, "faulty", False):
        pipeline._check = faulty(cases)
        pipeline._check.faulty = True  # type: ignore[attr-defined]


install_from_env()
