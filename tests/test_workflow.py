"""Workflow designs (issue 2): loading, dated parameters, and the transitions Machine the replay steps through."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings

from sdsrules.datafile import DataFileError
from sdsrules.workflow import load_workflow

from .helpers import events_of
from .strategies import walk

WF = load_workflow()


class TestTheMachine:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(walk(WF, max_steps=30))
    def test_the_lookup_table_agrees_with_the_transitions_machine_step_for_step(self, records):
        """Workflow.step gives the same stage as triggering the real transitions Machine on a model."""
        from transitions.core import MachineError

        class Case:
            pass

        model = Case()
        WF.machine.add_model(model)
        try:
            state = WF.initial
            for ev in events_of(records):
                new, how = WF.step(state, ev)
                if how == "anywhere":
                    continue
                try:
                    fired = model.trigger(ev.activity, event=ev)
                except MachineError:
                    fired = False
                assert fired == (new is not None)
                assert model.state == (new or state)
                state = new or state
        finally:
            WF.machine.remove_model(model)

    def test_the_machine_is_built_once_per_design(self):
        assert WF.machine is WF.machine


class TestParameters:
    def test_the_value_in_force_on_a_day_carries_its_date_and_reference(self):
        pv = WF.param("personal_care_wait", date(2020, 1, 1))
        assert (str(pv.value), pv.since, "2019" in pv.reference) == ("6 weeks", date(2019, 4, 1), True)

    def test_a_local_design_overrides_one_dated_value_and_keeps_the_rest(self, tmp_path):
        p = tmp_path / "local.yaml"
        p.write_text("workflow: local\nextends: national\nparameters:\n  review_interval:\n    kind: duration\n"
                     "    values:\n      2025-04-01: {value: 6 months, reference: local policy 2025}\n")
        wf = load_workflow(p)
        assert str(wf.param_value("review_interval", date(2025, 5, 1))) == "6 months"
        assert str(wf.param_value("review_interval", date(2024, 5, 1))) == "12 months"
        assert wf.transitions == WF.transitions


BAD = {
    "unknown key": ("workflow: x\nextends: national\ncolour: red\n", ["colour", "unknown key", ":3"]),
    "duplicate key": ("workflow: x\nworkflow: y\n", ["duplicate key 'workflow'", ":2"]),
    "unknown activity": ("workflow: x\nextends: national\ntransitions:\n"
                         "  - {trigger: tea, source: start, dest: referred}\n",
                         ["'tea' is not an activity", "transitions.0.trigger"]),
    "no reference": ("workflow: x\nextends: national\nparameters:\n  tier3_wait:\n    kind: duration\n    values:\n"
                     "      2024-01-01: {value: 14 days}\n", ["needs a reference"]),
    "bad duration": ("workflow: x\nextends: national\nparameters:\n  tier3_wait:\n    kind: duration\n    values:\n"
                     "      2024-01-01: {value: soon, reference: x}\n", ["duration", "'soon'"]),
    "escape": ("workflow: x\nextends: ../../etc/passwd\n", ["extends", "shipped design or a file in the same folder"]),
    "not yaml": ("workflow: [x\n", ["not valid YAML"]),
}


class TestLoadingErrors:
    @pytest.mark.parametrize(("name", "text", "words"), [(k, *v) for k, v in BAD.items()], ids=list(BAD))
    def test_each_problem_names_the_file_the_line_and_the_key(self, tmp_path, name, text, words):
        p = tmp_path / "bad.yaml"
        p.write_text(text)
        with pytest.raises(DataFileError) as e:
            load_workflow(p)
        report = e.value.report()
        assert str(p) in report
        for w in words:
            assert w in report, (w, report)

    def test_every_problem_is_reported_not_only_the_first(self, tmp_path):
        p = tmp_path / "bad.yaml"
        p.write_text("workflow: x\nextends: national\ncolour: red\nshape: round\n")
        with pytest.raises(DataFileError) as e:
            load_workflow(p)
        assert len(e.value.problems) == 2


class TestUnknownDesignNames:
    def test_a_misspelt_shipped_name_gets_did_you_mean(self):
        from sdsrules.datafile import DataFileError
        from sdsrules.workflow import load_workflow

        with pytest.raises(DataFileError) as e:
            load_workflow("natinal")
        assert str(e.value).endswith("natinal: cannot be read: no such file, and no shipped design is called that; "
                                     "did you mean national? (shipped: moray, national)")

    def test_a_missing_path_says_so_plainly(self, tmp_path):
        from sdsrules.datafile import DataFileError
        from sdsrules.workflow import load_workflow

        with pytest.raises(DataFileError, match=r"nope\.yaml: cannot be read: no such file$"):
            load_workflow(tmp_path / "nope.yaml")

    def test_validate_says_the_same(self):
        from sdsrules.validate import validate_file

        result = validate_file("moary")
        assert [p.code for p in result.problems] == ["WF-FILE-01"]
        assert "did you mean moray?" in result.problems[0].message
