"""``sdsrules convert IN OUT``: a case log between JSONL, CSV and XES, optionally through an activity map.

Formats come from the file names (``.jsonl``, ``.csv``, ``.xes``; ``-`` is stdin/stdout, JSONL unless
``--from``/``--to`` say otherwise). Every record is either converted or reported on stderr with file and
line; the output is written atomically. Exit 0: everything converted; 1: some records were rejected (the
rest were written); 2: unusable input or usage (nothing written).
"""

from __future__ import annotations

import sys
from collections import Counter

import click

from sdsrules import formats
from sdsrules.engine import names as engines

from .output import UsageProblem, atomic_text, parse_day

FORMATS = formats.names("events")  # every format convert writes; it reads the same three
SHOWN = 20  # rejections listed one by one on stderr; the rest are counted


@click.command()
@click.argument("source", metavar="IN")
@click.argument("target", metavar="OUT")
@click.option("--map", "map_path", default=None, help="Activity map (YAML): the case system's names to ours.")
@click.option("--from", "from_fmt", type=click.Choice(FORMATS), default=None,
              help="Format of IN, if its name does not say.")
@click.option("--to", "to_fmt", type=click.Choice(FORMATS), default=None,
              help="Format of OUT, if its name does not say.")
@click.option("--annotate", is_flag=True, help="Replay the log first and attach its findings to the events (XES: "
              "as event attributes sdsrules:findings and sdsrules:finding:N).")
@click.option("--workflow", "-w", default=None, help="The design whose vocabulary the log is read in; with --annotate, "
                                                        "the design it is checked against (default: national).")
@click.option("--engine", type=click.Choice(engines.WITH_NONE), default=engines.BULK_DEFAULT, show_default=True,
              help="With --annotate: the rule engine, or none (sequence checks only).")
@click.option("--rules", "rule_paths", multiple=True,
              help="With --annotate: rule pack folder or file (repeatable; default: the shipped packs).")
@click.option("--as-of", callback=parse_day,
              help="With --annotate: judge open deadlines on this date (default: the latest event).")
@click.option("--rejected", "rejected_path", default=None, metavar="FILE",
              help="Write every rejected record here as JSON Lines, with its reason in full and, for a map, the "
                   "names it does not cover (stderr says where and why only, never a record's values).")
@click.option("--pseudonymise", "key_file", default=None, type=click.Path(dir_okay=False),
              help="Replace case, worker and event ids by keyed hashes (HMAC-SHA256 with this key file) and keep "
              "only the attributes the contract declares safe to show.")
