"""Design check results (``sdsrules validate``): text, JSON, SARIF 2.1.0 and JUnit XML.

Each is a designs formatter (whole-document: ``item(result)`` for each design's ``DesignResult``, then
``close()`` writes); ``to_json``, ``to_sarif`` and ``to_junit`` build the documents (the service answers with
``to_json``). Drawing a design is :mod:`.diagram`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import ClassVar, TextIO

from ..validate import CHECKS, DesignProblem, DesignResult, exit_code
from .base import Collecting

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def write(results: Sequence[DesignResult], fmt: str, stream: TextIO) -> None:
    """Write ``results`` to ``stream`` in ``fmt`` (text, json, sarif or junit), through its formatter."""
    from . import formatter

    out = formatter("designs", fmt, stream)
    for r in results:
        out.item(r)
    out.close()


class _Designs(Collecting):
    """A designs formatter: the results are collected, and written whole at ``close``."""

    kind: ClassVar[str] = "designs"


def _version() -> str:
    try:
        return metadata.version("sdsrules")
    except metadata.PackageNotFoundError:
        return "0"


# ------------------------------------------------------------------------------------------- text


def write_text(results: Sequence[DesignResult], stream: TextIO) -> None:
    for r in results:
        if r.clean:
            stream.write(f"{r.file}: clean ({r.workflow}: {r.states} states, {r.transitions} transitions)\n")
            continue
        for p in r.problems:
            key = f" {p.key}:" if p.key else ""
            stream.write(f"{p.where()}:{key} {p.code} {p.check.title} [{p.severity}]\n    {p.message}\n")
            if p.path:
                stream.write(f"    counterexample: {p.trail()}\n")
            stream.write(f"    source: {p.check.source}\n")
    problems = sum(len(r.problems) for r in results)
    clean = sum(r.clean for r in results)
    unusable = sum(not r.usable for r in results)
    tail = f", {unusable} unusable" if unusable else ""
    stream.write(f"{len(results)} design(s) checked: {clean} clean, {problems} problem(s){tail}.\n")
    write_changes(results, stream)


def write_changes(results: Sequence[DesignResult], stream: TextIO) -> None:
    """For each design that extends another, what it changes of it: a readable diff of the two designs."""
    for r in results:
        diff = r.extends
        if diff is None:
            continue
        lines = diff.lines()
        if not lines:
            stream.write(f"{r.file}: extends {diff.before} and changes nothing of it.\n")
            continue
        n = len(lines) - (1 if diff.omitted else 0) + diff.omitted
        stream.write(f"{r.file}: extends {diff.before}; it changes {n:,} thing{'s' if n != 1 else ''}:\n")
        stream.writelines(f"    {line}\n" for line in lines)


# ------------------------------------------------------------------------------------------- JSON


def to_json(results: Sequence[DesignResult], changes: bool = False) -> dict:
    """The JSON report; ``changes``: with what each design changes of the one it extends (``extends``)."""
    return {
        "designs": [{"file": r.file, "workflow": r.workflow, "usable": r.usable, "clean": r.clean,
                     "states": r.states, "transitions": r.transitions,
                     "problems": [p.to_dict() for p in r.problems],
                     **({"extends": r.extends.to_dict()} if changes and r.extends is not None else {})}
                    for r in results],
        "summary": {"designs": len(results), "clean": sum(r.clean for r in results),
                    "problems": sum(len(r.problems) for r in results), "exit_code": exit_code(results)},
    }


def write_json(results: Sequence[DesignResult], stream: TextIO) -> None:
    json.dump(to_json(results, changes=True), stream, indent=2, ensure_ascii=False)
    stream.write("\n")


# ------------------------------------------------------------------------------------------- SARIF


def _uri(file: str) -> str:
    p = Path(file)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.resolve().as_uri()


def to_sarif(results: Sequence[DesignResult]) -> dict:
    codes = list(CHECKS)
    rules = [{"id": c.code, "name": c.title, "shortDescription": {"text": c.title},
              "fullDescription": {"text": c.description}, "help": {"text": f"Source: {c.source}. {c.description}"},
              "defaultConfiguration": {"level": "error" if c.severity == "error" else "warning"},
              "properties": {"source": c.source}} for c in CHECKS.values()]
    out = []
    for r in results:
        for p in r.problems:
            out.append(_sarif_result(p, codes.index(p.code)))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "sdsrules", "version": _version(), "rules": rules}},
            "results": out,
            "properties": {"designs": [{"file": r.file, "workflow": r.workflow, "clean": r.clean}
                                       for r in results]},
        }],
    }


def _sarif_result(p: DesignProblem, index: int) -> dict:
    physical: dict = {"artifactLocation": {"uri": _uri(p.file)}}
    if p.line:
        physical["region"] = {"startLine": p.line}
    location: dict = {"physicalLocation": physical}
    if p.key:
        location["logicalLocations"] = [{"fullyQualifiedName": p.key, "kind": "member"}]
    result: dict = {"ruleId": p.code, "ruleIndex": index, "level": "error" if p.severity == "error" else "warning",
                    "message": {"text": p.message}, "locations": [location],
                    "properties": {"source": p.check.source, "key": p.key}}
    if p.path:
        result["properties"]["counterexample"] = p.trail()
        steps = [{"location": {"message": {"text": p.path[0].source}}}]
        steps += [{"location": {"message": {"text": f"{s} ({s.source} to {s.dest})"}}} for s in p.path]
        result["codeFlows"] = [{"message": {"text": p.trail()}, "threadFlows": [{"locations": steps}]}]
    return result


def write_sarif(results: Sequence[DesignResult], stream: TextIO) -> None:
    json.dump(to_sarif(results), stream, indent=2, ensure_ascii=False)
    stream.write("\n")


# ------------------------------------------------------------------------------------------- JUnit


def to_junit(results: Sequence[DesignResult]) -> ET.Element:
    """One test suite per design, one test case per check; a problem is a failure, an unusable file an error."""
    suites = ET.Element("testsuites", name="sdsrules validate")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for r in results:
        suite = ET.SubElement(suites, "testsuite", name=r.file)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        by_code: dict[str, list[DesignProblem]] = {}
        for p in r.problems:
            by_code.setdefault(p.code, []).append(p)
        codes = list(CHECKS) if r.usable else ["WF-FILE-01"]
        for code in codes:
            check = CHECKS[code]
            case = ET.SubElement(suite, "testcase", classname=r.workflow or Path(r.file).stem,
                                 name=f"{code} {check.title}", time="0")
            counts["tests"] += 1
            found = by_code.get(code, [])
            if found:
                tag = "failure" if r.usable else "error"
                counts["failures" if r.usable else "errors"] += 1
                body = "\n\n".join(str(p) + (f"\ncounterexample: {p.trail()}" if p.path else "") for p in found)
                el = ET.SubElement(case, tag, message=found[0].message, type=code)
                el.text = body + f"\nsource: {check.source}"
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", f"{r.seconds:.3f}")
    for k, v in totals.items():
        suites.set(k, str(v))
    return suites


def write_junit(results: Sequence[DesignResult], stream: TextIO) -> None:
    tree = to_junit(results)
    ET.indent(tree)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(tree, encoding="unicode"))
    stream.write("\n")


class Text(_Designs):
    name = "text"

    def close(self) -> None:
        write_text(self.items, self.stream)


class Json(_Designs):
    name = "json"
    media_type = "application/json"
    suffix = ".json"

    def close(self) -> None:
        write_json(self.items, self.stream)


class Sarif(_Designs):
    name = "sarif"
    media_type = "application/sarif+json"
    suffix = ".sarif"

    def close(self) -> None:
        write_sarif(self.items, self.stream)


class Junit(_Designs):
    name = "junit"
    media_type = "application/xml"
    suffix = ".xml"

    def close(self) -> None:
        write_junit(self.items, self.stream)
