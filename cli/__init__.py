"""The ``sdsrules`` command line (installed as ``sdsrules.cli``)."""
