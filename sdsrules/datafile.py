"""Loading rule packs and workflow designs: safe YAML that remembers lines, and schema problems as sentences.

YAML is read with PyYAML's safe loader (no tags that build objects, nothing executed). Mappings come back as
:class:`LineDict`, which knows the line of each key, so every problem names file, line and key. Duplicate
keys, which PyYAML would silently overwrite, are problems too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import yaml


@attrs.frozen(slots=True)
class Problem:
    """One thing wrong with a data file: where, which key, and a sentence saying what."""

    file: str
    line: int | None
    key: str  # a path such as "parameters.review_interval.values"
    message: str
    code: str = "DATA"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class DataFileError(ValueError):
    """A data file could not be loaded. ``problems`` lists every problem found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        head = str(problems[0]) if problems else "unusable data file"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(head + more)

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class LineDict(dict):
    """A dict from YAML that remembers the line of each key (``lines``) and of itself (``line``)."""

    __slots__ = ("line", "lines")
    line: int | None
    lines: dict[Any, int | None]


class LineList(list):
    """A list from YAML that remembers the line of each item (``lines``) and of itself (``line``)."""

    __slots__ = ("line", "lines")
    line: int | None
    lines: list[int | None]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None and not hasattr(key, "isoformat"):
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be text, not {type(key).__name__}", key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {out.lines[key]})", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

MAX_BYTES = 5 * 1024 * 1024


def load_yaml(path: str | Path, text: str | None = None) -> Any:
    """Read one YAML document safely. Raises DataFileError (with file and line) on anything unusable."""
    name = str(path)
    if text is None:
        try:
            p = Path(path)
            if p.exists() and not p.is_file():  # a FIFO or device could block the read forever
                raise DataFileError([Problem(name, None, "", "is not a regular file (a FIFO, device or folder)")])
            if p.stat().st_size > MAX_BYTES:
                raise DataFileError([Problem(name, None, "", f"is larger than {MAX_BYTES // 1024 // 1024} MB")])
            raw = p.read_bytes()
        except OSError as e:
            raise DataFileError([Problem(name, None, "", f"cannot be read: {e.strerror or e}")]) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise DataFileError([Problem(name, None, "", f"is not UTF-8 text (byte {e.start})")]) from None
    try:
        docs = _load_bounded(text)
    except TooBig as e:
        raise DataFileError([Problem(name, e.line, "", f"is refused: {e}")]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise DataFileError([Problem(name, line, "", f"is not valid YAML: {e.problem or e.context}")]) from None
    except yaml.YAMLError as e:
        raise DataFileError([Problem(name, None, "", f"is not valid YAML: {e}")]) from None
    except RecursionError:
        raise DataFileError([Problem(name, None, "", "is nested too deeply")]) from None
    if len(docs) != 1:
        raise DataFileError([Problem(name, None, "", f"must hold exactly one YAML document (found {len(docs)})")])
    return docs[0]


MAX_NODES = 1_000_000  # nodes after expanding aliases: far above any real design, far below a 'billion laughs'


class TooBig(yaml.YAMLError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


#: the longest number a design or rule pack may write (a 4,300-digit integer cannot even be printed by Python)
MAX_NUMBER = 64


def _load_bounded(text: str) -> list:
    """Compose every document, refuse one whose aliases expand past MAX_NODES, then construct it."""
    loader = _Loader(text)
    try:
        nodes: list[yaml.Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
        memo: dict[int, int] = {}
        for node in nodes:
            if _expanded(node, memo, 0) > MAX_NODES:
                raise TooBig(f"its anchors and aliases expand to more than {MAX_NODES:,} values")
        return [loader.construct_document(node) for node in nodes]
    finally:
        loader.dispose()


def _expanded(node: yaml.Node, memo: dict[int, int], depth: int) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (a shared node counts at each use)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    if depth > 200:
        raise TooBig("it is nested more than 200 deep")
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded(c, memo, depth + 1) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded(k, memo, depth + 1) + _expanded(v, memo, depth + 1) for k, v in node.value)
    else:
        size = 1
        if node.tag.endswith((":int", ":float")) and len(node.value) > MAX_NUMBER:
            raise TooBig(f"it writes a number of {len(node.value):,} characters (at most {MAX_NUMBER})",
                         node.start_mark.line + 1)
    size = min(size, MAX_NODES + 1)
    memo[id(node)] = size
    return size


def line_of(data: Any, path: Iterable[Any]) -> int | None:
    """The line of the value at ``path`` inside loaded YAML (the nearest known line on the way)."""
    line = getattr(data, "line", None)
    node = data
    for step in path:
        if isinstance(node, LineDict) and step in node:
            line = node.lines.get(step, line)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.lines[step]
            node = node[step]
        else:
            break
    return line


def dotted(path: Iterable[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def schema_problems(data: Any, schema: dict, file: str) -> Iterator[Problem]:
    """Every schema violation of ``data`` as a Problem with line and key path, most relevant first."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=jsonschema.exceptions.relevance)
    seen = set()
    for err in errors:
        for leaf in _leaves(err):
            path = list(leaf.absolute_path)
            message = _sentence(leaf)
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                allowed = set(leaf.schema.get("properties", {}))
                for extra in sorted(set(leaf.instance) - allowed, key=str):
                    item = ((*tuple(path), extra), "unknown")
                    if item in seen:
                        continue
                    seen.add(item)
                    yield Problem(file, line_of(data, [*path, extra]), dotted([*path, extra]),
                                  f"unknown key {extra!r} (allowed: {', '.join(sorted(allowed))})")
                continue
            item = (tuple(path), message)
            if item in seen:
                continue
            seen.add(item)
            yield Problem(file, line_of(data, path), dotted(path), message)


def _leaves(err: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    if err.context and err.validator in ("anyOf", "oneOf"):
        best = jsonschema.exceptions.best_match(err.context)
        yield from _leaves(best)
    else:
        yield err


def _sentence(err: jsonschema.ValidationError) -> str:
    v, inst = err.validator, err.instance
    shown = repr(inst) if len(repr(inst)) < 60 else repr(inst)[:57] + "..."
    if v == "required":
        missing = [k for k in err.validator_value if not isinstance(inst, dict) or k not in inst]
        return "missing required key " + ", ".join(repr(k) for k in missing)
    if v == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return f"must be {_article(want)} (got {shown})"
    if v == "enum":
        return f"must be one of {', '.join(map(str, err.validator_value))} (got {shown})"
    if v == "pattern":
        return f"{shown} does not have the expected form ({err.schema.get('description', err.validator_value)})"
    if v in ("minimum", "exclusiveMinimum"):
        return f"must be {'above' if v == 'exclusiveMinimum' else 'at least'} {err.validator_value} (got {shown})"
    if v == "minItems":
        return f"must have at least {err.validator_value} item(s)"
    if v == "minLength":
        return "must not be empty"
    if v == "const":
        return f"must be {err.validator_value!r} (got {shown})"
    return err.message


def _article(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "empty"}
    return names.get(word, word)
