"""``sdsrules generate``: a synthetic case log with injected breaches and its ground truth beside it."""

from __future__ import annotations

import time

import click

from .output import atomic_text


def register(cli: click.Group) -> None:
    cli.add_command(generate)


@click.command()
@click.option("--cases", "-n", type=click.IntRange(1), required=True, help="How many cases.")
@click.option("--seed", "-s", type=int, default=0, show_default=True, help="Same seed, same files, byte for byte.")
@click.option("--breach-rate", "-r", type=click.FloatRange(0, 1), default=None,
              help="Chance of injecting a breach at each opportunity, for every code the profile does not "
                   "name (default 0.05; 0.02 with --profile seeds; 0 gives a compliant log).")
@click.option("--profile", "-p", default="uniform", show_default=True,
              help="Per-code rates: 'uniform', 'seeds' (shaped like the Care Inspectorate's Moray findings) "
                   "or a YAML file {code: rate}.")
@click.option("--workflow", "-w", default=None, help="Workflow design whose parameters time the journeys "
                                                     "(default: national).")
@click.option("--start", default="2023-01-01", show_default=True, callback=lambda c, p, v: _day(v),
              help="First day of the log.")
@click.option("--years", type=click.IntRange(1, 20), default=2, show_default=True, help="How long the log runs.")
@click.option("--interleave/--grouped", default=False, show_default=True,
              help="Mix the lines of up to 32 cases (each case keeps its own order), or write cases whole.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Step every case through the workflow as it is generated (about half the speed).")
@click.option("--out", "-o", required=True, help="The log (.jsonl); the truth goes to NAME.truth.jsonl beside it.")
def generate(cases, seed, breach_rate, profile, workflow, start, years, interleave, check, out):
    """Generate a synthetic SDS case log whose breaches are known (written to NAME.truth.jsonl)."""
    from sdsrules.datafile import DataFileError
    from sdsrules.generate import SEEDS_OTHER, GeneratorError, Settings, load_profile, truth_path, write

    from .main import UsageProblem

    try:
        rates = load_profile(profile)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--profile") from None
    if breach_rate is None:
        breach_rate = SEEDS_OTHER if profile == "seeds" else 0.05
    settings = Settings(cases=cases, seed=seed, breach_rate=breach_rate, rates=rates, start=start, years=years,
                        interleave=interleave, check=check)
    truth = truth_path(out)
    began = time.perf_counter()
    try:
        with atomic_text(out, binary=True) as log_stream, atomic_text(str(truth), binary=True) as truth_stream:
            stats = write(settings, log_stream, truth_stream, workflow)
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except GeneratorError as e:
        raise click.ClickException(f"the generator broke its own rules: {e}") from None
    took = time.perf_counter() - began
    shown = ", ".join(f"{code.removeprefix('SDS-')} {n}" for code, n in stats.injected.items()) or "none"
    click.echo(f"{stats.cases} cases, {stats.events} events ({stats.lines} lines) up to {stats.as_of} -> {out}; "
               f"{sum(stats.injected.values())} injected breaches -> {truth} ({shown}); "
               f"{stats.events / max(took, 1e-9):,.0f} events/s", err=True)


def _day(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"must be a date YYYY-MM-DD (got {value!r})") from None
