"""``sdsrules``: replay case logs, explain rules, validate designs.

Exit codes a CI pipeline can use: 0 clean, 1 breaches or design problems found, 2 unusable input or usage.
Errors go to stderr as ``Error: ...``; a traceback on user input is a bug.
"""

from __future__ import annotations

import contextlib
import re
import sys
import types

import click

from sdsrules import formats
from sdsrules.datafile import DataFileError
from sdsrules.engine import names as engines
from sdsrules.readers import ReaderError

from .output import UsageProblem, atomic_text, parse_day


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sdsrules")
def cli():
    """Check Self-directed Support case logs and workflow designs against the law and local policy."""


@cli.command()
@click.argument("logs", nargs=-1, required=True)
@click.option("--workflow", "-w", default=None, help="Workflow design file or shipped name (default: national).")
@click.option("--as-of", callback=parse_day, help="Judge open deadlines on this date (default: latest event).")
@click.option("--format", "fmt", type=click.Choice(formats.names("findings")), default="text", show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--engine", type=click.Choice([*engines.WITH_NONE, "dask"]), default=engines.BULK_DEFAULT,
              show_default=True, help="compiled (the default: each rule compiled once, fastest), durable-rules, the "
                                      "plain reference evaluator, none (sequence checks only), or dask (the default "
                                      "engine on the Dask cluster at --scheduler).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Check the cases on this Dask cluster (tcp://host:8786) instead of local workers; its workers "
                   "must see the same paths. Needs sdsrules[dask].")
@click.option("--rules", "rule_paths", multiple=True, help="Rule pack folder or file (default: the shipped packs).")
@click.option("--input-format", "--from", "input_format", type=click.Choice(["jsonl", "csv", "xes"]),
              default=None,
              help="Format of the logs when their names do not say.")
@click.option("--map", "map_path", default=None, help="Activity map (YAML): the case system's names to ours.")
@click.option("--fail-on", "fail_on", multiple=True, callback=lambda ctx, param, value: _FailOn.parse(value),
              help="For CI: exit 1 only for findings with this code or code prefix (SDS-REV-01, SDS-REV; "
                   "repeatable), or of at least this severity (high, medium, low); else 0. Unreadable records "
                   "(SDS-DAT-01) count as low; cases the engine could not check always exit 1.")
@click.option("--complete", is_flag=True,
              help="Take each case's log as its complete history: a duty still open at the case's last event is a "
                   "breach then (as Declare tools judge a closed trace), not an open duty.")
def replay(logs, workflow, as_of, fmt, output, jobs, engine, scheduler, rule_paths, input_format, map_path, fail_on,
           complete):
    """Replay case event LOGS through the pathway and report process breaches."""
    from sdsrules import api
    from sdsrules.distributed import ClusterError
    from sdsrules.formats import formatter
    from sdsrules.supervise import sigterm_as_interrupt  # SIGTERM like Ctrl-C: no half-written output left

    if fail_on is not None:
        fail_on.check_known(rule_paths)
    if engine == "dask":  # the name for it: the default engine, on the cluster
        if scheduler is None:
            raise click.UsageError("--engine dask needs --scheduler ADDRESS (a Dask scheduler, tcp://host:8786).")
        engine = engines.BULK_DEFAULT

    progress = _progress_bar() if sys.stderr.isatty() else None
    try:
        with sigterm_as_interrupt(), atomic_text(output) as stream:  # findings stream out as cases finish
            out = formatter("findings", fmt, stream)
            sink = out if fail_on is None else fail_on.watch(out)
            summary = api.run(logs, sink, workflow=workflow, as_of=as_of, engine=engine, jobs=jobs,
                              rules=list(rule_paths) or None, input_format=input_format, progress=progress,
                              activity_map=map_path, scheduler=scheduler, complete=complete)
    except ClusterError as e:
        raise UsageProblem(str(e)) from None
    except DataFileError as e:
        raise UsageProblem(e.report()) from None
    except ReaderError as e:
        raise UsageProblem(str(e)) from None
    finally:
        if progress is not None:
            progress.close()
    s = summary
    if s.events_read and not s.events_replayed:
        click.echo(f"Error: none of the {s.events_read} records could be read; see the rejections.", err=True)
    if output:
        click.echo(f"{s.cases} cases, {s.events_read} events read ({s.events_replayed} replayed, "
                   f"{s.events_rejected} rejected), {s.findings} findings -> {output}", err=True)
    if not s.events_replayed:
        sys.exit(2)
    if fail_on is not None:
        sys.exit(1 if fail_on.hit or (s.events_rejected and fail_on.matches("SDS-DAT-01", "low"))
                 or s.cases_unchecked else 0)
    sys.exit(1 if s.findings or s.events_rejected or s.cases_unchecked else 0)


