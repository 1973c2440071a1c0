"""``sdsrules map scaffold LOG``: a starting activity map for a log from another case system, listing every step,
field and role value seen in it, with counts, for a person to fill in (docs/bring-your-own-log.md)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from .output import atomic_text

#: XES keys the reader already takes as the core fields (not listed as fields to map)
XES_CORE = {"concept:name": "activity", "time:timestamp": "at", "org:resource": "actor.id", "org:role": "actor.role",
            "org:group": "actor.team", "sdsrules:id": "id", "identity:id": "id"}
#: distinct values listed for a field before it is taken for free text (ids, dates, amounts)
MAX_VALUES = 25


def register(cli: click.Group) -> None:
    cli.add_command(map_group)


@click.group("map")
def map_group():
    """Write and check activity maps: a case system's own names translated into a vocabulary."""


@map_group.command("scaffold")
@click.argument("log")
@click.option("--from", "fmt", type=click.Choice(["xes", "csv", "jsonl"]), default=None,
              help="Format of the log when its name does not say.")
@click.option("--output", "-o", default=None, help="Write the map here instead of stdout (atomically).")
@click.option("--name", default=None, help="The map's name (default: the log's file name).")
@click.option("--step", "step_field", default=None, metavar="FIELD",
              help="The CSV column or JSON field holding the step name (default: activity, or a column named like "
                   "step, activity, event or task).")
def scaffold(log, fmt, output, name, step_field):
    """Write a starting map for LOG: every step (with counts), every field and every role value seen.

    Each step maps to itself at first: rename the targets to your vocabulary's activities (`sdsrules activities`)
    or move steps that are no part of the process to `ignore:`."""
    from sdsrules.readers import ReaderError, format_of

    from .output import UsageProblem

    try:
        fmt = format_of(log, fmt)
    except ReaderError as e:
        raise UsageProblem(str(e)) from None
    if not Path(log).is_file():
        raise UsageProblem(f"{log}: no such file")
    try:
        seen = survey(_records(log, fmt), fmt, step_field)
    except (OSError, ValueError, SyntaxError) as e:  # ParseError is a SyntaxError; a bad CSV a ValueError
        raise UsageProblem(f"{log}: cannot be read as {fmt}: {_first_line(e)}") from None
    with atomic_text(output) as out:
        out.write(render(seen, log, fmt, name or Path(log).name.split(".")[0]))
    if output:
        click.echo(f"{seen['events']:,} events, {len(seen['steps'])} steps, {len(seen['fields'])} fields -> {output}",
                   err=True)
    sys.exit(0)


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _records(path: str, fmt: str) -> Iterator[dict]:
    """Raw records, unvalidated (their own names and values)."""
    if fmt == "jsonl":
        import orjson

        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    try:
                        rec = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(rec, dict):
                        yield rec
    elif fmt == "csv":
        import csv

        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                yield {k: v for k, v in row.items() if k and v not in (None, "")}
    else:
        yield from _xes(path)


def _xes(path: str) -> Iterator[dict]:
    from defusedxml.ElementTree import iterparse

    trace: dict[str, Any] = {}
    depth = 0
    in_event = False
    event: dict[str, Any] = {}
    for kind, el in iterparse(path, events=("start", "end")):
        tag = el.tag.rsplit("}", 1)[-1]
        if kind == "start":
            if tag == "trace":
                trace, depth = {}, 0
            elif tag == "event":
                in_event, event = True, {}
            elif tag not in ("log", "trace", "event"):
                depth += 1
            continue
        if tag == "event":
            in_event = False
            yield {"_trace": trace, **event}
        elif tag == "trace":
            trace = {}
        elif tag not in ("log",):
            depth -= 1
            key, value = el.get("key"), el.get("value")
            if key is not None and depth == 0:  # a top-level attribute (nested ones belong to it)
                (event if in_event else trace)[key] = value
            el.clear()


def _guess_step(rec: dict) -> str:
    """The field most likely to hold the step name: ``activity``, else a column named like a step, not a date."""
    keys = [k for k in rec if isinstance(k, str)]
    for want in ("activity", "step", "event type", "task", "action", "event"):
        for k in keys:
            low = k.lower()
            if want in low and not any(w in low for w in ("date", "time", "id", "no")):
                return k
    return "activity"


