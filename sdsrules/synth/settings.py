"""What to generate: settings, failure-rate profiles, and the truth records the run writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import yaml

from ..calendar import add_months
from .catalogue import CODES

# Per-code rates shaped like the Care Inspectorate's Moray findings (seed 002, June 2019). The inspectors'
# quantity words: "few" < 15%, "less than half" 15-50%, "the majority" 50-75%, "most" 75-90%.
SEEDS_PROFILE: Mapping[str, float] = {
    # "contingency arrangements were evident in only a few records (12%)"
    "SDS-PLN-02": 0.88,
    # "While initial reviews were taking place consistently, subsequent reviews were not happening with the
    # frequency that they should have ... in most service areas": per later review, late ("the majority")
    "SDS-REV-01": 0.05,
    "SDS-REV-02": 0.55,
    # "People in receipt of direct payments were amongst the service areas where reviews had been delayed
    # ... had reduced the number of delayed direct payment reviews"
    "SDS-REV-03": 0.25,
    # "evidence of their use [advocacy] in case files and the low number of referrals to advocacy services
    # did not support this view": offers recorded in less than half of the files, advocacy rarer still
    "SDS-ADV-01": 0.45,
    "SDS-ADV-02": 0.60,
    # "may have inadvertently resulted in longer waiting times for allocation for a tier three response"
    "SDS-ACC-02": 0.25,
    # "most supported people had been offered the right kind of public information": a few had not
    "SDS-INF-01": 0.10,
    # a few budgets approved above delegated limits or without the panel (scheme of delegation, RAG, panel)
    "SDS-BUD-01": 0.04,
    "SDS-BUD-02": 0.10,
    # unpaid carers: the partnership should make sure carers receive support (less than half late)
    "SDS-CAR-01": 0.15,
}
#: The rate of every code the profile does not name, unless --breach-rate says otherwise.
SEEDS_OTHER = 0.02
PROFILES: Mapping[str, Mapping[str, float]] = {"uniform": {}, "seeds": SEEDS_PROFILE}

START = date(2023, 1, 1)


class GeneratorError(RuntimeError):
    """The generator broke its own promise (a compliant step the workflow refuses, a miscounted injection)."""


@attrs.frozen(slots=True)
class Settings:
    """What to generate. ``rates`` maps codes to their per-opportunity rate; others use ``breach_rate``."""

    cases: int
    seed: int = 0
    breach_rate: float = 0.05
    rates: Mapping[str, float] = attrs.field(factory=dict)
    start: date = START
    years: int = 2
    interleave: bool = False
    window: int = 32
    check: bool = True

    @property
    def horizon(self) -> date:
        """The last day the log records: ``years`` after ``start`` (cases are referred until 45 days before)."""
        return add_months(self.start, 12 * self.years) - timedelta(days=1)

    def rate(self, code: str) -> float:
        return self.rates.get(code, self.breach_rate)


def load_profile(name_or_path: str) -> dict[str, float]:
    """A shipped profile (``uniform``, ``seeds``) or a YAML file ``{code: rate}`` (or ``{code: {rate: r}}``)."""
    if name_or_path in PROFILES:
        return dict(PROFILES[name_or_path])
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(f"profile {name_or_path!r} is neither a shipped profile ({', '.join(PROFILES)}) "
                         f"nor a file")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rates = raw.get("rates", raw) if isinstance(raw, dict) else None
    if not isinstance(rates, dict):
        raise ValueError(f"{path}: a profile must map breach codes to rates")
    out: dict[str, float] = {}
    for code, value in rates.items():
        rate = value.get("rate") if isinstance(value, dict) else value
        if code not in CODES:
            raise ValueError(f"{path}: {code!r} is not a breach code of breaches.md")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"{path}: the rate of {code} must be a number from 0 to 1 (got {rate!r})")
        out[code] = float(rate)
    return out


@attrs.frozen(slots=True)
class Truth:
    """One injected breach: the finding the replay must report."""

    case: str
    code: str
    at: str | None
    events: tuple[str, ...]
    mutation: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"case": self.case, "code": self.code, "at": self.at, "events": list(self.events),
                               "mutation": self.mutation}
        if self.line is not None:
            out["line"] = self.line
        return out


@attrs.frozen(slots=True)
class Stats:
    cases: int
    events: int
    lines: int
    injected: Mapping[str, int]
    as_of: str | None
