"""The replay on a Dask cluster (issue 7): a real local cluster of two worker processes gives byte-identical JSON
to ``sdsrules replay --format json`` run locally, on the ranges path and the external-sort path, with both
engines, and with a case that crashes its engine."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sdsrules.cli.main import cli

from sdsrules import pipeline
from sdsrules.generate import Settings, write

from . import faults

distributed = pytest.importorskip("distributed", reason="Dask is not installed: pip install 'sdsrules[dask]'")

SAMPLE = Path(__file__).resolve().parent.parent / "cases" / "sample.jsonl"
ENGINES = ("reference", "durable", "compiled")


ROOT = Path(__file__).resolve().parent.parent


def _local(log: Path, engine: str, env: dict | None = None) -> subprocess.Popen:
    """``sdsrules replay --format json`` in its own process (started now, read later), in the log's folder (with
    ``env`` naming cases to crash on, the test-only fault hook of tests/faults.py loaded first)."""
    code = "from sdsrules.cli.main import main; main()"
    if env:
        code = "import tests.faults; " + code
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-c", code, "replay", log.name,
                             "--format", "json", "--engine", engine], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": pythonpath, **(env or {})}, cwd=log.parent)


def _output(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1) and out.startswith(b"{"), err.decode()
    return out.decode()


def _on_cluster(address: str, log: Path, engine: str, monkeypatch) -> str:
    """The same on the cluster, from the log's folder: the workers' working directory is another, so the
    relative path must reach them as an absolute one while the records still name the file as it was given."""
    args = ["replay", log.name, "--format", "json", "--scheduler", address]
    args += ["--engine", "dask"] if engine == "compiled" else ["--engine", engine]  # dask: compiled on the cluster
    monkeypatch.chdir(log.parent)
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code in (0, 1), r.output
    return r.stdout


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """The sample, a generated case-sorted log of 1,200 cases, and a shuffled copy of it."""
    d = tmp_path_factory.mktemp("dask")
    gen = d / "generated.jsonl"
    with gen.open("wb") as out, (d / "generated.truth.jsonl").open("wb") as truth:
        write(Settings(cases=1200, seed=11), out, truth)
    lines = gen.read_bytes().splitlines(keepends=True)
    random.Random(5).shuffle(lines)
    shuffled = d / "shuffled.jsonl"
    shuffled.write_bytes(b"".join(lines))
    return {"sample": SAMPLE, "generated": gen, "shuffled": shuffled}


@pytest.fixture(scope="module")
def expected(logs):
    """The local answers, computed in parallel in their own processes while the cluster starts."""
    procs = {(name, engine): _local(log, engine) for name, log in logs.items() for engine in ENGINES}
    return {key: _output(p) for key, p in procs.items()}


@pytest.fixture(scope="module")
def cluster(expected):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  host="127.0.0.1") as c, distributed.Client(c) as client:
        yield c, client


def _cases(log: Path) -> list[str]:
    """The case ids of the readable lines (a generated log has broken ones too)."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("case"), str) and rec["case"].strip():
            out.append(rec["case"].strip())
    return out


def _sorted(log: Path) -> bool:
    cases = _cases(log)
    return cases == sorted(cases)


class TestOnACluster:
    @pytest.mark.parametrize("engine", ENGINES)
    def test_every_log_gives_the_same_json_as_the_local_replay(self, cluster, logs, expected, engine, monkeypatch):
        """The sample and the generated log (cut into about thirty ranges read by the workers) and its shuffled
        copy (sorted here, sent in batches) give byte-identical JSON on the cluster and locally."""
        c, client = cluster
        assert _sorted(logs["generated"])  # so the ranges path is taken
        assert not _sorted(logs["shuffled"])  # and here the external sort
        monkeypatch.setattr(pipeline, "RANGE_BYTES", 100_000)
        for name, log in logs.items():
            got = _on_cluster(c.scheduler_address, log, engine, monkeypatch)
            assert got == expected[(name, engine)], f"{name} with {engine} differs"
            doc = json.loads(got)
            assert doc["summary"]["cases"] >= 300 and doc["findings"]
        loaded = client.run(lambda: sorted(k[0] for k in __import__("sdsrules.supervise")
                                           .supervise._LOADED))
        assert len(loaded) == 2 and all(engine in engines for engines in loaded.values()), loaded


class TestCrashes:
    def test_a_case_that_kills_its_worker_is_reported_as_unchecked_exactly_as_locally(self, tmp_path, monkeypatch):
        """A case whose engine aborts its worker process every time: Dask gives up on the task (KilledWorker),
        the range's cases are checked one at a time, and that case gets the same Unchecked record as locally."""
        import dask

        log = tmp_path / "few.jsonl"
        log.write_bytes(b"".join(SAMPLE.read_bytes().splitlines(keepends=True)[:400]))  # about 30 cases
        bad = _cases(log)[3]  # one of the first cases
        env = {faults.ENV: bad, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        local = _output(_local(log, "durable", env))
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
                distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                         host="127.0.0.1", env=env, preload=["tests.faults"]) as c:
            got = _on_cluster(c.scheduler_address, log, "durable", monkeypatch)
        assert got == local
        (unchecked,) = json.loads(got)["unchecked"]
        assert unchecked["case"] == bad and "crashed" in unchecked["reason"]


