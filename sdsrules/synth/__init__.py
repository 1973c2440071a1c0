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


The package is split by pathway stage: ``catalogue`` (codes and mutations), ``settings`` (settings, profiles,
truth), ``people`` (drafted events, teams, ages, amounts), ``base`` (what every stage shares), the stages
``access``, ``budget``, ``support`` and ``later``, ``case`` (one case, start to end) and ``run`` (the run).
"""

from __future__ import annotations

from .catalogue import CODES, MUTATIONS, Mutation
from .run import CaseOut, Generator, truth_path, write
from .settings import PROFILES, SEEDS_OTHER, SEEDS_PROFILE, START, GeneratorError, Settings, Stats, Truth, load_profile

__all__ = ["CODES", "MUTATIONS", "PROFILES", "SEEDS_OTHER", "SEEDS_PROFILE", "START", "CaseOut", "Generator",
           "GeneratorError", "Mutation", "Settings", "Stats", "Truth", "load_profile", "truth_path", "write"]
