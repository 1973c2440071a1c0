"""Synthetic SDS case logs with injected breaches and their ground truth (``sdsrules generate``).

Each case walks the workflow design: a compliant journey (referral, triage, tier 1 signposting, tier 2
reablement, tier 3 assessment, budget, options, plan, support, reviews, direct-payment monitoring, carers,
complaints, transitions, moves), timed by the design's dated parameters with a safety margin either side of
every deadline. At each *opportunity* a breach of one catalogue code may be injected by one minimal mutation
(an event left out, made late, an attribute changed, a step added out of place, a bad or out-of-order line);
each injection is written to the truth file with the findings it must produce.

Pure and deterministic: one ``random.Random`` per case, seeded from the run's seed and the case number, no
wall clock, no global random state. The same settings give byte-identical files. Cases are generated one at a
time and written whole (or interleaved within a small window), so a log of millions of events streams.

Every mutation is chosen so the finding it causes is *anchored on an event in the log* (a late event, or the
event before which something was due): a truth record never depends on the replay's as-of date, which is the
latest event of the whole log. A late event that would fall after the horizon is never injected; a truth
record whose anchor fell after the horizon is dropped (the log then holds no finding for it).
"""

from __future__ import annotations

import operator
import random
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import orjson
import yaml

from .calendar import Duration, add_months, add_working_days
from .events import build_event
from .workflow import Workflow, load_workflow

#: Every code of ``shared/spec/breaches.md``.
CODES = (
    "SDS-ACC-01", "SDS-ACC-02", "SDS-ADV-01", "SDS-ADV-02", "SDS-INF-01",
    "SDS-ELG-01", "SDS-ELG-02", "SDS-ELG-03", "SDS-ELG-04", "SDS-ELG-05", "SDS-ASM-01", "SDS-ASM-02",
    "SDS-CAR-01", "SDS-CAR-02", "SDS-CAP-01", "SDS-CAP-02",
    "SDS-BUD-01", "SDS-BUD-02", "SDS-BUD-03", "SDS-BUD-04", "SDS-BUD-05",
    "SDS-OPT-01", "SDS-OPT-02", "SDS-OPT-03", "SDS-PLN-01", "SDS-PLN-02", "SDS-DPY-01",
    "SDS-REV-01", "SDS-REV-02", "SDS-REV-03", "SDS-APL-01", "SDS-APL-02", "SDS-APL-03",
    "SDS-TRN-01", "SDS-TRN-02", "SDS-SEQ-01", "SDS-SEQ-02", "SDS-DAT-01", "SDS-DAT-02",
)


@attrs.frozen(slots=True)
class Mutation:
    """How one code is injected: the opportunity, the change, and every code the change must produce."""

    code: str
    opportunity: str
    change: str
    consequences: tuple[str, ...]
    dated: str  # which event the finding is dated by


def _m(code: str, opportunity: str, change: str, dated: str, *also: str) -> Mutation:
    return Mutation(code, opportunity, change, (code, *also), dated)


