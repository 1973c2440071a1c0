"""Load on the HTTP service over loopback: an open-loop generator at a fixed rate, with the server's memory.

    python benchmarks/service_load.py [--rate 200] [--seconds 60] [--events 60] [--in-flight 64]

Starts ``sdsrules serve`` on 127.0.0.1 (a free port), then sends ``POST /v1/check`` requests on a fixed
schedule (open loop: a request is started every 1/rate s whether or not earlier ones have answered, with at
most ``--in-flight`` outstanding; a request that would exceed that counts as dropped). Each request is one
case: ``long_case`` cut to ``--events`` events (default 60), a different case id each time. Records every
error (status other than 200, or a transport error), latency p50/p99/max, and the server's RSS sampled each
second from /proc/PID/status. Stops by itself after ``--seconds`` (and at most rate*seconds requests), then
stops the server. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.replay_bench import tree_rss_kb as rss_kb  # noqa: E402  (RSS of the server and its workers)
from tests.test_monitor import long_case  # noqa: E402  (after the path is set)


def start_server(engine: str, log: Path, workers: int = 1, engine_processes: int = 2
                 ) -> tuple[subprocess.Popen, str]:
    out = log.open("w")
    proc = subprocess.Popen([sys.executable, "-c", "from sdsrules.cli.main import main; main()", "serve",
                             "--host", "127.0.0.1", "--port", "0", "--engine", engine, "--workers", str(workers),
                             "--engine-processes", str(engine_processes)],
                            stdout=subprocess.DEVNULL, stderr=out, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Application startup complete" in text:
            return proc, text.split("listening on ")[1].split()[0]
        if proc.poll() is not None:
            raise SystemExit(f"the server exited:\n{text}")
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


async def run(url: str, pid: int, rate: float, seconds: float, events: int, in_flight: int) -> dict:
    total = int(rate * seconds)
    bodies = [{"events": long_case(f"L-{k}", n=events)} for k in range(50)]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    dropped = 0
    rss: list[int] = []
    sem = asyncio.Semaphore(in_flight)
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)

    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        async def one(k: int) -> None:
            t = time.perf_counter()
            try:
                r = await client.post("/v1/check", json=bodies[k % len(bodies)])
                if r.status_code != 200:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                else:
                    latencies.append((time.perf_counter() - t) * 1000)
            except httpx.HTTPError as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            finally:
                sem.release()

        async def sample() -> None:
            while True:
                rss.append(rss_kb(pid))
                await asyncio.sleep(1)

        sampler = asyncio.create_task(sample())
        tasks = []
        start = time.perf_counter()
        for k in range(total):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if sem.locked():
                dropped += 1  # the open loop does not wait: too many outstanding counts against the server
                continue
            await sem.acquire()
            tasks.append(asyncio.create_task(one(k)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        sampler.cancel()
        rss.append(rss_kb(pid))
    latencies.sort()
    return {"sent": len(tasks), "ok": len(latencies), "dropped": dropped, "errors": errors, "elapsed": elapsed,
            "latencies": latencies, "rss": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--events", type=int, default=60)
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--engine", default="durable", help="any engine `sdsrules serve --engine` takes")
    ap.add_argument("--engine-processes", type=int, default=2, help="sdsrules serve --engine-processes")
    ap.add_argument("--workers", type=int, default=1, help="server processes (sdsrules serve --workers)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(args.engine, Path(tmp) / "serve.log", args.workers, args.engine_processes)
        try:
            res = asyncio.run(run(url, proc.pid, args.rate, args.seconds, args.events, args.in_flight))
        finally:
            proc.terminate()
            proc.wait(15)
    lat, rss = res["latencies"], res["rss"]

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    print(f"POST /v1/check, {args.events}-event cases, engine {args.engine} ({args.engine_processes} engine "
          f"process(es)), {args.workers} server process(es): "
          f"target {args.rate:g} req/s for "
          f"{args.seconds:g} s, open loop, at most {args.in_flight} in flight")
    print(f"  sent {res['sent']} in {res['elapsed']:.1f} s ({res['sent'] / res['elapsed']:.1f} req/s), "
          f"ok {res['ok']}, errors {sum(res['errors'].values())} {res['errors'] or ''}, dropped {res['dropped']}")
    if lat:
        print(f"  latency p50 {pct(0.5):.1f} ms  p90 {pct(0.9):.1f} ms  p99 {pct(0.99):.1f} ms  max {lat[-1]:.1f} ms"
              f"  mean {statistics.fmean(lat):.1f} ms")
    if rss:
        first = rss[min(5, len(rss) - 1)]
        print(f"  server RSS: start {rss[0] / 1024:.1f} MB, after 5 s {first / 1024:.1f} MB, "
              f"end {rss[-1] / 1024:.1f} MB, max {max(rss) / 1024:.1f} MB ({len(rss)} samples)")
        print("  RSS each 10 s (MB): " + " ".join(f"{v / 1024:.1f}" for v in rss[::10]))


if __name__ == "__main__":
    main()
