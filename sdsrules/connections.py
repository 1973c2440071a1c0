"""Connections to the service, guarded: uvicorn's h11 protocol with a header deadline and connection caps.

uvicorn (0.55, h11) arms no timer on a new connection and cancels its keep-alive timer on any byte, so a
connection that sends nothing, or a header line every few seconds, stays open for ever; and its
``limit_concurrency`` counts open connections, so 255 of them turned every request, ``/healthz`` included,
into a plain-text 503. Here instead:

* **Header deadline.** A connection has ``header_timeout`` seconds, from when it opens or its last answer
  ends, to deliver a complete request head. Past it the connection is closed, with a JSON 408 if part of a
  request had come. Bodies have their own limit in the service (``--timeout``, 408).
* **Connection caps.** At most ``per_client`` connections from one address and ``total`` in all. A connection
  over a cap closes the oldest *idle* connection (no request in progress: waiting for a request head, or
  kept alive between requests) of that address, or of all, and is served; only when none is idle is it
  refused, with a JSON 429 (per address) or 503 (in all). So idle or trickling connections can delay no one:
  a new client always displaces them.
* **JSON errors.** What uvicorn answered in plain text (an unreadable request: 400) is JSON in the service's
  error format, ``{"error": ..., "message": ...}``.

Requests in progress are not limited here: the service bounds its work queues itself (a JSON 503 when full).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import attrs
from uvicorn.protocols.http.h11_impl import H11Protocol


@attrs.frozen(slots=True)
class ConnectionLimits:
    """How long a request head may take and how many connections may be open, per address and in all."""

    header_timeout: float = 10.0
    per_client: int = 128
    total: int = 1024


def error_response(status: int, reason: str, error: str, message: str, headers: tuple[str, ...] = ()) -> bytes:
    """A complete HTTP/1.1 answer in the service's JSON error format, closing the connection."""
    body = json.dumps({"error": error, "message": message}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json", f"content-length: {len(body)}",
            "connection: close", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _Book:
    """The open connections of one server, oldest first, in all and by client address."""

    def __init__(self, limits: ConnectionLimits):
        self.limits = limits
        self.all: dict[Any, None] = {}  # insertion-ordered sets
        self.by_client: dict[str, dict[Any, None]] = {}
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0

    def admit(self, conn: Any, client: str) -> bytes | None:
        """Add ``conn``; None, or the refusal to send it when nothing can make room."""
        mine = self.by_client.setdefault(client, {})
        if len(mine) >= self.limits.per_client:
            if not self._evict(mine):
                self.refused += 1
                return error_response(429, "Too Many Requests", "too_many_connections",
                                      f"this address has {self.limits.per_client} connections open, all in use; "
                                      "retry when one is done", ("retry-after: 1",))
        elif len(self.all) >= self.limits.total and not self._evict(self.all):
            self.refused += 1
            return error_response(503, "Service Unavailable", "too_many_connections",
                                  f"the service has {self.limits.total} connections open, all in use; "
                                  "retry shortly", ("retry-after: 1",))
        mine[conn] = None
        self.all[conn] = None
        return None

    def _evict(self, conns: dict[Any, None]) -> bool:
        for conn in conns:
            if conn.idle():
                self.evicted += 1
                self.forget(conn)
                conn.transport.close()
                return True
        return False

    def forget(self, conn: Any) -> None:
        self.all.pop(conn, None)
        mine = self.by_client.get(conn.client_key)
        if mine is not None:
            mine.pop(conn, None)
            if not mine:
                del self.by_client[conn.client_key]


def guarded_protocol(limits: ConnectionLimits) -> type[H11Protocol]:
    """A uvicorn protocol class (``uvicorn.Config(http=...)``) enforcing ``limits`` for one server."""
    book = _Book(limits)

    class GuardedH11Protocol(H11Protocol):
        connection_book = book

        client_key = "-"
        _busy = False  # a request is in progress (its head has arrived, its answer has not ended)
        _partial = False  # bytes of a request head have come since the connection became idle
        _head_timer: asyncio.TimerHandle | None = None

        def idle(self) -> bool:
            return not self._busy

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self.client_key = self.client[0] if self.client else "-"
            refusal = book.admit(self, self.client_key)
            if refusal is not None:
                self._busy = True  # never idle: it is going
                transport.write(refusal)
                transport.close()
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            book.forget(self)
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self._busy:
                self._partial = True
            super().data_received(data)

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before and self.cycle is not None and not self.cycle.response_complete:
                self._busy, self._partial = True, False  # a request head arrived: its deadline is met
                self._disarm()

        def on_response_complete(self) -> None:
            self._busy, self._partial = False, False
            if not self.transport.is_closing():
                self._arm()
            super().on_response_complete()  # may start a pipelined request at once (handle_events disarms)

        def send_400_response(self, msg: str) -> None:
            self._disarm()
            self.transport.write(error_response(400, "Bad Request", "bad_request",
                                                "the request is not valid HTTP/1.1 (request line, headers or "
                                                "framing), or its head is too large"))
            self.transport.close()

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(limits.header_timeout, self._head_overdue)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_overdue(self) -> None:
            self._head_timer = None
            if self._busy or self.transport.is_closing():
                return
            book.timed_out += 1
            if self._partial:
                self.transport.write(error_response(
                    408, "Request Timeout", "request_timeout",
                    f"the request head did not arrive within {limits.header_timeout:g} s"))
            self.transport.close()

    return GuardedH11Protocol
