"""What falls due: ``sdsrules due``, ``sdsrules.due`` and ``/v1/due`` (issue 17, item 5), and the service
answering on today's date (item 4)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

import sdsrules
from sdsrules.duelist import DueItem, as_day, due_items, today, window_end
from sdsrules.findings import Evidence, Finding, Obligation
from sdsrules.formats.due import write_csv
from tests.test_monitor import long_case
from tests.test_report_rates import moving_case, supported_case


def obligation(case: str, due: str, code: str = "SDS-REV-01", team: str = "east") -> Obligation:
    return Obligation(code=code, case=case, due=due, message="due", title="first review late", team=team,
                      worker="W1", trigger=Evidence(f"{case}-t", "2024-01-01", "support_started", "trigger"))


def overdue(case: str, due: str, team: str = "west") -> Finding:
    return Finding(code="SDS-REV-02", case=case, at=due, message="overdue", title="later review overdue",
                   team=team, worker="W2", due=due, outstanding=True,
                   events=(Evidence(f"{case}-t", "2023-01-01", "review_completed", "trigger"),))


class TestDueItems:
    def test_overdue_on_top_then_soonest(self):
        """Overdue duties lead (longest overdue first), then open ones soonest first; past the window left out."""
        items = due_items([overdue("B", "2024-05-01"), overdue("A", "2024-03-01")],
                          [obligation("C", "2024-06-20"), obligation("D", "2024-06-10"),
                           obligation("E", "2024-09-01")], date(2024, 6, 1), "28d")
        assert [(d.case, d.overdue) for d in items] == [("A", True), ("B", True), ("D", False), ("C", False)]

    def test_a_breach_already_ended_is_not_owed(self):
        """A late or ended breach is not in the list: nothing is still owed."""
        ended = Finding(code="SDS-ACC-02", case="X", at="2024-01-01", message="late", due="2023-12-01")
        assert due_items([ended], [], date(2024, 6, 1)) == []

    def test_by_team_groups_and_keeps_order(self):
        """--by team groups the list by team, keeping overdue-first order inside each group."""
        items = due_items([overdue("A", "2024-03-01", team="east")],
                          [obligation("C", "2024-06-20", team="east"), obligation("D", "2024-06-10", team="a")],
                          date(2024, 6, 1), None, "team")
        assert [(d.team, d.case) for d in items] == [("a", "D"), ("east", "A"), ("east", "C")]

    @pytest.mark.parametrize(("within", "end"), [("28d", date(2024, 6, 29)), ("4w", date(2024, 6, 29)),
                                                 ("3m", date(2024, 9, 1)), (10, date(2024, 6, 11)),
                                                 ("28 days", date(2024, 6, 29))])
    def test_windows(self, within, end):
        assert window_end(date(2024, 6, 1), within) == end

    @pytest.mark.parametrize("within", ["soon", "-3d", True, 2.5, 5707521121, "99999999y"])
    def test_bad_window(self, within):
        with pytest.raises(ValueError, match="within must"):
            window_end(date(2024, 6, 1), within)

    def test_csv_cells_are_spreadsheet_safe(self):
        """A case id or team that a spreadsheet would run as a formula is neutralised."""
        item = DueItem("2024-06-01", "=HYPERLINK(\"x\")", "SDS-REV-01", "t", "+team", "@w", False, "m", "-e")
        out = io.StringIO()
        write_csv([item], out)
        row = list(csv.reader(io.StringIO(out.getvalue())))[1]
        assert row[2] == "'=HYPERLINK(\"x\")" and row[5] == "'+team" and row[6] == "'@w" and row[7] == "'-e"

    def test_as_day(self):
        """A date, an ISO date, or a date-time's London day."""
        assert as_day("2024-06-30T23:30:00Z") == date(2024, 7, 1)
        assert as_day(date(2024, 1, 2)) == date(2024, 1, 2)
        assert as_day(None, date(2000, 1, 1)) == date(2000, 1, 1)


class TestApi:
    def test_due_of_events(self):
        """sdsrules.due(events, within=...) lists the case's open first review with the trigger's team."""
        got = sdsrules.due([e.to_dict() for e in supported_case()], within="3m", as_of="2024-02-01")
        assert got.as_of == date(2024, 2, 1)
        (item,) = [d for d in got if d.code == "SDS-REV-01"]
        assert not item.overdue and item.team == "east_long_term" and item.worker == "E05"

    def test_due_defaults_to_today(self):
        """Without as_of, a duty due in 2024 is overdue today, and the answer says the date."""
        got = sdsrules.due(supported_case())
        assert got.as_of == today()
        assert any(d.overdue and d.code == "SDS-REV-01" for d in got)


def write_log(tmp_path, evs) -> str:
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(e.to_dict() if hasattr(e, "to_dict") else e) for e in evs) + "\n")
    return str(path)


