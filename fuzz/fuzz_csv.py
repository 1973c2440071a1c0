"""atheris fuzz target: the CSV reader. Run through fuzz/run.py, or alone:

    python fuzz/fuzz_csv.py WORKDIR fuzz/seeds/csv -runs=1000000 -max_len=8192

Any exception that escapes (a traceback the user would see) or an accounting error (a record lost or
invented) is a crash; libFuzzer stops and writes the input as crash-<hash>.
"""

import sys

import atheris

with atheris.instrument_imports(include=["sdsrules.readers", "sdsrules.events", "harness"]):
    import harness


def TestOneInput(data: bytes) -> None:
    harness.check("csv", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
