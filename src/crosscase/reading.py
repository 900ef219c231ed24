"""Reading study files: YAML documents validated into models, item by item where a file holds a
list, so that one broken entry hides none of the others and every problem names its line.

A :class:`Reader` collects the problems of every file it reads; the checks of
:mod:`crosscase.checks` then cross-check what could be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from .model import Case
from .paths import Layout
from .problems import (
    Problem,
    YamlDocument,
    misspelt_fields,
    read_yaml,
    schema_problems,
    unknown_field,
)

M = TypeVar("M", bound=BaseModel)


def normalise_space(text: str) -> str:
    """Collapse runs of white space (line breaks of folded YAML included) to single spaces."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Parsed(Generic[M]):
    """A validated model and the document it came from (for lines)."""

    model: M
    doc: YamlDocument


@dataclass(frozen=True)
class ParsedCase:
    """A case file: the case (entries that failed their own check left out) and its document."""

    case: Case
    doc: YamlDocument
    path: Path
    #: narrative or protocol keys whose value failed validation (already reported)
    broken: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ParsedItems(Generic[M]):
    """A list-shaped file whose items were validated one by one: each valid item with its index
    in the file, so that its problems name its line."""

    doc: YamlDocument
    items: tuple[tuple[int, M], ...]
    head: dict[str, Any] = field(default_factory=dict)
    #: indices of the entries that failed their schema (already reported), kept or not
    flawed: frozenset[int] = frozenset()

    def rejected(self, key: str) -> list[tuple[int, dict[str, Any]]]:
        """The entries under ``key`` that failed their schema, as written (index, mapping)."""
        raw = self.doc.data.get(key)
        if not isinstance(raw, list):
            return []
        return [(i, e) for i, e in enumerate(raw) if i in self.flawed and isinstance(e, dict)]


def salvage(model: type[M], data: Any, exc: ValidationError) -> M | None:
    """What can still be cross-checked of an entry that failed its schema (its problems are
    already reported): the entry without its unknown fields and its broken optional fields, or
    None when a required field is broken."""
    if not isinstance(data, dict):
        return None
    drop: set[str] = set()
    for err in exc.errors():
        if not err["loc"] or not isinstance(err["loc"][0], str):
            return None
        field_name = err["loc"][0]
        declared = model.model_fields.get(field_name)
        if err["type"] != "extra_forbidden" and (declared is None or declared.is_required()):
            return None
        drop.add(field_name)
    try:
        return model.model_validate({k: v for k, v in data.items() if k not in drop})
    except ValidationError:
        return None


class Reader:
    """Reads files of one study, collecting every problem."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.problems: list[Problem] = []

    def display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.layout.root).as_posix()
        except ValueError:
            return path.as_posix()

    def document(self, path: Path) -> YamlDocument | None:
        return read_yaml(path, self.display(path), self.problems)

    def whole(self, path: Path, model: type[M], case: str | None = None) -> Parsed[M] | None:
        """A file validated as one model (framework, comparison, description)."""
        doc = self.document(path)
        if doc is None:
            return None
        try:
            return Parsed(model.model_validate(doc.data), doc)
        except ValidationError as exc:
            self.problems += schema_problems(doc, case, exc, model=model)
            return None

    def items(
        self,
        path: Path,
        key: str,
        item: type[M],
        head: Mapping[str, TypeAdapter[Any]] | None = None,
        case: str | None = None,
        required: bool = True,
    ) -> ParsedItems[M] | None:
        """A file holding a list under ``key`` (and the scalar fields ``head``), each item
        validated on its own, so that one broken item hides none of the others."""
        doc = self.document(path)
        if doc is None:
            return None
        data = doc.data
        fields = [*(head or {}), key]
        unknowns = [str(name) for name in data if name not in fields]
        missing = [name for name in (head or {}) if name not in data]
        if required and key not in data:
            missing.append(key)
        likely = misspelt_fields(unknowns, missing)
        for name in unknowns:
            message = unknown_field(name, fields, data, likely)
            self.problems.append(doc.problem(case, (name,), message))
        values: dict[str, Any] = {}
        for name, adapter in (head or {}).items():
            if name not in data:
                if likely is None:
                    self.problems.append(doc.problem(case, (name,), "required field is missing"))
                continue
            try:
                values[name] = adapter.validate_python(data[name])
            except ValidationError as exc:
                self.problems += schema_problems(doc, case, exc, (name,))
        raw = data.get(key)
        if raw is None:
            if required and likely is None:
                self.problems.append(doc.problem(case, (key,), "required field is missing"))
            raw = []
        if not isinstance(raw, list):
            self.problems.append(doc.problem(case, (key,), "expected a list"))
            raw = []
        if required and not raw and key in data:
            self.problems.append(doc.problem(case, (key,), "the list is empty"))
        valid: list[tuple[int, M]] = []
        flawed: set[int] = set()
        for i, entry in enumerate(raw):
            try:
                valid.append((i, item.model_validate(entry)))
            except ValidationError as exc:
                self.problems += schema_problems(doc, case, exc, (key, i), item)
                flawed.add(i)
                kept = salvage(item, entry, exc)
                if kept is not None:
                    valid.append((i, kept))
        return ParsedItems(doc, tuple(valid), values, frozenset(flawed))

    def case(self, path: Path) -> ParsedCase | None:
        """A case file. Narrative and protocol entries are checked one by one: a broken entry is
        reported and left out, and the rest of the case is still cross-checked."""
        doc = self.document(path)
        if doc is None:
            return None
        data = dict(doc.data)
        for key in ("narratives", "protocol"):  # narrative-like text: fold white space
            if isinstance(data.get(key), dict):
                data[key] = {
                    k: normalise_space(v) if isinstance(v, str) else v for k, v in data[key].items()
                }
        name = data["id"] if isinstance(data.get("id"), str) else path.stem
        try:
            return ParsedCase(Case.model_validate(data), doc, path)
        except ValidationError as exc:
            self.problems += schema_problems(doc, name, exc, model=Case)
            broken = {
                (str(e["loc"][0]), str(e["loc"][1]))
                for e in exc.errors()
                if len(e["loc"]) >= 2 and e["loc"][0] in ("narratives", "protocol")
            }
        for key in ("narratives", "protocol"):
            if isinstance(data.get(key), dict):
                data[key] = {k: v for k, v in data[key].items() if (key, str(k)) not in broken}
        try:  # what is left, for the cross-checks
            case = Case.model_validate(data)
        except ValidationError as exc:
            kept = salvage(Case, data, exc)
            if kept is None:
                return None
            case = kept
        return ParsedCase(case, doc, path, frozenset(k for _, k in broken))
