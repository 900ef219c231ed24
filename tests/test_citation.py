"""CITATION.cff is valid Citation File Format 1.2.0 and cites the paper."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "data" / "external" / "citation-file-format" / "schema-1.2.0.json"


def test_citation_cff_is_valid() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(cff)
    paper = cff["references"][0]
    assert paper["doi"] == "10.1108/IJOPM-08-2019-0600"
    assert [a["family-names"] for a in paper["authors"]] == [
        "Srai",
        "Graham",
        "Hennelly",
        "Phillips",
        "Kapletia",
        "Lorentz",
    ]


def test_invalid_citation_is_rejected() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    assert not validator.is_valid({"cff-version": "1.2.0", "title": "x"})


def test_zenodo_metadata_points_to_the_paper() -> None:
    meta = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    assert meta["upload_type"] == "software" and meta["license"] == "MIT"
    assert {
        "identifier": "10.1108/IJOPM-08-2019-0600",
        "relation": "isSupplementTo",
        "scheme": "doi",
        "resource_type": "publication-article",
    } in meta["related_identifiers"]


def test_one_version_everywhere() -> None:
    """The package, CITATION.cff, .zenodo.json and the README's 'How to cite' name one version."""
    import re
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    zenodo = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    import crosscase

    assert cff["version"] == zenodo["version"] == crosscase.__version__ == version
    assert re.findall(r"version (\d+\.\d+\.\d+) \(\d{4}\), software", readme) == [version]
