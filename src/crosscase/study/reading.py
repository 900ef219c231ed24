"""Reading study files into their models, collecting every problem with its file and line.

A file that holds a list (themes, observations, propositions) is validated item by item, as its
``*File`` model of :mod:`crosscase.model` declares it, so that one broken entry hides none of the
others; an entry that fails is reported, and what can still be cross-checked of it is kept
(:func:`salvage`). A case file's narratives and protocol are checked entry by entry the same
way. A :class:`Reader` collects the problems of every file it reads; the checks of
:mod:`crosscase.study.checks` then cross-check what could be read.
"""

from __future__ import annotations

import types
import typing
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..model import Case
from ..paths import Layout
from .passages import normalise_space
from .problems import Loc, Problem, misspelt_fields, unknown_field
from .yamlfile import YamlDocument, read_yaml

M = TypeVar("M", bound=BaseModel)
#: The sections of a case file checked entry by entry (narrative-like text: white space folded).
_CASE_SECTIONS = ("narratives", "protocol")


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
    #: narrative or protocol keys whose value failed validation (already reported)
    broken: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ParsedItems(Generic[M]):
    """A list-shaped file whose items were validated one by one: each valid item with its index
    in the file, so that its problems name its line."""

    doc: YamlDocument
    key: str
    items: tuple[tuple[int, M], ...]
    head: dict[str, Any] = field(default_factory=dict)
    #: indices of the entries that failed their schema (already reported), kept or not
    flawed: frozenset[int] = frozenset()

    def rejected(self) -> list[tuple[int, dict[str, Any]]]:
        """The entries that failed their schema, as written (index, mapping)."""
        raw = self.doc.data.get(self.key)
        raw = raw if isinstance(raw, list) else []
        return [(i, e) for i, e in enumerate(raw) if i in self.flawed and isinstance(e, dict)]


def salvage(model: type[M], data: Any, exc: ValidationError) -> M | None:
    """What can still be cross-checked of an entry that failed its schema (its problems are
    already reported): the entry without its unknown fields and its broken optional fields, or
    None when a required field is broken."""
    if not isinstance(data, dict):
        return None
    drop: set[str] = set()
    for err in exc.errors():
        if not err["loc"] or not isinstance(name := err["loc"][0], str):
            return None
        declared = model.model_fields.get(name)
        if err["type"] != "extra_forbidden" and (declared is None or declared.is_required()):
            return None
        drop.add(name)
    try:
        return model.model_validate({k: v for k, v in data.items() if k not in drop})
    except ValidationError:
        return None


def _list_field(model: type[BaseModel]) -> tuple[str, type[BaseModel], bool]:
    """The one field of a file model that holds a list of models: its name, item model, and
    whether the list is required (and must not be empty)."""
    for name, info in model.model_fields.items():
        if typing.get_origin(info.annotation) is list:
            (item,) = typing.get_args(info.annotation)
            return name, item, info.is_required()
    raise TypeError(f"{model.__name__} has no list of models")


def _fold(value: Any) -> Any:
    return normalise_space(value) if isinstance(value, str) else value


