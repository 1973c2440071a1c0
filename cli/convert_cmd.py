"""``sdsrules convert IN OUT``: a case log between JSONL, CSV and XES, optionally through an activity map.

Formats come from the file names (``.jsonl``, ``.csv``, ``.xes``; ``-`` is stdin/stdout, JSONL unless
``--from``/``--to`` say otherwise). Every record is either converted or reported on stderr with file and
line; the output is written atomically. Exit 0: everything converted; 1: some records were rejected (the
rest were written); 2: unusable input or usage (nothing written).
"""

from __future__ import annotations

import sys

import click

from sdsrules.engine import names as engines

from .main import UsageProblem
from .output import atomic_text

FORMATS = ("jsonl", "csv", "xes")
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
@click.option("--workflow", "-w", default=None, help="With --annotate: the workflow design (default: national).")
@click.option("--engine", type=click.Choice(engines.WITH_NONE), default=engines.BULK_DEFAULT, show_default=True,
              help="With --annotate: the rule engine, or none (sequence checks only).")
def convert(source, target, map_path, from_fmt, to_fmt, annotate, workflow, engine):
    """Convert the case log IN to OUT (JSONL, CSV or XES), losslessly for the canonical fields."""
    from sdsrules.datafile import DataFileError
    from sdsrules.events import Rejection
    from sdsrules.maps import load_map, unmapped
    from sdsrules.readers import ReaderError, format_of, read_one
    from sdsrules.writers import write

    try:
        in_fmt = format_of(source, from_fmt)
        out_fmt = to_fmt or ("jsonl" if target == "-" else format_of(target))
        if out_fmt not in FORMATS:
            raise UsageProblem(f"{target}: cannot write {out_fmt}")
        amap = load_map(map_path) if map_path else None
        findings = _findings(source, in_fmt, amap, workflow, engine) if annotate else None
        records = read_one(source, in_fmt, activity_map=amap)
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ReaderError as e:
        raise UsageProblem(str(e)) from None

    rejected: list[Rejection] = []

    def report(r: Rejection) -> None:
        rejected.append(r)
        if len(rejected) <= SHOWN:
            click.echo(f"rejected: {r}", err=True)

    def events():
        for r in records:
            if isinstance(r, Rejection):
                report(r)
            else:
                yield r

    def skipped(ev, field, reason):
        report(Rejection(ev.file, ev.line, f"'{field}' {reason} (cannot be written as {out_fmt})", field, ev.case,
                         ev.id))

    with atomic_text(None if target == "-" else target) as stream:
        written = write(events(), stream, out_fmt, findings=findings, skipped=skipped)
        if not written and rejected:
            raise UsageProblem(f"none of the {len(rejected)} records of {source} could be read; nothing written")
    if len(rejected) > SHOWN:
        click.echo(f"... and {len(rejected) - SHOWN} more rejected records", err=True)
    missing = unmapped(rejected)
    if missing:
        listed = ", ".join(f"{name!r} ({field}) x{n}" for (field, name), n in missing.most_common())
        click.echo(f"not covered by the map: {listed}", err=True)
    shown_target = "stdout" if target == "-" else target
    click.echo(f"{written} events converted from {source} ({in_fmt}) to {shown_target} ({out_fmt}); "
               f"{len(rejected)} rejected", err=True)
    sys.exit(1 if rejected else 0)


def _findings(source, in_fmt, amap, workflow, engine):
    if source == "-":
        raise UsageProblem("--annotate reads the log twice, so IN must be a file, not stdin")
    from sdsrules import api

    report = api.replay([source], workflow=workflow, engine=engine, input_format=in_fmt, activity_map=amap)
    return report.findings


def register(cli: click.Group) -> None:
    cli.add_command(convert)