class TestCommand:
    def test_text(self, tmp_path):
        """The text list says the as-of date and why, then one duty a line, overdue first."""
        log = write_log(tmp_path, moving_case() + supported_case())
        res = CliRunner().invoke(cli, ["due", log, "--as-of", "2024-02-20", "--within", "3m"])
        assert res.exit_code == 0, res.output
        lines = res.output.splitlines()
        assert lines[0].startswith("As of 2024-02-20 (given by --as-of):")
        assert any("SDS-REV-01 first review late" in ln and "team east_long_term" in ln for ln in lines)

    @pytest.mark.parametrize("fmt", ["csv", "json", "html"])
    def test_formats(self, tmp_path, fmt):
        log = write_log(tmp_path, supported_case())
        out = tmp_path / f"due.{fmt}"
        res = CliRunner().invoke(cli, ["due", log, "--as-of", "2024-02-20", "--format", fmt, "-o", str(out)])
        assert res.exit_code == 0, res.output
        text = out.read_text()
        if fmt == "csv":
            assert next(csv.DictReader(io.StringIO(text)))["code"] == "SDS-REV-01"
        elif fmt == "json":
            body = json.loads(text)
            assert body["as_of"] == "2024-02-20" and body["due"][0]["code"] == "SDS-REV-01"
        else:
            assert 'id="due"' in text and "SDS-REV-01" in text.split('id="due"')[1]

    def test_default_as_of_is_today_and_stale_logs_are_said(self, tmp_path):
        """Without --as-of the list is judged today; a log that ends long ago is pointed out on stderr."""
        res = CliRunner().invoke(cli, ["due", write_log(tmp_path, supported_case())])
        assert res.exit_code == 0
        assert f"As of {today()} (today, Europe/London)" in res.output
        assert "the latest event in the logs is 2024-01-" in res.output

    @pytest.mark.parametrize("args", [["--within", "soon"], ["--as-of", "June"]])
    def test_bad_options_exit_2(self, tmp_path, args):
        res = CliRunner().invoke(cli, ["due", write_log(tmp_path, supported_case()), *args])
        assert res.exit_code == 2 and "Traceback" not in res.output

    def test_unwritable_output_exits_2(self, tmp_path):
        res = CliRunner().invoke(cli, ["due", write_log(tmp_path, supported_case()), "-o",
                                       str(tmp_path / "missing" / "x.txt")])
        assert res.exit_code == 2 and "cannot write" in res.output


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.test_service import Server

    s = Server(tmp_path_factory.mktemp("serve-due"))
    yield s
    s.stop()


class TestService:
    """Over a real socket: ``sdsrules serve`` in a subprocess."""

    def test_check_without_as_of_answers_on_today(self, server):
        """POST /v1/check without as_of judges at today's date in Scotland and echoes it."""
        body = server.client.post("/v1/check", json={"events": long_case(n=17)}).json()
        assert body["as_of"] == today().isoformat() and body["as_of_basis"] == "today (Europe/London)"
        assert "SDS-REV-01" in {f["code"] for f in body["findings"]}  # due in 2023: overdue today
        given = server.client.post("/v1/check", json={"events": long_case(n=17), "as_of": "2023-03-02"}).json()
        assert given["as_of"] == "2023-03-02" and given["as_of_basis"] == "given"

    def test_post_due(self, server):
        """POST /v1/due lists one case's duties still owed, overdue first."""
        r = server.client.post("/v1/due", json={"events": long_case(n=17), "as_of": "2023-03-10",
                                                "within": "3m"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["as_of"] == "2023-03-10" and [d["code"] for d in body["due"]] == ["SDS-REV-01", "SDS-REV-03"]

    def test_get_due(self, server):
        """GET /v1/due takes the same fields as query parameters and gives the same answer."""
        evs = long_case(n=17)
        got = server.client.get("/v1/due", params={"events": json.dumps(evs), "as_of": "2023-03-10",
                                                   "within": "3m"}).json()
        posted = server.client.post("/v1/due", json={"events": evs, "as_of": "2023-03-10", "within": "3m"}).json()
        assert got == posted

    @pytest.mark.parametrize(("extra", "path"), [({"within": "soon"}, "$.within"), ({"by": "boss"}, "$.by"),
                                                 ({"as_of": "June"}, "$.as_of"), ({"within": 5707521121}, "$.within"),
                                                 ({"by": ["team"]}, "$.by"), ({"within": {"d": 1}}, "$.within")])
    def test_bad_due_request(self, server, extra, path):
        r = server.client.post("/v1/due", json={"events": long_case(n=5), **extra})
        assert r.status_code == 422 and r.json()["problems"][0]["path"] == path

    def test_openapi_has_due(self, server):
        doc = server.client.get("/openapi.json").json()
        assert set(doc["paths"]["/v1/due"]) == {"get", "post"}
        assert "DueResult" in doc["components"]["schemas"]

    def test_answers_match_the_openapi_document(self, server):
        """The /v1/check and /v1/due answers (with team, worker, due and outstanding) fit their schemas."""
        jsonschema = pytest.importorskip("jsonschema")
        doc = server.client.get("/openapi.json").json()

        def validate(instance, name):
            jsonschema.validate(instance, {**doc["components"]["schemas"][name], "components": doc["components"]})

        evs = long_case(n=40)
        validate(server.client.post("/v1/check", json={"events": evs}).json(), "CheckResult")
        validate(server.client.post("/v1/check", json={"events": evs, "as_of": "2024-01-01"}).json(), "CheckResult")
        validate(server.client.post("/v1/due", json={"events": evs, "within": "28d"}).json(), "DueResult")


def test_due_in_window_is_not_before_as_of():
    """An open duty due today is listed; the window end is inclusive."""
    items = due_items([], [obligation("A", "2024-06-01"), obligation("B", "2024-06-29")], date(2024, 6, 1),
                      "28d")
    assert [d.case for d in items] == ["A", "B"]
    assert date(2024, 6, 1) + timedelta(days=28) == date(2024, 6, 29)
