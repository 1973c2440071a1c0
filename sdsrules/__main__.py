"""``python -m sdsrules ...``: the same as the ``sdsrules`` command."""

from sdsrules.cli.main import main

main()
