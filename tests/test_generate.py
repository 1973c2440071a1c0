"""The synthetic log generator: deterministic, compliant at rate 0, and its truth file is what the replay finds."""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from sdsrules import api
from sdsrules.generate import CODES, MUTATIONS, PROFILES, Settings, load_profile, truth_path, write

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "cases" / "sample.jsonl"
SEQ_DAT = ("SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-01", "SDS-DAT-02")


def _generate(tmp_path: Path, name: str = "log.jsonl", **kw) -> tuple[Path, list[dict]]:
    settings = Settings(**{"cases": 200, "seed": 11, **kw})
    out = tmp_path / name
    with out.open("wb") as log, truth_path(out).open("wb") as truth:
        write(settings, log, truth)
    return out, [json.loads(line) for line in truth_path(out).read_text().splitlines()]


def _found(report, codes=None) -> Counter:
    """(case, code) of every finding, and (line, code) of every rejection (a broken line may have no case)."""
    got = Counter((f.case, f.code) for f in report.findings if codes is None or f.code in codes)
    got.update((r.line, r.code) for r in report.rejected)
    return got


def _expected(truth: list[dict], codes=None) -> Counter:
    return Counter((t["line"], t["code"]) if t["code"] == "SDS-DAT-01" else (t["case"], t["code"])
                   for t in truth if codes is None or t["code"] in codes)


class TestDeterminism:
    def test_same_seed_same_bytes(self, tmp_path):
        """Two runs with the same settings write byte-identical logs and truth files."""
        a, _ = _generate(tmp_path, "a.jsonl", breach_rate=0.2)
        b, _ = _generate(tmp_path, "b.jsonl", breach_rate=0.2)
        assert a.read_bytes() == b.read_bytes()
        assert truth_path(a).read_bytes() == truth_path(b).read_bytes()

    def test_interleaved_same_seed_same_bytes(self, tmp_path):
        """Interleaving is seeded too."""
        a, _ = _generate(tmp_path, "a.jsonl", breach_rate=0.2, interleave=True)
        b, _ = _generate(tmp_path, "b.jsonl", breach_rate=0.2, interleave=True)
        assert a.read_bytes() == b.read_bytes()
        assert truth_path(a).read_bytes() == truth_path(b).read_bytes()

    def test_other_seed_other_log(self, tmp_path):
        a, _ = _generate(tmp_path, "a.jsonl")
        b, _ = _generate(tmp_path, "b.jsonl", seed=12)
        assert a.read_bytes() != b.read_bytes()

    def test_bundled_sample_is_reproducible(self, tmp_path):
        """cases/sample.jsonl is exactly what the documented command writes (regenerate it after changes)."""
        settings = Settings(cases=300, seed=2023, breach_rate=0.02, rates=load_profile("seeds"))
        log, truth = io.BytesIO(), io.BytesIO()
        write(settings, log, truth)
        assert log.getvalue() == SAMPLE.read_bytes()
        assert truth.getvalue() == truth_path(SAMPLE).read_bytes()


class TestCompliant:
    def test_rate_zero_replays_clean(self, tmp_path):
        """A log generated with no breaches reads without a rejection and replays with no SEQ or DAT finding."""
        out, truth = _generate(tmp_path, cases=400, breach_rate=0.0)
        assert truth == []
        report = api.replay([out], engine="none")
        assert report.summary.events_replayed > 3000
        assert report.rejected == ()
        assert report.findings == ()

    def test_rate_zero_full_engine_clean(self, tmp_path):
        """With every rule pack, a compliant log has no finding of any code."""
        out, _ = _generate(tmp_path, cases=300, breach_rate=0.0)
        report = api.replay([out], engine="reference")
        assert [f"{f.case} {f.code}: {f.message}" for f in report.findings] == []

    def test_walks_every_stage(self, tmp_path):
        """Journeys cover tiers 1-3, support under each option, reviews, closures and open cases."""
        out, _ = _generate(tmp_path, cases=400, breach_rate=0.0)
        records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        acts = Counter(r["activity"] for r in records)
        tiers = {r["tier"] for r in records if r["activity"] == "triaged"}
        options = {r["option"] for r in records if r["activity"] == "support_started"}
        teams = {r["actor"]["team"] for r in records}
        assert tiers == {1, 2, 3}
        assert options == {1, 2, 3, 4}
        assert {"east_long_term", "west_long_term", "access_team", "learning_disability",
                "older_people_north"} <= teams
        for act in ("review_completed", "financial_review_completed", "dp_means_test_completed",
                    "carer_support_offered", "panel_decided", "case_closed", "transition_planning_started"):
            assert acts[act] > 0, act
        closed = {r["case"] for r in records if r["activity"] == "case_closed"}
        assert 0 < len(closed) < 400


