"""Rule packs: YAML files in ``rules/``, one per breach code, loaded into frozen ``Rule`` objects.

A rule names a template (``response``, ``precedence``, ``forbid``, or a named ``function`` for the few that
need arithmetic) and fills it in with matchers, a deadline parameter, lapses and exceptions. Loading accepts
only known keys, checks every activity, field and parameter, and never evaluates rule text as code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from ..conditions import ParamRef, Where, WhereError, compile_where
from ..datafile import DataFileError, Problem, line_of, load_yaml, schema_problems
from ..events import ACTIVITIES, ListOf, activity_words, with_article
from ..findings import SEVERITIES
from ..vocabulary import Vocabulary, VocabularyError, load_vocabulary
from ..workflow import Workflow

_LOG = logging.getLogger("sdsrules.rules")
#: the named functions of ``functions.py`` a rule may use (a test holds the two lists equal)
FUNCTION_NAMES = ("within_delegated_limit", "eligibility_matches_criteria", "all_options_offered", "option_as_chosen",
                  "dp_financial_reviews", "transition_planning")
TEMPLATES = ("response", "precedence", "forbid", "function")
CODE_PATTERN = r"^SDS-[A-Z]{3}-[0-9]{2}$"
#: a pack's manifest (beside its rule files): its name, code prefix and vocabulary; the shipped packs have none
PACK_FILE = "pack.yaml"
PACK_SCHEMA: dict = {
    "type": "object", "additionalProperties": False, "required": ["pack", "prefix"],
    "properties": {"pack": {"type": "string", "minLength": 1}, "title": {"type": "string"},
                   "description": {"type": "string"},
                   "prefix": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{1,11}$",
                              "description": "the first part of every code of the pack: LOCAL for LOCAL-REV-01"},
                   "vocabulary": {"type": "string", "minLength": 1}},
}

_ACTS = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_SIMPLE = {"type": "object", "additionalProperties": False, "required": ["activity"],
           "properties": {"activity": _ACTS, "where": {"type": "object"}}}
_MATCHER = {"type": "object", "additionalProperties": False, "required": ["activity"],
            "properties": {"activity": _ACTS, "where": {"type": "object"}, "first": {"type": "boolean"},
                           "preceded_by": {"anyOf": [_SIMPLE, {"type": "array", "items": _SIMPLE}]},
                           "not_preceded_by": {"anyOf": [_SIMPLE, {"type": "array", "items": _SIMPLE}]}}}
_MATCHERS = {"anyOf": [_MATCHER, {"type": "array", "items": _MATCHER, "minItems": 1}]}
_SIMPLES = {"anyOf": [_SIMPLE, {"type": "array", "items": _SIMPLE, "minItems": 1}]}
_CASE = {"type": "object", "additionalProperties": False, "required": ["any"],
         "properties": {"when": {"type": "object"}, "any": _SIMPLES}}
_EXPECT = {"anyOf": [_SIMPLE, {"type": "array", "minItems": 1, "items": {"anyOf": [_CASE, _SIMPLE]}}]}
_CHECK_PROPS = {
    "template": {"enum": list(TEMPLATES)},
    "trigger": _MATCHERS,
    "expect": _EXPECT,
    "describe": {"type": "string", "description": "the expected step in words, for messages"},
    "within": {"type": "string"},
    "before": _SIMPLES,
    "lapses_on": _SIMPLES,
    "excused_by": _SIMPLES,
    "since": _SIMPLE,
    "counts_before": {"type": "boolean"},
    "judge_open": {"type": "boolean"},
    "extension": {"type": "object", "additionalProperties": False, "required": ["within", "by"],
                  "properties": {"within": {"type": "string"}, "by": _SIMPLES}},
    "function": {"type": "string"},
    "parameters": {"type": "array", "items": {"type": "string"}},
    "message": {"type": "string", "minLength": 1},
    "met_if": {"type": "object", "description": "a condition on the trigger event that meets the duty by itself"},
    "accumulate": {"type": "string", "description": "precedence: a list attribute whose values are gathered over "
                   "every earlier expected event of the episode; the expected 'where' is tested on the union"},
}
_CHECK = {"type": "object", "additionalProperties": False, "required": ["template", "trigger", "message"],
          "properties": _CHECK_PROPS}
SCHEMA: dict = {
    "type": "object", "additionalProperties": False,
    "required": ["code", "title", "sources", "severity"],
    "properties": {
        "code": {"type": "string", "pattern": CODE_PATTERN, "description": "SDS-XXX-NN"},
        "title": {"type": "string", "minLength": 1},
        "version": {"type": ["string", "number"]},
        "severity": {"enum": list(SEVERITIES)},
        "sources": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "description": {"type": "string"},
        "effective": {"type": "object", "additionalProperties": False,
                      "properties": {"from": {}, "until": {}}},
        "checks": {"type": "array", "items": _CHECK, "minItems": 1},
        **_CHECK_PROPS,
    },
}


@attrs.frozen(slots=True)
class Matcher:
    """Which events a check is about: activity, data conditions, and context earlier in the episode."""

    activities: frozenset[str]
    where: Where = Where()
    preceded_by: tuple[Matcher, ...] = ()
    not_preceded_by: tuple[Matcher, ...] = ()
    first: bool = False
    #: derived, for the hot path: the activity alone decides (no ``where``, no context); it has a ``where``
    plain: bool = attrs.field(init=False, eq=False, repr=False)
    has_where: bool = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "has_where", bool(self.where.clauses))
        object.__setattr__(self, "plain", not (self.has_where or self.preceded_by or self.not_preceded_by))

    def words(self) -> str:
        return " or ".join(activity_words(a) for a in sorted(self.activities))


@attrs.frozen(slots=True)
class ExpectCase:
    when: Where
    any: tuple[Matcher, ...]


@attrs.frozen(slots=True)
class Check:
    """One template instance of a rule. ``key`` is ``CODE#n``."""

    key: str
    template: str
    trigger: tuple[Matcher, ...]
    message: str
    expect: tuple[ExpectCase, ...] = ()
    describe: str = ""
    within: str | None = None
    before: tuple[Matcher, ...] = ()
    lapses_on: tuple[Matcher, ...] = ()
    excused_by: tuple[Matcher, ...] = ()
    since: Matcher | None = None
    counts_before: bool = False
    judge_open: bool = True
    extension_within: str | None = None
    extension_by: tuple[Matcher, ...] = ()
    function: str | None = None
    parameters: tuple[str, ...] = ()
    #: the trigger meets the duty itself when it satisfies this (the trigger says where the duty applies)
    met_if: Where = attrs.field(factory=Where)
    #: precedence: the list attribute gathered over the episode's earlier expected events (spec 1.1, SDS-ASM-02)
    accumulate: str | None = None
    # activity sets the search needs, computed once: triggers, the forward or backward scan, exceptions
    trigger_activities: frozenset[str] = attrs.field(init=False)
    scan_activities: frozenset[str] = attrs.field(init=False)
    excused_activities: frozenset[str] = attrs.field(init=False)
    extension_activities: frozenset[str] = attrs.field(init=False)
    #: every trigger matcher is plain: an event of a trigger activity is a trigger
    trigger_plain: bool = attrs.field(init=False, eq=False, repr=False)
    _words: str = attrs.field(init=False, eq=False, repr=False)  # expect_words(), made once

    def __attrs_post_init__(self) -> None:
        def acts(ms) -> frozenset[str]:
            return frozenset(a for m in ms for a in m.activities)

        expect = [m for c in self.expect for m in c.any]
        scan = acts(expect) | (acts(self.before) | acts(self.lapses_on) if self.template == "response" else set())
        object.__setattr__(self, "trigger_activities", acts(self.trigger))
        object.__setattr__(self, "trigger_plain", all(m.plain and not m.first for m in self.trigger))
        object.__setattr__(self, "_words", self._expect_words())
        object.__setattr__(self, "scan_activities", frozenset(scan))
        object.__setattr__(self, "excused_activities", acts(self.excused_by))
        object.__setattr__(self, "extension_activities", acts(self.extension_by))

    def trigger_params(self) -> tuple[str, ...]:
        """Parameters the trigger's conditions compare with (the values a finding must name), in order."""
        names: list[str] = []
        for m in self.trigger:
            for c in m.where.clauses:
                if isinstance(c.value, ParamRef) and c.value.name not in names:
                    names.append(c.value.name)
        return tuple(names)

    def params_used(self) -> set[str]:
        names = set(self.parameters)
        if self.within:
            names.add(self.within)
        if self.extension_within:
            names.add(self.extension_within)
        for m in self.all_matchers():
            names |= m.where.params()
        names |= self.met_if.params()
        for case in self.expect:
            names |= case.when.params()
        return names

    def all_matchers(self) -> Iterable[Matcher]:
        for m in (*self.trigger, *self.before, *self.lapses_on, *self.excused_by, *self.extension_by,
                  *([self.since] if self.since else [])):
            yield m
            yield from m.preceded_by
            yield from m.not_preceded_by
        for case in self.expect:
            yield from case.any

    def expect_words(self) -> str:
        return self._words

    def _expect_words(self) -> str:
        if self.describe:
            return self.describe
        acts = sorted({a for c in self.expect for m in c.any for a in m.activities})
        return " or ".join(with_article(activity_words(a)) for a in acts)


