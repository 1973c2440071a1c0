"""The HTTP service under hostile input (issue 8): no 500, every event accounted for, no case data in its log."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sdsrules.service import ServiceConfig, create_app

from .strategies_hostile import bad_record, good_record

SECRET = "CASE-SECRET-4242"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(ServiceConfig(engine="reference", max_events=50)),
                    raise_server_exceptions=False) as c:
        yield c


class TestReplayEndpoint:
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(st.lists(st.one_of(good_record(), bad_record(), st.integers(), st.text(max_size=5), st.none()),
                    min_size=1, max_size=20))
    def test_every_event_is_replayed_or_rejected_and_nothing_is_a_500(self, client, events):
        """Any list of events, however broken: 200 with events_read == len(events) == replayed + rejected."""
        r = client.post("/v1/replay", json={"events": events})
        assert r.status_code == 200, r.text
        s = r.json()["summary"]
        assert s["events_read"] == len(events) == s["events_replayed"] + s["events_rejected"]

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=200))
    def test_a_body_that_is_not_json_is_a_400_never_a_500(self, client, body):
        r = client.post("/v1/replay", content=body, headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), r.text

    def test_too_many_events_is_a_413(self, client):
        r = client.post("/v1/replay", json={"events": [{"case": "C1"}] * 51})
        assert r.status_code == 413 and "50" in r.json()["message"]

    def test_the_log_holds_no_case_data(self, client, caplog):
        """Neither the access log nor any other service log line repeats a case id or a value sent."""
        with caplog.at_level(logging.DEBUG, logger="sdsrules"):
            client.post("/v1/replay", json={"events": [{"case": SECRET, "at": "2024-01-01", "activity": SECRET}]})
            client.post("/v1/check", json={"events": [{"case": SECRET, "at": SECRET, "activity": "signposted"}]})
            client.post(f"/v1/{SECRET}", json={})
        assert caplog.records and all(SECRET not in rec.getMessage() for rec in caplog.records)
