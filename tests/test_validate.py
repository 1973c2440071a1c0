"""Design checks (``sdsrules validate``) and diagrams (``sdsrules diagram``).

``tests/data/sarif-schema-2.1.0.json`` is the SARIF 2.1.0 JSON schema (2.1.0-rtm.5, the text of the OASIS
standard) as shipped in the npm package @microsoft/jest-sarif 1.0.0-beta.0 (MIT), file
``lib/schemas/sarif-2.1.0-rtm.5.json``, vendored unchanged.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import types
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import attrs
import jsonschema
import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules import validate as v
from sdsrules.datafile import DataFileError, Problem
from sdsrules.formats.designs import to_junit, to_sarif
from sdsrules.formats.diagram import diagram, svg_available
from sdsrules.validate import exit_code, validate, validate_file, validate_files
from sdsrules.workflow import ParamValue, bundled_dir, load_workflow

HERE = Path(__file__).parent
DESIGNS = sorted((HERE / "designs").glob("*.yaml"))
SARIF_SCHEMA = json.loads((HERE / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
PATH_CODES = {"WF-TRAP-01", "WF-DET-01", "WF-SWS1-01", "WF-SWS1-02", "WF-SWS5-01", "WF-SWS4-01", "WF-SWS10-01"}


def expected(design: Path) -> str:
    return re.search(r"^# expect: (\S+)$", design.read_text(encoding="utf-8"), re.M).group(1)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def bench():
    spec = importlib.util.spec_from_file_location("validate_bench", HERE.parent / "benchmarks" / "validate_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestShippedDesigns:
    @pytest.mark.parametrize("name", ["national", "moray"])
    def test_validates_clean(self, name):
        """Each shipped design passes every check, including the parameters the shipped rule packs use."""
        result = validate_file(name)
        assert result.problems == ()
        assert result.clean
        assert exit_code([result]) == 0

    def test_every_shipped_design_is_checked(self):
        """The Moray-style design ships beside the national baseline."""
        assert {"national", "moray"} <= {p.stem for p in bundled_dir().glob("*.yaml")}

    def test_moray_has_its_local_structure(self):
        """The Moray design has tier 2, a resource allocation group, an SDS panel and three delegated levels."""
        wf = load_workflow("moray")
        assert {"tier2", "resource_allocation_group", "sds_panel"} <= set(wf.state_names)
        limits = wf.parameters["delegated_limits"].values[-1].value
        assert set(limits) == {"team_manager", "service_manager", "head_of_service"}


class TestFlawedDesigns:
    @pytest.mark.parametrize("design", DESIGNS, ids=[d.stem for d in DESIGNS])
    def test_yields_exactly_its_flaw(self, design):
        """Each flawed design yields one problem, with the code its header names, file and line."""
        result = validate_file(design)
        assert [p.code for p in result.problems] == [expected(design)], "\n".join(map(str, result.problems))
        p = result.problems[0]
        assert p.line, str(p)
        assert p.message[0].isupper() and p.message.endswith((".", ")")), p.message
        assert exit_code([result]) == 1

    @pytest.mark.parametrize("design", [d for d in DESIGNS if expected(d) in PATH_CODES],
                             ids=lambda d: d.stem)
    def test_path_problems_carry_a_counterexample(self, design):
        """A path check's problem carries a path that starts at the initial state and follows itself."""
        p = validate_file(design).problems[0]
        assert p.path
        assert p.path[0].source == "start"
        for a, b in zip(p.path, p.path[1:], strict=False):
            assert a.dest == b.source
        assert p.trail().startswith("start -referral_received-> referred")

    def test_options_counterexample_is_the_shortest_path(self):
        """The options check shows the shortest route to support that skips the options."""
        p = validate_file(HERE / "designs" / "options_skipped.yaml").problems[0]
        assert p.trail() == ("start -referral_received-> referred -triaged[tier is 3]-> tier3 "
                             "-assessment_started-> assessing -assessment_completed-> assessed "
                             "-budget_calculated-> budgeting -support_started-> supported")
        assert "support_started is reachable without options_offered" in p.message

    def test_challenge_problem_names_the_missing_step(self):
        """The challenge check says which step cannot be recorded and points at the anywhere list."""
        p = validate_file(HERE / "designs" / "no_challenge.yaml").problems[0]
        assert "complaint_received" in p.message
        assert p.key == "anywhere"
        assert p.path[-1].dest == "closed"

    def test_ladder_problem_gives_an_amount_nobody_may_approve(self):
        """The gap check names a concrete weekly amount inside the gap."""
        p = validate_file(HERE / "designs" / "ladder_gap.yaml").problems[0]
        assert "£801 a week" in p.message
        assert p.key == "parameters.delegated_limits.values.2014-04-01"


