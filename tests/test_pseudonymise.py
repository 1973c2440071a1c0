"""Pseudonymisation: keyed, consistent, complete, and pure."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from sdsrules.events import Actor, Event
from sdsrules.findings import Evidence, Finding, Summary
from sdsrules.pseudonymise import KeyFileError, Pseudonymiser, pseudonymise, pseudonymise_event, read_key
from sdsrules.replay import CaseResult, Report

KEY = b"k" * 32
ID = re.compile(r"^[PAE]-[0-9a-f]{12}$")


def report() -> Report:
    f = Finding("SDS-BUD-01", "C-0193", "2024-03-05", "Approved by W17 for C-0193 above the limit.",
                events=(Evidence("e-000412", "2024-03-05", "budget_approved", "trigger"),),
                expected="W17 within limit", actual="C-0193x is another case")
    case = CaseResult("C-0193", (f,), applicable=frozenset({"SDS-BUD-01"}), profile=(("team", "east"),))
    return Report(Summary(cases=1), (f,), (), cases=(case,))


class TestPseudonymiser:
    def test_shape_and_consistency(self):
        """Prefix and 12 hex digits; the same id always gives the same pseudonym under one key."""
        p = Pseudonymiser(KEY)
        assert ID.match(p.case("C-1"))
        assert p.case("C-1") == Pseudonymiser(KEY).case("C-1")
        assert p.case("C-1") != Pseudonymiser(b"x" * 32).case("C-1")

    def test_kinds_do_not_collide(self):
        """A case and a worker that share an id get different pseudonyms."""
        p = Pseudonymiser(KEY)
        assert len({p.case("7"), p.actor("7"), p.event("7")}) == 3


class TestPseudonymiseReport:
    def test_ids_replaced_everywhere(self):
        """Case ids in findings and cases, evidence ids, and ids inside the text are all replaced."""
        p = Pseudonymiser(KEY)
        out = pseudonymise(report(), p, actor_ids={"W17"})
        f = out.findings[0]
        assert f.case == p.case("C-0193") == out.cases[0].case == out.cases[0].findings[0].case
        assert f.events[0].id == p.event("e-000412")
        assert f.message == f"Approved by {p.actor('W17')} for {p.case('C-0193')} above the limit."
        assert f.expected == f"{p.actor('W17')} within limit"
        assert not re.search(r"C-0193(?!x)", repr(out))
        assert "W17" not in repr(out)

    def test_whole_words_only(self):
        """An id inside a longer one is left alone ('C-0193x' is another case)."""
        out = pseudonymise(report(), KEY)
        assert out.findings[0].actual == "C-0193x is another case"

    def test_pure(self):
        """The original report is unchanged; profiles and applicable codes are kept."""
        before = report()
        out = pseudonymise(before, KEY)
        assert before.findings[0].case == "C-0193"
        assert out.cases[0].profile == before.cases[0].profile
        assert out.cases[0].applicable == before.cases[0].applicable


def test_event_pseudonymised_and_free_text_dropped():
    """Case, id and actor id are hashed; free text and birth date go; the rest stays."""
    p = Pseudonymiser(KEY)
    ev = Event("e1", "C-1", datetime(2024, 1, 1, tzinfo=UTC), date(2024, 1, 1), "referral_received",
               {"source": "Mrs Smith, neighbour", "date_of_birth": date(1940, 2, 3), "client_group": "carer"},
               Actor("W1", "access_officer", "access"))
    out = pseudonymise_event(ev, p)
    assert (out.id, out.case, out.actor.id) == (p.event("e1"), p.case("C-1"), p.actor("W1"))
    assert out.attrs == {"client_group": "carer"}
    assert out.actor.team == "access"


def test_short_key_refused(tmp_path):
    """A key file under 16 bytes is refused with a way to make a good one."""
    key = tmp_path / "key"
    key.write_bytes(b"short")
    with pytest.raises(KeyFileError, match="at least 16"):
        read_key(key)


# ------------------------------------------------------------------ every pseudonymised output (issue 18, H3)

SAMPLE = __import__("pathlib").Path(__file__).resolve().parent.parent / "cases" / "sample.jsonl"
#: what must never reach a pseudonymised output: extra attributes' values, free text, and the ids themselves
SECRETS = ("Margaret Identifiable", "9434765919", "Secret Street", "neighbour Mr Privateperson",
           "visit to Mrs Rejectedname", "CASEID-", "WORKERID-")


def _identifying_log(tmp_path) -> str:
    """The first 400 sample events with distinctive ids, identifying extras on every event, and a bad record."""
    import json

    out = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:400]:
        try:
            rec = json.loads(line.replace('"C-0', '"CASEID-0'))
        except ValueError:
            continue  # the sample's deliberately broken lines
        if not isinstance(rec, dict):
            continue
        if rec.get("actor"):
            rec["actor"]["id"] = "WORKERID-" + rec["actor"]["id"]
        rec.update(client_name="Margaret Identifiable", nhs_number="9434765919",
                   notes="lives at 12 Secret Street")
        if rec["activity"] == "referral_received":
            rec["source"] = "neighbour Mr Privateperson"  # declared, but free text
        out.append(json.dumps(rec))
    out.append(json.dumps({"case": "CASEID-9", "at": "2023-08-01", "activity": "visit to Mrs Rejectedname"}))
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return str(path)


class TestEveryPseudonymisedOutput:
    def test_no_identifying_value_in_any_output(self, tmp_path):
        """HTML and CSV of report --pseudonymise, and JSONL, CSV and XES of convert --pseudonymise (annotated
        with findings too): none holds an extra attribute's value, free text, a case, worker or event id."""
        from click.testing import CliRunner

        from cli.main import cli

        log = _identifying_log(tmp_path)
        key = tmp_path / "key"
        key.write_bytes(b"k" * 32)
        outputs = [tmp_path / "r.html"]
        res = CliRunner().invoke(cli, ["report", log, "--engine", "reference", "--html", str(outputs[0]),
                                       "--csv", str(tmp_path / "csv"), "--pseudonymise", str(key)])
        assert res.exit_code == 1, res.output
        outputs += sorted((tmp_path / "csv").glob("*.csv"))
        for name, extra in (("c.jsonl", []), ("c.csv", []), ("c.xes", []), ("a.xes", ["--annotate"]),
                            ("a.jsonl", ["--annotate"]), ("a.csv", ["--annotate"])):
            res = CliRunner().invoke(cli, ["convert", log, str(tmp_path / name), "--pseudonymise", str(key),
                                           "--engine", "reference", *extra])
            assert res.exit_code == 1, res.output  # one record rejected
            assert "attributes the contract does not declare safe to show were left out" in res.output
            assert "client_name (" in res.output and "nhs_number (" in res.output and "notes (" in res.output
            outputs.append(tmp_path / name)
        assert len(outputs) >= 9
        for path in outputs:
            text = path.read_text(encoding="utf-8")
            for secret in SECRETS:
                assert secret not in text, (path.name, secret)
        annotated = (tmp_path / "a.xes").read_text(encoding="utf-8")
        assert 'key="sdsrules:findings"' in annotated and 'value="P-' in annotated
        assert "client_group" in (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()[0]

    def test_only_the_activitys_safe_attributes_stay(self):
        """Declared, non-free-text attributes stay; undeclared ones go and are counted by name."""
        from collections import Counter

        from sdsrules.pseudonymise import dropped_notice, safe_attributes

        p = Pseudonymiser(KEY)
        ev = Event("e1", "C-1", datetime(2024, 1, 1, tzinfo=UTC), date(2024, 1, 1), "triaged",
                   {"tier": 2, "client_name": "Ann", "nhs_number": "943", "source": "x"}, None)
        dropped: Counter = Counter()
        out = pseudonymise_event(ev, p, dropped)
        assert out.attrs == {"tier": 2} and safe_attributes("triaged") == {"tier"}
        assert dropped == {"client_name": 1, "nhs_number": 1, "source": 1}
        notice = dropped_notice(dropped)
        assert notice and "client_name (1)" in notice and "Ann" not in notice
        assert dropped_notice(Counter()) is None

    def test_rejection_reasons_lose_their_values(self):
        """A pseudonymised report keeps each rejection's field and reason, not the value it held."""
        from sdsrules.events import Rejection

        r = Rejection("log.jsonl", 3, "'activity' 'visit to Mrs Doe' is not a known activity (see events.md)",
                      "activity", "C-1")
        out = pseudonymise(Report(Summary(cases=0), (), (r,)), KEY).rejected[0]
        assert out.reason == "'activity' '…' is not a known activity (see events.md)"
        assert out.case == Pseudonymiser(KEY).case("C-1")
