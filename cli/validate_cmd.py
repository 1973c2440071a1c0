"""``sdsrules validate`` and ``sdsrules diagram``: check workflow designs before they go live, and draw them."""

from __future__ import annotations

import sys

import click

from sdsrules import formats
from sdsrules.datafile import DataFileError

from .output import UsageProblem, atomic_text


@click.command()
@click.argument("workflows", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(formats.names("designs")), default="text", show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
@click.option("--rules", "rule_paths", multiple=True,
              help="Judge the designs against these rule packs (folder or file; repeatable), the packs they will "
                   "run with (default: the shipped packs, for designs in SDS words).")
def validate(workflows, fmt, output, rule_paths):
    """Check WORKFLOW design files (or shipped names) for structural flaws and the SDS standards.

    Exit 0: every design clean; 1: design problems found; 2: a file could not be read or parsed at all.
    """
    from sdsrules.validate import exit_code, validate_files

    used = book = None
    if rule_paths:
        from sdsrules.engine import load_rulebook

        try:
            book = load_rulebook(list(rule_paths))
        except DataFileError as e:
            raise UsageProblem(str(e)) from None
        used = book.parameters_used()
    results = validate_files(workflows, used)
    if book is not None:
        results = [_in_the_designs_words(r, book) for r in results]
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
        raise UsageProblem(e.report()) from None
    except DiagramUnavailable as e:
        raise UsageProblem(str(e)) from None


def _in_the_designs_words(result, book):
    """WF-ACT-01 for each rule of the packs that names an activity the design's vocabulary does not have."""
    import attrs

    from sdsrules.validate import DesignProblem
    from sdsrules.workflow import load_workflow

    if not result.usable or not result.workflow:
        return result
    try:
        vocab = load_workflow(result.file).vocabulary
    except DataFileError:
        return result
    extra = []
    for rule in book.rules:
        names = {a for check in rule.checks for m in check.all_matchers() for a in m.activities}
        missing = sorted(names - set(vocab))
        if missing:
            extra.append(DesignProblem(
                "WF-ACT-01", f"Rule {rule.code} names {', '.join(map(repr, missing))}, which the design's vocabulary "
                             f"{vocab.describe()} does not have: the rule could never apply to its cases.",
                result.file, None, f"rules.{rule.code}"))
    return attrs.evolve(result, problems=result.problems + tuple(extra)) if extra else result


def register(cli: click.Group) -> None:
    cli.add_command(validate)
    cli.add_command(diagram)
