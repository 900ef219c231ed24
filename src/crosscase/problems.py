"""Problems found in study data, and reading YAML so that every problem can name its line.

Loading never stops at the first problem: each check returns the problems it finds, and the
caller raises one :class:`StudyDataError` holding them all, before anything is written.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .outputs import plural

if TYPE_CHECKING:
    from pydantic import ValidationError

try:  # libyaml's parser is several times faster; the pure-Python one gives the same nodes
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Loc = tuple[str | int, ...]

#: The largest data file read (bytes). A case file of seven long interview narratives is a few
#: hundred kilobytes; a larger file is refused before it is parsed.
MAX_FILE_BYTES = 4 * 2**20


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the study data: which file, case and field, what is wrong, and where."""

    file: str
    case: str | None
    field: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.case:
            parts.append(f"case {self.case}")
        if self.field:
            parts.append(f"field {self.field}")
        return ": ".join([*parts, self.message])


class StudyDataError(ValueError):
    """Raised with every problem found, so that one run reports them all."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, str(p)))
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{plural(len(self.problems), 'problem')} in the study data (nothing was written):"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def closest(value: str, known: Sequence[str]) -> str | None:
    """The known name ``value`` is most likely a misspelling of, if any."""
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    if close:
        return close[0]
    # a spelling with other separators ("supply_chain" for "supply-chain")
    folded = {re.sub(r"[\W_]+", "", k.lower()): k for k in known}
    return folded.get(re.sub(r"[\W_]+", "", value.lower()))


def unknown(
    kind: str,
    value: str,
    known: Sequence[str],
    likely: str | None = None,
    candidates: Sequence[str] | None = None,
) -> str:
    """``unknown dimension 'supply_chain' (did you mean 'supply-chain'? known: ...)``: the
    ``likely`` one, else the closest of ``candidates`` (by default of ``known``)."""
    close = likely or closest(value, known if candidates is None else candidates)
    hint = f"did you mean {close!r}? " if close else ""
    listed = ", ".join(known) if len(known) <= 30 else ", ".join(known[:30]) + ", ..."
    return f"unknown {kind} {value!r} ({hint}known: {listed})"


def format_loc(loc: Loc) -> str:
    """``("observations", 3, "evidence")`` -> ``"observations[3].evidence"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class YamlDocument:
    """A parsed YAML file with the line of every mapping key and sequence item."""

    path: Path
    display: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Loc) -> int | None:
        """The line of ``loc`` or of its nearest enclosing node that has one."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.lines:
                return self.lines[loc[:n]]
        return None

    def problem(self, case: str | None, loc: Loc, message: str) -> Problem:
        return Problem(self.display, case, format_loc(loc) or None, message, self.line(loc))


def _walk(node: yaml.Node, loc: Loc, doc: YamlDocument, problems: list[Problem]) -> None:
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        doc.display,
                        None,
                        format_loc((*loc, key)),
                        f"duplicate key (first at line {seen[key]})",
                        line,
                    )
                )
            seen.setdefault(key, line)
            doc.lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), doc, problems)


_KEY = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z0-9_][\w.-]*)\s*:")


def _field_at(text: str, line: int) -> str | None:
    """The dotted path of the mapping key on (or above) ``line`` (1-based), from indentation: a
    best guess for a file that does not parse, so that the report can name a field."""
    lines = text.splitlines()[:line]
    path: list[tuple[int, str]] = []
    for raw in lines:
        m = _KEY.match(raw)
        if not m:
            continue
        indent = len(m.group(1)) + (2 if raw.lstrip().startswith("-") else 0)
        while path and path[-1][0] >= indent:
            path.pop()
        path.append((indent, m.group(2)))
    return ".".join(k for _, k in path) or None


_OPENS_QUOTE = re.compile(r"""^\s*(?:-\s+)?(?:[\w.-]+:\s+)?["']""")


def _open_quote(lines: list[str], first: int, last: int) -> int | None:
    """The first line (0-based) in ``first..last`` that opens a quoted value and leaves its
    quote open (an odd number of unescaped quote characters of that kind), if any."""
    for i in range(max(0, first), min(last, len(lines) - 1) + 1):
        line = lines[i]
        m = _OPENS_QUOTE.match(line)
        if not m:
            continue
        quote = m.group(0)[-1]
        rest = line[m.end() - 1 :].replace("\\\\", "").replace('\\"', "")
        if quote == "'":
            rest = rest.replace("''", "")
        if rest.count(quote) % 2 == 1:
            return i
    return None


