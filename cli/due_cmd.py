"""``sdsrules due``: every duty still owed, with its due date, case, team, worker and the rule's title, overdue
ones on top, then soonest due: the list a team manager works from to prevent the breaches a report counts."""

from __future__ import annotations

import sys

import click

from sdsrules import formats
from sdsrules.datafile import DataFileError
from sdsrules.readers import ReaderError

from .output import UsageProblem, atomic_text, parse_day


def _parse_within(ctx, param, value):
    if value is None:
        return None
    from datetime import date

    from sdsrules.duelist import window_end
    try:
        window_end(date(2024, 1, 1), value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    return value


@click.command("due")
@click.argument("logs", nargs=-1, required=True)
@click.option("--within", callback=_parse_within, default=None,
              help="Only duties falling due within this period of the as-of date: 28d, 4w, 3m, 1y (overdue ones "
                   "always show). Default: every duty still owed.")
@click.option("--as-of", callback=parse_day,
              help="Judge on this date YYYY-MM-DD (default: today in Scotland, Europe/London).")
@click.option("--by", type=click.Choice(["team", "worker"]), default=None, help="Group the list by team or worker.")
@click.option("--format", "fmt", type=click.Choice(formats.names("due")), default="text",
              show_default=True, help="text, CSV (spreadsheet-safe cells), JSON, or the HTML report with the list.")
@click.option("--output", "-o", default=None, help="Write here instead of standard output.")
@click.option("--workflow", "-w", default=None, help="Workflow design file or shipped name (default: national).")
@click.option("--rules", "rule_paths", multiple=True, help="Rule pack folder or file (default: the shipped packs).")
@click.option("--input-format", "--from", "input_format", type=click.Choice(["jsonl", "csv", "xes"]),
              default=None,
              help="Format of the logs when their names do not say.")
@click.option("--map", "map_path", default=None, help="Activity map (YAML): the case system's names to ours.")
def due(logs, within, as_of, by, fmt, output, workflow, rule_paths, input_format, map_path):
    """List every duty still owed in case event LOGS: overdue first, then soonest due.

    Exit 0: listed (even if empty); 2: unusable input or output.
    """
    from datetime import date

    from sdsrules import api
    from sdsrules.duelist import due_items, today
    from sdsrules.events import Event
    from sdsrules.readers import read_all
    from sdsrules.workflow import load_workflow

    events: dict[str, list[Event]] = {}
    latest: list[date] = []
    day = as_of or today()

    def keep(records):
        for r in records:
            if isinstance(r, Event):
                if not latest or r.day > latest[0]:
                    latest[:] = [r.day]
                if fmt == "html":
                    events.setdefault(r.case, []).append(r)
            yield r

    try:
        wf = load_workflow(workflow)
        from sdsrules.maps import load_map

        amap = load_map(map_path, wf.vocabulary) if map_path else None  # the log read in the design's words
        result = api.replay_records(keep(read_all(list(logs), input_format, amap, wf.reading_vocabulary)), wf, day,
                                    rules=list(rule_paths) or None)
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ReaderError as e:
        raise UsageProblem(str(e)) from None
    s = result.summary
    if not s.events_replayed:
        raise UsageProblem(f"none of the {s.events_read} records could be read; nothing to list")
    basis = "given by --as-of" if as_of else "today, Europe/London"
    if not as_of and latest and (day - latest[0]).days > 7:
        click.echo(f"Note: the latest event in the logs is {latest[0]}, {(day - latest[0]).days:,} days before "
                   f"{day}; duties met since then are not in these logs (use --as-of to judge at another date).",
                   err=True)
    items = due_items(result.findings, result.obligations, day, within, by)
    try:
        with atomic_text(output) as stream:
            out = formats.formatter("due", fmt, stream, as_of=day, within=within, by=by, basis=basis,
                                    report=result, workflow=wf, events=events)
            for d in items:
                out.item(d)
            out.close()
    except BrokenPipeError:
        # the reader went away (`sdsrules due ... | head`): what it wanted was written; say nothing more
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except OSError as e:
        raise UsageProblem(f"cannot write {output!r}: {e.strerror or e}") from None
    if output:
        click.echo(f"{len(items):,} duties still owed as of {s.as_of} -> {output}", err=True)
    sys.exit(0)


def register(cli: click.Group) -> None:
    cli.add_command(due)
