"""Drawing a workflow design (``sdsrules diagram``): Mermaid state-diagram text, Graphviz DOT text, or SVG.

Diagrams come from ``transitions``' own diagram support (:mod:`transitions.extensions.diagrams`): Mermaid text
needs nothing more; DOT needs the ``graphviz`` Python package; SVG needs it and Graphviz's ``dot`` program.
Each is a diagram formatter: ``item(workflow)``, then ``close()`` writes the drawing (ending with a newline).
"""

from __future__ import annotations

import shutil
from typing import ClassVar, TextIO

from ..workflow import STAY, Workflow
from .base import Base


class DiagramUnavailable(RuntimeError):
    """SVG was asked for where Graphviz is not installed."""


def svg_available(fmt: str = "svg") -> str:
    """Empty when ``fmt`` (svg, or dot) can be drawn here, else a sentence saying what is missing."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return f"{fmt.upper()} diagrams need the graphviz Python package (pip install graphviz)."
    if fmt == "svg" and shutil.which("dot") is None:
        return "SVG diagrams need Graphviz's dot program (for example apt-get install graphviz)."
    return ""


def diagram(wf: Workflow, fmt: str = "mermaid") -> str:
    """The design drawn by ``transitions``' GraphMachine: Mermaid state-diagram text, DOT text, or SVG.

    Data conditions are shown on the arrows in brackets; the anywhere activities are listed in the title.
    """
    from transitions.extensions.diagrams import GraphMachine

    if fmt not in ("mermaid", "dot", "svg"):
        raise ValueError(f"diagram format must be mermaid, dot or svg (got {fmt!r})")
    if fmt != "mermaid":
        missing = svg_available(fmt)
        if missing:
            raise DiagramUnavailable(missing)
    specs = []
    for t in wf.transitions:
        spec: dict = {"trigger": t.trigger, "source": t.source, "dest": None if t.dest == STAY else t.dest}
        conds = [t.conditions.describe()] if t.conditions else []
        if conds:
            spec["conditions"] = conds  # names only: the diagram shows them, nothing calls them
        if t.unless:
            spec["unless"] = [t.unless.describe()]
        specs.append(spec)
    title = wf.title
    if wf.anywhere:
        title += f" (allowed in any open stage: {', '.join(sorted(wf.anywhere))})"
    machine = GraphMachine(states=list(wf.state_names), transitions=specs, initial=wf.initial,
                           auto_transitions=False, show_conditions=True, title=title,
                           graph_engine="mermaid" if fmt == "mermaid" else "graphviz")
    graph = machine.get_graph()
    if fmt == "svg":
        return graph.pipe(format="svg").decode("utf-8")
    if fmt == "dot":
        return str(graph.source)
    return graph.draw(None)


class _Diagram(Base):
    """A diagram formatter: ``item(workflow)`` draws it, ``close()`` writes the drawing."""

    kind: ClassVar[str] = "diagram"

    def __init__(self, stream: TextIO):
        super().__init__(stream)
        self.drawings: list[str] = []

    def item(self, wf: Workflow) -> None:
        self.drawings.append(diagram(wf, self.name))

    def close(self) -> None:
        for text in self.drawings:
            self.stream.write(text if text.endswith("\n") else text + "\n")


class Mermaid(_Diagram):
    name = "mermaid"
    media_type = "text/vnd.mermaid"
    suffix = ".mmd"


class Dot(_Diagram):
    name = "dot"
    media_type = "text/vnd.graphviz"
    suffix = ".dot"

    def __init__(self, stream: TextIO):
        missing = svg_available("dot")
        if missing:
            raise DiagramUnavailable(missing)
        super().__init__(stream)


class Svg(_Diagram):
    name = "svg"
    media_type = "image/svg+xml"
    suffix = ".svg"

    def __init__(self, stream: TextIO):
        missing = svg_available()
        if missing:
            raise DiagramUnavailable(missing)
        super().__init__(stream)