def convert(source, target, map_path, from_fmt, to_fmt, annotate, workflow, engine, rule_paths, as_of, rejected_path,
            key_file):
    """Convert the case log IN to OUT (JSONL, CSV or XES), losslessly for the canonical fields."""
    from sdsrules.datafile import DataFileError
    from sdsrules.events import Rejection
    from sdsrules.formats.events import write
    from sdsrules.maps import ignored_step, load_map, unmapped
    from sdsrules.pseudonymise import dropped_notice, pseudonymise_event
    from sdsrules.readers import ReaderError, format_of, read_one

    try:
        in_fmt = format_of(source, from_fmt)
        out_fmt = to_fmt or ("jsonl" if target == "-" else format_of(target))
        if out_fmt not in FORMATS:
            raise UsageProblem(f"{target}: cannot write {out_fmt}")
        from sdsrules.events import SDS
        from sdsrules.workflow import load_workflow

        vocab = load_workflow(workflow).vocabulary if workflow else SDS  # read in the design's words
        amap = load_map(map_path, vocab) if map_path else None
        findings = _findings(source, in_fmt, amap, workflow, engine, rule_paths, as_of) if annotate else None
        pseudo, dropped = _pseudonymiser(key_file), Counter()
        if pseudo is not None and findings:
            findings = _pseudonymised_findings(findings, pseudo, source, in_fmt, amap)
        records = read_one(source, in_fmt, activity_map=amap,
                           vocabulary=load_workflow(workflow).reading_vocabulary if workflow else None)
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ReaderError as e:
        raise UsageProblem(str(e)) from None

    rejected: list[Rejection] = []
    ignored: Counter = Counter()

    def report(r: Rejection) -> None:
        step = ignored_step(r)
        if step is not None:  # a step the map says is no part of the process: counted apart
            ignored[step] += 1
            return
        rejected.append(r)
        if len(rejected) <= SHOWN:
            click.echo(f"rejected: {r.brief()}", err=True)

    def events():
        for r in records:
            if isinstance(r, Rejection):
                report(r)
            else:
                yield r if pseudo is None else pseudonymise_event(r, pseudo, dropped)

    def skipped(ev, field, reason):
        report(Rejection(ev.file, ev.line, f"'{field}' {reason} (cannot be written as {out_fmt})", field, ev.case,
                         ev.id))

    with atomic_text(None if target == "-" else target, compressed=target.lower().endswith(".gz")) as stream:
        written = write(events(), stream, out_fmt, findings=findings, skipped=skipped)
        if not written and rejected:
            raise UsageProblem(f"none of the {len(rejected)} records of {source} could be read; nothing written")
    if len(rejected) > SHOWN:
        click.echo(f"... and {len(rejected) - SHOWN} more rejected records", err=True)
    missing = unmapped(rejected)
    if rejected_path:
        import orjson

        with atomic_text(rejected_path, binary=True) as out:
            for r in rejected:
                out.write(orjson.dumps(r.to_dict()) + b"\n")
            for (field, name), n in missing.most_common():
                out.write(orjson.dumps({"not_covered_by_map": name, "field": field, "records": n}) + b"\n")
    if missing:
        names = sum(1 for _ in missing)
        where = f"listed in {rejected_path}" if rejected_path else "--rejected FILE lists them"
        click.echo(f"not covered by the map: {names} name{'s' if names != 1 else ''} in "
                   f"{sum(missing.values())} records ({where})", err=True)
    if dropped:
        click.echo(dropped_notice(dropped), err=True)
    shown_target = "stdout" if target == "-" else target
    click.echo(f"{written} events converted from {source} ({in_fmt}) to {shown_target} ({out_fmt}); "
               f"{len(rejected)} rejected" + (f", {sum(ignored.values())} ignored" if ignored else ""), err=True)
    sys.exit(1 if rejected else 0)


def _findings(source, in_fmt, amap, workflow, engine, rule_paths=(), as_of=None):
    if source == "-":
        raise UsageProblem("--annotate reads the log twice, so IN must be a file, not stdin")
    from sdsrules import api

    report = api.replay([source], workflow=workflow, as_of=as_of, engine=engine, rules=list(rule_paths) or None,
                        input_format=in_fmt, activity_map=amap)
    return report.findings


def _pseudonymiser(key_file):
    if key_file is None:
        return None
    from sdsrules.pseudonymise import KeyFileError, Pseudonymiser, read_key

    try:
        return Pseudonymiser(read_key(key_file))
    except (OSError, KeyFileError) as e:
        raise UsageProblem(f"cannot use the key file: {e}") from None


def _pseudonymised_findings(findings, pseudo, source, in_fmt, amap):
    """The findings to attach, pseudonymised; the log's actor ids (read once more) are hashed in their text."""
    from sdsrules.events import Event
    from sdsrules.pseudonymise import actor_pattern, pseudonymise_finding
    from sdsrules.readers import read_one

    actors = actor_pattern(r.actor.id for r in read_one(source, in_fmt, activity_map=amap)
                           if isinstance(r, Event) and r.actor is not None and r.actor.id)
    return [pseudonymise_finding(f, pseudo, actors) for f in findings]


def register(cli: click.Group) -> None:
    cli.add_command(convert)