class TestInjection:
    def test_every_code_has_a_documented_mutation(self):
        assert set(MUTATIONS) == set(CODES)
        for code, m in MUTATIONS.items():
            assert m.consequences[0] == code
            assert set(m.consequences) <= set(CODES)

    def test_every_catalogue_code_has_a_mutation(self):
        """A rule added to the shipped packs (or a built-in sequence or data code) without a way to inject it
        fails here: the generator's truth must cover the whole catalogue."""
        from sdsrules.engine import load_rulebook

        catalogue = {r.code for r in load_rulebook().rules} | {"SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-01", "SDS-DAT-02"}
        assert catalogue - set(MUTATIONS) == set()

    def test_every_code_is_injected(self, tmp_path):
        """At a high rate, a modest run injects every catalogue code at least once."""
        _, truth = _generate(tmp_path, cases=1500, breach_rate=0.3)
        assert {t["code"] for t in truth} == set(CODES)

    def test_truth_names_events_of_the_log(self, tmp_path):
        out, truth = _generate(tmp_path, breach_rate=0.3)
        ids = {orjson.loads(line).get("id") for line in out.read_bytes().splitlines() if line.endswith(b"}")}
        for t in truth:
            if t["code"] != "SDS-DAT-01":
                assert set(t["events"]) <= ids, t

    @pytest.mark.parametrize("interleave", [False, True])
    def test_sequence_and_data_findings_are_exactly_the_injected(self, tmp_path, interleave):
        """With sequence checks only, SEQ-01, SEQ-02, DAT-01 and DAT-02 match the truth case by case."""
        out, truth = _generate(tmp_path, cases=500, breach_rate=0.25, interleave=interleave)
        report = api.replay([out], engine="none")
        assert _found(report, SEQ_DAT) == _expected(truth, SEQ_DAT)
        assert _expected(truth, SEQ_DAT)  # the run did inject some
        dated = {(f.case, f.code, f.at) for f in report.findings}
        for t in truth:
            if t["code"] in ("SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-02"):
                assert (t["case"], t["code"], t["at"]) in dated

    def test_interleave_mixes_cases_but_keeps_each_in_order(self, tmp_path):
        out, _truth = _generate(tmp_path, cases=100, breach_rate=0.0, interleave=True)
        cases = [orjson.loads(line)["case"] for line in out.read_bytes().splitlines()]
        runs = sum(1 for a, b in itertools.pairwise(cases) if a != b)
        assert runs > 5 * len(set(cases))
        assert api.replay([out], engine="none").summary.cases_reordered == 0

    def test_every_finding_of_the_full_engine_is_injected(self, tmp_path):
        """With every rule pack, the findings are exactly the injected breaches (case and code, and dates)."""
        out, truth = _generate(tmp_path, cases=600, breach_rate=0.15, seed=3)
        report = api.replay([out], engine="reference")
        assert _found(report) == _expected(truth)
        dated = Counter((f.case, f.code, f.at) for f in report.findings)
        assert dated == Counter((t["case"], t["code"], t["at"]) for t in truth if t["code"] != "SDS-DAT-01")


class TestSample:
    def test_sample_replays_to_its_truth(self):
        """The bundled sample: its sequence and data findings are exactly those of its truth file."""
        truth = [json.loads(line) for line in truth_path(SAMPLE).read_text().splitlines()]
        report = api.replay([SAMPLE], engine="none")
        assert _found(report, SEQ_DAT) == _expected(truth, SEQ_DAT)

    def test_sample_looks_like_the_seeds(self):
        """Contingency missing in most plans (Moray: 12% had one), a few hundred cases, under 2 MB."""
        records = [orjson.loads(line) for line in SAMPLE.read_bytes().splitlines() if line.endswith(b"}")]
        plans = [r for r in records if r["activity"] == "support_plan_agreed"]
        missing = sum(not r["contingency"] for r in plans) / len(plans)
        assert 0.75 <= missing <= 0.97
        assert 250 <= len({r["case"] for r in records}) <= 400
        assert SAMPLE.stat().st_size < 2_000_000


class TestProfiles:
    def test_shipped(self):
        assert load_profile("uniform") == {}
        assert load_profile("seeds")["SDS-PLN-02"] == PROFILES["seeds"]["SDS-PLN-02"]

    def test_yaml_file(self, tmp_path):
        p = tmp_path / "p.yaml"
        p.write_text("SDS-REV-02: 0.5\nSDS-PLN-02: {rate: 0.9}\n")
        assert load_profile(str(p)) == {"SDS-REV-02": 0.5, "SDS-PLN-02": 0.9}

    @pytest.mark.parametrize(("text", "words"), [("SDS-XXX-01: 0.5", "not a breach code"),
                                                  ("SDS-REV-02: 2", "from 0 to 1")])
    def test_bad_yaml_says_why(self, tmp_path, text, words):
        p = tmp_path / "p.yaml"
        p.write_text(text)
        with pytest.raises(ValueError, match=words):
            load_profile(str(p))

    def test_truth_path(self):
        assert truth_path("cases/sample.jsonl") == Path("cases/sample.truth.jsonl")


class TestCommand:
    def test_writes_log_and_truth(self, tmp_path):
        from sdsrules.cli.main import cli

        out = tmp_path / "big.jsonl"
        result = CliRunner().invoke(cli, ["generate", "--cases", "50", "--seed", "4", "--breach-rate", "0.3",
                                          "--interleave", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "50 cases" in result.output and "injected breaches" in result.output
        assert out.stat().st_size > 0 and truth_path(out).stat().st_size > 0

    def test_unknown_profile_is_a_usage_error(self, tmp_path):
        from sdsrules.cli.main import cli

        result = CliRunner().invoke(cli, ["generate", "--cases", "5", "--profile", "nope",
                                          "--out", str(tmp_path / "x.jsonl")])
        assert result.exit_code == 2
        assert "neither a shipped profile" in result.output
