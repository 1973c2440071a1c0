"""``sdsrules rules list`` and ``sdsrules rules explain CODE``: what each rule checks, its sources, and the
parameters it uses with their dated values in the chosen workflow."""

from __future__ import annotations

import click

from sdsrules.datafile import DataFileError


def register(cli: click.Group) -> None:
    cli.add_command(rules)


@click.group()
def rules():
    """List and explain the rule packs."""


def _load(workflow, rule_paths):
    from sdsrules.engine import load_rulebook
    from sdsrules.workflow import load_workflow

    try:
        wf = load_workflow(workflow)
        return wf, load_rulebook(list(rule_paths) or None, wf)
    except DataFileError as e:
        from .output import UsageProblem
        raise UsageProblem(e.report()) from None


_workflow = click.option("--workflow", "-w", default=None, help="Workflow design (default: national).")
_rules = click.option("--rules", "rule_paths", multiple=True, help="Rule pack folder or file.")


@rules.command("list")
@_workflow
@_rules
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="text: one line per rule; markdown: the catalogue with sources and dated parameters.")
def list_rules(workflow, rule_paths, fmt):
    """One line per rule: code, severity, title (or the whole catalogue as Markdown)."""
    wf, book = _load(workflow, rule_paths)
    if fmt == "markdown":
        from sdsrules.catalogue_doc import markdown

        click.echo(markdown(book, wf), nl=False)
        return
    for r in book.rules:
        dated = ""
        if len(book.versions(r.code)) > 1:  # a rule with dated versions: which one, and when in force
            dated = f"  (version {r.version}: from {r.effective_from or 'always'}" + \
                (f" until {r.effective_until})" if r.effective_until else ")")
        click.echo(f"{r.code}  {r.severity:<6}  {r.title}{dated}")
    codes = len({r.code for r in book.rules})
    versions = f" ({len(book.rules)} dated versions)" if len(book.rules) != codes else ""
    click.echo(f"{codes} rules{versions}; sequence and data codes SDS-SEQ-01/02 and SDS-DAT-01/02 are built in.")


@rules.command()
@click.argument("code")
@_workflow
@_rules
@click.option("--on", "on_day", default=None, metavar="YYYY-MM-DD",
              help="Of a rule with dated versions, explain the one in force on this day (default: the latest).")
def explain(code, workflow, rule_paths, on_day):
    """What rule CODE checks, its sources, its history of dated versions and its parameters' dated values."""
    day = _on(on_day)
    wf, book = _load(workflow, rule_paths)
    try:
        rule = book.by_code(code.upper(), day)
    except KeyError:
        import difflib

        from .output import UsageProblem

        codes = [r.code for r in book.rules]
        close = difflib.get_close_matches(code.upper(), codes, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(codes)})"
        raise UsageProblem(f"no rule {code!r}{hint}") from None
    click.echo(f"{rule.code}: {rule.title}  (severity {rule.severity}, version {rule.version})")
    click.echo(f"file: {rule.file}")
    if rule.effective_from or rule.effective_until:
        click.echo(f"in force: from {rule.effective_from or 'always'} until {rule.effective_until or 'now'}")
    _history(book.versions(rule.code), rule)
    if rule.description:
        click.echo("\n" + rule.description.strip())
    click.echo("\nChecks:")
    for c in rule.checks:
        trig = "; or ".join(_matcher(m) for m in c.trigger)
        click.echo(f"  - {c.template}: when {trig}")
        if c.expect:
            click.echo(f"    expects {c.expect_words()}" + (f" within {c.within}" if c.within else ""))
        for label, ms in (("unless first", c.before), ("ends on", c.lapses_on), ("excused by", c.excused_by)):
            if ms:
                click.echo(f"    {label}: " + "; ".join(_matcher(m) for m in ms))
        if c.function:
            click.echo(f"    decided by the function {c.function}")
        click.echo(f"    says: {c.message}")
    click.echo("\nSources:")
    for s in rule.sources:
        click.echo(f"  - {s}")
    params = sorted(set().union(*(r.parameters() for r in book.versions(rule.code))))
    if params:
        click.echo(f"\nParameters (workflow {wf.describe()}):")
        for p in params:
            prm = wf.parameters[p]
            click.echo(f"  {p}: {prm.description}".rstrip(": "))
            for v in prm.values:
                click.echo(f"    from {v.since}: {v.shown()}  [{v.reference}]")


def _on(text):
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"must be a date YYYY-MM-DD (got {text!r})", param_hint="'--on'") from None


def _history(versions, shown) -> None:
    """A rule's dated versions, oldest first: when each was in force, its file, and what it checked."""
    if len(versions) < 2:
        return
    click.echo("\nHistory (a duty is judged by the version in force on the day of its trigger):")
    for r in versions:
        when = f"from {r.effective_from or 'always'}" + (f" until {r.effective_until}" if r.effective_until else
                                                          " (in force now)")
        mark = "  <- explained below" if r is shown else ""
        click.echo(f"  version {r.version}: {when}  [{r.file}]{mark}")
        for c in r.checks:
            within = f" within {c.within}" if c.within else ""
            click.echo(f"    {c.template}: {c.expect_words() or c.function or ''}{within}".rstrip())
        if r.description:
            click.echo(f"    {' '.join(r.description.split())}")


def _matcher(m) -> str:
    from sdsrules.engine.rules import activity_words

    text = " or ".join(activity_words(a) for a in sorted(m.activities))
    if m.where:
        text += f" where {m.where.describe()}"
    for p in m.preceded_by:
        text += f", after {' or '.join(activity_words(a) for a in sorted(p.activities))}"
        text += f" where {p.where.describe()}" if p.where else ""
    for p in m.not_preceded_by:
        text += f", unless after {' or '.join(activity_words(a) for a in sorted(p.activities))}"
        text += f" where {p.where.describe()}" if p.where else ""
    if m.first:
        text += " (the first in the episode)"
    return text


@rules.command("test")
@click.argument("packs", nargs=-1)
@_workflow
@click.option("--engine", "engines", multiple=True, help="Run on this engine only (repeatable; default: all).")
@click.option("--verbose", "-v", is_flag=True, help="Name every case, not only the failures.")
def test_rules(packs, workflow, engines, verbose):
    """Run the YAML test cases beside the rules of PACKS (folders or files; default: the shipped packs).

    Each case replays its events on every engine and must give exactly the findings it lists. Exit 0: every
    case passed; 1: some failed (each named with file, line and the findings that differed); 2: unusable."""
    from sdsrules.ruletest import ENGINES, Runner, find_test_files

    from .output import UsageProblem

    files = find_test_files(list(packs) or None)
    if not files:
        raise UsageProblem(f"no rule test files (*.test.yaml) in {', '.join(packs) or 'the shipped packs'}")
    runner = Runner(list(packs) or None, engines or ENGINES, workflow)
    passed = failed = 0
    try:
        for outcome in runner.run_files(files):
            if outcome.passed:
                passed += 1
                if verbose:
                    click.echo(f"ok: {outcome.case.file}:{outcome.case.line}: {outcome.case.name}")
            else:
                failed += 1
                click.echo("FAILED: " + outcome.report())
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ValueError as e:  # an event of a case that breaks the contract, an unknown engine
        raise UsageProblem(str(e)) from None
    click.echo(f"{passed} passed, {failed} failed")
    raise SystemExit(1 if failed else 0)
