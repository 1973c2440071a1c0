"""``sdsrules report``: replay case logs and write a report a quality assurance team can read at a glance
(HTML, CSV), or print the per-code rates."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from sdsrules import formats
from sdsrules.datafile import DataFileError
from sdsrules.engine import names as engines
from sdsrules.readers import ReaderError

from .output import UsageProblem, atomic_text, parse_day

LONG_RUN = 2.0  # seconds: a run that has taken this long shows its progress (on a terminal)


class Progress:
    """Phases and cases checked, on stderr; silent unless enabled (a terminal, by default) and the run is long."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.total = 0
        self.line_open = False

    def _long(self) -> bool:
        return self.enabled and (time.monotonic() - self.start >= LONG_RUN or self.total >= 2000)

    def __call__(self, done: int, total: int) -> None:
        """The replay's callback: cases checked so far."""
        self.total = total
        if self._long() and (done % 500 == 0 or done == total):
            self.stream.write(f"\rchecked {done:,}/{total:,} cases ({100 * done // max(total, 1)}%)")
            self.stream.flush()
            self.line_open = True

    def phase(self, text: str, force: bool = False) -> None:
        if self.enabled and (force or self._long()):
            if self.line_open:
                self.stream.write("\n")
                self.line_open = False
            self.stream.write(f"{text} ({time.monotonic() - self.start:.1f}s)\n")
            self.stream.flush()

    def close(self) -> None:
        if self.line_open:
            self.stream.write("\n")
            self.line_open = False


@click.command("report")
@click.argument("logs", nargs=-1, required=True)
@click.option("--workflow", "-w", default=None, help="Workflow design file or shipped name (default: national).")
@click.option("--as-of", callback=parse_day, help="Judge open deadlines on this date (default: latest event).")
@click.option("--html", "html_path", default=None, help="Write the self-contained HTML report here.")
@click.option("--csv", "csv_dir", default=None,
              help="Write CSV exports into this folder: findings.csv, rates.csv, cases.csv.")
@click.option("--by", type=click.Choice(["team", "tier", "client_group", "option", "month"]), default=None,
              help="Lead with this breakdown (HTML), print it, and export it as rates_by_<by>.csv.")
@click.option("--pseudonymise", "key_file", default=None, type=click.Path(dir_okay=False),
              help="Replace case, worker and event ids by keyed hashes (HMAC-SHA256 with this key file).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--engine", type=click.Choice(engines.WITH_NONE), default=engines.BULK_DEFAULT, show_default=True,
              help="compiled (the default, fastest), durable-rules, the plain reference evaluator, or none (sequence "
                   "checks only).")
@click.option("--rules", "rule_paths", multiple=True, help="Rule pack folder or file (default: the shipped packs).")
@click.option("--input-format", "--from", "input_format", type=click.Choice(["jsonl", "csv", "xes"]),
              default=None,
              help="Format of the logs when their names do not say.")
@click.option("--team-of", type=click.Choice(["trigger", "due", "latest"]), default="trigger", show_default=True,
              help="Whose a finding is: the team of the event that triggered the duty, the team holding the case "
                   "when it fell due, or the case's latest team.")
@click.option("--json", "json_path", default=None,
              help="Write the JSON report here: summary with per-duty rates (summary.rates), open obligations, "
                   "findings and rejected records.")
@click.option("--due-within", default="28d", show_default=True,
              help="The HTML report's 'what falls due' section: duties due within this period (28d, 4w, 3m).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress on stderr (default: when stderr is a terminal and the run is long).")
@click.option("--map", "map_path", default=None, help="Activity map (YAML): the case system's names to ours.")
@click.option("--complete", is_flag=True,
              help="Take each case's log as its complete history: a duty still open at its last event is a breach.")
