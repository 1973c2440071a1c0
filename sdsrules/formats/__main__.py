"""``python -m sdsrules.formats``: the table of every output format, as docs/formats.md holds it."""

from . import markdown

print(markdown(), end="")
