"""``sdsrules activities [NAME]``: the activities a case log may record, with their attributes, types and required
flags, from the vocabulary of a design (default: the SDS contract). ``--format markdown`` is the activity section
of ``docs/contract.md`` (tests/test_docs.py holds the two equal)."""

from __future__ import annotations

import json
import sys

import click

from .output import atomic_text


def register(cli: click.Group) -> None:
    cli.add_command(activities)


@click.command()
@click.argument("name", required=False)
@click.option("--workflow", "-w", default=None, help="List the vocabulary of this design (file or shipped name).")
@click.option("--vocabulary", "vocabulary_name", default=None,
              help="List this vocabulary (a shipped name such as sds, or a vocabulary file).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--output", "-o", default=None, help="Write here instead of stdout (atomically).")
def activities(name, workflow, vocabulary_name, fmt, output):
    """List the activities a case log may record (or one activity NAME) with their attributes, types and
    which are required (marked *)."""
    from sdsrules.datafile import DataFileError
    from sdsrules.vocabulary import did_you_mean, load_vocabulary

    from .output import UsageProblem

    try:
        if workflow is not None and vocabulary_name is not None:
            raise UsageProblem("give --workflow or --vocabulary, not both")
        if workflow is not None:
            from sdsrules.workflow import load_workflow

            vocab = load_workflow(workflow).vocabulary
        else:
            vocab = load_vocabulary(vocabulary_name)
    except DataFileError as e:
        raise UsageProblem(str(e)) from None
    names = list(vocab)
    if name is not None:
        if name not in vocab:
            guess = did_you_mean(name, vocab)
            hint = f"; did you mean {guess}?" if guess else " (sdsrules activities lists them all)"
            raise UsageProblem(f"{name!r} is not an activity of the vocabulary {vocab.describe()}{hint}")
        names = [name]
    with atomic_text(output) as out:
        if fmt == "json":
            json.dump(as_json(vocab, names), out, indent=2, ensure_ascii=False)
            out.write("\n")
        elif fmt == "markdown":
            out.write(markdown(vocab, names))
        else:
            out.write(text(vocab, names))
    sys.exit(0)


def _attributes(vocab, activity: str) -> list[tuple[str, str, bool, str]]:
    return [(n, type_text(kind), req, vocab.attribute_meanings.get((activity, n), ""))
            for n, (kind, req) in vocab[activity].items()]


def type_text(kind) -> str:
    """A type in words, with a number's bounds."""
    lo, hi = getattr(kind, "minimum", None), getattr(kind, "maximum", None)
    if lo is not None and hi is not None:
        return f"{kind.name} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{kind.name}, at least {lo:g}"
    if hi is not None:
        return f"{kind.name}, at most {hi:g}"
    return kind.name


def as_json(vocab, names: list[str]) -> dict:
    return {"vocabulary": vocab.name, "title": vocab.title, "roles": list(vocab.roles),
            "trace_attributes": list(vocab.trace_attributes),
            "activities": [{"activity": a, "words": vocab.words_of(a), "stage": vocab.stages.get(a, ""),
                            "meaning": vocab.meanings.get(a, ""),
                            "attributes": [{"name": n, "type": t, "required": r, **({"meaning": m} if m else {})}
                                           for n, t, r, m in _attributes(vocab, a)]} for a in names]}


def text(vocab, names: list[str]) -> str:
    lines: list[str] = []
    if len(names) > 1:
        lines.append(f"{vocab.title} (vocabulary {vocab.describe()}): {len(names)} activities; * marks a required "
                     "attribute")
        lines.append(f"roles: {', '.join(vocab.roles) or '(none declared)'}")
        if vocab.trace_attributes:
            lines.append(f"trace attributes copied onto every event: {', '.join(vocab.trace_attributes)}")
    stage = None
    for a in names:
        if len(names) > 1 and vocab.stages.get(a, "") != stage:
            stage = vocab.stages.get(a, "")
            lines.append("")
            lines.append(f"{stage or 'Other'}:")
        meaning = vocab.meanings.get(a, "")
        head = f"  {a}  ({vocab.words_of(a)})"
        lines.append(head)
        if meaning and len(names) == 1:
            lines.append(f"      {meaning}")
        attrs = _attributes(vocab, a)
        if not attrs:
            lines.append("      no attributes")
        width = max((len(n) for n, *_ in attrs), default=0) + 1
        for n, t, r, m in attrs:
            lines.append(f"      {(n + ('*' if r else '')).ljust(width)}  {t}" + (f"  ({m})" if m else ""))
    return "\n".join(lines).lstrip("\n") + "\n"


def markdown(vocab, names: list[str]) -> str:
    """The activity tables of ``docs/contract.md``: one table a stage, one row an attribute."""
    out = [f"## The activities as the code checks them ({vocab.name} vocabulary)", "",
           f"Generated from `sdsrules/vocabulary/{vocab.name}.yaml` by `sdsrules activities --format markdown`; "
           "`sdsrules activities NAME` shows one. A * marks a required attribute. Roles: "
           + ", ".join(f"`{r}`" for r in vocab.roles) + "."]
    stage = None
    for a in names:
        if vocab.stages.get(a, "") != stage:
            stage = vocab.stages.get(a, "")
            out += ["", f"### {stage or 'Other'}", "", "| activity | in a sentence | attributes (type) |",
                    "| --- | --- | --- |"]
        attrs = "; ".join(f"`{n}`{'*' if r else ''} ({t})" for n, t, r, _ in _attributes(vocab, a)) or "none"
        out.append(f"| `{a}` | {vocab.words_of(a)} | {attrs} |")
    return "\n".join(out) + "\n"
