"""Reading a YAML file so that every problem can name its line: the parsed data with the line of
every mapping key and sequence item (:class:`YamlDocument`), and a syntax error placed where the
broken token starts, with the field it most likely is in (:func:`read_yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .problems import Loc, Problem, format_loc

try:  # libyaml's parser is several times faster; the pure-Python one gives the same nodes
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: The largest data file read (bytes). A case file of seven long interview narratives is a few
#: hundred kilobytes; a larger file is refused before it is parsed.
MAX_FILE_BYTES = 4 * 2**20


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
                message = f"duplicate key (first at line {seen[key]})"
                problems.append(Problem(doc.display, None, format_loc((*loc, key)), message, line))
            seen.setdefault(key, line)
            doc.lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), doc, problems)


_KEY = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z0-9_][\w.-]*)\s*:")


def _field_at(text: str, line: int) -> str | None:
    """The path of the mapping key on (or above) ``line`` (1-based), from indentation, list
    entries numbered (``observations[1].text``): a best guess for a file that does not parse, so
    that the report can name a field. A key indented with a tab is taken to sit inside the key
    before it when that one opens a block (nothing after its colon), else beside it."""
    path: list[tuple[int, str, int | None]] = []  # (indent, key, entry of the list it holds)
    indent, opens = 0, False
    for raw in text.splitlines()[:line]:
        if not (m := _KEY.match(raw)):
            continue
        entry = raw.lstrip().startswith("-")
        if "\t" in m.group(1):
            indent += 1 if opens else 0
        else:
            indent = len(m.group(1)) + (2 if entry else 0)
        opens = raw[m.end() :].split("#")[0].strip() == ""
        while path and path[-1][0] >= indent:
            path.pop()
        if entry and path:
            at, key, n = path[-1]
            path[-1] = (at, key, 0 if n is None else n + 1)
        path.append((indent, m.group(2), None))
    parts = [f"{k}[{n}]" if n is not None else k for _, k, n in path]
    return ".".join(parts) or None


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


def _tab_at(text: str, line: int, column: int) -> bool:
    """Whether the character at ``line``, ``column`` (0-based) is a tab in the line's indent."""
    lines = text.splitlines()
    here = lines[line] if 0 <= line < len(lines) else ""
    return column < len(here) and here[column] == "\t" and not here[:column].strip()


def _syntax_problem(display: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error, placed at the line where the broken token starts.

    libyaml reports an unclosed quote where it gave up (often the end of the file) and gives the
    line where the token started as the context; that line is the one to fix.
    """
    context, problem = exc.context_mark, exc.problem_mark
    starts = context or problem
    line = starts.line + 1 if starts else None
    if problem is not None and _tab_at(text, problem.line, problem.column):
        message = (
            f"YAML indents with spaces, not tabs: a tab at line {problem.line + 1}, column "
            f"{problem.column + 1}; replace it with spaces"
        )
        return Problem(display, None, _field_at(text, problem.line + 1), message, problem.line + 1)
    if starts is not None and problem is not None:
        opened = _open_quote(text.splitlines(), min(starts.line, problem.line) - 2, problem.line)
        if opened is not None and opened != problem.line:
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


class _Refused(Exception):
    """A file refused before its fields are read: the message (and line) of its problem."""


def _read_text(path: Path) -> str:
    """The file's text: refused when too large, not readable, not UTF-8 (a byte-order mark, as
    some editors write, is dropped), or holding nothing but comments."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = f"the limit is {MAX_FILE_BYTES:,} bytes; see data/README.md, Limits"
            raise _Refused(f"file too large: {size:,} bytes ({limit})")
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError as exc:
        raise _Refused(f"cannot read file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        raise _Refused(message, raw[: exc.start].count(b"\n") + 1) from None
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise _Refused("empty file")
    return text


def read_yaml(
    path: Path, display: str, problems: list[Problem], case: str | None = None
) -> YamlDocument | None:
    """Parse ``path``; on failure (too large, empty, not UTF-8, bad YAML, not a mapping) append
    a problem, naming ``case`` (the case the file is of, if any), and return None."""
    found: list[Problem] = []
    doc = _parse(path, display, found)
    problems += [replace(p, case=p.case or case) for p in found]
    return doc


def _parse(path: Path, display: str, problems: list[Problem]) -> YamlDocument | None:
    try:
        text = _read_text(path)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        if node is None or data is None:
            raise _Refused("empty file")
    except _Refused as exc:
        problems.append(Problem(display, None, None, *exc.args))
        return None
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(display, text, exc))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(display, None, None, f"YAML error: {exc}"))
        return None
    doc = YamlDocument(path, display, data)
    _walk(node, (), doc, problems)
    if not isinstance(data, dict):
        message = f"expected a mapping of fields, found a {type(data).__name__}"
        problems.append(Problem(display, None, None, message, 1))
        return None
    return doc
