"""``python -m sdsrules ...``: the same as the ``sdsrules`` command."""

from sdsrules.cli.main import main  # type: ignore[import-not-found]  # cli/ installs as sdsrules.cli

main()
