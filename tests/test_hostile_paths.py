"""Untrusted designs, rule packs and activity maps (issue 8): safe YAML, never executed, no path escapes.

A design's ``extends`` may name a shipped design or a file in the design's own folder, nothing else; YAML
tags that build Python objects are refused; a rule names a function only from the registry. Three of these
tests began as strict ``xfail`` records of gaps (symlinks out of a design's or a pack's folder, YAML alias
bombs); the gaps are closed and the markers gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sdsrules.datafile import DataFileError, load_yaml
from sdsrules.engine.rules import load_rule, rule_files
from sdsrules.maps import load_map
from sdsrules.workflow import load_workflow

RULE = Path(__file__).resolve().parent.parent / "rules" / "budget" / "SDS-BUD-01.yaml"
EXECUTE = "!!python/object/apply:os.system [\"touch {marker}\"]"


def _design(folder: Path, extends: str) -> Path:
    path = folder / "mine.yaml"
    path.write_text(f"workflow: mine\nextends: {extends!r}\n")
    return path


class TestExtends:
    @pytest.mark.parametrize("name", ["../outside", "/etc/passwd", "..\\outside", ".hidden", "sub/base",
                                      "/tmp/../etc/passwd.yaml"])
    def test_extends_cannot_name_a_path(self, tmp_path, name):
        """Anything with a separator or a leading dot is refused, naming the file, line and key."""
        with pytest.raises(DataFileError) as e:
            load_workflow(_design(tmp_path, name))
        assert "extends" in e.value.report() and "same folder" in e.value.report()

    def test_extends_a_shipped_design_by_name(self, tmp_path):
        assert load_workflow(_design(tmp_path, "national")).describe().startswith("mine")

    def test_a_symlink_in_the_design_folder_cannot_reach_outside_it(self, tmp_path):
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.yaml").write_text((Path(__file__).parents[1] / "workflows" / "national.yaml").read_text())
        folder = tmp_path / "designs"
        folder.mkdir()
        (folder / "base.yaml").symlink_to(outside / "secret.yaml")
        with pytest.raises(DataFileError):
            load_workflow(_design(folder, "base"))


class TestNeverExecuted:
    @pytest.mark.parametrize("kind", ["workflow", "map", "rule"])
    def test_a_python_tag_is_refused_and_nothing_runs(self, tmp_path, kind):
        """PyYAML's safe loader: ``!!python/object/apply`` is an error with file and line, never a call."""
        marker = tmp_path / "ran"
        tag = EXECUTE.format(marker=marker)
        path = tmp_path / f"{kind}.yaml"
        head = {"workflow": "workflow: x\nextends: national\n", "map": "map: x\nactivities: {a: signposted}\n",
                "rule": RULE.read_text()}[kind]
        path.write_text(head + f"description: {tag}\n")
        loader = {"workflow": load_workflow, "map": load_map, "rule": load_rule}[kind]
        with pytest.raises(DataFileError) as e:
            loader(path)
        assert str(path) in e.value.report() and not marker.exists()

    def test_a_rule_names_a_function_only_from_the_registry(self, tmp_path):
        path = tmp_path / "SDS-BUD-01.yaml"
        path.write_text(RULE.read_text().replace("function: within_delegated_limit", "function: os.system"))
        with pytest.raises(DataFileError, match="names no known function"):
            load_rule(path)

    def test_a_data_file_over_5_mb_is_refused_unread(self, tmp_path):
        path = tmp_path / "big.yaml"
        path.write_bytes(b"# " + b"x" * (6 * 1024 * 1024) + b"\nmap: x\n")
        with pytest.raises(DataFileError, match="larger than 5 MB"):
            load_yaml(path)


class TestYamlBomb:
    def test_an_alias_bomb_is_refused_quickly(self, tmp_path):
        lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
            lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        path = tmp_path / "bomb.yaml"
        path.write_text("bomb:\n" + textwrap.indent("\n".join(lines), "  ") + "\nmap: *i\n"
                        "activities: {x: signposted}\n")
        code = ("import sys\nfrom sdsrules.maps import load_map\nfrom sdsrules.datafile import DataFileError\n"
                "try:\n    load_map(sys.argv[1])\nexcept DataFileError:\n    sys.exit(0)\nsys.exit(3)\n")
        try:
            done = subprocess.run([sys.executable, "-c", code, str(path)], timeout=5, capture_output=True)
        except subprocess.TimeoutExpired:
            pytest.fail("loading a YAML alias bomb did not finish in 5 s")
        assert done.returncode == 0, done.stderr[-500:]


class TestRulePaths:
    def test_only_yaml_files_under_the_named_folder_are_rules(self, tmp_path):
        (tmp_path / "pack").mkdir()
        (tmp_path / "pack" / "SDS-BUD-01.yaml").write_text(RULE.read_text())
        (tmp_path / "pack" / "notes.txt").write_text("code: SDS-XXX-01")
        (tmp_path / "pack" / "SDS-BUD-01.test.yaml").write_text("cases: []\n")
        assert [p.name for p in rule_files([tmp_path / "pack"])] == ["SDS-BUD-01.yaml"]

    @pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
    def test_a_symlinked_folder_inside_a_pack_is_not_walked(self, tmp_path):
        """pathlib's rglob does not descend into a symlinked directory, so a link cannot pull a tree in."""
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "SDS-BUD-01.yaml").write_text(RULE.read_text())
        pack = tmp_path / "pack"
        pack.mkdir()
        (pack / "linked").symlink_to(outside, target_is_directory=True)
        assert rule_files([pack]) == []

    def test_a_symlinked_file_inside_a_pack_cannot_reach_outside_it(self, tmp_path):
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "SDS-BUD-01.yaml").write_text(RULE.read_text())
        pack = tmp_path / "pack"
        pack.mkdir()
        (pack / "SDS-BUD-01.yaml").symlink_to(outside / "SDS-BUD-01.yaml")
        assert rule_files([pack]) == []