class TestConditions:
    def design(self, tmp_path, extra: str) -> Path:
        nat = (bundled_dir() / "national.yaml").read_text(encoding="utf-8")
        trans = nat[nat.index("transitions:\n"):nat.index("\nanywhere:") + 1]
        trans = trans.replace("  - {trigger: assessment_started, source: tier3, dest: assessing}\n",
                              "  - {trigger: assessment_started, source: tier3, dest: assessing}\n" + extra)
        return write(tmp_path, "d.yaml", "workflow: d\nextends: national\n" + trans)

    def test_different_values_of_one_field_tell_transitions_apart(self, tmp_path):
        """Two transitions on one activity with different tiers are not nondeterministic."""
        d = self.design(tmp_path, "  - {trigger: triaged, source: tier3, dest: tier1, conditions: {tier: 1}}\n"
                                  "  - {trigger: triaged, source: tier3, dest: tier2, conditions: {tier: 2}}\n")
        assert validate_file(d, {}).problems == ()

    def test_identical_conditions_do_not(self, tmp_path):
        """Two transitions with the same conditions to different places are nondeterministic."""
        d = self.design(tmp_path, "  - {trigger: triaged, source: tier3, dest: tier1, conditions: {tier: 1}}\n"
                                  "  - {trigger: triaged, source: tier3, dest: tier2, conditions: {tier: 1}}\n")
        assert [p.code for p in validate_file(d, {}).problems] == ["WF-DET-01"]

    def test_condition_against_unless_tells_apart(self, tmp_path):
        """A transition's 'unless' equal to the other's condition separates them."""
        d = self.design(tmp_path, "  - {trigger: triaged, source: tier3, dest: tier1, conditions: {tier: 1}}\n"
                                  "  - {trigger: triaged, source: tier3, dest: tier2, unless: {tier: 1}}\n")
        assert validate_file(d, {}).problems == ()

    def test_unconditional_duplicate_never_fires(self, tmp_path):
        """A later transition to the same place that an unconditional one always takes first never fires."""
        d = self.design(tmp_path, "  - {trigger: assessment_started, source: tier3, dest: assessing}\n")
        assert [p.code for p in validate_file(d, {}).problems] == ["WF-FIRE-01"]

    def test_unless_that_always_holds_never_fires(self, tmp_path):
        """A transition whose 'unless' is one of its own conditions never fires."""
        d = self.design(tmp_path, "  - {trigger: triaged, source: tier3, dest: tier2, conditions: {tier: 2}, "
                                  "unless: {tier: 2}}\n")
        assert [p.code for p in validate_file(d, {}).problems] == ["WF-FIRE-01"]

    def test_numeric_ranges(self):
        """Numeric bounds contradict only when no number fits both."""
        from sdsrules.conditions import compile_where

        assert not v._consistent(compile_where({"amount": {"gt": 10, "lt": 5}}).clauses)
        assert not v._consistent(compile_where({"amount": {"gt": 5, "le": 5}}).clauses)
        assert v._consistent(compile_where({"amount": {"ge": 5, "le": 5}}).clauses)
        assert v._consistent(compile_where({"amount": {"gt": {"param": "panel_threshold"}, "lt": 5}}).clauses)


