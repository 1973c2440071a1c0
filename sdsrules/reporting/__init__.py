"""What a quality assurance report counts: rates per duty with their denominators, breakdowns, the pathway's
stages, trends (``aggregate``: pure functions over a Report) and the catalogue's short titles (``catalogue``).

This package judges and counts; it writes nothing. The report's outputs (HTML, JSON, CSV exports) are
:mod:`sdsrules.formats.report`.
"""

from .aggregate import DIMENSIONS, Aggregate, CodeRate, Group, aggregate, breakdown, rates, stage_counts

__all__ = ["DIMENSIONS", "Aggregate", "CodeRate", "Group", "aggregate", "breakdown", "rates", "stage_counts"]
