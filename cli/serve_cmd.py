"""``sdsrules serve``: the HTTP service (``sdsrules/service.py``) on uvicorn.

Loopback by default. Bound to any other address it refuses to start without ``--token-file``; with one,
every ``/v1/`` request needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import logging
import logging.config
import socket
import sys

import click

from sdsrules.datafile import DataFileError
from sdsrules.engine import names as engines


class _Unusable(click.ClickException):
    exit_code = 2


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "sdsrules.service": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # uvicorn's own access log prints query strings; ours (sdsrules.service.access) prints the route only
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback needs --token-file.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port (0: any free port, printed on stderr).")
@click.option("--workflow", "-w", default=None, help="Workflow design file or shipped name (default: national).")
@click.option("--engine", type=click.Choice(engines.NAMES), default=engines.LIVE_DEFAULT, show_default=True,
              help="Rule engine for the live checks (durable-rules by default; compiled or reference).")
@click.option("--rules", "rule_paths", multiple=True, help="Rule pack folder or file (default: the shipped packs).")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="File holding the bearer token clients must send (not readable by everyone).")
@click.option("--max-body", type=click.IntRange(1024), default=5 * 1024 * 1024, show_default=True,
              help="Largest request body in bytes (413 above it).")
@click.option("--max-events", type=click.IntRange(1), default=10_000, show_default=True,
              help="Most events in one request (413 above it).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes sharing the socket, each with its own engine (CPU-bound checks scale with cores).")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help="Seconds allowed to read a body, and to check or validate it (the work is stopped past it).")
@click.option("--engine-processes", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Supervised processes (per server process) that run checks and replays.")
@click.option("--max-waiting", type=click.IntRange(0), default=64, show_default=True,
              help="Requests that may wait for a busy engine process; past it, 503 with Retry-After.")
@click.option("--max-answer", type=click.IntRange(1024), default=1024 * 1024, show_default=True,
              help="Largest /v1/validate answer in bytes (problems past it are left out and counted).")
@click.option("--validate-memory", type=click.IntRange(64), default=1024, show_default=True,
              help="Megabytes of memory the process that validates posted designs may use.")
@click.option("--header-timeout", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Seconds a connection has to send a request's head (request line and headers), and an idle "
                   "kept-alive connection to send its next request.")
@click.option("--max-connections", type=click.IntRange(1), default=1024, show_default=True,
              help="Open connections in all; over it, the oldest idle one is closed.")
@click.option("--max-connections-per-client", type=click.IntRange(1), default=128, show_default=True,
              help="Open connections from one address; over it, that address's oldest idle one is closed.")
def serve(host, port, workflow, engine, rule_paths, token_file, max_body, max_events, timeout, workers,
          engine_processes, max_waiting, max_answer, validate_memory, header_timeout, max_connections,
          max_connections_per_client):
    """Serve the checks over HTTP: POST /v1/check, /v1/replay, /v1/validate; GET /v1/rules, /healthz;
    the OpenAPI document at /openapi.json."""
    from sdsrules.monitor import ENGINES
    from sdsrules.service import ServiceConfig, TokenFileError, create_app, is_loopback, read_token

    if engine not in ENGINES:
        raise click.BadParameter(f"{engine!r} is not an engine (known: {', '.join(ENGINES)})",
                                 param_hint="'--engine'")
    token = None
    if token_file:
        try:
            token = read_token(token_file)
        except TokenFileError as e:
            raise _Unusable(str(e)) from None
    if not is_loopback(host) and token is None:
        raise _Unusable(f"--host {host} is not a loopback address: give --token-file so that only clients "
                        "with the token are served")
    max_connections = min(max_connections, _fd_room())
    config = ServiceConfig(workflow=workflow, engine=engine, rules=tuple(rule_paths), token=token,
                           max_body=max_body, max_events=max_events, timeout=timeout,
                           engine_processes=engine_processes, waiting=max_waiting, max_answer=max_answer,
                           validate_memory=validate_memory * 1024 * 1024,
                           header_timeout=header_timeout, max_connections=max_connections,
                           max_connections_per_client=min(max_connections_per_client, max_connections))
    if workers == 1:
        try:
            app = create_app(config)
        except DataFileError as e:
            raise _Unusable(e.report()) from None
        except RuntimeError as e:  # an engine or validator process could not start
            raise _Unusable(str(e)) from None
    else:  # check the design and rule packs here; each worker process builds its own app (and engine thread)
        from sdsrules.engine import load_rulebook
        from sdsrules.workflow import load_workflow
        try:
            load_rulebook(list(rule_paths) or None, load_workflow(workflow))
        except DataFileError as e:
            raise _Unusable(e.report()) from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = listening_socket(family, host.strip("[]"), port)
    except OSError as e:
        raise _Unusable(f"cannot listen on {host}:{port} ({e.strerror})") from None
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    click.echo(f"sdsrules serve: listening on http://{shown}:{bound} (workflow {workflow or 'national'}, "
               f"engine {engine}, {'token required' if token else 'no token'}, {workers} process"
               f"{'es' if workers > 1 else ''})", err=True)
    sys.stderr.flush()
    if workers == 1:
        _run(app, sock, config)
        return
    _supervise(config, sock, workers)


def _fd_room() -> int:
    """Connections the open-file limit leaves room for (each is a file descriptor; keep 64 for the rest)."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return max(16, soft - 64) if soft != resource.RLIM_INFINITY else 1 << 20