class TestParameters:
    def test_rule_pack_parameter_missing(self):
        """A parameter a rule pack uses but the design lacks is named with the codes that need it."""
        problems = list(validate(load_workflow("national"), {"mystery_wait": {"SDS-XYZ-01"}}))
        assert [p.code for p in problems] == ["WF-PARAM-01"]
        assert "mystery_wait" in problems[0].message and "SDS-XYZ-01" in problems[0].message

    def test_overlapping_dated_values(self):
        """Two values taking effect on one day are reported (built in code: YAML keys cannot repeat)."""
        wf = load_workflow("national")
        p = wf.parameters["review_interval"]
        doubled = attrs.evolve(p, values=(*p.values, attrs.evolve(p.values[0], reference="again")))
        wf2 = attrs.evolve(wf, parameters={**wf.parameters, "review_interval": doubled})
        assert [x.code for x in validate(wf2, {})] == ["WF-PARAM-03"]

    def test_ladder_checked_on_every_date(self, tmp_path):
        """A later dated value with a gap is reported with its date even when the first is sound."""
        d = write(tmp_path, "d.yaml", "workflow: d\nextends: national\nparameters:\n  panel_threshold:\n"
                                      "    kind: amount\n    values:\n"
                                      "      2020-04-01: {value: 1500, reference: local policy}\n")
        problems = validate_file(d, {}).problems
        assert [p.code for p in problems] == ["WF-SWS8-02"]
        assert "From 2020-04-01" in problems[0].message

    def test_rulebook_that_rejects_the_design_becomes_problems(self, monkeypatch):
        """A rule pack that cannot use the design (a deadline that is not a duration) is a problem, not a crash."""
        check = types.SimpleNamespace(within="adult_age", extension_within=None)
        rule = types.SimpleNamespace(code="SDS-TRN-01")
        book = types.SimpleNamespace(checks=lambda: [(rule, check)],
                                     parameters_used=lambda: {"adult_age": {"SDS-TRN-01"}})
        monkeypatch.setattr(v, "_shipped_rulebook", lambda: (book, ()))
        problems = list(validate(load_workflow("national")))
        assert [p.code for p in problems] == ["WF-PARAM-04"]
        assert "adult_age" in problems[0].message and "SDS-TRN-01" in problems[0].message

    def test_rule_packs_that_do_not_load_are_reported(self, monkeypatch):
        """Rule packs that fail to load give problems naming their file, not a traceback."""
        bad = (Problem("rules/x.yaml", 3, "code", "is missing"),)
        monkeypatch.setattr(v, "_shipped_rulebook", lambda: (None, bad))
        problems = list(validate(load_workflow("national")))
        assert [p.file for p in problems] == ["rules/x.yaml"]
        assert "do not load" in problems[0].message

    def test_real_rulebook_wiring(self, monkeypatch):
        """With the real engine, the shipped rule packs' parameters are checked against the design."""
        pytest.importorskip("sdsrules.engine")
        from sdsrules.engine import load_rulebook

        try:
            used = load_rulebook(None, None).parameters_used()
        except DataFileError as e:
            pytest.skip(f"the shipped rule packs do not load yet: {e}")
        if not used:
            pytest.skip("the shipped rule packs use no parameters yet")
        name = sorted(used)[0]
        wf = load_workflow("national")
        wf2 = attrs.evolve(wf, parameters={k: p for k, p in wf.parameters.items() if k != name})
        problems = [p for p in validate(wf2) if p.code == "WF-PARAM-01"]
        assert len(problems) == 1 and name in problems[0].message


