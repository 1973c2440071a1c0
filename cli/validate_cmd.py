"""``sdsrules validate`` and ``sdsrules diagram``: check workflow designs before they go live, and draw them."""

from __future__ import annotations

import sys

import click

from sdsrules.datafile import DataFileError

from .output import atomic_text


class _Unusable(click.ClickException):
    exit_code = 2


@click.command()
@click.argument("workflows", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "junit"]), default="text",
              show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
def validate(workflows, fmt, output):
    """Check WORKFLOW design files (or shipped names) for structural flaws and the SDS standards.

    Exit 0: every design clean; 1: design problems found; 2: a file could not be read or parsed at all.
    """
    from sdsrules.validate import exit_code, validate_files
    from sdsrules.validate_formats import write

    results = validate_files(workflows)
    with atomic_text(output) as stream:
        if fmt == "json":  # the JSON report, with what each design changes of the one it extends
            _write_json(results, stream)
        else:
            write(results, fmt, stream)
        if fmt == "text":
            _write_changes(results, stream)
    if output:
        n = sum(len(r.problems) for r in results)
        click.echo(f"{len(results)} design(s), {n} problem(s) -> {output}", err=True)
    sys.exit(exit_code(results))


def _write_json(results, stream) -> None:
    import json

    from sdsrules.validate_formats import to_json

    doc = to_json(results)
    for d, r in zip(doc["designs"], results, strict=True):
        if r.extends is not None:
            d["extends"] = r.extends.to_dict()
    json.dump(doc, stream, indent=2, ensure_ascii=False)
    stream.write("\n")


def _write_changes(results, stream) -> None:
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


@click.command()
@click.argument("workflow")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
def diagram(workflow, fmt, output):
    """Draw the WORKFLOW design's states and transitions (Mermaid text, or SVG through Graphviz)."""
    from sdsrules.validate_formats import DiagramUnavailable
    from sdsrules.validate_formats import diagram as draw
    from sdsrules.workflow import load_workflow

    try:
        wf = load_workflow(workflow)
        text = draw(wf, fmt)
    except DataFileError as e:
        raise _Unusable(e.report()) from None
    except DiagramUnavailable as e:
        raise _Unusable(str(e)) from None
    with atomic_text(output) as stream:
        stream.write(text if text.endswith("\n") else text + "\n")


def register(cli: click.Group) -> None:
    cli.add_command(validate)
    cli.add_command(diagram)
