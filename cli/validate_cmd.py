"""``sdsrules validate`` and ``sdsrules diagram``: check workflow designs before they go live, and draw them."""

from __future__ import annotations

import sys

import click

from sdsrules import formats
from sdsrules.datafile import DataFileError

from .output import atomic_text


class _Unusable(click.ClickException):
    exit_code = 2


@click.command()
@click.argument("workflows", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(formats.names("designs")), default="text", show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
def validate(workflows, fmt, output):
    """Check WORKFLOW design files (or shipped names) for structural flaws and the SDS standards.

    Exit 0: every design clean; 1: design problems found; 2: a file could not be read or parsed at all.
    """
    from sdsrules.validate import exit_code, validate_files

    results = validate_files(workflows)
    with atomic_text(output) as stream:
        out = formats.formatter("designs", fmt, stream)
        for r in results:
            out.item(r)
        out.close()
    if output:
        n = sum(len(r.problems) for r in results)
        click.echo(f"{len(results)} design(s), {n} problem(s) -> {output}", err=True)
    sys.exit(exit_code(results))


@click.command()
@click.argument("workflow")
@click.option("--format", "fmt", type=click.Choice(formats.names("diagram")), default="mermaid", show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
def diagram(workflow, fmt, output):
    """Draw the WORKFLOW design's states and transitions (Mermaid text, Graphviz DOT text, or SVG)."""
    from sdsrules.formats.diagram import DiagramUnavailable
    from sdsrules.workflow import load_workflow

    try:
        wf = load_workflow(workflow)
        with atomic_text(output) as stream:  # drawn before anything is written: a failure leaves no file
            out = formats.formatter("diagram", fmt, stream)
            out.item(wf)
            out.close()
    except DataFileError as e:
        raise _Unusable(e.report()) from None
    except DiagramUnavailable as e:
        raise _Unusable(str(e)) from None


def register(cli: click.Group) -> None:
    cli.add_command(validate)
    cli.add_command(diagram)
