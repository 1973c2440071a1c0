"""``sdsrules generate``'s public face: the synthetic log generator lives in :mod:`sdsrules.synth`, split by
pathway stage; this module keeps the names it always offered."""

from __future__ import annotations

from .synth import (
    CODES,
    MUTATIONS,
    PROFILES,
    SEEDS_OTHER,
    SEEDS_PROFILE,
    START,
    CaseOut,
    Generator,
    GeneratorError,
    Mutation,
    Settings,
    Stats,
    Truth,
    load_profile,
    truth_path,
    write,
)

__all__ = ["CODES", "MUTATIONS", "PROFILES", "SEEDS_OTHER", "SEEDS_PROFILE", "START", "CaseOut", "Generator",
           "GeneratorError", "Mutation", "Settings", "Stats", "Truth", "load_profile", "truth_path", "write"]
