"""atheris fuzz target: the XES reader. Run through fuzz/run.py, or alone:

    python fuzz/fuzz_xes.py WORKDIR fuzz/seeds/xes -runs=1000000 -max_len=8192

Any exception that escapes (a traceback the user would see) or an accounting error (a record lost or
invented) is a crash; libFuzzer stops and writes the input as crash-<hash>. So is a difference between the two
ways a UTF-8 file is read (the scanner over text expat has checked, and expat's own handlers): the same events
and rejections, lines and ids, except the wording of the last rejection when both stop at a broken file.
"""

import sys

import atheris

with atheris.instrument_imports(include=["sdsrules.readers", "sdsrules.events", "harness"]):
    import harness

    from sdsrules.readers import xes


def _records(data: bytes) -> list:
    return [(type(r).__name__, r.line, r.id, r.to_dict() if hasattr(r, "activity") else (r.reason, r.field, r.case))
            for r in harness.read("xes", data)]


def _stopped(records: list) -> bool:
    return bool(records) and records[-1][0] == "Rejection" and "reading stopped" in records[-1][3][0]


def TestOneInput(data: bytes) -> None:
    harness.check("xes", data)
    fast = _records(data)
    xes.FAST = False
    try:
        slow = _records(data)
    finally:
        xes.FAST = True
    if fast != slow and not (_stopped(fast) and _stopped(slow) and fast[:-1] == slow[:-1]):
        raise AssertionError(f"the scanner and expat's handlers differ: {fast!r} != {slow!r}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