def report(logs, workflow, as_of, html_path, csv_dir, by, key_file, jobs, engine, rule_paths, input_format,
           team_of, json_path, due_within, progress, map_path, complete):
    """Replay case event LOGS and report breach rates per duty, for whom and where in the pathway.

    Without --html or --csv, prints the per-code rates. Exit 0: no findings; 1: findings; 2: unusable input.
    """
    from sdsrules import api
    from sdsrules.duelist import window_end
    from sdsrules.events import Event
    from sdsrules.pseudonymise import KeyFileError, Pseudonymiser, pseudonymise, pseudonymise_event, read_key
    from sdsrules.readers import read_all
    from sdsrules.reporting import aggregate
    from sdsrules.workflow import load_workflow

    try:
        window_end(as_of or __import__("datetime").date(2024, 1, 1), due_within)
    except ValueError as e:
        raise UsageProblem(f"--due-within: {e}") from None
    bar = Progress(sys.stderr.isatty() if progress is None else progress)
    pseudo = None
    if key_file is not None:
        try:
            pseudo = Pseudonymiser(read_key(key_file))
        except (OSError, KeyFileError) as e:
            raise UsageProblem(f"cannot use the key file: {e}") from None
    events: dict[str, list[Event]] = {}
    actors: set[str] = set()

    def keep(records):
        for r in records:
            if isinstance(r, Event):
                events.setdefault(r.case, []).append(r)
                if r.actor is not None and r.actor.id:
                    actors.add(r.actor.id)
            yield r

    try:
        wf = load_workflow(workflow)
        bar.phase("reading and checking the logs", force=True)
        from sdsrules.maps import load_map

        amap = load_map(map_path, wf.vocabulary) if map_path else None  # the log read in the design's words
        records = read_all(list(logs), input_format, amap, wf.reading_vocabulary)
        result = api.replay_records(keep(records), wf, as_of, engine, jobs,
                                    list(rule_paths) or None, progress=bar, complete=complete)
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ReaderError as e:
        raise UsageProblem(str(e)) from None
    finally:
        bar.close()
    s = result.summary
    if s.events_read and not s.events_replayed:
        click.echo(f"Error: none of the {s.events_read} records could be read; see the rejections.", err=True)
    if pseudo is not None:
        bar.phase("pseudonymising")
        result = pseudonymise(result, pseudo, actors)
        events = {pseudo.case(c): [pseudonymise_event(e, pseudo) for e in evs] for c, evs in events.items()}
    bar.phase("counting rates and breakdowns")
    agg = aggregate(result, team_of, _titles(wf, rule_paths))
    basis = "given by --as-of" if as_of else "the latest event in the logs"
    try:
        if html_path:
            from datetime import date

            from sdsrules.duelist import due_items
            bar.phase("writing the HTML report")
            rows = due_items(result.findings, result.obligations, date.fromisoformat(s.as_of), due_within) \
                if s.as_of else []
            _write(html_path, "html", result, workflow=wf, events=events, pseudonymised=pseudo is not None, by=by,
                   agg=agg, due_rows=rows, due_within=due_within, as_of_basis=basis)
        if json_path:
            _write(json_path, "json", result, agg=agg, as_of_basis=basis)
    except OSError as e:
        raise UsageProblem(f"cannot write the report: {e.strerror or e}") from None
    if csv_dir:
        _write_csv(Path(csv_dir), result, agg, by)
    if not html_path and not csv_dir and not json_path:
        _write(None, "text", result, agg=agg, by=by, pseudonymised=pseudo is not None, as_of_basis=basis)
    else:
        outs = " and ".join(x for x in (html_path, json_path, csv_dir and f"{csv_dir}/") if x)
        click.echo(f"{agg.cases:,} cases, {agg.findings:,} findings in {agg.cases_breached:,} cases, "
                   f"{s.events_rejected:,} records rejected{' (pseudonymised)' if pseudo else ''} -> {outs}",
                   err=True)
    if not s.events_replayed:
        sys.exit(2)
    sys.exit(1 if result.findings or result.rejected or result.unchecked else 0)


def _titles(wf, rule_paths) -> dict[str, str]:
    """Code -> title from the rule packs the replay ran (a duty met everywhere has no finding to name it)."""
    from sdsrules.engine import load_rulebook

    try:
        return {r.code: r.title for r in load_rulebook(list(rule_paths) or None, wf).rules}
    except DataFileError:  # pragma: no cover - the replay loaded the same packs a moment ago
        return {}


def _write(path: str | None, fmt: str, result, **options) -> None:
    """One report output, written atomically: the whole page is built before the file appears."""
    with atomic_text(path) as stream:
        out = formats.formatter("report", fmt, stream, **options)
        out.item(result)
        out.close()


def _write_csv(folder: Path, result, agg, by: str | None) -> None:
    from sdsrules.formats.report.csv import files

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageProblem(f"cannot make the CSV folder {str(folder)!r}: {e.strerror}") from None
    for table, name in files(by):
        _write(str(folder / name), "csv", result, table=table, agg=agg, by=by)


def register(cli: click.Group) -> None:
    cli.add_command(report)
