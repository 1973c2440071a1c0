"""Collects the YAML test cases that sit beside each rule (``rules/**/SDS-*.test.yaml``) as pytest items.

The cases, their format and the runner live in :mod:`sdsrules.ruletest` (also ``sdsrules rules test``); this
plugin only turns each case into a test item whose failure names the file, the case and the difference.
"""

from __future__ import annotations

import pytest

from sdsrules.ruletest import Runner, load_cases

_RUNNER = Runner()


def pytest_collect_file(parent, file_path):
    if file_path.name.endswith(".test.yaml") and file_path.name.startswith("SDS-"):
        return RuleCaseFile.from_parent(parent, path=file_path)
    return None


class RuleCaseFile(pytest.File):
    def collect(self):
        for case in load_cases(self.path):
            yield RuleCaseItem.from_parent(self, name=case.name, case=case)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, case, **kw):
        super().__init__(**kw)
        self.case = case

    def runtest(self):
        outcome = _RUNNER.run(self.case)
        if not outcome.passed:
            raise RuleCaseError("\n".join(outcome.problems))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, RuleCaseError):
            return f"{self.path}:{self.case.line}: {self.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line, f"{self.case.code}: {self.name}"


class RuleCaseError(AssertionError):
    pass
