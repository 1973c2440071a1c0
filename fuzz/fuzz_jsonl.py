"""atheris fuzz target: the JSONL reader. Run through fuzz/run.py, or alone:

    python fuzz/fuzz_jsonl.py WORKDIR fuzz/seeds/jsonl -runs=1000000 -max_len=8192

Any exception that escapes (a traceback the user would see) or an accounting error (a record lost or
invented) is a crash; libFuzzer stops and writes the input as crash-<hash>.
"""

import sys

import atheris

with atheris.instrument_imports(include=["sdsrules.readers", "sdsrules.events", "harness"]):
    import harness


def TestOneInput(data: bytes) -> None:
    harness.check("jsonl", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