def _supervise(config, sock, workers: int) -> None:
    """Run ``workers`` server processes on ``sock``; replace any that dies (logged with its pid and how it
    ended, nothing of any request), until SIGTERM or Ctrl-C stops them all."""
    import multiprocessing
    import signal
    import time
    from multiprocessing.connection import wait

    log = logging.getLogger("sdsrules.service")
    logging.config.dictConfig(LOG_CONFIG)
    ctx = multiprocessing.get_context("fork")  # nothing of the engine exists yet in this process
    stopping = False
    procs: dict[int, tuple[multiprocessing.process.BaseProcess, float]] = {}

    def start(slot: int) -> None:
        p = ctx.Process(target=_worker, args=(config, sock), daemon=True, name=f"sdsrules-serve-{slot}")
        p.start()
        procs[slot] = (p, time.monotonic())

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for p, _ in procs.values():
            if p.is_alive():
                p.terminate()

    for slot in range(workers):
        start(slot)
    signal.signal(signal.SIGTERM, stop)
    backoff = dict.fromkeys(range(workers), 0.0)
    try:
        while not stopping:
            ended = wait([p.sentinel for p, _ in procs.values()], timeout=1.0)
            for slot, (p, since) in list(procs.items()):
                if p.sentinel not in ended or stopping:
                    continue
                p.join()
                lived = time.monotonic() - since
                backoff[slot] = 0.0 if lived > 10 else min(30.0, backoff[slot] * 2 or 0.5)
                log.error("server process %d (pid %s) %s after %.0f s; starting a new one%s", slot + 1, p.pid,
                          _ended(p.exitcode), lived,
                          f" in {backoff[slot]:g} s" if backoff[slot] else "")
                if backoff[slot]:
                    time.sleep(backoff[slot])
                if not stopping:
                    start(slot)
    except KeyboardInterrupt:
        stop(None, None)
    finally:
        sock.close()
        for p, _ in procs.values():
            p.join(15)
            if p.is_alive():
                p.kill()


def _ended(code: int | None) -> str:
    import signal

    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def listening_socket(family: int, host: str, port: int) -> socket.socket:
    """The bound socket every server process accepts on.

    Made with ``IPPROTO_TCP``, not the default protocol 0: asyncio sets TCP_NODELAY on accepted connections only
    when the socket says it is TCP, and without it every answer on a kept-alive connection waited about 40 ms
    for the client's delayed ACK (measured: 48 ms a request through httpx, 4 ms with it)."""
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(config, sock) -> None:
    """One server process: its own app, engine and validator processes and event loop, accepting on the
    shared socket."""
    import signal

    from sdsrules.service import create_app

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the supervisor's handler is not ours; uvicorn sets its own
    try:
        app = create_app(config)
    except RuntimeError as e:
        logging.getLogger("sdsrules.service").error("%s", e)
        sys.exit(3)
    _run(app, sock, config)


def _run(app, sock, config) -> None:
    """Serve ``app`` on ``sock`` with uvicorn's h11 protocol, guarded (sdsrules/connections.py): a deadline for
    request heads and caps on connections instead of uvicorn's ``limit_concurrency``, which counted idle
    connections and answered everyone a plain-text 503 once 256 were open.

    A kept-alive connection is closed after ``header_timeout`` seconds without a request (the guarded protocol's
    deadline), not after uvicorn's keep-alive timeout, which is set past it: uvicorn's 5 s equals the keep-alive
    expiry of httpx and other clients, so under load a client could send a request on a connection in the very
    moment the server closed it, and read nothing back (the service benchmark's ``ReadError``s). A server must
    keep an idle connection longer than its clients do."""
    import uvicorn

    from sdsrules.connections import ConnectionLimits, guarded_protocol

    limits = ConnectionLimits(header_timeout=config.header_timeout, per_client=config.max_connections_per_client,
                              total=config.max_connections)
    server = uvicorn.Server(uvicorn.Config(app, http=guarded_protocol(limits), log_config=LOG_CONFIG,
                                           access_log=False, server_header=False,
                                           timeout_keep_alive=config.header_timeout + 5,
                                           timeout_graceful_shutdown=10, backlog=2048))
    logging.getLogger("sdsrules.service").info("serving")
    server.run(sockets=[sock])


def register(cli: click.Group) -> None:
    cli.add_command(serve)
