"""data/README.md documents every field of every data file, under the file it belongs to and the
model that holds it, and documents no field that does not exist (the data dictionary stays in
step with the schemas in both directions)."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

from pydantic import BaseModel

from crosscase import model

ROOT = Path(__file__).resolve().parents[1]

#: Each data file's top-level model, by the file name its dictionary section names.
FILES: dict[str, type[BaseModel]] = {
    "framework.yaml": model.Framework,
    "cases/<id>.yaml": model.Case,
    "observations/<id>.yaml": model.ObservationFile,
    "themes.yaml": model.ThemeFile,
    "comparison.yaml": model.Comparison,
    "propositions.yaml": model.PropositionFile,
    "study.yaml": model.StudyDescription,
}


def _fields(m: type) -> dict[str, typing.Any]:
    """A model's fields and their types: a pydantic model's, or a dataclass's (the rule)."""
    if dataclasses.is_dataclass(m):
        hints = typing.get_type_hints(m)
        return {f.name: hints[f.name] for f in dataclasses.fields(m)}
    return {name: f.annotation for name, f in m.model_fields.items()}


def _nested(top: type) -> dict[str, type]:
    """The models reachable from ``top`` through its fields, by class name."""
    found: dict[str, type] = {}
    todo = [top]
    while todo:
        m = todo.pop()
        found[m.__name__] = m
        for annotation in _fields(m).values():
            for arg in [annotation, *typing.get_args(annotation)]:
                if (
                    isinstance(arg, type)
                    and (issubclass(arg, BaseModel) or dataclasses.is_dataclass(arg))
                    and arg.__name__ not in found
                ):
                    todo.append(arg)
    return found


def _documented() -> dict[str, set[tuple[str, str]]]:
    """File -> {(model name, field)} from the README's data dictionary tables."""
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    dictionary = text[text.index("## 3. Data dictionary") : text.index("\n## 4.")]
    out: dict[str, set[tuple[str, str]]] = {}
    current = None
    for line in dictionary.splitlines():
        head = re.match(r"^\*\*[^*]+\*\* \(`([^`]+)`\)", line)
        if head:
            current = head.group(1)
            out[current] = set()
            continue
        row = re.match(r"^\| (?:(\w+) )?`(\w+)` \|", line)
        if row and current:
            top = FILES[current].__name__
            out[current].add((row.group(1) or top, row.group(2)))
    return out


def test_every_file_has_a_dictionary_section() -> None:
    assert set(_documented()) == set(FILES)


def test_the_dictionary_matches_the_schemas_field_for_field() -> None:
    documented = _documented()
    for file, top in FILES.items():
        actual = {(name, f) for name, m in _nested(top).items() for f in _fields(m)}
        assert documented[file] == actual, (
            f"{file}: missing {sorted(actual - documented[file])}, "
            f"not in the schema {sorted(documented[file] - actual)}"
        )
