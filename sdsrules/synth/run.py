"""The run: cases generated one by one, checked, numbered, interleaved and written with their truth."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

import attrs
import orjson

from ..events import build_event
from ..workflow import Workflow, load_workflow
from .case import CaseBuilder
from .catalogue import CODES, MUTATIONS
from .people import BY_TIME, CLOCK
from .settings import GeneratorError, Settings, Stats, Truth


@attrs.frozen(slots=True)
class CaseOut:
    """One generated case: its output lines (bytes, newline-terminated) and its truth, line numbers relative
    to the case's first line (``line`` of a DAT-01 truth record is an index into ``lines``)."""

    name: str
    lines: tuple[bytes, ...]
    truth: tuple[Truth, ...]
    events: int
    last_day: date | None


class Generator:
    """Generates cases one by one from ``Settings`` and a workflow design."""

    def __init__(self, settings: Settings, workflow: Workflow | str | Path | None = None):
        self.settings = settings
        self.wf = workflow if isinstance(workflow, Workflow) else load_workflow(workflow)
        self.rates = {code: settings.rate(code) for code in CODES}
        #: parameters with one value for all time, looked up once
        self.fixed = {name: p.values[0].value for name, p in self.wf.parameters.items() if len(p.values) == 1}

    def cases(self) -> Iterator[CaseOut]:
        for n in range(1, self.settings.cases + 1):
            yield self.case(n)

    def case(self, n: int) -> CaseOut:
        c = CaseBuilder(self, n)
        c.build()
        return self._finish(c)

    def _finish(self, c: CaseBuilder) -> CaseOut:
        rng = c.rng
        horizon = c.horizon
        evs = sorted((e for e in c.evs if e.day <= horizon), key=BY_TIME)
        kept = set(map(id, evs))
        # times: distinct and increasing within a day
        records: list[dict] = []
        rand, name = c.rand, c.name
        day = None
        minute = 0
        stamp = ""
        for k, e in enumerate(evs, 1):
            if e.day != day:
                day, minute = e.day, 510 + int(rand() * 120)
                stamp = day.isoformat()
            else:
                minute += 4 + int(rand() * 32)
            e.id = f"{name}-{k:02d}"
            rec = {"id": e.id, "case": name, "at": f"{stamp}T{CLOCK[minute]}", "activity": e.activity,
                   "actor": e.actor}
            rec.update(e.attrs)
            records.append(rec)
        truth: list[Truth] = []
        position = {id(e): i for i, e in enumerate(evs)}
        for p in c.truth:
            if any(id(e) not in kept for e in p.evidence):
                continue
            if p.anchor is not None:
                anchors = [p.anchor] if id(p.anchor) in kept else []
            else:
                start = position[id(p.after)] + 1 if p.after is not None and id(p.after) in kept else 0
                anchors = [e for e in evs[start:] if e.activity in p.anchor_acts]
                if not p.every:
                    anchors = anchors[:1]
            for a in anchors:
                ids = tuple(dict.fromkeys([e.id for e in p.evidence] + [a.id]))
                truth.append(Truth(c.name, p.code, a.day.isoformat(), ids, MUTATIONS[p.code].change))
        if self.settings.check:
            self._check(c.name, records, truth)
        dumps = orjson.dumps
        lines = [dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records]
        # out-of-order lines: two adjacent events of the case swapped
        if len(lines) >= 2 and c.hit("SDS-DAT-02"):
            i = rng.randrange(len(lines) - 1)
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            truth.append(Truth(c.name, "SDS-DAT-02", evs[i].day.isoformat(), (evs[i + 1].id, evs[i].id),
                               MUTATIONS["SDS-DAT-02"].change))
        # an unreadable line among the case's lines
        if c.hit("SDS-DAT-01"):
            bad_id = f"{c.name}-x{rng.randint(1, 99):02d}"
            day_ = evs[rng.randrange(len(evs))].day
            bad = rng.choice((
                f'{{"id": "{bad_id}", "case": "{c.name}", "at": "{day_.isoformat()}T10:00:00", "activity": '
                f'"review_completed", "kind": "scheduled"'.encode(),
                orjson.dumps({"id": bad_id, "case": c.name, "at": f"{day_.year}-02-30T10:00:00",
                              "activity": "review_completed"}),
                orjson.dumps({"id": bad_id, "case": c.name, "at": f"{day_.isoformat()}T10:00:00",
                              "activity": "assesment_started"}),
                orjson.dumps({"id": bad_id, "case": c.name, "at": f"{day_.isoformat()}T10:00:00",
                              "activity": "triaged"}),
            )) + b"\n"
            at = rng.randint(0, len(lines))
            lines.insert(at, bad)
            truth.append(Truth(c.name, "SDS-DAT-01", None, (bad_id,), MUTATIONS["SDS-DAT-01"].change, at))
        return CaseOut(c.name, tuple(lines), tuple(truth), len(evs), evs[-1].day if evs else None)

    def _check(self, case: str, records: list[dict], truth: list[Truth]) -> None:
        """Step the case through the workflow: exactly the injected SEQ findings, nothing else."""
        wf = self.wf
        state = wf.initial
        refused: list[tuple[str, str]] = []
        for i, r in enumerate(records):
            ev = build_event(r, file="<generated>", line=i + 1, seq=i)
            new, how = wf.step(state, ev)
            if new is None:
                refused.append(("SDS-SEQ-02" if how == "closed" else "SDS-SEQ-01", r["id"]))
                continue
            state = new
        want = sorted((t.code, t.events[-1]) for t in truth if t.code in ("SDS-SEQ-01", "SDS-SEQ-02"))
        if sorted(refused) != want:
            raise GeneratorError(f"{case}: the workflow refused {refused}, the injections expected {want}")


