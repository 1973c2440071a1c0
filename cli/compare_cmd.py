"""``sdsrules compare``: the same case logs replayed under a current and a proposed design, side by side."""

from __future__ import annotations

import sys

import click

from sdsrules import formats
from sdsrules.datafile import DataFileError
from sdsrules.engine import names as engines
from sdsrules.readers import ReaderError

from .output import UsageProblem, atomic_text, parse_day


@click.command()
@click.argument("logs", nargs=-1, required=True)
@click.option("--workflow", "-w", "workflows", multiple=True,
              help="The current design, then the proposed one (a file or shipped name). Give one with --set to "
                   "propose from it.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the proposal (repeatable), set on the second -w or, with one -w, on a copy of "
                   "the current design: initial_review=\"6 weeks\" for every day, or "
                   "initial_review@2025-04-01=\"6 weeks\" from a date on.")
@click.option("--rules", "rule_paths", multiple=True, help="Rule pack folder or file (default: the shipped packs).")
@click.option("--proposed-rules", "proposed_rules", multiple=True,
              help="The proposal's own rule pack (default: the same as --rules).")
@click.option("--as-of", callback=parse_day, help="Judge open deadlines on this date (default: latest event).")
@click.option("--format", "fmt", type=click.Choice(formats.names("compare")), default="text",
              show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
@click.option("--engine", type=click.Choice(engines.NAMES), default=engines.BULK_DEFAULT, show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--input-format", type=click.Choice(["jsonl", "csv", "xes"]), default=None,
              help="Format of the logs when their names do not say.")
@click.option("--map", "map_path", default=None, help="Activity map (YAML): the case system's names to ours.")
@click.option("--limit", type=click.IntRange(0), default=50, show_default=True,
              help="Text: list at most this many changed findings (json, csv and html list all).")
def compare(logs, workflows, settings, rule_paths, proposed_rules, as_of, fmt, output, engine, jobs, input_format,
            map_path, limit):
    """Replay LOGS under a CURRENT and a PROPOSED design (-w CURRENT -w PROPOSED, or -w CURRENT --set ...) and
    show, per duty, the rates under each with the difference and its 95% interval, the cases whose findings
    change and why, and the duties only one side checks. Exit 0 when it ran, 2 on unusable input."""
    from sdsrules import compare as cmp_mod
    from sdsrules.workflow import load_workflow

    if len(workflows) > 2:
        raise click.UsageError("give at most two designs: -w CURRENT -w PROPOSED")
    if len(workflows) < 2 and not settings and not proposed_rules:
        raise click.UsageError("give the proposal: -w CURRENT -w PROPOSED, or --set NAME=VALUE, or --proposed-rules")
    try:
        current = load_workflow(workflows[0] if workflows else None)
        proposed = load_workflow(workflows[1]) if len(workflows) == 2 else current
        proposed = cmp_mod.propose(proposed, settings)
        result = cmp_mod.compare(logs, current, proposed, as_of=as_of, engine=engine, jobs=jobs,
                                 rules=list(rule_paths) or None, proposed_rules=list(proposed_rules) or None,
                                 input_format=input_format, activity_map=map_path)
    except cmp_mod.ProposalError as e:
        raise UsageProblem(str(e)) from None
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ReaderError as e:
        raise UsageProblem(str(e)) from None
    if not result.cases:
        raise UsageProblem(f"none of the {result.events_read} records could be read; there are no cases to compare")
    with atomic_text(output) as stream:
        out = formats.formatter("compare", fmt, stream, limit=limit)
        out.item(result)
        out.close()
    if output:
        click.echo(f"{result.cases} cases, {len(result.changes)} findings change -> {output}", err=True)
    sys.exit(0)


def register(cli: click.Group) -> None:
    cli.add_command(compare)
