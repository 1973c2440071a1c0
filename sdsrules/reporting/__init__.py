"""Reports a quality assurance team can read at a glance: rates per duty with their denominators, breakdowns,
the pathway with its breaches, and every finding linked to its case's timeline (HTML, CSV).

``aggregate`` counts (pure functions over a Report), ``html`` and ``csv_export`` write. Nothing here reaches
back into reading or replay.
"""

from .aggregate import DIMENSIONS, Aggregate, CodeRate, Group, aggregate, breakdown, rates, stage_counts

__all__ = ["DIMENSIONS", "Aggregate", "CodeRate", "Group", "aggregate", "breakdown", "rates", "stage_counts"]