class Reader:
    """Reads files of one study, collecting every problem."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.problems: list[Problem] = []

    def display(self, path: Path) -> str:
        return self.layout.relative(path)

    def document(self, path: Path, case: str | None = None) -> YamlDocument | None:
        return read_yaml(path, self.display(path), self.problems, case)

    def whole(self, path: Path, model: type[M]) -> Parsed[M] | None:
        """A file validated as one model (framework, comparison, description)."""
        doc = self.document(path)
        if doc is None:
            return None
        try:
            return Parsed(model.model_validate(doc.data), doc)
        except ValidationError as exc:
            self.problems += schema_problems(doc, None, exc, model=model)
            return None

    def items(
        self, path: Path, model: type[BaseModel], case: str | None = None
    ) -> ParsedItems[Any] | None:
        """A list-shaped file (``model``: its file model), each item validated on its own."""
        doc = self.document(path, case)
        if doc is None:
            return None
        key, item, required = _list_field(model)
        values = self._head(doc, case, model, key, required)
        raw = [] if doc.data.get(key) is None else doc.data[key]
        if not isinstance(raw, list):
            self.problems.append(doc.problem(case, (key,), "expected a list"))
            raw = []
        if required and not raw and key in doc.data:
            self.problems.append(doc.problem(case, (key,), "the list is empty"))
        valid: list[tuple[int, Any]] = []
        flawed: set[int] = set()
        for i, entry in enumerate(raw):
            try:
                valid.append((i, item.model_validate(entry)))
            except ValidationError as exc:
                self.problems += schema_problems(doc, case, exc, (key, i), item)
                flawed.add(i)
                if (kept := salvage(item, entry, exc)) is not None:
                    valid.append((i, kept))
        return ParsedItems(doc, key, tuple(valid), values, frozenset(flawed))

    def _head(
        self, doc: YamlDocument, case: str | None, model: type[BaseModel], key: str, required: bool
    ) -> dict[str, Any]:
        """The file's fields beside its list (``key``), validated; unknown and missing fields
        reported (one unknown field where one is missing: as its misspelling)."""
        data, fields = doc.data, list(model.model_fields)
        head = {name: info for name, info in model.model_fields.items() if name != key}
        unknowns = [str(name) for name in data if name not in fields]
        missing = [name for name in head if name not in data]
        missing += [key] if required and key not in data else []
        likely = misspelt_fields(unknowns, missing)
        for name in unknowns:
            message = unknown_field(name, fields, data, likely)
            self.problems.append(doc.problem(case, (name,), message))
        if likely is None:
            self.problems += [doc.problem(case, (n,), "required field is missing") for n in missing]
        values: dict[str, Any] = {}
        for name, info in head.items():
            if name not in data:
                continue
            try:
                adapter: TypeAdapter[Any] = TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]
                values[name] = adapter.validate_python(data[name])
            except ValidationError as exc:
                self.problems += schema_problems(doc, case, exc, (name,))
        return values

    def case(self, path: Path) -> ParsedCase | None:
        """A case file. Narrative and protocol entries are checked one by one: a broken entry is
        reported and left out, and the rest of the case is still cross-checked."""
        doc = self.document(path, path.stem)
        if doc is None:
            return None
        data = dict(doc.data)
        for key in _CASE_SECTIONS:
            if isinstance(data.get(key), dict):
                data[key] = {k: _fold(v) for k, v in data[key].items()}
        name = data["id"] if isinstance(data.get("id"), str) else path.stem
        try:
            return ParsedCase(Case.model_validate(data), doc)
        except ValidationError as exc:
            self.problems += schema_problems(doc, name, exc, model=Case)
            broken = {
                (str(e["loc"][0]), str(e["loc"][1]))
                for e in exc.errors()
                if len(e["loc"]) >= 2 and e["loc"][0] in _CASE_SECTIONS
            }
        for key in _CASE_SECTIONS:
            if isinstance(data.get(key), dict):
                data[key] = {k: v for k, v in data[key].items() if (key, str(k)) not in broken}
        case: Case | None
        try:  # what is left, for the cross-checks
            case = Case.model_validate(data)
        except ValidationError as exc:
            case = salvage(Case, data, exc)
        if case is None:
            return None
        return ParsedCase(case, doc, frozenset(k for _, k in broken))


def field_names(tp: Any, loc: Loc) -> list[str] | None:
    """The fields of the model found at ``loc`` inside the annotation ``tp`` (through model
    fields, list items and mapping values; ``Annotated`` unwrapped, a union's types tried in
    turn), or None when ``loc`` is not a model."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return field_names(args[0], loc)
    if origin is typing.Union or origin is types.UnionType:
        return next((found for a in args if (found := field_names(a, loc)) is not None), None)
    model = isinstance(tp, type) and issubclass(tp, BaseModel)
    if not loc:
        return list(tp.model_fields) if model else None
    part, rest = loc[0], loc[1:]
    if isinstance(part, str) and model and part in tp.model_fields:
        return field_names(tp.model_fields[part].annotation, rest)
    if isinstance(part, int) and origin in (list, tuple) and args:
        return field_names(args[0], rest)
    if isinstance(part, str) and origin is dict and len(args) == 2:
        return field_names(args[1], rest)
    return None


#: pydantic's messages in the compendium's words, by error type
_MESSAGES = {"string_too_short": "empty text", "missing": "required field is missing"}
_UNSAFE = (
    "is not a safe identifier (lowercase letters, digits and hyphens; no path separators or '..')"
)


def schema_problems(
    doc: YamlDocument, case: str | None, exc: ValidationError, prefix: Loc = (), model: Any = None
) -> list[Problem]:
    """Turn pydantic's errors into problems naming field and line (``prefix``: where in the file
    the validated part sits). Given the ``model`` validated, an unknown field names the field it
    most likely is, and a misspelt required field is one problem (not also a missing one)."""
    errors = exc.errors(include_url=False)
    named: dict[tuple[str, Loc], list[str]] = defaultdict(list)
    for err in errors:
        if err["type"] in ("extra_forbidden", "missing") and err["loc"]:
            named[err["type"], tuple(err["loc"][:-1])].append(str(err["loc"][-1]))
    out = []
    for err in errors:
        kind, parent = err["type"], tuple(err["loc"][:-1])
        fields = field_names(model, parent) if model is not None else None
        likely = misspelt_fields(named["extra_forbidden", parent], named["missing", parent])
        if kind == "missing" and fields is not None and likely is not None:
            continue  # reported as the unknown field that misspells it
        message = _MESSAGES.get(kind, str(err["msg"]))
        if kind == "string_pattern_mismatch":
            message = f"{err['input']!r} {_UNSAFE}"
        elif kind == "value_error":  # a model's own check, in its own words
            message = str(err["ctx"]["error"])
        elif kind == "extra_forbidden":
            message = "unknown field"
            if fields is not None and err["loc"]:
                written = [k for k in fields if (*prefix, *parent, k) in doc.lines]
                message = unknown_field(str(err["loc"][-1]), fields, written, likely)
        out.append(doc.problem(case, (*prefix, *err["loc"]), message))
    return out