#: The documented consequence set of every mutation (README "Generating logs" repeats this table).
MUTATIONS: Mapping[str, Mutation] = {m.code: m for m in (
    _m("SDS-ACC-01", "tier 1 contact", "the information_given/signposted before closure left out", "case_closed"),
    _m("SDS-ACC-02", "tier 3 triage (not a move-in)", "assessment_started 3-21 days after the tier 3 wait",
       "assessment_started"),
    _m("SDS-ADV-01", "tier 3 case, no mental disorder", "independent_support_offered (and the answer) left out",
       "first options_offered, else case_closed"),
    _m("SDS-ADV-02", "tier 3 eligible case with a mental disorder", "the offer's kind advice, not advocacy",
       "first options_offered"),
    _m("SDS-INF-01", "first options_offered", "information_given false and sds_options dropped from the "
       "information given before it", "options_offered"),
    _m("SDS-ELG-01", "eligibility_determined", "eligibility_communicated left out",
       "next budget, options or closure event"),
    _m("SDS-ELG-02", "eligible case with a budget", "closed (declined) after the budget, options never offered",
       "case_closed"),
    _m("SDS-ELG-03", "ineligible case", "the signposting/information before closure left out", "case_closed"),
    _m("SDS-ELG-04", "critical/substantial personal care (not a move-in)",
       "support_started 3-20 days after the personal-care wait", "support_started"),
    _m("SDS-ELG-05", "eligible critical/substantial case", "band recorded as moderate, eligible still true, "
       "no override_reason (the personal-care wait then no longer applies)", "eligibility_determined"),
    _m("SDS-ASM-01", "tier 3 eligible case", "outcomes_agreed left out", "each budget_calculated"),
    _m("SDS-ASM-02", "tier 3 eligible case", "finance dropped from assets_explored areas",
       "each budget_calculated"),
    _m("SDS-CAR-01", "carer identified (not terminal)", "carer_support_offered 3-20 days after the target",
       "carer_support_offered"),
    _m("SDS-CAR-02", "carer of a person with a terminal illness",
       "carer_support_offered 3-8 working days after identification (still within 28 days)",
       "carer_support_offered"),
    _m("SDS-CAP-01", "capacity concern, has capacity", "capacity_assessed left out", "option_chosen"),
    _m("SDS-CAP-02", "no capacity, proxy chooses", "proxy_recorded left out", "option_chosen"),
    _m("SDS-BUD-01", "budget within the panel threshold above the lowest limit",
       "approved by a role whose delegated limit is below the amount", "budget_approved"),
    _m("SDS-BUD-02", "budget above the panel threshold", "approved by the top of the scheme of delegation "
       "(head_of_service), no panel referral or decision", "budget_approved", "SDS-BUD-01"),
    _m("SDS-BUD-03", "budget reduced", "the reduction's reasons left out", "budget_reduced"),
    _m("SDS-BUD-04", "budget reduced", "decision_communicated 11-14 working days after the reduction",
       "decision_communicated"),
    _m("SDS-BUD-05", "budget approved by a manager", "budget_approved left out and budget_stated false",
       "options_offered"),
    _m("SDS-OPT-01", "options offered (no exception)", "one option not chosen left out of options_offered",
       "support_started"),
    _m("SDS-OPT-02", "support started", "started under another option than the one chosen (never option 1)",
       "support_started"),
    _m("SDS-OPT-03", "material change while supported", "options re-offered 3-20 days after the target",
       "options_offered"),
    _m("SDS-PLN-01", "support started", "support_plan_agreed left out", "support_started"),
    _m("SDS-PLN-02", "support plan agreed", "contingency false", "support_plan_agreed"),
    _m("SDS-DPY-01", "option 1 support started", "dp_means_test_completed 3-40 days after the year",
       "dp_means_test_completed"),
    _m("SDS-REV-01", "support started", "first review 3-30 days after the initial-review interval",
       "review_completed"),
    _m("SDS-REV-02", "each later review", "review 3-200 days after the review interval", "review_completed"),
    _m("SDS-REV-03", "each direct-payment financial review", "3-30 days after it fell due",
       "financial_review_completed"),
    _m("SDS-APL-01", "stage 1 complaint", "response 1-5 working days late (not extended)", "complaint_responded"),
    _m("SDS-APL-02", "stage 2 complaint", "acknowledgement 1-4 working days late", "complaint_acknowledged"),
    _m("SDS-APL-03", "stage 2 complaint", "response 1-8 working days late (not extended)", "complaint_responded"),
    _m("SDS-TRN-01", "young person aged 14-16 with support", "transition_planning_started 3-40 days late",
       "transition_planning_started"),
    _m("SDS-TRN-02", "moved in with support elsewhere", "support_started 3-12 days after the target",
       "support_started"),
    _m("SDS-SEQ-01", "first review", "outcomes_agreed recorded at the review (not allowed while supported)",
       "outcomes_agreed"),
    _m("SDS-SEQ-02", "closed case", "information_given recorded after case_closed", "information_given"),
    _m("SDS-DAT-01", "any case", "an extra unreadable line (bad JSON, bad date, unknown activity, missing tier)",
       "(a rejection: file and line)"),
    _m("SDS-DAT-02", "any case of 2+ events", "two adjacent lines of the case swapped",
       "the earlier event of the pair"),
)}

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


# ------------------------------------------------------------------------------------------ one case


class _Ev:
    """An event being built: its day, its order of creation, and its canonical fields."""

    __slots__ = ("activity", "actor", "attrs", "day", "id", "seq")

    def __init__(self, day: date, seq: int, activity: str, actor: dict, attrs: dict):
        self.day, self.seq, self.activity, self.actor, self.attrs = day, seq, activity, actor, attrs
        self.id = ""


class _Pending:
    """A truth record still to be pinned to the log: its evidence, and the event that dates the finding
    (``anchor``) or the activities that do (the first of ``anchor_acts`` after ``after``)."""

    __slots__ = ("after", "anchor", "anchor_acts", "code", "every", "evidence")

    def __init__(self, code, evidence=(), anchor=None, anchor_acts=(), after=None, every=False):
        self.code, self.evidence, self.anchor = code, tuple(evidence), anchor
        self.anchor_acts, self.after, self.every = anchor_acts, after, every


_GROUPS = (("older_people", 42), ("physical_disability", 17), ("learning_disability", 12),
           ("mental_health", 12), ("carer", 8), ("children_families", 9))
_AGES = {"older_people": (65, 98), "children_families": (14, 17), "learning_disability": (18, 70),
         "mental_health": (18, 80), "carer": (25, 85), "physical_disability": (18, 85)}
_TEAMS = {"older_people": "older_people_north", "learning_disability": "learning_disability",
          "mental_health": "mental_health", "children_families": "children_transitions"}
_GROUP_NAMES = tuple(g for g, _ in _GROUPS)
_GROUP_WEIGHTS = tuple(w for _, w in _GROUPS)
_TEAM_PREFIX = {"access_team": "A", "east_long_term": "E", "west_long_term": "W", "older_people_north": "N",
                "learning_disability": "L", "mental_health": "M", "children_transitions": "T", "finance": "F"}
_SOURCES = ("self", "gp", "hospital", "family", "other_professional")
_BANDS = ("critical", "substantial", "moderate", "low")
_ELIGIBLE_ACTS = ("budget_calculated", "budget_approved", "budget_refused", "budget_reduced", "panel_referred",
                  "panel_decided", "options_offered", "options_exception", "case_closed")
_CLOSING = ("died", "no_further_need", "moved")


_BY_TIME = operator.attrgetter("day", "seq")
_PANEL = {"id": "SDS-PANEL", "role": "panel", "team": "sds_panel"}
_ACTORS: dict[tuple[str, str, int], dict] = {}
_DAYS = tuple(timedelta(days=i) for i in range(1200))