class _FailOn:
    """``--fail-on``: codes, code prefixes and a severity threshold; ``watch`` notes matching findings."""

    RANK = types.MappingProxyType({"low": 0, "medium": 1, "high": 2})

    def __init__(self, codes: tuple[str, ...], severity: str | None):
        self.codes, self.severity, self.hit = codes, severity, False

    @classmethod
    def parse(cls, values: tuple[str, ...]) -> _FailOn | None:
        if not values:
            return None
        codes, severity = [], None
        for v in values:
            word = v.strip()
            if word.lower() in cls.RANK:
                if severity is None or cls.RANK[word.lower()] < cls.RANK[severity]:
                    severity = word.lower()
            elif re.fullmatch(r"[A-Za-z]+(-[A-Za-z0-9]+)+", word):
                codes.append(word.upper())
            else:
                raise click.BadParameter(f"must be a breach code (SDS-REV-01), a code prefix (SDS-REV) or a "
                                         f"severity (high, medium, low) (got {v!r})", param_hint="'--fail-on'")
        return cls(tuple(codes), severity)

    def check_known(self, rule_paths) -> None:
        """Every code or prefix names something in the catalogue (the rule packs in use and the built-in codes);
        a typo would otherwise make ``--fail-on`` never fire."""
        import difflib

        from sdsrules.catalogue_doc import BUILT_IN
        from sdsrules.engine import load_rulebook

        try:  # the shipped catalogue, the packs in use and the built-in codes
            codes = {r.code for r in load_rulebook(None).rules}
            if rule_paths:
                codes |= {r.code for r in load_rulebook(list(rule_paths)).rules}
        except DataFileError as e:
            raise UsageProblem(e.report()) from None
        known = sorted(codes | {code for code, _, _ in BUILT_IN})
        prefixes = sorted({k.rsplit("-", 1)[0] for k in known})
        for c in self.codes:
            if any(k == c or k.startswith(c + "-") for k in known):
                continue
            close = difflib.get_close_matches(c, known + prefixes, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (codes: {', '.join(prefixes)})"
            raise click.BadParameter(f"{c} names no breach code or code prefix of the catalogue{hint}",
                                     param_hint="'--fail-on'")

    def matches(self, code: str, severity: str) -> bool:
        if any(code == c or code.startswith(c + "-") for c in self.codes):
            return True
        return self.severity is not None and self.RANK.get(severity, 1) >= self.RANK[self.severity]

    def watch(self, sink):
        outer = self

        class Watched:
            def case(self, result) -> None:
                outer.hit = outer.hit or any(outer.matches(f.code, f.severity) for f in result.findings)
                sink.case(result)

            def close(self, summary, rejected, unchecked) -> None:
                sink.close(summary, rejected, unchecked)

        return Watched()


class _progress_bar:
    """Events checked, on stderr, when stderr is a terminal and the log is large."""

    LARGE = 50_000

    def __init__(self):
        self.total = 0
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        percent = 100 * done // max(total, 1)
        if total >= self.LARGE and percent != self.shown:
            self.shown = percent
            sys.stderr.write(f"\rchecked {done:,}/{total:,} events ({percent}%)")
            sys.stderr.flush()

    def close(self) -> None:
        if self.shown >= 0:
            sys.stderr.write("\n")


def _register() -> None:
    """Commands that live in their own modules add themselves here."""
    import importlib

    for name in ("rules_cmd", "validate_cmd", "report_cmd", "serve_cmd", "generate_cmd", "convert_cmd", "due_cmd",
                 "compare_cmd", "activities_cmd", "map_cmd"):
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise
            continue
        module.register(cli)


_register()


def main() -> None:
    import errno
    import os

    try:
        cli(prog_name="sdsrules")
        sys.stdout.flush()
    except OSError as e:
        # standard output that cannot be written (a full disk, a closed pipe): one line, exit 2, no traceback
        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES, errno.EPIPE) \
                or e.filename is not None:
            raise
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the interpreter flushes it at exit
        with contextlib.suppress(OSError):
            sys.stderr.write(f"Error: cannot write the output: {e.strerror}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