def _syntax_problem(display: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error, placed at the line where the broken token starts.

    libyaml reports an unclosed quote where it gave up (often the end of the file) and gives the
    line where the token started as the context; that line is the one to fix.
    """
    context, problem = exc.context_mark, exc.problem_mark
    starts = context or problem
    line = starts.line + 1 if starts else None
    if problem is not None:
        first = (context or problem).line
        opened = _open_quote(text.splitlines(), min(first, problem.line) - 2, problem.line)
        if opened is not None and opened + 1 != problem.line + 1:
            message = (
                "YAML syntax error: the quote opened on this line is not closed (YAML read on "
                f"and then found: {exc.problem} at line {problem.line + 1}); close it"
            )
            return Problem(display, None, _field_at(text, opened + 1), message, opened + 1)
    message = f"YAML syntax error: {exc.problem or 'cannot parse'}"
    if context and problem and context.line != problem.line:
        what = re.sub(r"^while (scanning|parsing) ", "", exc.context or "a value")
        message = (
            f"YAML syntax error in {what} that starts on this line: {exc.problem} at line "
            f"{problem.line + 1}; check its quotes, brackets and indentation"
        )
    elif exc.context:
        message = f"YAML syntax error: {exc.context}: {exc.problem}"
    return Problem(display, None, _field_at(text, line) if line else None, message, line)


def _read_text(path: Path, display: str, problems: list[Problem]) -> str | None:
    """The file's text: refused when too large, not readable, not UTF-8 (a byte-order mark, as
    some editors write, is dropped), or holding nothing but comments."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            message = (
                f"file too large: {size:,} bytes (the limit is {MAX_FILE_BYTES:,} bytes; "
                "see data/README.md, Limits)"
            )
            problems.append(Problem(display, None, None, message))
            return None
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError as exc:
        problems.append(Problem(display, None, None, f"cannot read file: {exc.strerror}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        problems.append(Problem(display, None, None, message, line))
        return None
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        problems.append(Problem(display, None, None, "empty file"))
        return None
    return text


def read_yaml(path: Path, display: str, problems: list[Problem]) -> YamlDocument | None:
    """Parse ``path``; on failure (too large, empty, not UTF-8, bad YAML, not a mapping) append
    a problem and return None."""
    text = _read_text(path, display, problems)
    if text is None:
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(display, text, exc))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(display, None, None, f"YAML error: {exc}"))
        return None
    finally:
        loader.dispose()
    if node is None or data is None:
        problems.append(Problem(display, None, None, "empty file"))
        return None
    doc = YamlDocument(path, display, data)
    _walk(node, (), doc, problems)
    if not isinstance(data, dict):
        message = f"expected a mapping of fields, found a {type(data).__name__}"
        problems.append(Problem(display, None, None, message, 1))
        return None
    return doc


def _members(tp: Any) -> list[Any]:
    """The types a field annotation allows: ``Annotated`` unwrapped, unions split."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    return [tp]


def _is_model(tp: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(tp, type) and issubclass(tp, BaseModel)


def field_names(model: Any, loc: Loc) -> list[str] | None:
    """The fields of the model found at ``loc`` inside ``model`` (through its fields, list items
    and mapping values), or None when ``loc`` is not a model."""
    at: list[Any] = [model]
    for part in loc:
        step: list[Any] = []
        for tp in (m for a in at for m in _members(a)):
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if isinstance(part, str) and _is_model(tp) and part in tp.model_fields:
                step.append(tp.model_fields[part].annotation)
            elif isinstance(part, int) and origin in (list, tuple) and args:
                step.append(args[0])
            elif isinstance(part, str) and origin is dict and len(args) == 2:
                step.append(args[1])
        at = step
    models = [m for a in at for m in _members(a) if _is_model(m)]
    return list(models[0].model_fields) if models else None


def _data_at(data: Any, loc: Loc) -> Any:
    """The value at ``loc`` in parsed YAML, or None."""
    for part in loc:
        found = isinstance(data, dict) and part in data
        found |= isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not found:
            return None
        data = data[part]
    return data


def unknown_field(name: str, known: Sequence[str], present: Any, likely: str | None) -> str:
    """``unknown field 'theme' (did you mean 'themes'? known: ...)``: the likely one among the
    known fields not already written (``present``: the mapping the field is in)."""
    absent = [k for k in known if not (isinstance(present, dict) and k in present)]
    return unknown("field", name, known, likely, absent)


def misspelt_fields(unknowns: Sequence[str], missing: Sequence[str]) -> str | None:
    """One unknown field where one required field is missing: most likely a misspelling of it."""
    return missing[0] if len(unknowns) == 1 and len(missing) == 1 else None


def schema_problems(
    doc: YamlDocument,
    case: str | None,
    exc: ValidationError,
    prefix: Loc = (),
    model: Any = None,
) -> list[Problem]:
    """Turn pydantic's errors into problems naming field and line (``prefix``: where in the file
    the validated part sits). Given the ``model`` validated, an unknown field names the field it
    most likely is, and a misspelt required field is one problem (not also a missing one)."""
    errors = exc.errors(include_url=False)
    by_kind: dict[tuple[str, Loc], list[str]] = {}
    for err in errors:
        if err["type"] in ("extra_forbidden", "missing") and err["loc"]:
            key = (err["type"], tuple(err["loc"][:-1]))
            by_kind.setdefault(key, []).append(str(err["loc"][-1]))
    out = []
    for err in errors:
        loc: Loc = (*prefix, *err["loc"])
        parent: Loc = tuple(err["loc"][:-1])
        fields = field_names(model, parent) if model is not None else None
        likely = misspelt_fields(
            by_kind.get(("extra_forbidden", parent), []), by_kind.get(("missing", parent), [])
        )
        msg = err["msg"]
        if err["type"] == "string_too_short":
            msg = "empty text"
        elif err["type"] == "string_pattern_mismatch":
            msg = (
                f"{err['input']!r} is not a safe identifier (lowercase letters, digits and "
                "hyphens; no path separators or '..')"
            )
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
            if fields is not None and err["loc"]:
                present = _data_at(doc.data, (*prefix, *parent))
                msg = unknown_field(str(err["loc"][-1]), fields, present, likely)
        elif err["type"] == "missing":
            if fields is not None and likely is not None:
                continue  # reported as the unknown field that misspells it
            msg = "required field is missing"
        out.append(doc.problem(case, loc, msg))
    return out
