"""data/README.md documents every field of every data file, under the file it belongs to and the
model that holds it, and documents no field that does not exist (the data dictionary stays in
step with the schemas in both directions)."""

from __future__ import annotations

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


def _nested(top: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The models reachable from ``top`` through its fields, by class name."""
    found: dict[str, type[BaseModel]] = {}
    todo = [top]
    while todo:
        m = todo.pop()
        found[m.__name__] = m
        for f in m.model_fields.values():
            for arg in [f.annotation, *typing.get_args(f.annotation)]:
                if (
                    isinstance(arg, type)
                    and issubclass(arg, BaseModel)
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
        actual = {(name, f) for name, m in _nested(top).items() for f in m.model_fields}
        assert documented[file] == actual, (
            f"{file}: missing {sorted(actual - documented[file])}, "
            f"not in the schema {sorted(documented[file] - actual)}"
        )