def survey(records: Iterator[dict], fmt: str, step_field: str | None = None) -> dict:
    steps: Counter = Counter()
    lifecycles: dict[str, Counter] = {}
    fields: Counter = Counter()
    trace_fields: Counter = Counter()
    values: dict[str, Counter] = {}
    roles: Counter = Counter()
    events = 0
    cases: set = set()
    step_key = "concept:name" if fmt == "xes" else step_field
    last_trace = None
    for rec in records:
        events += 1
        trace = rec.pop("_trace", None)
        if step_key is None:
            step_key = _guess_step(rec)
        if trace is not None and trace is not last_trace:
            last_trace = trace
            cases.add(trace.get("concept:name"))
            for k in trace:
                if k != "concept:name":
                    trace_fields[k] += 1
        step = rec.get(step_key)
        if isinstance(step, str):
            steps[step.strip()] += 1
            lc = rec.get("lifecycle:transition")
            if isinstance(lc, str):
                lifecycles.setdefault(step.strip(), Counter())[lc] += 1
        role = rec.get("org:role") if fmt == "xes" else (rec.get("actor") or {}).get("role") if isinstance(
            rec.get("actor"), dict) else rec.get("actor_role")
        if isinstance(role, str):
            roles[role] += 1
        for k, v in rec.items():
            fields[k] += 1
            if isinstance(v, str | int | bool) and k != step_key:
                vs = values.setdefault(k, Counter())
                if len(vs) <= MAX_VALUES:
                    vs[str(v)] += 1
    return {"events": events, "cases": len(cases), "steps": steps, "step_field": step_key, "lifecycles": lifecycles,
            "fields": fields, "trace_fields": trace_fields, "values": values, "roles": roles}


def _q(text: Any) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def render(seen: dict, log: str, fmt: str, name: str) -> str:
    steps: Counter = seen["steps"]
    lines = [
        f"# A starting activity map for {Path(log).name}, written by `sdsrules map scaffold` from {seen['events']:,} "
        "events" + (f" in {seen['cases']:,} cases" if seen["cases"] else "") + ".",
        "# Fill it in: map each step to an activity of your vocabulary (`sdsrules activities -w DESIGN`), or move",
        "# it to `ignore:` (counted apart, never replayed); patterns such as \"T07-*\" cover many steps; `default:`",
        "# covers any step nothing else does. Then: sdsrules replay LOG -w DESIGN --map THIS_FILE",
        f"map: {_q(name)}",
        f"source: {_q(Path(log).name)}",
        "keep_source: true   # each renamed event keeps their step name as source_activity",
        "fields:   # their field -> ours (case, at, activity, id, actor.id, actor.role, actor.team, or an attribute)",
    ]
    field_head = len(lines)
    if fmt == "xes":
        lines.append("  # the XES reader already reads " + ", ".join(f"{k} as {v}" for k, v in XES_CORE.items()
                                                                  if k in seen["fields"] or k == "concept:name")
                     + "; the trace's concept:name is the case")
    for field, n in seen["fields"].most_common():
        if fmt == "xes" and field in XES_CORE:
            continue
        if field == seen["step_field"] and field != "activity":
            lines.append(f"  {_q(field)}: activity   # {n:,} events: the step name")
            continue
        lines.append(f"  # {_q(field)}: {_q(field)}   # {n:,} events")
    if seen["trace_fields"]:
        lines.append("  # trace attributes, copied onto every event of the trace (declare them as the vocabulary's "
                     "trace_attributes to use them in rules):")
        for field, n in seen["trace_fields"].most_common():
            lines.append(f"  #   {field} ({n:,} traces)")
    if not any(line.startswith("  ") and not line.startswith("  #") for line in lines[field_head:]):
        lines[field_head - 1] = lines[field_head - 1].replace("fields:", "fields: {}", 1)
    lines.append("activities:   # their step -> our activity (each maps to itself until you rename it)")
    for step, n in steps.most_common():
        lcs = seen["lifecycles"].get(step, Counter())
        if len(lcs) > 1:  # the same step started and completed: key on the step with its transition
            for lc, m in lcs.most_common():
                lines.append(f"  {_q(f'{step}+{lc}')}: {_q(step)}   # {m:,} events")
        else:
            lines.append(f"  {_q(step)}: {_q(step)}   # {n:,} events")
    lines.append("ignore: []   # steps that are no part of the process (names or patterns)")
    lines.append("values:   # their value -> ours, per field (ours is the field's name after `fields`)")
    if seen["roles"]:
        lines.append("  actor.role:   # role values seen: translate them to the vocabulary's roles")
        for role, n in seen["roles"].most_common():
            lines.append(f"    {_q(role)}: {_q(role)}   # {n:,} events")
    else:
        lines[-1] = lines[-1].replace("values:", "values: {}", 1)
        lines.append("  # no role values in this log (actor.role)")
    shown = 0
    for field, vs in sorted(seen["values"].items()):
        if field in ("org:role", "actor_role", "lifecycle:transition", seen["step_field"]) or len(vs) > 12 \
                or len(vs) < 2 or sum(vs.values()) < 2 * len(vs):  # an id, a date or free text: not a code
            continue
        if shown == 0:
            lines.append("  # fields with few values, should any need translating:")
        shown += 1
        lines.append(f"  # {_q(field)}: {{" + ", ".join(f"{_q(v)}: {_q(v)}" for v, _ in vs.most_common()) + "}")
    return "\n".join(lines) + "\n"