class TestUsage:
    def test_engine_dask_without_a_scheduler_is_a_usage_error(self):
        r = CliRunner().invoke(cli, ["replay", str(SAMPLE), "--engine", "dask"])
        assert r.exit_code == 2 and "--engine dask needs --scheduler" in r.output

    def test_an_unreachable_scheduler_exits_2_naming_it(self, monkeypatch):
        from sdsrules import distributed as ours

        monkeypatch.setattr(ours, "CONNECT_TIMEOUT", 1)
        r = CliRunner().invoke(cli, ["replay", str(SAMPLE), "--scheduler", "tcp://127.0.0.1:9"])
        assert r.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.output


class TestAsOf:
    def test_a_rejected_line_never_moves_the_as_of_date_on_the_cluster(self, cluster, tmp_path, monkeypatch):
        """The one as-of rule (the latest accepted event) on the cluster too, on both paths."""
        from .test_as_of import AS_OF, BAD, GOOD, _jsonl

        c, _client = cluster
        monkeypatch.setattr(pipeline, "RANGE_BYTES", 60)
        for name, records in (("sorted.jsonl", GOOD + BAD), ("unsorted.jsonl", list(reversed(GOOD + BAD)))):
            log = tmp_path / name
            log.write_text(_jsonl(records))
            s = json.loads(_on_cluster(c.scheduler_address, log, "reference", monkeypatch))["summary"]
            assert s["as_of"] == AS_OF and s["events_rejected"] == 2, name


class TestComplete:
    def test_complete_reaches_the_cluster_workers(self, cluster, logs, monkeypatch):
        """``--complete`` rides on the loaded design, not on its file: the cluster's workers (which load the
        design from its file) judge each case's log as its complete history too, as a local replay does."""
        c, _client = cluster
        log = logs["sample"]
        monkeypatch.chdir(log.parent)
        got = {}
        for where in ("local", "cluster"):
            args = ["replay", log.name, "--format", "json", "--complete", "--engine", "reference"]
            if where == "cluster":
                args += ["--scheduler", c.scheduler_address]
            r = CliRunner().invoke(cli, args, catch_exceptions=False)
            assert r.exit_code == 1, r.output
            got[where] = json.loads(r.stdout)
        plain = CliRunner().invoke(cli, ["replay", log.name, "--format", "json", "--engine", "reference"])
        assert got["cluster"]["findings"] == got["local"]["findings"]
        assert len(got["local"]["findings"]) > len(json.loads(plain.stdout)["findings"])  # --complete mattered


class TestKilledDaskWorkers:
    """Issue 18 H4 on the cluster: a Dask worker SIGKILLed at a random point of a replay is restarted by its nanny,
    its tasks run again elsewhere, and the output is the local one; never a hang (each run bounded)."""

    def _kill_runs(self, cluster, logs, expected, monkeypatch, tries: int, seed: int) -> None:
        import signal
        import threading
        import time

        c, client = cluster
        rnd = random.Random(seed)
        monkeypatch.setattr(pipeline, "RANGE_BYTES", 100_000)
        for n in range(tries):
            name = rnd.choice(["generated", "shuffled"])
            client.wait_for_workers(1, timeout=60)
            pids = list(client.run(os.getpid).values())
            if len(pids) < 2:  # a nanny that has not brought its worker back yet: never kill the last one
                time.sleep(1)
                continue
            victim = rnd.choice(pids)
            timer = threading.Timer(rnd.uniform(0.2, 2.0), lambda v=victim: os.kill(v, signal.SIGKILL))
            timer.start()
            got: dict = {}
            def run(got=got, log=logs[name]):
                try:
                    got["out"] = _on_cluster(c.scheduler_address, log, "reference", monkeypatch)
                except BaseException as e:  # reported below, in the test's thread
                    got["error"] = e

            runner = threading.Thread(target=run, daemon=True)
            runner.start()
            runner.join(180)
            timer.cancel()
            assert not runner.is_alive(), f"try {n}: the replay on the cluster hung"
            assert "error" not in got, f"try {n}: {got.get('error')!r}"
            assert got["out"] == expected[(name, "reference")], f"try {n}: {name} differs after a killed worker"
            time.sleep(0.2)

    def test_a_killed_worker(self, cluster, logs, expected, monkeypatch):
        self._kill_runs(cluster, logs, expected, monkeypatch, tries=1, seed=3)

    @pytest.mark.slow
    @pytest.mark.skipif("'slow' not in config.getoption('-m')", reason="a long run: pytest -m slow")
    def test_many_killed_workers(self, cluster, logs, expected, monkeypatch):
        self._kill_runs(cluster, logs, expected, monkeypatch, tries=10, seed=11)
