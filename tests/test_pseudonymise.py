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
