"""``sdsrules serve``: the HTTP service (``sdsrules/service.py``) on uvicorn.

Loopback by default. Bound to any other address it refuses to start without ``--token-file``; with one,
every ``/v1/`` request needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import logging
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
@click.option("--engine", type=click.Choice(engines.NAMES), default=engines.LIVE_DEFAULT, show_default=True)
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
              help="Seconds allowed to read a body and to check it.")
def serve(host, port, workflow, engine, rule_paths, token_file, max_body, max_events, timeout, workers):
    """Serve the checks over HTTP: POST /v1/check, /v1/replay, /v1/validate; GET /v1/rules, /healthz;
    the OpenAPI document at /openapi.json."""
    from sdsrules.service import ServiceConfig, TokenFileError, create_app, is_loopback, read_token

    token = None
    if token_file:
        try:
            token = read_token(token_file)
        except TokenFileError as e:
            raise _Unusable(str(e)) from None
    if not is_loopback(host) and token is None:
        raise _Unusable(f"--host {host} is not a loopback address: give --token-file so that only clients "
                        "with the token are served")
    config = ServiceConfig(workflow=workflow, engine=engine, rules=tuple(rule_paths), token=token,
                           max_body=max_body, max_events=max_events, timeout=timeout)
    if workers == 1:
        try:
            app = create_app(config)
        except DataFileError as e:
            raise _Unusable(e.report()) from None
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
        _run(app, sock)
        return
    import multiprocessing
    import signal

    ctx = multiprocessing.get_context("fork")  # nothing of the engine exists yet in this process
    procs = [ctx.Process(target=_worker, args=(config, sock), daemon=True) for _ in range(workers)]
    for p in procs:
        p.start()
    sock.close()

    def stop(signum, frame):
        for p in procs:
            if p.is_alive():
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        stop(None, None)
        for p in procs:
            p.join(10)


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
    """One server process: its own app, engine thread and event loop, accepting on the shared socket."""
    from sdsrules.service import create_app

    _run(create_app(config), sock)


def _run(app, sock) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_config=LOG_CONFIG, access_log=False, server_header=False,
                                           timeout_keep_alive=5, timeout_graceful_shutdown=10,
                                           limit_concurrency=256, backlog=512))
    logging.getLogger("sdsrules.service").info("serving")
    server.run(sockets=[sock])


def register(cli: click.Group) -> None:
    cli.add_command(serve)