def truth_path(out: str | Path) -> Path:
    """``cases/sample.jsonl`` -> ``cases/sample.truth.jsonl``."""
    p = Path(out)
    name = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(name + ".truth.jsonl")


def write(settings: Settings, out: BinaryIO, truth_out: BinaryIO,
          workflow: Workflow | str | Path | None = None) -> Stats:
    """Generate and stream the log to ``out`` and its truth to ``truth_out``; return the counts."""
    gen = Generator(settings, workflow)
    injected: dict[str, int] = {}
    events = lines = 0
    last: date | None = None
    for case, first_line in _ordered(gen.cases(), settings, out):
        for t in case.truth:
            if t.line is not None:
                t = attrs.evolve(t, line=first_line[t.line])
            truth_out.write(orjson.dumps(t.to_dict()) + b"\n")
            injected[t.code] = injected.get(t.code, 0) + 1
        events += case.events
        lines += len(case.lines)
        if case.last_day is not None and (last is None or case.last_day > last):
            last = case.last_day
    return Stats(settings.cases, events, lines, dict(sorted(injected.items())), last.isoformat() if last else None)


def _ordered(cases: Iterable[CaseOut], settings: Settings, out: BinaryIO) -> Iterator[tuple[CaseOut, list[int]]]:
    """Write each case's lines; yield the case with the file line number of each of its lines.

    Grouped: a case's lines together. Interleaved: the lines of up to ``window`` cases are merged at random,
    each case keeping its own order (so interleaving alone never puts a case out of time order).
    """
    line = 0
    if not settings.interleave:
        for case in cases:
            out.write(b"".join(case.lines))
            numbers = list(range(line + 1, line + 1 + len(case.lines)))
            line += len(case.lines)
            yield case, numbers
        return
    rng = random.Random(settings.seed * 7_919 + 17)
    window: list[list] = []  # [case, next index, numbers]
    it = iter(cases)
    exhausted = False
    while True:
        while not exhausted and len(window) < settings.window:
            got = next(it, None)
            if got is None:
                exhausted = True
            elif got.lines:
                window.append([got, 0, []])
            else:
                yield got, []
        if not window:
            return
        slot = window[rng.randrange(len(window))]
        case, i, numbers = slot
        out.write(case.lines[i])
        line += 1
        numbers.append(line)
        slot[1] = i + 1
        if i + 1 == len(case.lines):
            window.remove(slot)
            yield case, numbers
