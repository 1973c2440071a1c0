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
@click.option("--rules", "rule_paths", multiple=True,
              help="Judge the designs against these rule packs (folder or file; repeatable), the packs they will "
                   "run with (default: the shipped packs, for designs in SDS words).")
def validate(workflows, fmt, output, rule_paths):
    """Check WORKFLOW design files (or shipped names) for structural flaws and the SDS standards.

    Exit 0: every design clean; 1: design problems found; 2: a file could not be read or parsed at all.
    """
    from sdsrules.validate import exit_code, validate_files
    from sdsrules.validate_formats import write

    used = book = None
    if rule_paths:
        from sdsrules.engine import load_rulebook

        try:
            book = load_rulebook(list(rule_paths))
        except DataFileError as e:
            raise _Unusable(str(e)) from None
        used = book.parameters_used()
    results = validate_files(workflows, used)
    if book is not None:
        results = [_in_the_designs_words(r, book) for r in results]
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
