"""data/README.md documents every field of every data file (the data dictionary stays in step
with the schemas)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from crosscase import model

ROOT = Path(__file__).resolve().parents[1]
MODELS = [
    m
    for m in vars(model).values()
    if isinstance(m, type)
    and issubclass(m, BaseModel)
    and m.__module__ == model.__name__
    and not m.__name__.startswith("_")
]


@pytest.mark.parametrize("schema", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_documented(schema: type[BaseModel]) -> None:
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    missing = [f for f in schema.model_fields if f"`{f}`" not in readme]
    assert not missing, f"{schema.__name__}: document {missing} in data/README.md"
