"""The HTTP service: the same checks as the CLI and the Python API, for case systems in any language.

An ASGI app (Starlette) with an exact OpenAPI 3.1 document at ``/openapi.json``:

* ``POST /v1/check``: one case's events -> its findings and open obligations (:func:`sdsrules.monitor.assess`).
* ``POST /v1/replay``: many cases' events -> the report the CLI's ``replay --format json`` writes, plus the
  open obligations. Unusable records become SDS-DAT-01 rejections, as in the CLI.
* ``POST /v1/validate``: a workflow design (YAML text or a JSON object) -> the ``validate --format json`` result.
* ``GET /v1/rules``: the rule packs in use. ``GET /healthz``: liveness, without authentication.

Safety: a bearer token (compared with :func:`hmac.compare_digest`) guards ``/v1/`` when one is configured;
bodies above the size limit get 413, requests above the events limit 413, malformed input 400 or 422 with
the JSON path of the problem. No error text and no log line carries case data: errors name paths and what
was allowed, never the value that came; the access log holds method, route, status and duration only.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hmac
import json
import logging
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import __version__
from .engine.names import LIVE_DEFAULT
from .events import EARLIEST, LATEST, Rejection
from .isolate import Busy, Pool, WorkerDied, WorkTimeout
from .monitor import CheckTimeout, EventInputError, assess, event_from, load_setup, one_case
from .pipeline import CollectSink, Options, drive

log = logging.getLogger("sdsrules.service")
access_log = logging.getLogger("sdsrules.service.access")

ROUTES = ("/healthz", "/openapi.json", "/v1/check", "/v1/replay", "/v1/validate", "/v1/rules", "/v1/due")
BUILT_IN = ("SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-01", "SDS-DAT-02")


@attrs.frozen(slots=True)
class ServiceConfig:
    """How the service runs: workflow, engine, token, and its limits."""

    workflow: str | None = None
    engine: str = LIVE_DEFAULT
    rules: tuple[str, ...] = ()
    token: bytes | None = attrs.field(default=None, repr=False)
    max_body: int = 5 * 1024 * 1024  # bytes in one request body
    max_events: int = 10_000  # events in one request
    timeout: float = 30.0  # seconds to read a body, and to check it
    engine_processes: int = 2  # supervised processes that run checks and replays (each with its own engine)
    waiting: int = 64  # requests that may wait for a busy engine or validator before the service answers 503
    validate_memory: int = 1024 * 1024 * 1024  # bytes of address space for the process that checks designs
    max_answer: int = 1024 * 1024  # bytes in a /v1/validate answer: problems past it are left out and counted
    header_timeout: float = 10.0  # seconds for a connection to deliver a request head
    max_connections: int = 1024  # open connections in all (idle ones make way for new ones)
    max_connections_per_client: int = 128  # open connections from one address


class Problem(Exception):
    """An answer other than 200: status, a stable error code, a sentence, and the paths at fault."""

    def __init__(self, status: int, error: str, message: str, problems: list[dict] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, error, message)
        self.status, self.error, self.message = status, error, message
        self.problems, self.headers = problems or [], headers

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.problems:
            body["problems"] = self.problems
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(self.to_dict(), status_code=self.status, headers=self.headers)


def _json(data: Any, status: int = 200) -> Response:
    return Response(_dumps(data), status_code=status, media_type="application/json")


def log_failure(e: BaseException, method: str | None, route: str) -> None:
    """Log an unexpected error by type and place only: exception texts can quote case data."""
    log.error("unhandled %s on %s %s (%s)", type(e).__name__, method, route, _where(e))


def _where(e: BaseException) -> str:
    return "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}"
                     for f in traceback.extract_tb(e.__traceback__)[-4:])


INTERNAL = "the service failed on this request; the log says where"


# -------------------------------------------------------------------------------------------- reading input


async def read_json(request: Request, config: ServiceConfig) -> Any:
    """The request's JSON body, within the size limit and the time limit."""
    return parse_json(await read_body(request, config))