class TestUnusable:
    @pytest.mark.parametrize(("text", "words"), [
        ("workflow: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "not a mapping"),
    ])
    def test_unusable_file(self, tmp_path, text, words):
        """A file that is not YAML or not a mapping is unusable (exit 2), with a sentence saying why."""
        r = validate_file(write(tmp_path, "bad.yaml", text))
        assert not r.usable
        assert exit_code([r]) == 2
        assert words in r.problems[0].message

    def test_missing_file(self, tmp_path):
        """A missing file is unusable."""
        r = validate_file(tmp_path / "nope.yaml")
        assert not r.usable and "cannot be read" in r.problems[0].message


class TestCommand:
    def run(self, *args):
        return CliRunner().invoke(cli, list(map(str, args)))

    def test_clean_exit_0(self):
        """Clean shipped designs exit 0 and say so."""
        r = self.run("validate", "national", "moray")
        assert r.exit_code == 0, r.output
        assert "2 clean" in r.output

    def test_problems_exit_1(self):
        """A flawed design exits 1 and the text shows code, location and counterexample."""
        r = self.run("validate", HERE / "designs" / "options_skipped.yaml")
        assert r.exit_code == 1
        assert "WF-SWS1-01" in r.output and "counterexample: start -referral_received->" in r.output
        assert "options_skipped.yaml:" in r.output

    def test_unusable_exit_2(self, tmp_path):
        """An unparseable file exits 2 even beside a clean design."""
        r = self.run("validate", "national", write(tmp_path, "bad.yaml", "workflow: [unclosed\n"))
        assert r.exit_code == 2
        assert "WF-FILE-01" in r.output

    def test_json(self):
        """JSON lists each design with its problems and a summary carrying the exit code."""
        r = self.run("validate", "--format", "json", "national", *DESIGNS)
        assert r.exit_code == 1
        data = json.loads(r.output)
        assert data["summary"] == {"designs": len(DESIGNS) + 1, "clean": 1, "problems": len(DESIGNS), "exit_code": 1}
        by_code = {p["code"]: p for d in data["designs"] for p in d["problems"]}
        assert by_code["WF-SWS1-01"]["counterexample"].startswith("start ")
        assert by_code["WF-SWS1-01"]["path"][0]["source"] == "start"

    def test_sarif_is_valid(self):
        """SARIF output of clean and flawed designs is valid against the SARIF 2.1.0 schema."""
        r = self.run("validate", "--format", "sarif", "national", *DESIGNS)
        data = json.loads(r.output)
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(data)
        results = data["runs"][0]["results"]
        assert len(results) == len(DESIGNS)
        rules = data["runs"][0]["tool"]["driver"]["rules"]
        for res in results:
            assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert any("codeFlows" in res for res in results)

    def test_sarif_of_unusable_file_is_valid(self, tmp_path):
        """An unusable file is still a valid SARIF log."""
        results = validate_files([write(tmp_path, "bad.yaml", "- a list\n")])
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(to_sarif(results))

    def test_junit_parses(self):
        """JUnit XML parses, with one failing test case per flawed design's check."""
        r = self.run("validate", "--format", "junit", "national", *DESIGNS)
        root = ET.fromstring(r.output)
        assert root.tag == "testsuites"
        assert int(root.get("failures")) == len(DESIGNS)
        suites = root.findall("testsuite")
        assert len(suites) == len(DESIGNS) + 1
        failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
        assert any(name.startswith("WF-SWS5-01") for name in failed)

    def test_junit_marks_unusable_files_as_errors(self, tmp_path):
        """An unusable file is an error, not a failure."""
        root = to_junit(validate_files([write(tmp_path, "bad.yaml", "- a list\n")]))
        assert root.get("errors") == "1" and root.get("failures") == "0"

    def test_output_file(self, tmp_path):
        """--output writes the report to a file and says so on stderr."""
        out = tmp_path / "r.sarif"
        r = self.run("validate", "--format", "sarif", "--output", out, "national")
        assert r.exit_code == 0
        assert json.loads(out.read_text(encoding="utf-8"))["version"] == "2.1.0"


class TestDiagram:
    def test_mermaid(self):
        """Mermaid output is a state diagram with every state and the conditions on arrows."""
        r = CliRunner().invoke(cli, ["diagram", "moray", "--format", "mermaid"])
        assert r.exit_code == 0, r.output
        assert "stateDiagram-v2" in r.output
        for s in load_workflow("moray").state_names:
            assert s in r.output
        assert "tier is 3" in r.output

    @pytest.mark.skipif(bool(svg_available()), reason=svg_available() or "graphviz present")
    def test_svg(self, tmp_path):
        """SVG comes out of Graphviz as an SVG document naming the states."""
        out = tmp_path / "national.svg"
        r = CliRunner().invoke(cli, ["diagram", "national", "--format", "svg", "-o", str(out)])
        assert r.exit_code == 0, r.output
        svg = ET.fromstring(out.read_text(encoding="utf-8"))
        assert svg.tag.endswith("svg")
        assert "supported" in out.read_text(encoding="utf-8")

    @pytest.mark.skipif(bool(svg_available("dot")), reason=svg_available("dot") or "graphviz present")
    def test_dot(self, tmp_path):
        """DOT text names every state, needs no dot program, and Graphviz reads it back."""
        out = tmp_path / "moray.dot"
        r = CliRunner().invoke(cli, ["diagram", "moray", "--format", "dot", "-o", str(out)])
        assert r.exit_code == 0, r.output
        text = out.read_text(encoding="utf-8")
        assert text.startswith("digraph") and text.endswith("}\n")
        for s in load_workflow("moray").state_names:
            assert s in text
        if not svg_available():
            import graphviz

            assert graphviz.Source(text).pipe(format="svg").startswith(b"<?xml")

    def test_svg_without_graphviz_is_a_clear_error(self, monkeypatch):
        """Without Graphviz's dot, SVG exits 2 with a sentence saying what to install."""
        monkeypatch.setattr(shutil, "which", lambda name: None)
        r = CliRunner().invoke(cli, ["diagram", "national", "--format", "svg"])
        assert r.exit_code == 2
        assert "dot" in r.output or "graphviz" in r.output

    def test_unloadable_design_exits_2(self):
        """A design that does not load cannot be drawn: exit 2 with its problems."""
        r = CliRunner().invoke(cli, ["diagram", str(HERE / "designs" / "unknown_key.yaml")])
        assert r.exit_code == 2
        assert "anywere" in r.output

    def test_diagram_function(self):
        """The library call returns the Mermaid text."""
        assert diagram(load_workflow("national")).lstrip().startswith("---")


class TestLargeDesign:
    def test_generated_300_state_design(self, tmp_path):
        """A generated 300-state design validates clean within a generous bound (the figure is the benchmark's)."""
        d = write(tmp_path, "big.yaml", bench().generate(300))
        result = validate_file(d)
        assert result.states == 300
        assert result.problems == ()
        assert result.seconds < 10


def test_checks_are_documented():
    """Every check has a title, a source and a description that ends as a sentence."""
    for c in v.CHECKS.values():
        assert c.title and c.source and c.description.endswith((".", ")")), c.code


def test_loader_rejects_a_datetime_key(tmp_path):
    """A parameter value keyed by a date and time is a problem, not a crash in the loader."""
    d = write(tmp_path, "d.yaml", "workflow: d\nextends: national\nparameters:\n  tier3_wait:\n    kind: duration\n"
                                  "    values:\n      2015-04-01 00:00:00: {value: 21 days, reference: x}\n")
    problems = validate_file(d).problems
    assert [p.code for p in problems] == ["WF-LOAD-01"]
    assert "YYYY-MM-DD" in problems[0].message


def test_param_value_is_a_date():
    """ParamValue dates stay dates (guards the overlap check's day comparison)."""
    assert isinstance(load_workflow("moray").parameters["panel_threshold"].values[-1], ParamValue)
    assert isinstance(load_workflow("moray").parameters["panel_threshold"].values[-1].since, date)
    assert sys.version_info >= (3, 11)


class TestBoundedAnswers:
    """Issue 18 (H2): a chain of N states that cannot reach closed made every state a trap with its whole path,
    an answer growing with N squared (4,000 states: 198 s and 1.8 GB). Answers are now bounded."""

    @staticmethod
    def _chain(tmp_path, n: int):
        lines = ["workflow: chain", "extends: national", "states:", "  - {name: start}",
                 "  - {name: closed, closed: true}", *(f"  - {{name: s{i}}}" for i in range(n)),
                 "transitions:", "  - {trigger: referral_received, source: start, dest: s0}",
                 *(f"  - {{trigger: information_given, source: s{i}, dest: s{i + 1}}}" for i in range(n - 1))]
        path = tmp_path / "chain.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def test_at_most_25_problems_a_check_and_the_rest_counted(self, tmp_path):
        from sdsrules.validate import MAX_PER_CHECK

        result = validate_file(self._chain(tmp_path, 1500))
        traps = [p for p in result.problems if p.code == "WF-TRAP-01"]
        assert len(traps) == MAX_PER_CHECK + 1
        assert re.match(r"1,4\d\d more problems of this check are not listed", traps[-1].message)

    def test_long_counterexamples_keep_their_last_steps_and_count_the_rest(self, tmp_path):
        from sdsrules.validate import MAX_STEPS

        problems = list(validate(load_workflow(self._chain(tmp_path, 1500)), limit=10_000))
        longest = max((p for p in problems if p.path), key=lambda p: len(p.path) + p.omitted)
        assert len(longest.path) <= MAX_STEPS and longest.omitted > 0
        assert longest.trail().startswith(f"({longest.omitted:,} earlier steps)")
        assert longest.to_dict()["steps_omitted"] == longest.omitted

    def test_the_json_answer_stays_small(self, tmp_path):
        out = tmp_path / "out.json"
        r = CliRunner().invoke(cli, ["validate", str(self._chain(tmp_path, 2000)), "--format", "json", "-o", str(out)])
        assert r.exit_code == 1
        assert out.stat().st_size < 200_000