@attrs.frozen(slots=True)
class Rule:
    code: str
    title: str
    severity: str
    sources: tuple[str, ...]
    checks: tuple[Check, ...]
    version: str = "1"
    description: str = ""
    effective_from: date | None = None
    effective_until: date | None = None
    file: str = ""
    #: one of several dated versions of its code in the pack (its findings then say which version judged them)
    versioned: bool = False

    def in_force(self, day: date) -> bool:
        if self.effective_from and day < self.effective_from:
            return False
        return not (self.effective_until and day > self.effective_until)

    def parameters(self) -> set[str]:
        return set().union(*(c.params_used() for c in self.checks))


@attrs.frozen(eq=False, slots=False)
class Rulebook:
    rules: tuple[Rule, ...]

    def by_code(self, code: str, day: date | None = None) -> Rule:
        """The rule of ``code``: of a rule with dated versions, the one in force on ``day`` (default: the
        latest version)."""
        versions = self.versions(code)
        if not versions:
            raise KeyError(code)
        if day is None:
            return versions[-1]
        hit = next((r for r in versions if r.in_force(day)), None)
        if hit is not None:
            return hit
        first = versions[0].effective_from
        return versions[0] if first is not None and day < first else versions[-1]

    def versions(self, code: str) -> tuple[Rule, ...]:
        """Every version of the rule ``code``, oldest first (one, unless the pack dates its versions)."""
        return tuple(r for r in self.rules if r.code == code)

    def checks(self) -> Iterable[tuple[Rule, Check]]:
        for r in self.rules:
            for c in r.checks:
                yield r, c

    @cached_property
    def dispatch(self) -> dict[str, tuple[int, ...]]:
        """activity -> the positions (in ``all_checks``) of the checks it can trigger."""
        out: dict[str, list[int]] = {}
        for n, (_, c) in enumerate(self.all_checks):
            for a in c.trigger_activities:
                out.setdefault(a, []).append(n)
        return {a: tuple(v) for a, v in out.items()}

    @cached_property
    def all_checks(self) -> tuple[tuple[Rule, Check], ...]:
        return tuple(self.checks())

    @cached_property
    def _checks_for(self) -> dict[frozenset[str], list[tuple[Rule, Check]]]:
        return {}

    def checks_for(self, activities: Iterable[str]) -> list[tuple[Rule, Check]]:
        """The checks a case with these activities can trigger, in rulebook order (cases repeat a few hundred
        sets of activities: each set's answer is kept, up to 4,096 of them)."""
        key = frozenset(activities)
        cache = self._checks_for
        hit = cache.get(key)
        if hit is None:
            d = self.dispatch
            every = self.all_checks
            hit = [every[n] for n in sorted({n for a in key for n in d.get(a, ())})]
            if len(cache) >= 4096:
                cache.clear()
            cache[key] = hit
        return hit

    def parameters_used(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in self.rules:
            for p in r.parameters():
                out.setdefault(p, set()).add(r.code)
        return out

    def fingerprint(self) -> str:
        import hashlib
        return hashlib.sha256(repr([(r.code, r.version, r.checks) for r in self.rules]).encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------------------------ loading

def bundled_dir() -> Path:
    here = Path(__file__).resolve().parent.parent.parent / "rules"
    if here.is_dir() and any(here.rglob("SDS-*.yaml")):
        return here
    return Path(str(resources.files("sdsrules.rulepacks")))


def rule_files(paths: Sequence[str | Path] | None = None) -> list[Path]:
    """The rule files under the given folders/files (default: the shipped packs), test files excluded.

    Every other file a pack folder holds that looks like a rule but is not read is said on the ``sdsrules.rules``
    logger (a warning on stderr): a link that leads outside the pack, a ``.yml`` file. A FIFO, device or other
    special file named as a rule is refused (reading it could block forever)."""
    roots = [Path(p) for p in paths] if paths else [bundled_dir()]
    files: list[Path] = []
    problems: list[Problem] = []
    for root in roots:
        if root.is_dir():
            inside = root.resolve()
            for p in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
                if p.name.endswith((".test.yaml", ".test.yml")) or p.name == PACK_FILE:
                    continue
                if not p.resolve().is_relative_to(inside):
                    _LOG.warning("%s: skipped: it links outside the rule pack %s", p, root)
                elif p.suffix == ".yml":
                    _LOG.warning("%s: skipped: rule files end in .yaml", p)
                elif not p.is_file():
                    problems.append(Problem(str(p), None, "", "is not a regular file (a FIFO, device or folder); "
                                                              "refused"))
                else:
                    files.append(p)
        elif root.exists() and not root.is_file():
            problems.append(Problem(str(root), None, "", "is not a regular file (a FIFO, device or folder); refused"))
        else:
            files.append(root)
    if problems:
        raise DataFileError(problems)
    return files


def load_rulebook(paths: Sequence[str | Path] | None = None, workflow: Workflow | None = None) -> Rulebook:
    """Load every rule file; raise DataFileError listing every problem in every file."""
    problems: list[Problem] = []
    rules: list[Rule] = []
    if not paths and workflow is not None and not workflow.vocabulary.sds:
        return Rulebook(())  # the shipped packs speak SDS: a design in other words runs the packs it is given
    files = rule_files(paths)
    if not files:
        raise DataFileError([Problem(", ".join(map(str, paths or [])), None, "", "holds no rule files (*.yaml)")])
    told: set[str] = set()
    packs: dict[Path, Pack | None] = {}  # each manifest read once
    for f in files:
        try:
            folder = Path(f).parent
            if folder not in packs:
                packs[folder] = pack_of(f)
            pack = packs[folder]
            if pack is not None and pack.vocabulary is not None and workflow is not None and \
                    pack.vocabulary.name != workflow.vocabulary.name:
                if pack.file not in told:  # one sentence for the pack, not one a rule
                    told.add(pack.file)
                    problems.append(Problem(pack.file, None, "vocabulary", f"the pack {pack.name} speaks the "
                                            f"vocabulary {pack.vocabulary.name} and the design {workflow.name} "
                                            f"speaks {workflow.vocabulary.name}: name the pack's design with "
                                            "--workflow"))
                continue
            rule = load_rule(f, workflow, pack)
        except DataFileError as e:
            problems.extend(e.problems)
            continue
        rules.append(rule)
    rules = dated_versions(rules, problems)  # one code in several files: its dated versions, in date order
    if problems:
        raise DataFileError(problems)
    return Rulebook(tuple(rules))


@attrs.frozen(slots=True)
class Pack:
    """A rule pack's manifest: the code prefix of its rules and, for loading without a design, its vocabulary."""

    name: str
    prefix: str = "SDS"
    vocabulary: Vocabulary | None = None
    file: str = ""

    @property
    def schema(self) -> dict:
        if self.prefix == "SDS":
            return SCHEMA
        code = {"type": "string", "pattern": f"^{self.prefix}-[A-Z]{{2,5}}-[0-9]{{2}}$",
                "description": f"{self.prefix}-XXX-NN"}
        return {**SCHEMA, "properties": {**SCHEMA["properties"], "code": code}}


def pack_of(rule_file: str | Path) -> Pack | None:
    """The manifest (``pack.yaml``) of the pack a rule file belongs to: in its folder or the folder above."""
    here = Path(rule_file).parent
    for folder in (here, here.parent):
        manifest = folder / PACK_FILE
        if manifest.is_file():
            return load_pack(manifest)
    return None


def load_pack(path: str | Path) -> Pack:
    file = str(path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise DataFileError([Problem(file, getattr(raw, "line", None), "", "must be a mapping with 'pack'")])
    problems = list(schema_problems(raw, PACK_SCHEMA, file))
    if problems:
        raise DataFileError(problems)
    vocab = None
    if raw.get("vocabulary"):
        try:
            vocab = load_vocabulary(raw["vocabulary"], relative_to=file)
        except VocabularyError as e:
            raise DataFileError([Problem(file, line_of(raw, ["vocabulary"]), "vocabulary",
                                         f"cannot be loaded: {e}")]) from None
    return Pack(raw["pack"], raw["prefix"], vocab, file)


def load_rule(path: str | Path, workflow: Workflow | None = None, pack: Pack | None = None) -> Rule:
    """One rule file, checked against the design's vocabulary (else the pack's, else SDS) and the pack's prefix."""
    file = str(path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise DataFileError([Problem(file, getattr(raw, "line", None), "", "must be a mapping with 'code'")])
    problems = list(schema_problems(raw, pack.schema if pack is not None else SCHEMA, file))
    if not problems:
        has_inline = "template" in raw
        if has_inline == ("checks" in raw):
            problems.append(Problem(file, getattr(raw, "line", None), "",
                                    "give either one check inline (template, trigger, ...) or a list under 'checks', "
                                    "not both or neither"))
    if problems:
        raise DataFileError(problems)
    check_raws = raw["checks"] if "checks" in raw else [{k: v for k, v in raw.items() if k in _CHECK_PROPS}]
    base = ["checks"] if "checks" in raw else []
    checks = []
    for i, craw in enumerate(check_raws):
        path_prefix = [*base, i] if base else []
        checks.append(_check(f"{raw['code']}#{i}", craw, raw, path_prefix, file, problems, workflow, pack))
    eff = raw.get("effective") or {}
    dates = {}
    for k in ("from", "until"):
        v = eff.get(k)
        if v is not None and not isinstance(v, date):
            problems.append(Problem(file, line_of(raw, ["effective", k]), f"effective.{k}",
                                    f"must be a date (got {v!r})"))
            v = None
        dates[k] = v
    if problems:
        raise DataFileError(problems)
    return Rule(code=raw["code"], title=raw["title"], severity=raw["severity"], sources=tuple(raw["sources"]),
                checks=tuple(checks), version=str(raw.get("version", "1")), description=raw.get("description", ""),
                effective_from=dates["from"], effective_until=dates["until"], file=file)


def _check(key: str, c: Mapping, raw: dict, prefix: list, file: str, problems: list[Problem],
           workflow: Workflow | None, pack: Pack | None = None) -> Check:
    def problem(path: list, message: str) -> None:
        full = [*prefix, *path]
        problems.append(Problem(file, line_of(raw, full), ".".join(map(str, full)), message))

    vocab: Mapping[str, Mapping[str, Any]] = ACTIVITIES
    if workflow is not None:
        vocab = workflow.vocabulary
    elif pack is not None and pack.vocabulary is not None:
        vocab = pack.vocabulary
    trace_fields = set(getattr(vocab, "trace_attributes", ()))

    def matcher(m: Mapping, path: list, simple: bool = False) -> Matcher:
        acts = [m["activity"]] if isinstance(m["activity"], str) else list(m["activity"])
        for a in acts:
            if a not in vocab:
                problem([*path, "activity"], vocab.not_known(a) if isinstance(vocab, Vocabulary) else
                        f"{a!r} is not an activity of the event contract (docs/contract.md)")
        fields = set().union(*(vocab.get(a, {}).keys() for a in acts), trace_fields)
        try:
            where = compile_where(m.get("where"), "where", fields)
        except WhereError as e:
            problem([*path, "where"], f"{e.key}: {e.message}")
            where = Where()
        pre = () if simple else tuple(matcher(x, [*path, "preceded_by", j], True)
                                      for j, x in enumerate(_listed(m.get("preceded_by"))))
        npre = () if simple else tuple(matcher(x, [*path, "not_preceded_by", j], True)
                                       for j, x in enumerate(_listed(m.get("not_preceded_by"))))
        return Matcher(frozenset(acts), where, pre, npre, bool(m.get("first", False)))

    def matchers(name: str) -> tuple[Matcher, ...]:
        return tuple(matcher(x, [name, j] if isinstance(c.get(name), list) else [name], name != "trigger")
                     for j, x in enumerate(_listed(c.get(name))))

    template = c["template"]
    trigger = matchers("trigger")
    expect: list[ExpectCase] = []
    plain: list[Matcher] = []  # plain matchers in the list are alternatives: one case, after any 'when' cases
    raw_expect = c.get("expect")
    for j, e in enumerate(_listed(raw_expect)):
        path = ["expect", j] if isinstance(raw_expect, list) else ["expect"]
        if "any" in e:
            fields = set().union(*(vocab.get(a, {}).keys() for m in trigger for a in m.activities), trace_fields)
            try:
                when = compile_where(e.get("when"), "when", fields)
            except WhereError as err:
                problem([*path, "when"], f"{err.key}: {err.message}")
                when = Where()
            expect.append(ExpectCase(when, tuple(matcher(x, [*path, "any", k], True)
                                                for k, x in enumerate(_listed(e["any"])))))
        else:
            plain.append(matcher(e, path, True))
    if plain:
        if any(not case.when for case in expect):
            problem(["expect"], "has a case without 'when' and plain alternatives too: put them in one 'any' list")
        expect.append(ExpectCase(Where(), tuple(plain)))
    for case in expect[:-1]:
        if not case.when:
            problem(["expect"], "a case without 'when' must come last: the cases after it could never apply")
    if template in ("response", "precedence") and not expect:
        problem([], f"a {template} check needs 'expect'")
    if template == "function":
        if c.get("function") not in FUNCTION_NAMES:
            problem(["function"], f"names no known function (known: {', '.join(sorted(FUNCTION_NAMES))})")
    elif "function" in c:
        problem(["function"], "only a 'function' check names a function")
    if "accumulate" in c and template != "precedence":
        problem(["accumulate"], f"'accumulate' belongs to precedence checks, not {template}")
    elif "accumulate" in c:
        acts = {a for case in expect for m in case.any for a in m.activities}
        kinds = [vocab.get(a, {}).get(c["accumulate"], (None,))[0] for a in acts]
        if not kinds or not all(isinstance(k, ListOf) for k in kinds):
            problem(["accumulate"], f"{c['accumulate']!r} must be a list attribute of every expected activity")
    if template != "response":
        for k in ("within", "before", "lapses_on", "counts_before", "judge_open", "extension"):
            if k in c:
                problem([k], f"'{k}' belongs to response checks, not {template}")
    ext = c.get("extension") or {}
    met_if = Where()
    if "met_if" in c:
        if template == "function":
            problem(["met_if"], "a function check decides for itself; 'met_if' belongs to the templates")
        fields = set().union(*(vocab.get(a, {}).keys() for m in trigger for a in m.activities), trace_fields)
        try:
            met_if = compile_where(c["met_if"], "met_if", fields)
        except WhereError as err:
            problem(["met_if"], f"{err.key}: {err.message}")
    check = Check(
        key=key, template=template, trigger=trigger, message=c["message"].strip(), expect=tuple(expect),
        describe=c.get("describe", ""), within=c.get("within"), before=matchers("before"),
        lapses_on=matchers("lapses_on"), excused_by=matchers("excused_by"),
        since=matcher(c["since"], ["since"], True) if c.get("since") else None,
        counts_before=bool(c.get("counts_before", False)), judge_open=bool(c.get("judge_open", True)),
        extension_within=ext.get("within"),
        extension_by=tuple(matcher(x, ["extension", "by", j], True) for j, x in enumerate(_listed(ext.get("by")))),
        function=c.get("function"), parameters=tuple(c.get("parameters") or ()), met_if=met_if,
        accumulate=c.get("accumulate"),
    )
    if workflow is not None:
        for p in sorted(check.params_used()):
            if p not in workflow.parameters:
                problem([], f"uses parameter {p!r}, which workflow {workflow.name} ({workflow.file}) does not define")
            elif p in (check.within, check.extension_within) and workflow.parameters[p].kind != "duration":
                problem([], f"uses parameter {p!r} as a deadline, but it is a {workflow.parameters[p].kind}")
    return check


def _listed(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# ------------------------------------------------------------------------------------------ dated versions

def dated_versions(rules: list[Rule], problems: list[Problem]) -> list[Rule]:
    """The rules sorted by code, with the dated versions of a code checked and closed.

    A pack may hold one code in several files: the versions of that rule, each with its own ``version`` and
    ``effective: {from: DATE}`` (the oldest may omit ``from``: in force since always). A version is in force
    from its date until the day before the next version's (or its own ``until``, if earlier), so a trigger is
    judged by the version in force on its day, on every engine (each judges ``Rule.in_force`` on the
    trigger's day). Versions after the first get their own check keys (``CODE#0v2``), which the engines use to
    tell checks apart."""
    by_code: dict[str, list[Rule]] = {}
    for r in rules:
        by_code.setdefault(r.code, []).append(r)
    out: list[Rule] = []
    for code in sorted(by_code):
        versions = by_code[code]
        if len(versions) == 1:
            out.extend(versions)
            continue
        undated = [r for r in versions if r.effective_from is None]
        if len(undated) > 1:
            problems.append(Problem(undated[1].file, 1, "code", f"{code} is also defined in {undated[0].file}: "
                                    f"versions of one rule each need 'version' and 'effective: {{from: DATE}}' "
                                    f"(only the oldest may leave 'from' out)"))
            continue
        versions.sort(key=lambda r: r.effective_from or date.min)
        seen: dict[str, str] = {}
        closed: list[Rule] = []
        for n, r in enumerate(versions):
            if r.version in seen:
                problems.append(Problem(r.file, 1, "version", f"{code} version {r.version} is also defined in "
                                        f"{seen[r.version]}: each dated version needs its own 'version'"))
            seen[r.version] = r.file
            nxt = versions[n + 1] if n + 1 < len(versions) else None
            until = r.effective_until
            if nxt is not None:
                assert nxt.effective_from is not None  # only the oldest may be undated
                if until is not None and until >= nxt.effective_from:
                    problems.append(Problem(r.file, 1, "effective.until",
                                            f"{code} version {r.version} is in force until {until}, on or after "
                                            f"version {nxt.version} comes into force ({nxt.effective_from}, "
                                            f"{nxt.file}): dated versions may not overlap"))
                until = nxt.effective_from - timedelta(days=1) if until is None else until
            checks = r.checks if n == 0 else tuple(
                attrs.evolve(c, key=f"{c.key}v{n + 1}") for c in r.checks)
            closed.append(attrs.evolve(r, effective_until=until, checks=checks, versioned=True))
        out.extend(closed)
    return out