async def read_body(request: Request, config: ServiceConfig) -> bytes:
    """The request's body, said to be JSON, within the size limit and the time limit (not yet parsed)."""
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() != "application/json":
        raise Problem(415, "unsupported_media_type", "the body must be JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "bad_request", "the Content-Length header must be a whole number")
        if int(declared) > config.max_body:
            raise _too_large(config)

    async def receive() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > config.max_body:
                raise _too_large(config)
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(receive(), config.timeout)
    except TimeoutError:
        raise Problem(408, "request_timeout", f"the body did not arrive within {config.timeout:g} s") from None


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise Problem(400, "invalid_json", f"the body is not valid JSON (at byte {e.pos})") from None


def _too_large(config: ServiceConfig) -> Problem:
    return Problem(413, "body_too_large", f"the body is larger than the limit of {config.max_body} bytes")


def _parse_day(value: Any, path: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise Problem(422, "invalid_request", f"{path} must be a date YYYY-MM-DD",
                      [{"path": path, "message": "must be a date YYYY-MM-DD"}])
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        message = f"must be a date YYYY-MM-DD between {EARLIEST} and {LATEST}"
        raise Problem(422, "invalid_request", f"{path} {message}", [{"path": path, "message": message}])
    return day


def events_request(body: Any, config: ServiceConfig) -> tuple[list, date | None]:
    """``{"events": [...], "as_of": "YYYY-MM-DD"}``: the raw events and the as-of date."""
    if not isinstance(body, dict):
        raise Problem(422, "invalid_request", "the body must be a JSON object with 'events'",
                      [{"path": "$", "message": "must be an object"}])
    extra = set(body) - {"events", "as_of"}
    if extra:
        raise Problem(422, "invalid_request", "the body may hold only 'events' and 'as_of'",
                      [{"path": "$", "message": f"has {len(extra)} unknown field(s); allowed: events, as_of"}])
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise Problem(422, "invalid_request", "$.events must be a non-empty list of events",
                      [{"path": "$.events", "message": "must be a non-empty list of events"}])
    if len(events) > config.max_events:
        raise Problem(413, "too_many_events",
                      f"a request may carry at most {config.max_events} events (this one has {len(events)})",
                      [{"path": "$.events", "message": f"has more than {config.max_events} events"}])
    as_of = body.get("as_of")
    return events, None if as_of is None else _parse_day(as_of, "$.as_of")


def _event_path(e: EventInputError) -> str:
    path = f"$.events[{e.index}]"
    return f"{path}.{e.field}" if e.field else path


# -------------------------------------------------------------------------------------------- the work


class Service:
    """The loaded workflow and rules, and the answers to each endpoint (plain calls, run off the event loop)."""

    def __init__(self, config: ServiceConfig, warm: bool = True):
        self.config = config
        self.setup = load_setup(config.workflow, list(config.rules) or None)
        if warm:  # durable-rules compiles its ruleset on first use: done now, so the first request is not slow
            assess([{"case": "warm-up", "at": "2024-01-01", "activity": "referral_received"}], self.setup.wf,
                   engine=config.engine, rules=list(config.rules) or None)

    def check(self, body: Any) -> dict:
        raw, as_of = events_request(body, self.config)
        try:
            result = assess(raw, self.setup.wf, as_of, engine=self.config.engine,
                            rules=list(self.config.rules) or None, timeout=self.config.timeout)
        except EventInputError as e:
            raise Problem(422, "invalid_event", f"{_event_path(e)} {e.reason}",
                          [{"path": _event_path(e), "message": e.reason}]) from None
        # judged at today's date in Scotland unless as_of is given; the answer says which
        assert result is not None  # events_request refuses an empty list
        return dict(result.to_dict(), as_of_basis="given" if as_of else "today (Europe/London)")

    def due(self, body: Any) -> dict:
        """``{"events": [...], "as_of"?, "within"?, "by"?}``: one case's duties still owed, overdue first."""
        from .api import due
        from .duelist import BY

        if isinstance(body, dict):
            body = dict(body)
            within, by = body.pop("within", None), body.pop("by", None)
        else:
            within = by = None
        raw, as_of = events_request(body, self.config)
        if within is not None and (not isinstance(within, str | int) or isinstance(within, bool)):
            raise Problem(422, "invalid_request", "$.within must be a period such as 28d, 4w or 3m",
                          [{"path": "$.within", "message": "must be a period such as 28d, 4w or 3m"}])
        if by is not None and by not in BY:
            raise Problem(422, "invalid_request", "$.by must be team or worker",
                          [{"path": "$.by", "message": "must be team or worker"}])
        try:
            from .duelist import window_end
            window_end(as_of or date.today(), within)
        except ValueError:
            raise Problem(422, "invalid_request", "$.within must be a period such as 28d, 4w or 3m",
                          [{"path": "$.within", "message": "must be a period such as 28d, 4w or 3m"}]) from None
        try:
            one_case(raw, vocabulary=self.setup.wf.reading_vocabulary)
            items = due(raw, within, as_of, workflow=self.setup.wf, by=by, engine=self.config.engine,
                        rules=list(self.config.rules) or None)
        except EventInputError as e:
            raise Problem(422, "invalid_event", f"{_event_path(e)} {e.reason}",
                          [{"path": _event_path(e), "message": e.reason}]) from None
        return {"as_of": items.as_of.isoformat(), "as_of_basis": "given" if as_of else "today (Europe/London)",
                "within": within, "due": [d.to_dict() for d in items]}

    def replay(self, body: Any) -> dict:
        raw, as_of = events_request(body, self.config)
        records: list = []
        for n, rec in enumerate(raw):
            try:
                records.append(event_from(rec, n, file="request", vocabulary=self.setup.wf.reading_vocabulary))
            except EventInputError as e:
                records.append(Rejection("request", n + 1, f"{_event_path(e)} {e.reason}", e.field))
        setup = self.setup
        opts = Options(setup.wf, self.config.engine, book=setup.book, as_of=as_of, executor="inline",
                       deadline=time.monotonic() + self.config.timeout)
        sink = CollectSink()
        drive(sink, opts, records=records)
        report = sink.report()
        out = report.to_dict()
        out["rejected"] = [_rejection(r) for r in report.rejected]
        out["obligations"] = [o.to_dict() for o in report.obligations]
        return out

    def validate(self, body: Any) -> dict:
        return validate_design(body, self.config.max_answer)

    def rules(self) -> dict:
        book = self.setup.book
        return {
            "workflow": self.setup.wf.describe(),
            "rules": [{"code": r.code, "title": r.title, "severity": r.severity, "version": r.version,
                       "sources": list(r.sources), "parameters": sorted(r.parameters()),
                       "effective_from": r.effective_from.isoformat() if r.effective_from else None,
                       "effective_until": r.effective_until.isoformat() if r.effective_until else None}
                      for r in book.rules],
            "built_in": list(BUILT_IN),
        }

    def health(self) -> dict:
        return {"status": "ok", "version": __version__, "engine": self.config.engine,
                "workflow": self.setup.wf.describe(), "rules": len(self.setup.book.rules)}


def validate_design(body: Any, max_answer: int) -> dict:
    """``{"design": ...}`` -> the ``validate --format json`` result, at most ``max_answer`` bytes of it."""
    from .formats.designs import to_json
    from .validate import validate_file

    if not isinstance(body, dict) or set(body) - {"design"} or "design" not in body:
        raise Problem(422, "invalid_request", "the body must be an object with only 'design'",
                      [{"path": "$", "message": "must be an object with only 'design'"}])
    design = body["design"]
    if isinstance(design, dict):
        text = json.dumps(design, ensure_ascii=False)  # YAML reads JSON (escapes would split surrogate pairs)
    elif isinstance(design, str) and design.strip():
        text = design
    else:
        raise Problem(422, "invalid_request", "$.design must be YAML text or a JSON object",
                      [{"path": "$.design", "message": "must be non-empty YAML text or an object"}])
    folder = tempfile.mkdtemp(prefix="sdsrules-design-")
    try:
        path = Path(folder) / "design.yaml"  # alone in its folder: 'extends' can reach only shipped designs
        path.write_text(text, encoding="utf-8")
        out = to_json([validate_file(path)])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out = json.loads(json.dumps(out).replace(str(path), "design.yaml").replace(folder, "."))
    return cap_answer(out, max_answer)


def cap_answer(out: dict, max_answer: int) -> dict:
    """``out`` (a validate result) within ``max_answer`` bytes of JSON: each design keeps the problems that fit,
    in order, and says how many it left out (``problems_omitted``); the summary still counts them all."""
    size = len(_dumps(out))
    if size <= max_answer:
        return out
    designs = out["designs"]
    kept_size = len(_dumps({**out, "designs": [{**d, "problems": []} for d in designs]}))
    for d in designs:
        kept = []
        for p in d["problems"]:
            cost = len(_dumps(p)) + 1
            if kept_size + cost + 32 <= max_answer:  # 32: room for ', "problems_omitted": N'
                kept.append(p)
                kept_size += cost
        if len(kept) < len(d["problems"]):
            d["problems_omitted"] = len(d["problems"]) - len(kept)
            d["problems"] = kept
            kept_size += 32
    return out


def _dumps(data: Any) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # text orjson will not write (a lone surrogate read from YAML): escaped by the stdlib
        return json.dumps(data).encode()


def _rejection(r: Rejection) -> dict:
    """A rejection as the service reports it: by position in the request, never with the case's data."""
    reason = r.reason if r.id is None else (f"$.events[{r.line - 1}].id repeats an earlier event's id in the "
                                            "same case; the repeat is not replayed")
    return {"code": r.code, "index": r.line - 1, "field": r.field, "reason": reason}


# -------------------------------------------------------------------------------------------- processes
#
# Checks, replays and design validation run in supervised child processes (sdsrules/isolate.py), not on the
# server's threads: work that outlives the time limit is stopped with its process, which is replaced, so a
# 10,000-event case on durable-rules or a design with thousands of states holds up no one past its own 503.
# The validator also runs under a memory limit (RLIMIT_AS). A child answers ("answer", status, JSON bytes,
# headers), or ("failed", exception type, code location) for the server to log; never the request's content.


def engine_handler(config: ServiceConfig) -> Callable[[tuple[str, bytes]], tuple]:
    """In an engine process: the service with its engine warmed up; ``(method, body)`` -> answer."""
    service = Service(config)
    methods: dict[str, Callable[[Any], dict]] = {"check": service.check, "replay": service.replay}

    def handle(payload: tuple[str, bytes]) -> tuple:
        method, raw = payload
        return _answer(methods[method], raw)
    return handle


def validate_handler(config: ServiceConfig) -> Callable[[bytes], tuple]:
    """In the validator process (under its memory limit): body -> answer."""
    from . import validate  # noqa: F401  (imported once, before the first request)
    from .formats import designs  # noqa: F401

    def handle(raw: bytes) -> tuple:
        try:
            return _answer(lambda body: validate_design(body, config.max_answer), raw)
        except MemoryError:
            return _problem(Problem(422, "design_too_complex", "checking this design needs more memory than the "
                                    f"service allows ({config.validate_memory // 2**20} MB)"))
    return handle


def _answer(work: Callable[[Any], dict], raw: bytes) -> tuple:
    try:
        return ("answer", 200, _dumps(work(parse_json(raw))), None)
    except Problem as p:
        return _problem(p)
    except (TimeoutError, MemoryError):  # the process is replaced: what timed out may still hold it
        raise
    except Exception as e:
        return ("failed", type(e).__name__, _where(e))


def _problem(p: Problem) -> tuple:
    return ("answer", p.status, _dumps(p.to_dict()), p.headers)


# -------------------------------------------------------------------------------------------- ASGI


class Guard:
    """Outermost layer: bearer token on ``/v1/``, an access log line without case data, and a JSON 500 for any
    error that escaped (logged by type and place only: exception texts can quote case data)."""

    def __init__(self, app: ASGIApp, token: bytes | None):
        self.app, self.token = app, token
        self.pools: dict[str, Pool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope.get("path", "")
        route = path if path in ROUTES else "-"
        status = {"code": 0}

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            if self.token is not None and path.startswith("/v1/") and not self.authorised(scope):
                await Problem(401, "unauthorized", "a valid bearer token is required",
                              headers={"WWW-Authenticate": 'Bearer realm="sdsrules"'}).response()(
                    scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        except Exception as e:
            log_failure(e, scope.get("method"), route)
            if status["code"] == 0:
                await Problem(500, "internal_error", INTERNAL).response()(scope, receive, sending)
        finally:
            access_log.info("%s %s %d %.1fms", scope.get("method"), route, status["code"],
                            1000 * (time.perf_counter() - started))

    def authorised(self, scope: Scope) -> bool:
        supplied = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, credential = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    supplied = credential.strip()
        return hmac.compare_digest(supplied, self.token or b"")


def create_app(config: ServiceConfig | None = None) -> ASGIApp:
    """The ASGI app for ``config`` (defaults: national workflow, durable engine, no token), with its engine and
    validator processes started."""
    config = config or ServiceConfig()
    service = Service(config, warm=False)  # health and rules here; the engines work in their own processes
    document = openapi(config)
    child = attrs.evolve(config, token=None)
    engines = Pool("engine", "sdsrules.service:engine_handler", child, size=max(1, config.engine_processes),
                   waiting=config.waiting)
    validator = Pool("validator", "sdsrules.service:validate_handler", child, size=1,
                     memory=config.validate_memory, waiting=min(8, config.waiting))
    pools = (engines, validator)
    try:
        start_all(pools)
    except WorkerDied as e:
        close_all(pools)
        raise RuntimeError(e.how) from None
    atexit.register(close_all, pools)
    local = ThreadPoolExecutor(4, thread_name_prefix="sdsrules-service")  # in-process endpoints, if any

    def isolated(pool: Pool, method: str | None, what: str):
        async def handle(request: Request) -> Response:
            try:
                raw = await read_body(request, config)
                answer = await pool.call(raw if method is None else (method, raw), config.timeout)
            except Problem as p:
                return p.response()
            except Busy:
                return Problem(503, "busy", f"the service is busy (every {pool.name} process at work and "
                               f"{pool.waiting} requests waiting); retry shortly",
                               headers={"Retry-After": "1"}).response()
            except WorkTimeout:
                return Problem(503, "timeout", f"the {what} did not finish within {config.timeout:g} s").response()
            except WorkerDied:  # logged by the pool, which replaces the process
                if pool is validator:  # under its memory limit, the allocator can fail where Python cannot catch it
                    return Problem(422, "design_too_complex", "checking this design stopped the validator: it needs "
                                   f"more memory than the service allows ({config.validate_memory // 2**20} MB)"
                                   ).response()
                return Problem(500, "internal_error", INTERNAL).response()
            if answer[0] == "answer":
                _, status, body, headers = answer
                return Response(body, status_code=status, headers=headers, media_type="application/json")
            log.error("unhandled %s on %s %s (%s)", answer[1], request.method, request.url.path, answer[2])
            return Problem(500, "internal_error", INTERNAL).response()
        return handle

    def endpoint(work: Callable[[Any], dict], status: int = 200):
        async def handle(request: Request) -> Response:
            try:
                body = await read_json(request, config)
                return _json(await asyncio.get_running_loop().run_in_executor(local, work, body), status)
            except Problem as p:
                return p.response()
            except CheckTimeout:
                return Problem(503, "timeout", f"the check did not finish within {config.timeout:g} s").response()
            except Exception as e:  # answered here as JSON; Starlette's own answer would be plain text
                log_failure(e, request.method, request.url.path)
                return Problem(500, "internal_error", INTERNAL).response()
        return handle

    async def healthz(request: Request) -> Response:
        return _json(service.health())

    post_due = endpoint(service.due)

    async def due(request: Request) -> Response:
        """GET: the same as POST, with ``events`` (JSON text), ``as_of``, ``within`` and ``by`` as query
        parameters."""
        if request.method == "POST":
            return await post_due(request)
        q = request.query_params
        text = q.get("events", "")
        try:
            if len(text.encode("utf-8")) > config.max_body:
                raise _too_large(config)
            try:
                events = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise Problem(422, "invalid_request", "the events parameter must be a JSON list of events",
                              [{"path": "$.events", "message": "must be a JSON list of events"}]) from None
            body = {"events": events, **{k: q[k] for k in ("as_of", "within", "by") if k in q}}
            return _json(await asyncio.to_thread(service.due, body))
        except Problem as p:
            return p.response()
        except CheckTimeout:
            return Problem(503, "timeout", f"the check did not finish within {config.timeout:g} s").response()
        except Exception as e:
            log_failure(e, request.method, request.url.path)
            return Problem(500, "internal_error", INTERNAL).response()

    async def rules(request: Request) -> Response:
        return _json(service.rules())

    async def spec(request: Request) -> Response:
        return _json(document)

    async def not_found(request: Request, exc: Exception) -> Response:
        return Problem(404, "not_found", "no such endpoint; see /openapi.json").response()

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return Problem(405, "method_not_allowed", "this endpoint does not take that method").response()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        close_all(pools)
        local.shutdown(wait=False)

    app = Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", spec, methods=["GET"]),
        Route("/v1/rules", rules, methods=["GET"]),
        Route("/v1/check", isolated(engines, "check", "check"), methods=["POST"]),
        Route("/v1/due", due, methods=["GET", "POST"]),
        Route("/v1/replay", isolated(engines, "replay", "replay"), methods=["POST"]),
        Route("/v1/validate", isolated(validator, None, "validation"), methods=["POST"]),
    ], exception_handlers={404: not_found, 405: not_allowed}, lifespan=lifespan)
    guard = Guard(app, config.token)
    guard.pools = {p.name: p for p in pools}
    return guard


def start_all(pools: Sequence[Pool]) -> None:
    """Start every process of ``pools`` at once (each imports and loads for about half a second)."""
    errors: list[WorkerDied] = []

    def start(w: Any) -> None:
        try:
            w.start()
        except WorkerDied as e:
            errors.append(e)

    threads = [threading.Thread(target=start, args=(w,)) for p in pools for w in p.workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def close_all(pools: Sequence[Pool]) -> None:
    for p in pools:
        p.close()


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TokenFileError(ValueError):
    """The token file cannot be used (missing, empty, too short, or readable by everyone)."""


def read_token(path: str | Path) -> bytes:
    """The bearer token in ``path``: at least 16 characters, the file not readable by everyone."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise TokenFileError(f"the token file {p} cannot be read ({e.strerror})") from None
    if mode & 0o004:
        raise TokenFileError(f"the token file {p} is readable by everyone; chmod o-r it first")
    if len(text) < 16 or any(c.isspace() for c in text):
        raise TokenFileError(f"the token file {p} must hold one token of at least 16 characters, no spaces")
    return text.encode()


# -------------------------------------------------------------------------------------------- OpenAPI


def _obj(props: dict, required: list[str] | None = None, extra: bool = False, **more) -> dict:
    out = {"type": "object", "properties": props, "required": required if required is not None else list(props),
           "additionalProperties": extra}
    out.update(more)
    return out


_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_DATE = {"type": "string", "format": "date"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _arr(item: dict) -> dict:
    return {"type": "array", "items": item}


def _kind_schema(kind) -> dict:
    from .events import Bool, Day, ListOf, Number, OneOf, Text

    if isinstance(kind, Text):
        return {"type": "string"}
    if isinstance(kind, Bool):
        return {"type": "boolean"}
    if isinstance(kind, Day):
        return {"type": "string", "format": "date"}
    if isinstance(kind, OneOf):
        return {"enum": list(kind.choices)}
    if isinstance(kind, ListOf):
        return {"type": "array", "items": _kind_schema(kind.item), **({"minItems": 1} if kind.non_empty else {})}
    if isinstance(kind, Number):
        out: dict[str, Any] = {"type": "integer" if kind.integer else "number"}
        if kind.minimum is not None:
            out["minimum"] = kind.minimum
        if kind.maximum is not None:
            out["maximum"] = kind.maximum
        return out
    return {}


def _event_schema(activity: str, spec: dict) -> dict:
    """One activity's event: the core fields and the activity's typed attributes (others are kept as given)."""
    props: dict[str, Any] = {
        "id": {"type": ["string", "integer"]}, "case": {"type": ["string", "number"]},
        "at": {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}],
               "description": "ISO 8601 date or date-time (no offset: Europe/London), 1900 to 2100"},
        "activity": {"const": activity}, "actor": _ref("Actor"),
    }
    props.update({name: _kind_schema(kind) for name, (kind, _) in spec.items()})
    required = ["case", "at", "activity", *sorted(n for n, (_, req) in spec.items() if req)]
    return {"type": "object", "properties": props, "required": required, "additionalProperties": True}


def openapi(config: ServiceConfig) -> dict:
    """The OpenAPI 3.1 document of the service, exact for every answer it gives."""
    from .events import ACTIVITIES, ROLES

    evidence = _obj({"id": _STR, "at": _STR, "activity": _STR, "role": _STR}, ["id", "at", "activity"])
    finding = _obj({
        "code": _STR, "case": _STR, "at": _DATE, "events": _arr(_ref("Evidence")), "message": _STR,
        "source": _arr(_STR), "title": _STR, "severity": {"enum": ["high", "medium", "low"]}, "expected": _STR,
        "actual": _STR, "stage": _STR, "workflow": _STR, "rule_version": _STR, "parameters": _arr({"type": "object"}),
        "team": _STR, "worker": _STR, "due": _DATE, "outstanding": _BOOL,
    }, ["code", "case", "at", "events", "message", "source", "title", "severity", "expected", "actual", "stage",
        "workflow", "rule_version", "parameters"],
        description="A process breach in one case, with its evidence events and source; team and worker are "
                    "those of the event that triggered the duty; outstanding: overdue and still owed.")
    obligation = _obj({"code": _STR, "case": _STR, "due": {"type": ["string", "null"], "format": "date"},
                       "message": _STR, "overdue": _BOOL,
                       "trigger": {"oneOf": [_ref("Evidence"), {"type": "null"}]},
                       "title": _STR, "team": _STR, "worker": _STR},
                      ["code", "case", "due", "message", "overdue", "trigger"],
                      description="A duty open at the as-of date: what is due, by when, and why.")
    actor = _obj({"id": {"type": ["string", "integer"]}, "role": {"enum": list(ROLES)},
                  "team": {"type": ["string", "integer"]}}, [])
    event = {"description": "One recorded step of a case (docs/contract.md): the activity's attributes sit "
                            "flat at the top level, as the contract types them.",
             "oneOf": [_ref(f"Event_{name}") for name in sorted(ACTIVITIES)]}
    events_body = _obj({"events": {**_arr(_ref("Event")), "minItems": 1, "maxItems": config.max_events},
                        "as_of": _DATE}, ["events"])
    problem = _obj({"path": _STR, "message": _STR})
    error = _obj({"error": _STR, "message": _STR, "problems": _arr(_ref("ProblemDetail"))}, ["error", "message"])
    summary = _obj({"cases": _INT, "events_read": _INT, "events_replayed": _INT, "events_rejected": _INT,
                    "findings_by_code": {"type": "object", "additionalProperties": _INT}, "findings": _INT,
                    "as_of": _STR, "as_of_rule": _STR, "workflow": _STR, "engine": _STR, "rules": _INT,
                    "cases_unchecked": _INT})
    rejection = _obj({"code": _STR, "index": _INT, "field": {"type": ["string", "null"]}, "reason": _STR})
    basis = {"enum": ["given", "today (Europe/London)"],
             "description": "why this as-of date: given in the request, or today's date in Scotland"}
    check_result = _obj({"case": _STR, "as_of": _DATE, "as_of_basis": basis, "events": _INT,
                         "findings": _arr(_ref("Finding")), "obligations": _arr(_ref("Obligation"))})
    due_body = _obj({"events": {**_arr(_ref("Event")), "minItems": 1, "maxItems": config.max_events},
                     "as_of": _DATE, "within": {"type": ["string", "integer"], "examples": ["28d", "4w", "3m"]},
                     "by": {"enum": ["team", "worker"]}}, ["events"])
    due_item = _obj({"due": {"type": ["string", "null"], "format": "date"}, "overdue": _BOOL, "case": _STR,
                     "code": _STR, "title": _STR, "team": _STR, "worker": _STR, "message": _STR,
                     "trigger": {"type": ["string", "null"]}})
    due_result = _obj({"as_of": _DATE, "as_of_basis": basis, "within": {"type": ["string", "integer", "null"]},
                       "due": _arr(_ref("DueItem"))})
    replay_result = _obj({"summary": _ref("Summary"), "findings": _arr(_ref("Finding")),
                          "rejected": _arr(_ref("Rejection")),
                          "unchecked": _arr(_obj({"case": _STR, "reason": _STR})),
                          "obligations": _arr(_ref("Obligation"))})
    design_problem = _obj({"code": _STR, "title": _STR, "severity": _STR, "source": _STR, "file": _STR,
                           "line": {"type": ["integer", "null"]}, "key": _STR, "message": _STR,
                           "path": _arr({"type": "object"}), "counterexample": _STR})
    validate_result = _obj({
        "designs": _arr(_obj({"file": _STR, "workflow": _STR, "usable": _BOOL, "clean": _BOOL, "states": _INT,
                              "transitions": _INT, "problems": _arr(design_problem),
                              "problems_omitted": {**_INT, "description": "problems left out to keep the answer "
                                                   "within the service's size limit (the summary counts them)"}},
                             ["file", "workflow", "usable", "clean", "states", "transitions", "problems"])),
        "summary": _obj({"designs": _INT, "clean": _INT, "problems": _INT, "exit_code": _INT}),
    })
    rule = _obj({"code": _STR, "title": _STR, "severity": _STR, "version": _STR, "sources": _arr(_STR),
                 "parameters": _arr(_STR), "effective_from": {"type": ["string", "null"], "format": "date"},
                 "effective_until": {"type": ["string", "null"], "format": "date"}})
    rules_result = _obj({"workflow": _STR, "rules": _arr(rule), "built_in": _arr(_STR)})
    health = _obj({"status": {"const": "ok"}, "version": _STR, "engine": _STR, "workflow": _STR, "rules": _INT})
    design_body = _obj({"design": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "object"}],
                                   "description": "the design's YAML text, or the design as a JSON object"}})

    def err(text: str) -> dict:
        return {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}

    def ok(text: str, schema: dict) -> dict:
        return {"description": text, "content": {"application/json": {"schema": schema}}}

    secured: dict[str, Any] = {"security": [{"bearer": []}] if config.token else [{}, {"bearer": []}]}
    auth = {"401": err("A bearer token is required and was missing or wrong.")} if config.token else {}
    body_errors = {
        "400": err("The body is not valid JSON."),
        "408": err("The body did not arrive in time."),
        "413": err("The body or the number of events is above the service's limit (the message names it)."),
        "415": err("The body is not JSON."),
        "422": err("The request breaks its schema or the event contract (problems name each JSON path)."),
    }

    def post(summary_text: str, body: dict, answer: dict, work: str = "check") -> dict:
        responses = {"200": answer, **body_errors, **auth}
        responses["503"] = err(f"The {work} did not finish within the service's time limit, or the service is "
                               "busy (`busy`, with Retry-After).")
        return {"post": {"summary": summary_text, **secured,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                         "responses": responses}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "sdsrules", "version": __version__,
                 "description": "Process breaches and open duties of Self-directed Support case logs."},
        "paths": {
            "/healthz": {"get": {"summary": "Liveness", "security": [{}],
                                 "responses": {"200": ok("The service is up.", _ref("Health"))}}},
            "/v1/rules": {"get": {"summary": "The rule packs in use", **secured,
                                  "responses": {"200": ok("Every rule with its sources.", _ref("Rules")), **auth}}},
            "/v1/check": post("Check one case's events: findings and open obligations", _ref("EventsRequest"),
                              ok("The case's findings and open duties.", _ref("CheckResult"))),
            "/v1/due": {
                **post("What falls due in one case: every duty still owed at the as-of date (default today, "
                       "Europe/London), overdue first, then soonest due", _ref("DueRequest"),
                       ok("The duties still owed.", _ref("DueResult"))),
                "get": {"summary": "As POST, with the request's fields as query parameters (events as JSON text)",
                        **secured,
                        "parameters": [{"name": n, "in": "query", "required": n == "events",
                                        "schema": _STR} for n in ("events", "as_of", "within", "by")],
                        "responses": {"200": ok("The duties still owed.", _ref("DueResult")),
                                      "413": err("The events are above the service's limit."),
                                      "422": err("The request breaks its schema or the event contract."),
                                      "503": err("The check did not finish within the service's time limit."),
                                      **auth}}},
            "/v1/replay": post("Replay many cases' events", _ref("EventsRequest"),
                               ok("The report, as `sdsrules replay --format json`.", _ref("ReplayResult"))),
            "/v1/validate": post("Validate a workflow design", _ref("DesignRequest"),
                                 ok("The design's problems, as `sdsrules validate --format json`.",
                                    _ref("ValidateResult")), work="validation"),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Event": event, "Actor": actor, "EventsRequest": events_body, "Evidence": evidence,
                        "Finding": finding, "Obligation": obligation, "Summary": summary, "Rejection": rejection,
                        "CheckResult": check_result, "ReplayResult": replay_result, "DueRequest": due_body,
                        "DueItem": due_item, "DueResult": due_result, "DesignRequest": design_body,
                        "DesignProblem": design_problem, "ValidateResult": validate_result, "Rule": rule,
                        "Rules": rules_result, "Health": health, "Error": error, "ProblemDetail": problem,
                        **{f"Event_{name}": _event_schema(name, spec) for name, spec in ACTIVITIES.items()}},
        },
    }