def _actor(team: str, role: str, n: int) -> dict:
    """The actor object (shared between events: they are only ever read)."""
    key = (team, role, n)
    actor = _ACTORS.get(key)
    if actor is None:
        actor = _ACTORS[key] = {"id": f"{_TEAM_PREFIX.get(team, 'X')}{n:02d}", "role": role, "team": team}
    return actor


class _Case:
    """Builds one case. Deadlines come from the workflow's parameters in force on the triggering day."""

    def __init__(self, gen: Generator, n: int):
        self.gen, self.wf, self.s = gen, gen.wf, gen.settings
        self.rng = random.Random(self.s.seed * 1_000_003 + n)
        self.rand = self.rng.random
        self.rates = gen.rates
        self.name = f"C-{n:06d}"
        self.evs: list[_Ev] = []
        self.truth: list[_Pending] = []
        self.seq = 0
        self.horizon = self.s.horizon

    # -- helpers
    def hit(self, code: str) -> bool:
        rate = self.rates[code]
        return rate > 0 and self.rand() < rate

    def ri(self, lo: int, hi: int) -> int:
        """A whole number from ``lo`` to ``hi`` (faster than ``randint``; the run stays deterministic)."""
        return lo + int(self.rand() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]

    def weighted(self, seq, weights):
        x = self.rand() * sum(weights)
        for item, w in zip(seq, weights, strict=True):
            x -= w
            if x < 0:
                return item
        return seq[-1]

    def add(self, day: date, activity: str, actor: dict, **attrs) -> _Ev:
        ev = _Ev(day, self.seq, activity, actor, attrs)
        self.seq += 1
        self.evs.append(ev)
        return ev

    def inject(self, code: str, *evidence: _Ev, anchor: _Ev | None = None, anchor_acts=(), after=None,
               every=False) -> None:
        self.truth.append(_Pending(code, evidence, anchor, anchor_acts, after, every))

    def dur(self, name: str, day: date) -> Duration:
        fixed = self.gen.fixed.get(name)
        return fixed if fixed is not None else self.wf.param_value(name, day)

    def due(self, name: str, day: date) -> date:
        return self.dur(name, day).after(day)

    def ontime(self, name: str, start: date, lo: int = 1, share: float = 1.0) -> date:
        """A day from ``start + lo`` to two days before the deadline (one working day for working-day ones);
        ``share`` < 1 keeps to the early part of that span."""
        d = self.dur(name, start)
        last = add_working_days(start, d.count - 1) if d.unit == "working days" else d.after(start) - timedelta(2)
        span = max(0, (last - start).days - lo)
        return start + timedelta(days=lo + self.ri(0, int(span * share)))

    def late(self, name: str, start: date, lo: int, hi: int) -> date:
        """A day ``lo``..``hi`` days (working days, for working-day deadlines) after the deadline."""
        d = self.dur(name, start)
        deadline = d.after(start)
        k = self.ri(lo, hi)
        return add_working_days(deadline, k) if d.unit == "working days" else deadline + timedelta(days=k)

    def gap(self, day: date, lo: int, hi: int) -> date:
        return day + _DAYS[lo + int(self.rand() * (hi - lo + 1))]

    def fits(self, day: date, before: date | None = None) -> bool:
        """A late event may be injected only where it stays in the log (and before ``before``)."""
        return day <= self.horizon and (before is None or day < before)

    # -- the journey
    def build(self) -> None:
        rng, s = self.rng, self.s
        span = (self.horizon - s.start).days - 45
        R = s.start + timedelta(days=rng.randrange(max(1, span)))
        group = self.weighted(_GROUP_NAMES, _GROUP_WEIGHTS)
        self.group = group
        age = self.ri(*_AGES[group])
        self.age = age
        team = _TEAMS.get(group)
        if team is None or (group == "older_people" and self.rand() >= 0.3):  # a third of older people: north
            team = self.pick(("east_long_term", "west_long_term"))
        self.team = team
        self.access = _actor("access_team", "access_officer", self.ri(1, 6))
        self.worker = _actor(self.team, "social_worker", self.ri(1, 14))
        self.finance = _actor("finance", "finance_officer", self.ri(1, 3))
        self.manager = {role: _actor(self.team, role, i + 90)
                        for i, role in enumerate(("team_manager", "service_manager", "head_of_service"))}
        self.panel = _PANEL

        self.mental_disorder = group == "mental_health" or (group == "learning_disability" and rng.random() < 0.2) \
            or rng.random() < 0.04
        self.terminal = group in ("older_people", "physical_disability") and rng.random() < 0.05
        unpaid_carer = group not in ("carer",) and rng.random() < (0.45 if group == "older_people" else 0.25)
        attrs_: dict[str, Any] = {"source": self.pick(_SOURCES), "age": age, "client_group": group}
        if group == "children_families" or rng.random() < 0.5:
            born = add_months(R, -12 * age) - timedelta(days=self.ri(1, 360))
            while _age_on(born, R) != age:  # 29 February and the like
                born += timedelta(days=1 if _age_on(born, R) > age else -1)
            attrs_["date_of_birth"] = born.isoformat()
            self.born: date | None = born
        else:
            self.born = None
        attrs_["unpaid_carer"] = unpaid_carer
        if group == "carer":
            attrs_["is_carer"] = True
        if self.mental_disorder:
            attrs_["mental_disorder"] = True
        if self.terminal:
            attrs_["terminal_illness"] = True
        self.referral = self.add(R, "referral_received", self.access, **attrs_)
        self.R = R
        moved_in = group != "carer" and rng.random() < 0.04
        self.moved_in: _Ev | None = None
        if moved_in:
            had = rng.random() < 0.75
            self.moved_in = self.add(R, "moved_in", self.access, authority=self.pick(
                ("Aberdeenshire", "Highland", "Fife", "Glasgow City")), had_support=had)
            if not had:
                self.moved_in = None

        if unpaid_carer:
            self.carer_thread(self.referral, R, self.terminal, young=False)

        tier = 3 if group == "children_families" or moved_in else self.weighted((1, 2, 3), (40, 25, 35))
        T = self.gap(R, 0, 1 if moved_in else 3)
        self.triage = self.add(T, "triaged", self.access, tier=tier)
        closed = None
        if tier == 1:
            closed = self.tier1(T)
        else:
            if tier == 2:
                T, closed = self.tier2(T)
            if closed is None:
                closed = self.tier3(T)
        self.close(closed)

    def tier1(self, T: date) -> date:
        rng = self.rng
        info = []
        if rng.random() < 0.7:
            info.append(self.add(self.gap(T, 0, 3), "information_given", self.access,
                                 topics=rng.sample(("community", "finance", "carers", "advocacy"), self.ri(1, 2))))
        if not info or rng.random() < 0.5:
            info.append(self.add(self.gap(T, 0, 5), "signposted", self.access,
                                 to=self.pick(("community_group", "day_centre", "citizens_advice", "gp"))))
        close = self.gap(max(e.day for e in info), 1, 14)
        if self.hit("SDS-ACC-01"):
            for e in info:
                self.evs.remove(e)
            self.inject("SDS-ACC-01", self.triage, anchor_acts=("case_closed",), after=self.triage)
        self.pending_close = ("signposted", self.access)
        return close

    def tier2(self, T: date) -> tuple[date, date | None]:
        rng = self.rng
        kind = self.pick(("reablement", "reablement", "crisis", "enablement"))
        ot = _actor("access_team", "occupational_therapist", self.ri(1, 5))
        start = self.gap(T, 1, 7)
        self.add(start, "short_term_support_started", ot, kind=kind)
        end = self.gap(start, 14, 42)
        self.add(end, "short_term_support_ended", ot, kind=kind,
                 outcome=self.pick(("independent", "reduced_need", "ongoing_need")))
        if rng.random() < 0.35:
            T3 = self.gap(end, 0, 4)
            self.add(T3, "triaged", self.access, tier=3)
            return T3, None
        self.pending_close = ("no_further_need", ot)
        return T, self.gap(end, 1, 10)

    def tier3(self, T: date) -> date | None:
        rng, wf = self.rng, self.wf
        fast = self.moved_in is not None
        w = self.worker
        # the assessment: within the wait, or late
        if not fast and self.hit("SDS-ACC-02") and self.fits(late := self.late("tier3_wait", T, 3, 21)):
            A0 = late
            acc02 = _Pending("SDS-ACC-02", (self.triage,))
            self.truth.append(acc02)
        else:
            A0 = self.gap(T, 1, 3) if fast else self.ontime("tier3_wait", T, lo=2)
            acc02 = None
        started = self.add(A0, "assessment_started", w)
        if acc02 is not None:
            acc02.anchor = started
        g = (lambda d, lo, hi: self.gap(d, 0, 1)) if fast else self.gap

        band = self.weighted(_BANDS, (20, 45, 25, 10))
        if self.group == "children_families":
            band = self.pick(("critical", "substantial"))
        bands = wf.param_value("eligible_bands", A0)
        override = band not in bands and rng.random() < 0.04
        eligible = band in bands or override
        if fast and not eligible:
            band, eligible, override = "substantial", True, False

        # independent support, before options (advocacy for a mental disorder)
        adv_left_out = not self.mental_disorder and self.hit("SDS-ADV-01")
        kind = "advocacy" if self.mental_disorder else self.weighted(("advice", "advocacy", "brokerage"), (5, 2, 3))
        adv02 = self.mental_disorder and eligible and self.hit("SDS-ADV-02")
        if adv02:
            kind = "advice"
        offer_day = A0 if fast else self.gap(A0, 0, 1)  # before the outcomes, so always before the options
        if not adv_left_out:
            provider = {"advocacy": "Moray Independent Advocacy", "advice": "SDS Scotland advice line",
                        "brokerage": "Support brokerage service"}[kind]
            offer = self.add(offer_day, "independent_support_offered", w, provider=provider, kind=kind)
            self.add(g(offer_day, 0, 6), "independent_support_referred" if rng.random() < 0.3
                     else "independent_support_declined", w, provider=provider)
            if adv02:
                self.inject("SDS-ADV-02", offer, anchor_acts=("options_offered",), after=offer)
        else:
            self.inject("SDS-ADV-01", anchor_acts=("options_offered", "case_closed"), after=started)

        day = g(A0, 1, 6)
        if eligible and self.hit("SDS-ASM-01"):
            self.inject("SDS-ASM-01", anchor_acts=("budget_calculated",), after=started, every=True)
        else:
            self.add(day, "outcomes_agreed", w, count=self.ri(2, 6))
        day = g(day, 0, 5)
        areas = ["finance", *rng.sample(("natural", "community", "technology"), self.ri(1, 3))]
        if rng.random() < 0.5:
            areas += rng.sample(("own", "adaptations"), self.ri(1, 2))
        assets = self.add(day, "assets_explored", w, areas=areas)
        if eligible and self.hit("SDS-ASM-02"):
            areas.remove("finance")
            self.inject("SDS-ASM-02", assets, anchor_acts=("budget_calculated",), after=started, every=True)

        # capacity (older people and learning disability mostly)
        self.capacity: bool | None = None
        if self.group in ("older_people", "learning_disability") and rng.random() < 0.12 and eligible:
            day = g(day, 0, 3)
            concern = self.add(day, "capacity_concern_raised", w)
            has = rng.random() < 0.55
            self.capacity = has
            if has and self.hit("SDS-CAP-01"):
                self.inject("SDS-CAP-01", concern, anchor_acts=("option_chosen",), after=concern)
            else:
                day = g(day, 1, 5)
                assessed = self.add(day, "capacity_assessed", w, has_capacity=has)
                if not has:
                    if self.hit("SDS-CAP-02"):
                        self.inject("SDS-CAP-02", assessed, anchor_acts=("option_chosen",), after=assessed)
                    else:
                        day = g(day, 0, 4)
                        self.add(day, "proxy_recorded", w, kind=self.pick(
                            ("welfare_attorney", "guardian", "continuing_attorney", "intervention_order")))

        day = g(day, 0, 6)
        elg_attrs: dict[str, Any] = {"band": band, "eligible": eligible}
        if override:
            elg_attrs["override_reason"] = "risk to independence without support (panel view)"
        elg05 = eligible and not override and not fast and self.hit("SDS-ELG-05")
        if elg05:
            elg_attrs["band"] = band = "moderate"
        determined = self.add(day, "eligibility_determined", w, **elg_attrs)
        if elg05:
            self.inject("SDS-ELG-05", anchor=determined)
        if self.hit("SDS-ELG-01"):
            self.inject("SDS-ELG-01", determined, anchor_acts=_ELIGIBLE_ACTS, after=determined)
        else:
            self.add(day, "eligibility_communicated", w, reasons_given=True)
        # a family carer recognised during the assessment
        if self.group != "carer" and not self.referral.attrs["unpaid_carer"] and rng.random() < 0.08:
            young = rng.random() < 0.25
            ident = self.add(g(A0, 0, 10), "carer_identified", w, young_carer=young,
                             **({"cared_for_terminal": True} if self.terminal else {}))
            self.carer_thread(ident, ident.day, self.terminal, young)
        AC = g(day, 0, 4)
        self.add(AC, "assessment_completed", w)

        if not eligible:
            signs = [self.add(g(AC, 0, 5), "signposted", w, to=self.pick(("community_group", "day_centre",
                                                                              "carers_centre")))]
            if rng.random() < 0.5:
                signs.append(self.add(g(signs[0].day, 0, 3), "information_given", w, topics=["community"]))
            if self.hit("SDS-ELG-03"):
                for e in signs:
                    self.evs.remove(e)
                self.inject("SDS-ELG-03", determined, anchor_acts=("case_closed",), after=determined)
            self.pending_close = ("no_further_need", w)
            return self.gap(max(e.day for e in self.evs), 1, 10)
        return self.budget_and_support(AC, band, determined, fast)

    def budget_and_support(self, AC: date, band: str, determined: _Ev, fast: bool) -> date | None:
        rng, wf, w = self.rng, self.wf, self.worker
        g = (lambda d, lo, hi: self.gap(d, 0, 1)) if fast else self.gap
        amount = _amount(rng, self.group)
        B = g(AC, 1, 4)
        self.add(B, "budget_calculated", w, amount=amount, period="week",
                 method=self.pick(("ras", "ras", "saq", "equivalency", "costed_plan")))
        limits = sorted(wf.param_value("delegated_limits", B).items(), key=lambda kv: kv[1])
        threshold = min(wf.param_value("panel_threshold", B), limits[-1][1])
        day = B
        # a reduction by a manager, with reasons and appeal rights (a few)
        decision_late = False
        if amount > 200 and amount <= threshold and rng.random() < 0.07:
            new = round(amount * self.pick((0.8, 0.85, 0.9)))
            rattrs: dict[str, Any] = {"amount": new, "period": "week",
                                      "reasons": "the outcomes can be met at a lower cost with community support"}
            bud03 = self.hit("SDS-BUD-03")
            if bud03:
                del rattrs["reasons"]
            day = g(day, 0, 2)
            reduced = self.add(day, "budget_reduced", self.manager["service_manager"], **rattrs)
            if bud03:
                self.inject("SDS-BUD-03", anchor=reduced)
            amount = new
            if not fast and self.hit("SDS-BUD-04") and self.fits(self.late("appeal_rights_notice", day, 1, 4)):
                decision_late = True
                told = add_working_days(self.due("appeal_rights_notice", day), self.ri(1, 4))
                # the rest of the journey hurries, so the personal-care wait still holds
                g = lambda d, lo, hi: self.gap(d, 0, 1)  # noqa: E731
            else:
                told = self.ontime("appeal_rights_notice", day, lo=0, share=0.5)
            decision_at = (told, reduced)
        else:
            decision_at = None
        panel = amount > threshold
        bud05 = False
        if panel:
            day = g(day, 1, 3)
            top = limits[-1][0]
            if self.hit("SDS-BUD-02"):  # approved by the top of the scheme of delegation, no panel
                approved = self.add(day, "budget_approved", self.manager.get(top, w), amount=amount,
                                    period="week", approver_role=top)
                self.inject("SDS-BUD-02", anchor=approved)
                self.inject("SDS-BUD-01", anchor=approved)
            else:
                self.add(day, "panel_referred", w, panel=self.pick(("sds_panel", "resource_allocation_group")))
                day = g(day, 2, 5)
                self.add(day, "panel_decided", self.panel, decision="approved", amount=amount, period="week")
                self.add(day, "budget_approved", self.panel, amount=amount, period="week", approver_role="panel")
        else:
            role = next(r for r, lim in limits if amount <= lim)
            lower = [r for r, lim in limits if lim < amount]
            day = g(day, 0, 4)
            if lower and self.hit("SDS-BUD-01"):
                role = self.pick(lower)
                approved = self.add(day, "budget_approved", self.manager.get(role, w), amount=amount,
                                    period="week", approver_role=role)
                self.inject("SDS-BUD-01", anchor=approved)
            elif decision_at is None and not fast and self.hit("SDS-BUD-05"):
                bud05 = True  # the approval is left out and the offer will not state the budget
            else:
                self.add(day, "budget_approved", self.manager.get(role, w), amount=amount,
                                    period="week", approver_role=role)
        if decision_at is not None:
            told, reduced = decision_at
            told = max(told, day)
            told_ev = self.add(told, "decision_communicated", w, reasons_given=True, appeal_rights_given=True)
            if decision_late:
                self.inject("SDS-BUD-04", reduced, anchor=told_ev)
            day = told

        # an eligible case closed without the options (declined after the budget)
        # (closed inside the personal-care wait: the closure proves only that the options never came)
        close = self.gap(max(e.day for e in self.evs), 2, 20)
        if not fast and self.hit("SDS-ELG-02") and close < self.due("personal_care_wait", AC) - timedelta(days=2):
            self.inject("SDS-ELG-02", determined, anchor_acts=("case_closed",), after=determined)
            self.pending_close = ("declined", w)
            return close

        # written information and the four options
        inf01 = self.hit("SDS-INF-01")
        extra = rng.sample(("advocacy", "carers", "complaints", "community"), self.ri(0, 2))
        topics = ["sds_options", "finance", *extra]
        if inf01:
            topics.remove("sds_options")
        day = g(day, 0, 2)
        self.add(day, "information_given", w, topics=topics)
        dp_ineligible = rng.random() < 0.04
        options = [2, 3, 4] if dp_ineligible else [1, 2, 3, 4]
        chosen = self.weighted(options, [20, 12, 60, 8][-len(options):])
        opt01 = not dp_ineligible and self.hit("SDS-OPT-01")
        if opt01:
            options.remove(self.pick([o for o in options if o != chosen]))
        oattrs: dict[str, Any] = {"options": options, "budget_stated": not bud05, "information_given": not inf01}
        day = g(day, 0, 2)
        offered = self.add(day, "options_offered", w, **oattrs)
        if inf01:
            self.inject("SDS-INF-01", anchor=offered)
        if bud05:
            self.inject("SDS-BUD-05", anchor=offered)
        if dp_ineligible:
            self.add(day, "options_exception", w, reason="dp_ineligible", written_reasons=True)
        self.dp_ineligible = dp_ineligible
        chosen_by = "person"
        if self.capacity is False:
            chosen_by = "proxy"
        elif chosen == 3 and rng.random() < 0.05:
            chosen_by = "deemed"
        day = g(day, 0, 5)
        self.add(day, "option_chosen", w, option=chosen, chosen_by=chosen_by)
        contingency = not self.hit("SDS-PLN-02")
        if self.hit("SDS-PLN-01"):
            self.inject("SDS-PLN-01", anchor_acts=("support_started",), after=self.evs[-1])
        else:
            day = g(day, 0, 4)
            plan = self.add(day, "support_plan_agreed", w, contingency=contingency, risk_enablement=rng.random() < 0.4,
                            outcomes=self.ri(2, 6))
            if not contingency:
                self.inject("SDS-PLN-02", anchor=plan)
        start_option = chosen
        opt02 = self.hit("SDS-OPT-02")
        if opt02:
            others = [o for o in (2, 3, 4) if o != chosen and not (chosen_by == "deemed" and o == 3)]
            start_option = self.pick(others)
        personal_care = band in ("critical", "substantial")
        begin = g(day, 1, 6)
        limit = self.due("personal_care_wait", AC) - timedelta(days=2)
        if begin > limit:  # never reached with these gaps; kept as a guard
            raise GeneratorError(f"{self.name}: support would start after the personal-care wait")
        if self.moved_in is not None:
            limit_in = self.due("move_in_support", self.moved_in.day) - timedelta(days=2)
            if begin > limit_in:
                begin = max(day, limit_in)
            if begin > limit_in:
                raise GeneratorError(f"{self.name}: a move-in path too slow for the move-in target")
            if self.hit("SDS-TRN-02"):
                late = self.late("move_in_support", self.moved_in.day, 3, 12)
                if self.fits(late) and late <= self.due("personal_care_wait", AC) - timedelta(days=2):
                    begin = late
                    self.inject("SDS-TRN-02", self.moved_in, anchor_acts=("support_started",), after=self.evs[-1])
        elif personal_care and self.hit("SDS-ELG-04"):
            late = self.late("personal_care_wait", AC, 3, 20)
            if self.fits(late):
                begin = late
                self.inject("SDS-ELG-04", anchor_acts=("support_started",), after=self.evs[-1])
        sattrs: dict[str, Any] = {"option": start_option}
        if personal_care:
            sattrs["personal_care"] = True
        started = self.add(begin, "support_started", w, **sattrs)
        if opt02:
            self.inject("SDS-OPT-02", anchor=started)
        if opt01:
            self.inject("SDS-OPT-01", offered, anchor=started)
        return self.supported(started, start_option)

    def supported(self, started: _Ev, option: int) -> date | None:
        """Reviews, direct-payment monitoring, changes and transitions while support lasts; the closure day
        (None: still open at the horizon)."""
        rng, w = self.rng, self.worker
        begin = started.day
        # direct payments and young people's cases stay open; some others end (every event so far before)
        E: date | None = None
        if option != 1 and self.group != "children_families" and rng.random() < 0.3:
            E = max(begin + timedelta(days=self.ri(40, 640)), max(e.day for e in self.evs) + timedelta(days=1))
        end = min(E, self.horizon + timedelta(days=1)) if E else self.horizon + timedelta(days=1)
        # reviews
        first = True
        prev = begin
        reviews = []
        while True:
            name = "initial_review" if first else "review_interval"
            code = "SDS-REV-01" if first else "SDS-REV-02"
            day = self.ontime(name, prev, lo=(28 if first else 200))
            if self.hit(code):
                late = self.late(name, prev, 3, 30 if first else 200)
                if self.fits(late, end):
                    day = late
                    ev = self.add(day, "review_completed", w, kind="initial" if first else "scheduled",
                                  outcomes_met=self.pick(("all", "some", "some", "none")))
                    self.inject(code, anchor=ev)
                    reviews.append(ev)
                    prev, first = day, False
                    continue
            if day >= end:
                break
            ev = self.add(day, "review_completed", w, kind="initial" if first else "scheduled",
                          outcomes_met=self.pick(("all", "all", "some", "none")))
            reviews.append(ev)
            prev, first = day, False
        if reviews and self.hit("SDS-SEQ-01"):
            ev = self.add(reviews[0].day, "outcomes_agreed", w, count=self.ri(1, 4))
            self.inject("SDS-SEQ-01", anchor=ev)
        # direct payments: means test and financial reviews
        if option == 1:
            mt = self.ontime("dp_means_test", begin, lo=14, share=0.5)
            if self.hit("SDS-DPY-01") and self.fits(late := self.late("dp_means_test", begin, 3, 40), end):
                ev = self.add(late, "dp_means_test_completed", self.finance)
                self.inject("SDS-DPY-01", started, anchor=ev)
            elif mt < end:
                self.add(mt, "dp_means_test_completed", self.finance)
            first_year = self.due("dp_financial_review_first_period", begin)
            prev = begin
            while True:
                name = "dp_financial_review_early" if prev < first_year else "dp_financial_review_interval"
                day = self.ontime(name, prev, lo=(40 if name.endswith("early") else 200))
                # keep clear of the first-year boundary, where "less than 12 months after" is decided
                if abs((day - first_year).days) <= 3:
                    day = first_year - timedelta(days=4)
                if self.hit("SDS-REV-03"):
                    late = self.late(name, prev, 3, 30)
                    if self.fits(late, end) and abs((late - first_year).days) > 3:
                        ev = self.add(late, "financial_review_completed", self.finance)
                        self.inject("SDS-REV-03", anchor=ev)
                        prev = late
                        continue
                if day >= end:
                    break
                self.add(day, "financial_review_completed", self.finance)
                prev = day
        # a material change, and the options put again
        if rng.random() < 0.12:
            m = begin + timedelta(days=self.ri(30, 400))
            if m + timedelta(days=60) < end:
                self.add(m, "material_change_recorded", w,
                         what=self.pick(("carer no longer able to help", "hospital admission",
                                          "moved to sheltered housing", "deterioration in health")))
                offer = self.ontime("options_reoffer", m, lo=2)
                late_offer = self.late("options_reoffer", m, 3, 20)
                opts = [2, 3, 4] if self.dp_ineligible else [1, 2, 3, 4]
                if self.hit("SDS-OPT-03") and self.fits(late_offer, end):
                    ev = self.add(late_offer, "options_offered", w, options=opts, budget_stated=True,
                                  information_given=True)
                    self.inject("SDS-OPT-03", anchor=ev)
                else:
                    self.add(offer, "options_offered", w, options=opts, budget_stated=True, information_given=True)
        # a young person: transition planning, then adult services at 18
        if self.group == "children_families" and self.born is not None:
            self.transition(begin, end)
        self.complaints(begin, end)
        if E is None:
            return None
        reason = self.pick(_CLOSING)
        if reason == "moved":
            self.add(E, "moved_out", w, authority=self.pick(("Aberdeen City", "Highland", "Perth and Kinross")))
        if reason != "died":
            self.add(E, "support_ended", w, option=option, reason=reason)
        self.pending_close = (reason, w)
        return E

    def transition(self, begin: date, end: date) -> None:
        """Transition planning soon after support starts (or late), then adult services at 18."""
        born, w = self.born, self.worker
        eighteen = _birthday(born, int(self.wf.param_value("adult_age", begin)))
        planned = self.gap(begin, 7, 60)
        if _age_on(born, begin) <= 16 and self.hit("SDS-TRN-01"):
            due = max(_birthday(born, int(self.wf.param_value("transition_plan_age", begin))),
                      self.due("transition_after_support", begin))
            late = due + timedelta(days=self.ri(3, 40))
            if self.fits(late, min(end, eighteen)):
                planned = late
                self.inject("SDS-TRN-01", anchor=self.add(late, "transition_planning_started", w))
            else:
                self.add(planned, "transition_planning_started", w)
        elif planned < end:
            self.add(planned, "transition_planning_started", w)
        transfer = max(eighteen, planned + timedelta(days=30))
        if transfer < end and planned < end:
            self.add(transfer, "transferred_to_adult_services", w)

    def complaints(self, begin: date, end: date) -> None:
        rng, w = self.rng, self.worker
        if rng.random() >= 0.07:
            return
        got = begin + timedelta(days=self.ri(5, 300))
        complaints = _actor("access_team", "access_officer", 50)
        if got + timedelta(days=80) >= end:
            return
        self.add(got, "complaint_received", complaints, stage=1)
        extended = rng.random() < 0.1
        name = "complaint_stage1_extended" if extended else "complaint_stage1_response"
        if not extended and self.hit("SDS-APL-01"):
            ans = add_working_days(self.due(name, got), self.ri(1, 5))
            ev = self.add(ans, "complaint_responded", w, stage=1)
            self.inject("SDS-APL-01", anchor=ev)
        else:
            ans = self.ontime(name, got, lo=1)
            self.add(ans, "complaint_responded", w, stage=1, **({"extended": True} if extended else {}))
        if rng.random() < 0.3:
            got2 = self.gap(ans, 1, 10)
            self.add(got2, "complaint_received", complaints, stage=2)
            if self.hit("SDS-APL-02"):
                ack = add_working_days(self.due("complaint_stage2_acknowledge", got2), self.ri(1, 4))
                ev = self.add(ack, "complaint_acknowledged", complaints, stage=2)
                self.inject("SDS-APL-02", anchor=ev)
            else:
                self.add(self.ontime("complaint_stage2_acknowledge", got2, lo=0), "complaint_acknowledged",
                         complaints, stage=2)
            if self.hit("SDS-APL-03"):
                resp = add_working_days(self.due("complaint_stage2_response", got2), self.ri(1, 8))
                ev = self.add(resp, "complaint_responded", self.manager["service_manager"], stage=2)
                self.inject("SDS-APL-03", anchor=ev)
            else:
                resp = self.ontime("complaint_stage2_response", got2, lo=5)
                self.add(resp, "complaint_responded", self.manager["service_manager"], stage=2)

    def carer_thread(self, ident: _Ev, day: date, terminal: bool, young: bool) -> None:
        """An identified carer: offer (adult plan or young carer statement), the answer, and for a terminal
        illness the conversation and plan within their working-day limits."""
        rng, w = self.rng, self.worker
        plan = "young_carer_statement" if young else "adult_carer_support_plan"
        if terminal:
            late = add_working_days(day, self.ri(3, 8))
            if self.hit("SDS-CAR-02") and self.fits(late):
                offer_day = late
                ev = self.add(offer_day, "carer_support_offered", w, plan=plan)
                self.inject("SDS-CAR-02", ident, anchor=ev)
            else:
                offer_day = self.ontime("carer_terminal_offer", day, lo=0)
                self.add(offer_day, "carer_support_offered", w, plan=plan)
            acc = self.gap(offer_day, 0, 1)
            self.add(acc, "carer_support_accepted", w)
            self.add(self.ontime("carer_terminal_conversation", acc, lo=0), "carer_conversation_held", w)
            self.add(self.ontime("carer_terminal_plan", acc, lo=3), "carer_support_plan_completed", w)
            return
        late = self.late("carer_support_offer", day, 3, 20)
        if self.hit("SDS-CAR-01") and self.fits(late):
            offer_day = late
            ev = self.add(offer_day, "carer_support_offered", w, plan=plan)
            self.inject("SDS-CAR-01", ident, anchor=ev)
        else:
            offer_day = self.ontime("carer_support_offer", day, lo=0, share=0.7)
            self.add(offer_day, "carer_support_offered", w, plan=plan)
        if rng.random() < 0.55:
            acc = self.gap(offer_day, 0, 10)
            self.add(acc, "carer_support_accepted", w)
            conv = self.gap(acc, 3, 30)
            self.add(conv, "carer_conversation_held", w)
            self.add(self.gap(conv, 5, 40), "carer_support_plan_completed", w)
        else:
            self.add(self.gap(offer_day, 0, 14), "carer_support_declined", w)

    def close(self, day: date | None) -> None:
        if day is None:
            return
        reason, actor = self.pending_close
        day = max(day, max(e.day for e in self.evs))
        closed = self.add(day, "case_closed", actor, reason=reason)
        if self.hit("SDS-SEQ-02"):
            ev = self.add(self.gap(day, 1, 30), "information_given", actor, topics=["community"])
            self.inject("SDS-SEQ-02", closed, anchor=ev)


_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60))


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _birthday(born: date, years: int) -> date:
    return add_months(born, 12 * years)


def _amount(rng: random.Random, group: str) -> float:
    lo, mode, hi = {"older_people": (60, 240, 900), "physical_disability": (80, 320, 1300),
                    "learning_disability": (150, 520, 1700), "mental_health": (50, 180, 650),
                    "carer": (25, 70, 250), "children_families": (90, 300, 1100)}[group]
    return round(rng.triangular(lo, hi, mode) / 5) * 5.0


# ------------------------------------------------------------------------------------------ the run


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
        c = _Case(self, n)
        c.build()
        return self._finish(c)

    def _finish(self, c: _Case) -> CaseOut:
        rng = c.rng
        horizon = c.horizon
        evs = sorted((e for e in c.evs if e.day <= horizon), key=_BY_TIME)
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
            rec = {"id": e.id, "case": name, "at": f"{stamp}T{_CLOCK[minute]}", "activity": e.activity,
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
            case = next(it, None)
            if case is None:
                exhausted = True
            elif case.lines:
                window.append([case, 0, []])
            else:
                yield case, []
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
