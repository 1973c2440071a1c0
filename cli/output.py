"""Where the command line decides what the user is told about unusable input and output, with exit code 2
(``UsageProblem``, ``OutputProblem``), the one ``--as-of`` date option (``parse_day``), and writing outputs
atomically: a temporary file beside the target, then a rename, so an interrupted run never leaves half a
report."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click


class UsageProblem(click.ClickException):
    """Unusable input: exit 2, like click's usage errors."""

    exit_code = 2


def parse_day(ctx, param, value):
    """A click callback: an ISO date (YYYY-MM-DD), or None."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"must be a date YYYY-MM-DD (got {value!r})") from None


class OutputProblem(click.ClickException):
    """An output that cannot be written (a missing folder, a folder as the path, a full disk, no permission):
    one line on stderr and exit 2, with nothing half-written left behind."""

    exit_code = 2


def _problem(path: str, e: OSError) -> OutputProblem:
    return OutputProblem(f"cannot write {path}: {e.strerror or e}")


def _check_target(path: str, target: Path) -> None:
    if target.is_dir():
        raise OutputProblem(f"cannot write {path}: it is a folder; name a file")
    folder = target.parent
    if not folder.is_dir():
        raise OutputProblem(f"cannot write {path}: the folder {folder} does not exist")


@contextlib.contextmanager
def atomic_text(path: str | None, binary: bool = False, compressed: bool = False) -> Iterator[Any]:
    """Yield a stream for ``path`` (stdout when None or '-'); the file appears only when complete. ``compressed``:
    a regular file is written gzip-compressed.

    A special file (``/dev/null``, a FIFO, a terminal) is written in place, never replaced."""
    if path is None or path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path)
    _check_target(path, target)
    if target.exists() and not target.is_file():
        try:
            with open(target, "wb" if binary else "w", encoding=None if binary else "utf-8",
                      newline=None if binary else "") as special:
                yield special
        except OSError as e:
            if e.filename not in (None, path, str(target)):
                raise
            raise _problem(path, e) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as e:
        raise _problem(path, e) from None
    try:
        if compressed:  # gzip, as the name says (the readers read a .gz name as gzip)
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                if binary:
                    yield gz
                else:
                    with io.TextIOWrapper(gz, encoding="utf-8", newline="") as stream:
                        yield stream
        else:
            with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8",
                           newline=None if binary else "") as stream:
                yield stream
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if e.filename not in (None, tmp, path, str(target)):
            raise  # not the output: an input that could not be read, say
        raise _problem(path, e) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
