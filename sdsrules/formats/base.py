"""The one interface every output format has: a :class:`Formatter`.

A formatter is made with the stream it writes to (and the options its kind needs), is given each item in order
with ``item(x)``, and finishes with ``close(...)``, which takes whatever its kind needs at the end:

=========  =====================================  ===========================================================
kind       item                                   close
=========  =====================================  ===========================================================
findings   a ``CaseResult`` (``case``)            ``close(summary, rejected, unchecked)``
events     an ``Event``                           ``close()`` -> how many events were written
designs    a ``DesignResult``                     ``close()``
report     a ``Report`` (the replay's result)     ``close()``
due        a ``DueItem``                          ``close()``
diagram    a ``Workflow``                         ``close()``
compare    a ``Comparison``                       ``close()``
=========  =====================================  ===========================================================

Streaming formats write as items come (findings as CSV or JSON, events as JSON Lines); whole-document formats
(the HTML report, SARIF, JUnit) collect the items and write at ``close``. Each class says what it is:
``kind``, ``name`` (as the command line spells it), ``media_type`` and ``suffix``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol, TextIO


class Formatter(Protocol):
    """What every output format offers (see the module's table for what ``item`` and ``close`` take)."""

    kind: ClassVar[str]
    name: ClassVar[str]
    media_type: ClassVar[str]
    suffix: ClassVar[str]
    stream: TextIO
    item: Callable[..., None]
    close: Callable[..., Any]


class Base:
    """A formatter's common part: the stream and what the class says it is."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    media_type: ClassVar[str] = "text/plain; charset=utf-8"
    suffix: ClassVar[str] = ".txt"

    def __init__(self, stream: TextIO):
        self.stream = stream


class Collecting(Base):
    """A whole-document formatter: items are kept in order and written at ``close``."""

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.items: list[Any] = []

    def item(self, x: Any) -> None:
        self.items.append(x)


class Writer(Base):
    """The findings kind: streams a replay's findings as its cases finish.

    ``item(result)`` (also ``case(result)``, as the replay's sinks call it) for each case in order, or
    ``finding(f)`` for each finding; then ``close(summary, rejected, unchecked)``."""

    kind: ClassVar[str] = "findings"
    #: how this format writes one finding, when that depends on the finding alone: a module-level function, so
    #: that worker processes can be given it by name. A bulk replay's workers then write their findings' text
    #: in parallel and hand it to the writer (``texts``), and the writer has only text to copy at the end. None:
    #: the writer is given the findings themselves (``finding``).
    render: ClassVar[Any] = None  # a staticmethod: (finding) -> str

    def item(self, result: Any) -> None:
        self.case(result)

    def texts(self, texts: Sequence[str]) -> None:
        """Findings in order (of one case or of several consecutive ones), as ``render`` wrote them (a writer with
        a ``render`` only)."""
        raise NotImplementedError  # pragma: no cover - interface

    def case(self, result: Any) -> None:
        for f in result.findings:
            self.finding(f)

    def finding(self, f: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self, summary: Any, rejected: Any, unchecked: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


FindingsFormatter = Writer
