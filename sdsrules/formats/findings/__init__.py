"""A replay's findings: ``text`` (for a person), ``json`` (the report contract), ``csv`` (for spreadsheets).

All stream: the replay's sinks call ``case(result)`` as cases finish, then ``close(summary, rejected,
unchecked)``."""
