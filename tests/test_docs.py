"""The user documentation that is generated from the product stays in step with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent


class TestGeneratedDocs:
    def test_the_catalogue_document_is_the_rule_packs_as_they_are(self):
        """docs/catalogue.md is ``sdsrules rules list --format markdown``: regenerate it when a rule or a default
        changes."""
        out = CliRunner().invoke(cli, ["rules", "list", "--format", "markdown"])
        assert out.exit_code == 0
        assert (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8") == out.output

    def test_every_catalogue_code_has_a_row(self):
        text = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
        spec = ROOT.parent / "shared" / "spec" / "breaches.md"
        if not spec.exists():
            pytest.skip("the shared spec is not beside this checkout")
        codes = sorted(set(re.findall(r"SDS-[A-Z]{3}-\d{2}", spec.read_text(encoding="utf-8"))))
        assert len(codes) >= 39
        assert [c for c in codes if f"| {c} |" not in text] == []


class TestDidYouMean:
    def test_an_unknown_code_in_rules_explain_suggests_the_nearest(self):
        out = CliRunner().invoke(cli, ["rules", "explain", "SDS-REV-1"])
        assert out.exit_code == 2
        assert "did you mean SDS-REV-01?" in out.output


class TestContract:
    """docs/contract.md, the event contract users read (every error message points at it), stays in step."""

    TEXT = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")

    def test_every_activity_and_attribute_the_code_knows_is_documented(self):
        from sdsrules.events import ACTIVITIES

        missing = [a for a in ACTIVITIES if f"`{a}`" not in self.TEXT]
        missing += [f"{a}.{n}" for a, spec in ACTIVITIES.items() for n in spec if f"`{n}`" not in self.TEXT]
        assert missing == []

    def test_it_is_the_shared_spec(self):
        spec = ROOT.parent / "shared" / "spec" / "events.md"
        if not spec.exists():
            pytest.skip("the shared spec is not beside this checkout")
        assert spec.read_text(encoding="utf-8") in self.TEXT
