"""``validate`` says, for a design that extends another, what it changes of it (issue 19 item 3)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules.validate import validate_file


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


SIX_WEEKS = """\
workflow: quicker
extends: national
title: a six-week first review
parameters:
  initial_review:
    kind: duration
    values:
      2025-04-01: {value: 6 weeks, reference: "local policy (proposed)"}
"""


class TestDesignDiff:
    def test_moray_says_what_it_changes_of_national(self):
        r = run("validate", "moray")
        assert r.exit_code == 0, r.output  # the diff is information, not a problem
        out = r.output
        assert "moray.yaml: extends national 2024.1; it changes 14 things:" in out
        assert "    parameter panel_threshold: from 2019-04-01: £1,200 (was £1,000)" in out
        assert "    state sds_panel is added" in out
        assert ("    transition added: at budgeting, panel_referred moves the case to sds_panel unless panel is "
                "resource_allocation_group") in out
        assert "    transition removed: at budgeting, panel_referred keeps the stage" in out

    def test_a_design_that_extends_nothing_has_no_diff(self):
        r = run("validate", "national", "--format", "json")
        assert r.exit_code == 0
        (d,) = json.loads(r.output)["designs"]
        assert "extends" not in d
        assert "extends" not in run("validate", "national").output

    def test_a_dated_parameter_change_is_said_with_its_date(self, tmp_path):
        f = tmp_path / "quicker.yaml"
        f.write_text(SIX_WEEKS)
        r = run("validate", f)
        assert f"{f}: extends national 2024.1; it changes 1 thing:\n" \
               "    parameter initial_review: from 2025-04-01: 6 weeks (was 12 weeks)\n" in r.output
        doc = json.loads(run("validate", f, "--format", "json").output)
        ext = doc["designs"][0]["extends"]
        assert ext["before"] == "national 2024.1"
        (p,) = ext["parameters"]
        assert (p["name"], p["change"]) == ("initial_review", "changed")
        assert [v["value"] for v in p["after"]] == ["12 weeks", "6 weeks"]
        assert ext["transitions_added"] == [] and ext["transitions_removed"] == []

    def test_a_design_that_changes_nothing_says_so(self, tmp_path):
        f = tmp_path / "same.yaml"
        f.write_text("workflow: same\nextends: national\n")
        r = run("validate", f)
        assert f"{f}: extends national 2024.1 and changes nothing of it." in r.output

    def test_a_local_base_beside_the_design_is_the_one_compared(self, tmp_path):
        (tmp_path / "base.yaml").write_text(SIX_WEEKS.replace("workflow: quicker", "workflow: base"))
        child = tmp_path / "child.yaml"
        child.write_text("workflow: child\nextends: base\nparameters:\n  tier3_wait:\n    kind: duration\n"
                         "    values:\n      2014-04-01: {value: 14 days, reference: local policy}\n")
        res = validate_file(child)
        assert res.extends is not None
        assert res.extends.lines() == ["parameter tier3_wait: 28 days -> 14 days"]

    def test_other_formats_are_unchanged_and_an_unusable_base_gives_no_diff(self, tmp_path):
        for fmt in ("sarif", "junit"):
            assert run("validate", "moray", "--format", fmt).exit_code == 0
        f = tmp_path / "orphan.yaml"
        f.write_text("workflow: orphan\nextends: nowhere\n")
        r = run("validate", f)
        assert r.exit_code == 1 and "changes" not in r.output

    def test_a_long_diff_lists_at_most_the_limit_of_each_kind_and_counts_the_rest(self):
        from sdsrules.compare import design_diff
        from sdsrules.workflow import load_workflow

        diff = design_diff(load_workflow("national"), load_workflow("moray"), limit=1)
        assert len(diff.transitions_added) == 1 and len(diff.states_added) == 1
        assert diff.omitted == 14 - 4  # 14 changes; 1 kept of each of the 4 kinds present
        assert diff.lines()[-1] == "... and 10 more changes not listed (at most 1 of each kind)"
