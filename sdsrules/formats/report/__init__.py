"""The quality assurance report (``sdsrules report``): ``html`` (one self-contained page: rates, breakdowns with
charts, the pathway, every finding linked to its case's timeline; drawn with ``templates/`` and ``svg``),
``json``, ``csv`` (the exports, one table a file) and ``text`` (the rates, printed when no file is asked for).

Each is a report formatter: ``item(report)`` with the replay's ``Report``, then ``close()``. The counting they
show is :mod:`sdsrules.reporting.aggregate`'s; nothing here reaches back into reading or replay.
"""
